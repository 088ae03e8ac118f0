//! Values of the `pusher` table read more leniently than serde's defaults, or with a
//! message that says what to write.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// `app_id`: a string, or the whole number the dashboard shows (`app_id = 4242`).
pub(super) fn app_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct AppId;
    impl<'de> Visitor<'de> for AppId {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the app id, a string or a whole number")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map(|v| Some(v.to_string()))
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    d.deserialize_any(AppId)
}

/// A duration in seconds: a number (`5`, `0.5`). A string such as `"5s"` is refused with a
/// message that says so, not serde's "expected f64".
pub(super) fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    struct Seconds;
    impl Visitor<'_> for Seconds {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number of seconds, like 5 or 0.5")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
    }
    d.deserialize_any(Seconds)
}
