//! [`IntoDecision`]: what a channel route's function may return.

use std::fmt;

use super::Decision;
use crate::protocol::PresenceMember;

/// What a channel route's handler may return: `bool`, [`Decision`], a
/// [`PresenceMember`] or `Option<PresenceMember>` (presence channels), or a `Result` of
/// one of these whose error (any `Display`) is logged as the reason for refusing.
pub trait IntoDecision {
    /// The decision, or the reason for refusing.
    fn into_decision(self) -> Result<Decision, String>;
}

impl IntoDecision for bool {
    fn into_decision(self) -> Result<Decision, String> {
        Ok(Decision::from(self))
    }
}

impl IntoDecision for Decision {
    fn into_decision(self) -> Result<Decision, String> {
        Ok(self)
    }
}

impl IntoDecision for PresenceMember {
    fn into_decision(self) -> Result<Decision, String> {
        Ok(Decision::AllowAs(self))
    }
}

impl IntoDecision for Option<PresenceMember> {
    fn into_decision(self) -> Result<Decision, String> {
        Ok(self.map_or(Decision::Deny, Decision::AllowAs))
    }
}

impl<T: IntoDecision, E: fmt::Display> IntoDecision for Result<T, E> {
    fn into_decision(self) -> Result<Decision, String> {
        self.map_err(|e| e.to_string())?.into_decision()
    }
}
