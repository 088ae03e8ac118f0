//! The fuzz targets' bodies, one module per target, shared by the libFuzzer binaries in
//! `fuzz_targets/` and by `tests/fuzz_regressions.rs`, which replays the seeds and every
//! saved crash input through them under `cargo test`.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub mod auth_form {
    //! The auth form parser (pusher-js single and pusher-js-auth batch bodies, and the JSONP
    //! query string), then authorization of every channel it names.
    //!
    //! Invariants: no panic; a parsed form has a valid socket id, a batch is non-empty, within
    //! the cap and without repeats, no channel field leaks into the params; a smaller cap only
    //! turns outcomes into `TooManyChannels`; every authorization produced verifies.

    use rocket_pusher::protocol::{
        AuthFormError, FormChannels, MasterKey, PresenceMember, Token, authorize_channel,
        parse_auth_form, validate_socket_id, verify_channel_auth,
    };

    const MAX: usize = 100;

    /// Run the target on one input.
    pub fn run(data: &[u8]) {
        let wide = parse_auth_form(data, MAX);
        let narrow = parse_auth_form(data, 2);
        match (&wide, &narrow) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Ok(a), Err(AuthFormError::TooManyChannels { max: 2 })) => {
                assert!(matches!(&a.channels, FormChannels::Batch(l) if l.len() > 2));
            }
            (Err(AuthFormError::TooManyChannels { max: MAX }), _) => {}
            // The narrow cap can stop the parse before a later error is found.
            (Err(_), Err(AuthFormError::TooManyChannels { max: 2 })) => {}
            (Err(a), Err(b)) => assert_eq!(a, b),
            (a, b) => panic!("cap changed the outcome: {a:?} vs {b:?}"),
        }
        let Ok(form) = wide else { return };
        assert!(validate_socket_id(form.socket_id.as_str()).is_ok());
        for (key, _) in &form.params {
            assert!(key != "socket_id" && key != "channel_name", "{key}");
            let batch_key = key
                .strip_prefix("channel_name[")
                .and_then(|r| r.strip_suffix(']'))
                .is_some_and(|i| i.bytes().all(|b| b.is_ascii_digit()));
            assert!(!batch_key, "{key}");
        }
        let channels: Vec<&String> = match &form.channels {
            FormChannels::None => Vec::new(),
            FormChannels::Single(c) => vec![c],
            FormChannels::Batch(list) => {
                assert!(!list.is_empty() && list.len() <= MAX);
                for (i, c) in list.iter().enumerate() {
                    assert!(!list[..i].contains(c), "repeated {c:?}");
                }
                list.iter().collect()
            }
        };
        let token = Token::new("key", "secret");
        let master = MasterKey::from_bytes([7; 32]);
        let member = PresenceMember::new("u1").with_info(serde_json::json!({ "n": 1 }));
        for channel in channels {
            if let Ok(auth) = authorize_channel(
                &token,
                Some(&master),
                form.socket_id.as_str(),
                channel,
                Some(&member),
            ) {
                assert!(verify_channel_auth(
                    &token,
                    form.socket_id.as_str(),
                    channel,
                    &auth
                ));
            }
        }
    }
}

pub mod webhook {
    //! Webhook verification and typed parsing: the body is signed correctly (so parsing is
    //! reached), then checked with a tampered signature, a signature taken from the input, a
    //! wrong key and a rotated key.
    //!
    //! Invariants: no panic; the true signature verifies and every tampered one is refused;
    //! a parsed webhook survives a serialize/parse round trip (floats to within rounding) and
    //! narrowing keeps every event.

    use rocket_pusher::protocol::{
        ChannelExistenceEvent, ClientEvent, Event, PresenceEvent, Token, Webhook, WebhookError,
        check_freshness, narrow_events, sign_webhook, verify_webhook,
    };
    use serde_json::Value;

    fn json(w: &Webhook) -> Value {
        serde_json::to_value(w).expect("a webhook is JSON")
    }

    /// Equal, but for floats within a relative 1e-15.
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                x == y
                    || matches!((x.as_f64(), y.as_f64()), (Some(x), Some(y))
                        if (x - y).abs() <= x.abs().max(y.abs()) * 1e-15)
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
            }
            _ => a == b,
        }
    }

    /// Run the target on one input.
    pub fn run(body: &[u8]) {
        let tokens = [Token::new("key", "secret"), Token::new("old", "old-secret")];
        let good = sign_webhook(&tokens[0], body);
        let signed = verify_webhook(&tokens, Some("key"), Some(&good), body);
        assert_eq!(signed.map(|t| t.key.as_str()), Ok("key"));
        let rotated = sign_webhook(&tokens[1], body);
        assert!(verify_webhook(&tokens, Some("old"), Some(&rotated), body).is_ok());
        assert_eq!(
            verify_webhook(&tokens, Some("old"), Some(&good), body),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_webhook(&tokens, Some("nope"), Some(&good), body),
            Err(WebhookError::UnknownKey)
        );

        // One hex digit changed, chosen by the body.
        let i = body.iter().fold(0usize, |a, b| a.wrapping_add(*b as usize)) % good.len();
        let mut tampered = good.clone().into_bytes();
        tampered[i] = if tampered[i] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(tampered).unwrap_or_default();
        assert_eq!(
            verify_webhook(&tokens, Some("key"), Some(&tampered), body),
            Err(WebhookError::BadSignature)
        );
        // The input itself as a signature header (non-hex, short, huge, not UTF-8).
        let forged = String::from_utf8_lossy(&body[..body.len().min(80)]);
        if !forged.trim().eq_ignore_ascii_case(&good) {
            assert!(verify_webhook(&tokens, Some("key"), Some(&forged), body).is_err());
        }

        let Ok(webhook) = Webhook::parse(body) else {
            return;
        };
        let _ = check_freshness(webhook.time_ms, 1_700_000_000_000, 300_000);
        for e in &webhook.events {
            let _ = (e.name(), e.channel());
        }
        let text = serde_json::to_string(&webhook).expect("a parsed webhook serializes");
        let again = Webhook::parse(text.as_bytes()).expect("a serialized webhook parses");
        if again != webhook {
            // serde_json reads a float's shortest text back to within one unit in the last
            // place, not always to the same bits (found by this target): compare so.
            let (a, b) = (json(&again), json(&webhook));
            assert!(same(&a, &b), "round trip of {text}: {a} vs {b}");
        }

        let n = webhook.events.len();
        let (p, rest) = narrow_events::<PresenceEvent>(webhook.events.clone());
        assert_eq!(p.len() + rest.len(), n);
        let (c, rest) = narrow_events::<ChannelExistenceEvent>(webhook.events.clone());
        assert_eq!(c.len() + rest.len(), n);
        let (ce, rest) = narrow_events::<ClientEvent>(webhook.events.clone());
        assert_eq!(ce.len() + rest.len(), n);
        for e in &ce {
            let _ = e.data_as::<serde_json::Value>();
        }
        let (all, rest) = narrow_events::<Event>(webhook.events);
        assert_eq!((all.len(), rest.len()), (n, 0));
    }
}

pub mod config_toml {
    //! The configuration: TOML through figment into `PusherConfig`, then the client built from
    //! it; and the input as a `PUSHER_URL`.
    //!
    //! Invariants: no panic; a client that builds has an endpoint that is a URL, and its
    //! `Debug` shows no secret.

    use figment::Figment;
    use figment::providers::{Format, Toml};
    use rocket_pusher::Pusher;
    use rocket_pusher::config::PusherConfig;

    /// Run the target on one input.
    pub fn run(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let _ = Pusher::from_url(text.trim());
        let config: PusherConfig = match Figment::from(Toml::string(text)).extract() {
            Ok(c) => c,
            Err(e) => {
                let _ = e.to_string();
                return;
            }
        };
        let _ = format!("{config:?}");
        match Pusher::from_config(&config) {
            Ok(pusher) => {
                assert!(
                    pusher.endpoint().starts_with("http"),
                    "{}",
                    pusher.endpoint()
                );
                let shown = format!("{pusher:?}");
                let secret = pusher.token().secret.expose();
                // The key, app id and endpoint are shown: a secret that is part of one of
                // them is shown with it (found by this target).
                let public = format!("{} {} {}", pusher.key(), pusher.app_id(), pusher.endpoint());
                if secret.len() >= 12 && !public.contains(secret) {
                    assert!(!shown.contains(secret), "{shown}");
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
}

pub mod names {
    //! Name validation (channels, events, socket ids, user ids) and the authorizations built
    //! on names: presence `channel_data` (typed and raw) and user sign-in.
    //!
    //! Invariants: no panic; the `validate_*` functions agree with the constructors and the
    //! documented alphabet and lengths; serde round-trips; every authorization produced
    //! verifies.

    use rocket_pusher::protocol::{
        ChannelKind, ChannelName, EventName, MAX_CHANNEL_NAME_LEN, PresenceMember, SocketId, Token,
        UserData, UserId, authenticate_user, authorize_presence, authorize_presence_raw,
        validate_channel_name, validate_event_name, validate_socket_id, validate_user_id,
        verify_channel_auth, verify_user_auth,
    };

    fn alphabet(s: &str) -> bool {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=@,.;".contains(&b))
    }

    /// Run the target on one input.
    pub fn run(data: &[u8]) {
        let Ok(s) = std::str::from_utf8(data) else {
            return;
        };
        let token = Token::new("key", "secret");

        let kind = validate_channel_name(s);
        assert_eq!(kind.is_ok(), ChannelName::new(s).is_ok());
        assert_eq!(
            kind.is_ok(),
            !s.is_empty() && s.len() <= MAX_CHANNEL_NAME_LEN && alphabet(s)
        );
        if let Ok(kind) = kind {
            let name = ChannelName::new(s).expect("validated");
            assert_eq!(name.kind(), kind);
            assert_eq!(ChannelKind::of(s), kind);
            let json = serde_json::to_string(&name).expect("serializes");
            assert_eq!(serde_json::from_str::<ChannelName>(&json).ok(), Some(name));
        }
        assert_eq!(validate_event_name(s).is_ok(), EventName::new(s).is_ok());
        assert_eq!(validate_socket_id(s).is_ok(), SocketId::new(s).is_ok());
        assert_eq!(validate_user_id(s).is_ok(), UserId::new(s).is_ok());
        if let Ok(user) = UserId::new(s) {
            assert!(alphabet(user.as_str()));
            let ch = ChannelName::server_to_user(&user);
            assert_eq!(ch.kind(), ChannelKind::ServerToUser);
        }

        // The input as a member id, as raw channel_data, as a sign-in user id.
        if let Ok(auth) = authorize_presence(&token, "1.2", "presence-x", &PresenceMember::new(s)) {
            assert!(verify_channel_auth(&token, "1.2", "presence-x", &auth));
            let data = auth
                .channel_data
                .as_deref()
                .expect("presence has channel_data");
            let back: PresenceMember = serde_json::from_str(data).expect("channel_data is JSON");
            assert_eq!(back.user_id, s);
        }
        if let Ok(auth) = authorize_presence_raw(&token, "1.2", "presence-x", s.to_owned()) {
            assert_eq!(auth.channel_data.as_deref(), Some(s));
            assert!(verify_channel_auth(&token, "1.2", "presence-x", &auth));
        }
        if let Ok(auth) = authenticate_user(&token, "1.2", &UserData::new(s)) {
            assert!(verify_user_auth(&token, "1.2", &auth));
        }
    }
}

pub mod client_response {
    //! The client's handling of a server reply: status, `Retry-After`, the body (cut at the
    //! read limit or not), then decoding as every endpoint's reply type.
    //!
    //! Input: `STATUS[!]\nRETRY-AFTER\nBODY` (`!` marks a body cut at the read limit; an empty
    //! second line is no header). Invariants: no panic; a whole 2xx body is `Ok`; any other
    //! status is an error carrying that status, a bounded message, and is transient exactly
    //! for 429 and 5xx.

    use rocket_pusher::__fuzz::{MAX_ERROR_MESSAGE_CHARS, handle_response};
    use rocket_pusher::Error;

    /// Run the target on one input.
    pub fn run(data: &[u8]) {
        let mut parts = data.splitn(3, |b| *b == b'\n');
        let (Some(status), Some(retry_after), body) = (parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        let (status, truncated) = match status.strip_suffix(b"!") {
            Some(s) => (s, true),
            None => (status, false),
        };
        let Some(status) = std::str::from_utf8(status)
            .ok()
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|s| (100..1000).contains(s))
        else {
            return;
        };
        let retry_after = std::str::from_utf8(retry_after)
            .ok()
            .filter(|s| !s.is_empty());
        let body = body.unwrap_or_default().to_vec();
        match handle_response(status, retry_after, body, truncated) {
            Ok(()) => assert!((200..300).contains(&status) && !truncated),
            Err(Error::Decode(_)) => assert!((200..300).contains(&status) && truncated),
            Err(e) => {
                assert!(!(200..300).contains(&status));
                assert_eq!(e.status(), Some(status), "{e:?}");
                assert_eq!(
                    e.is_transient(),
                    status == 429 || (500..600).contains(&status)
                );
                let message = match &e {
                    Error::BadRequest { message }
                    | Error::Unauthorized { message }
                    | Error::Forbidden { message }
                    | Error::NotFound { message }
                    | Error::PayloadTooLarge { message }
                    | Error::RateLimited { message, .. }
                    | Error::Server { message, .. }
                    | Error::Status { message, .. } => message,
                    other => panic!("unexpected {other:?}"),
                };
                assert!(
                    message.chars().count() <= MAX_ERROR_MESSAGE_CHARS + 2,
                    "{}",
                    message.len()
                );
                let _ = (e.to_string(), format!("{e:?}"));
            }
        }
    }
}

#[cfg(feature = "server")]
pub mod frames {
    //! Incoming WebSocket frames on the embedded server: the input's lines are text frames
    //! one connection sends (client events enabled), then each line alone is read as a frame.
    //!
    //! Invariants: no panic; every frame the server answers is a JSON object with a string
    //! `event`; a frame that parses keeps its event name; a presence member that parses has
    //! a non-empty id.

    use rocket_pusher::protocol::Token;
    use rocket_pusher::protocol::frames::{ClientFrame, parse_member};
    use rocket_pusher::server::{Server, ServerConfig};

    /// Run the target on one input.
    pub fn run(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let lines: Vec<&str> = text.lines().take(64).collect();
        let mut config = ServerConfig::default();
        config.client_events = true;
        let server = Server::new("1", Token::new("KEY", "SECRET"), config);
        for sent in server.__feed(&lines) {
            let frame: serde_json::Value = serde_json::from_str(&sent).unwrap();
            assert!(frame["event"].is_string(), "{sent}");
        }
        for line in &lines {
            if let Ok(frame) = ClientFrame::parse(line) {
                let _ = (frame.subscribe(), frame.unsubscribe(), frame.signin());
                let _ = frame.data_string();
            }
            for field in ["user_id", "id"] {
                if let Ok(member) = parse_member(line, field) {
                    assert!(!member.user_id.is_empty());
                }
            }
        }
    }
}
