//! The rules `rocket_pusher` checks a channel-route pattern against at ignite
//! (`Pattern::parse` in its `src/integration/channel_routes/pattern.rs`), checked again here so a
//! `#[channel]` pattern that ignite would refuse does not compile. This crate cannot call
//! that code (`rocket_pusher` depends on it), so the rules are written twice, in the same
//! order and with the same messages; the runtime's `invalid_patterns` test and the
//! compile-fail tests in `tests/ui/` list the same cases.

/// The longest channel name, `rocket_pusher::protocol::MAX_CHANNEL_NAME_LEN`; the test
/// `longest_pattern_compiles_and_ignites` in `tests/channel_routes.rs` fails if they differ.
const MAX_CHANNEL_NAME_LEN: usize = 200;
/// The most parameters one pattern may have, `rocket_pusher`'s `MAX_PARAMS`.
const MAX_PARAMS: usize = 8;

/// The parameter names of `pattern`, in order, or why ignite would refuse it.
pub(crate) fn params(pattern: &str) -> Result<Vec<&str>, String> {
    let mut names: Vec<&str> = Vec::new();
    let mut min_len = 0;
    for (i, seg) in pattern.split('.').enumerate() {
        if i > 0 {
            min_len += 1;
        }
        if let Some(name) = seg.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
            let ident = name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ident {
                return Err(format!("<{name}> is not a parameter name"));
            }
            if names.contains(&name) {
                return Err(format!("parameter <{name}> appears twice"));
            }
            if i == 0 {
                return Err(
                    "the first segment must be literal text naming the channel type".into(),
                );
            }
            names.push(name);
            min_len += 1;
        } else {
            if seg.contains(['<', '>']) {
                return Err(format!(
                    "{seg:?}: a parameter must be a whole segment between dots"
                ));
            }
            if let Some(c) = seg.chars().find(|c| {
                !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '=' | '@' | ',' | ';'))
            }) {
                return Err(format!("{c:?} can never appear in a channel name"));
            }
            min_len += seg.len();
        }
    }
    if names.len() > MAX_PARAMS {
        return Err(format!("at most {MAX_PARAMS} parameters"));
    }
    if min_len > MAX_CHANNEL_NAME_LEN {
        return Err(format!(
            "its shortest match is {min_len} characters, over the {MAX_CHANNEL_NAME_LEN} of a channel name"
        ));
    }
    if !(pattern.starts_with("private-") || pattern.starts_with("presence-")) {
        return Err(
            "must start with private-, presence- or private-encrypted- (other channels need no authorization)"
                .into(),
        );
    }
    Ok(names)
}
