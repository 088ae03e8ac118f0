//! [`ChannelRouter`]: the checked routes of an app, and the one a channel name matches.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rocket::Request;

use super::pattern::{Captures, Pattern};
use super::{ChannelRequest, ChannelRoute, Decision};

/// The checked routes, indexed by their literal first two segments (`private-orders.items`)
/// when the second is literal, else by the first alone: routes sharing a prefix such as
/// `private-app.<x>` variants stay one or two hash lookups away.
#[derive(Default)]
pub(crate) struct ChannelRouter {
    routes: Vec<(Pattern, ChannelRoute)>,
    by_key: HashMap<String, Vec<usize>, BuildHasherDefault<KeyHasher>>,
    /// Bit `len % 64` is set for the length of every key in `by_key`: most channels a
    /// route does not match are told apart by the length of their prefix, without
    /// hashing it.
    key_lens: u64,
}

/// FNV-1a over the key's bytes. The table is filled once at ignite from the app's own
/// patterns and only read after, so a client's channel name cannot grow a probe
/// sequence beyond the table; SipHash's flood resistance would buy nothing here and
/// costs several times more on these short keys.
struct KeyHasher(u64);

impl Default for KeyHasher {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl ChannelRouter {
    /// Check every pattern and every pair; the errors name the routes.
    pub(crate) fn new(routes: &[ChannelRoute]) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let mut router = Self::default();
        for route in routes {
            match Pattern::parse(&route.source) {
                Ok(p) => {
                    if let Some((_, other)) = router.routes.iter().find(|(q, _)| q.collides(&p)) {
                        errors.push(format!(
                            "channel routes {} ({:?}) and {} ({:?}) match the same channels",
                            other.name, other.source, route.name, route.source
                        ));
                        continue;
                    }
                    let index = router.routes.len();
                    let key = p.key();
                    router.key_lens |= 1 << (key.len() % 64);
                    router.by_key.entry(key).or_default().push(index);
                    router.routes.push((p, route.clone()));
                }
                Err(e) => errors.push(format!(
                    "channel route {} has an invalid pattern {:?}: {e}",
                    route.name, route.source
                )),
            }
        }
        if errors.is_empty() {
            Ok(router)
        } else {
            Err(errors)
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Rocket's sentinels of every route's request guards.
    pub(crate) fn sentinels(&self) -> Vec<rocket::sentinel::Sentry> {
        self.routes
            .iter()
            .flat_map(|(_, route)| route.sentinels.iter().copied())
            .collect()
    }

    /// How many routes.
    pub(super) fn len(&self) -> usize {
        self.routes.len()
    }

    /// The route matching `channel` and its captures (at most one can match).
    pub(super) fn find<'a>(&'a self, channel: &'a str) -> Option<(&'a ChannelRoute, Captures<'a>)> {
        /// Channels with more segments than this (rare: a name is at most 200
        /// characters) are split per pattern instead.
        const SPLIT: usize = 16;
        let mut dots = channel
            .bytes()
            .enumerate()
            .filter_map(|(i, b)| (b == b'.').then_some(i));
        let first_end = dots.next();
        let first = &channel[..first_end.unwrap_or(channel.len())];
        let first_two = first_end.map(|_| &channel[..dots.next().unwrap_or(channel.len())]);
        let lookup = |key: &str| {
            if self.key_lens & (1 << (key.len() % 64)) == 0 {
                return None;
            }
            self.by_key.get(key)
        };
        let by_two = first_two.and_then(lookup);
        let by_first = lookup(first);
        if by_two.is_none() && by_first.is_none() {
            return None;
        }
        let candidates = || by_two.into_iter().chain(by_first).flatten();
        // Split the channel once, on the stack; each candidate then compares segments.
        let mut parts = [(0, 0); SPLIT];
        let mut len = 0;
        let mut start = 0;
        for (i, b) in channel.bytes().enumerate().chain([(channel.len(), b'.')]) {
            if b == b'.' {
                if len == SPLIT {
                    return candidates().find_map(|&i| {
                        let (pattern, route) = &self.routes[i];
                        pattern.captures(channel).map(|c| (route, c))
                    });
                }
                parts[len] = (start, i);
                len += 1;
                start = i + 1;
            }
        }
        candidates().find_map(|&i| {
            let (pattern, route) = &self.routes[i];
            pattern
                .captures_in(channel, &parts[..len])
                .map(|c| (route, c))
        })
    }

    /// Decide for one channel; `None` when no route matches it. A refusal is an `Err`
    /// naming the route, so that it is logged with its reason as every refusal is.
    pub(crate) async fn decide(
        &self,
        req: &Request<'_>,
        channel: ChannelRequest<'_>,
    ) -> Option<Result<Decision, String>> {
        let (route, captures) = self.find(channel.channel.as_str())?;
        let decision = match (route.handler)(req, channel, captures).await {
            Ok(Decision::Deny) => Err("the route refused".to_owned()),
            decision => decision,
        };
        Some(decision.map_err(|reason| format!("{}: {reason}", route.name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(p: &'static str) -> ChannelRoute {
        ChannelRoute::new(p, |_, _, _| Box::pin(async { Ok(Decision::Allow) }))
    }
    #[test]
    fn collisions() {
        let ok = ChannelRouter::new(&[
            route("private-orders.<id>"),
            route("private-orders.<id>.items"),
            route("presence-room.<name>"),
            route("private-orders"),
        ]);
        assert!(ok.is_ok());
        let e = ChannelRouter::new(&[route("private-a.<x>.b"), route("private-a.c.<y>")])
            .err()
            .unwrap();
        assert!(
            e[0].contains("private-a.<x>.b") && e[0].contains("private-a.c.<y>"),
            "{e:?}"
        );
        assert!(ChannelRouter::new(&[route("private-a.b"), route("private-a.b")]).is_err());
    }

    #[test]
    fn finds_by_literal_and_dynamic_second_segment() {
        let routes = [
            route("private-a.x.<id>").named("lit"),
            route("private-a.<y>.z.<k>").named("dyn"),
            route("private-a").named("one"),
            route("private-a.w").named("two"),
        ];
        let router = ChannelRouter::new(&routes).unwrap();
        let name = |c: &str| router.find(c).map(|(r, _)| r.name().to_owned());
        assert_eq!(name("private-a.x.1").as_deref(), Some("lit"));
        assert_eq!(name("private-a.q.z.1").as_deref(), Some("dyn"));
        assert_eq!(name("private-a.x.z.1").as_deref(), Some("dyn"));
        assert_eq!(name("private-a").as_deref(), Some("one"));
        assert_eq!(name("private-a.w").as_deref(), Some("two"));
        assert_eq!(name("private-a.q.q"), None);
        assert_eq!(name("private-b.x.1"), None);
    }

    #[test]
    fn finds_among_many() {
        let routes: Vec<_> = (0..100)
            .map(|i| {
                ChannelRoute::new(format!("private-r{i}.<id>"), |_, _, _| {
                    Box::pin(async { Ok(Decision::Allow) })
                })
                .named(format!("r{i}"))
            })
            .collect();
        let router = ChannelRouter::new(&routes).unwrap();
        let (r, c) = router.find("private-r57.9").unwrap();
        assert_eq!(r.name(), "r57");
        assert_eq!(c.get(0), Some("9"));
        assert!(router.find("private-r57").is_none());
        assert!(router.find("private-r57.9.x").is_none());
        assert!(router.find("private-r57.").is_none());
        let many = format!("private-r1{}", ".x".repeat(20));
        assert!(router.find(&many).is_none());
        let deep = ChannelRouter::new(&[route("private-d.<a>.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.<z>")])
            .unwrap();
        let (_, c) = deep
            .find("private-d.1.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.2")
            .unwrap();
        assert_eq!((c.get(0), c.get(1)), (Some("1"), Some("2")));
        assert!(router.find("private-zz.1").is_none());
    }
}
