//! [`IntoDecision`]: what a channel route's function may return.

use std::fmt;

use super::Decision;
use crate::protocol::PresenceMember;

/// What a channel route's handler may return: `bool`, [`Decision`], a
/// [`PresenceMember`] or `Option<PresenceMember>` (presence channels), or a `Result` of
/// one of these whose error (any `Display`) is logged as the reason for refusing.
///
/// The [`channel`](crate::channel) attribute also checks the type against the pattern's
/// kind: a `presence-` route returns the member (`PresenceMember`, `Option<PresenceMember>`
/// or `Decision`), a `private-` or `private-encrypted-` one does not (`bool` or
/// `Decision`); anything else fails to compile, with a hint.
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

/// A return type that answers for a `presence-` channel: it names the member.
#[diagnostic::on_unimplemented(
    message = "a `presence-` channel route must say who joins, and `{Self}` does not",
    label = "return `Option<PresenceMember>` (or `PresenceMember`, `Decision`, a `Result` of one)",
    note = "the member's `user_id` and info are what the channel's other members see; \
            for a channel without members, start the pattern with `private-`"
)]
pub trait PresenceAnswer: IntoDecision {}

impl PresenceAnswer for PresenceMember {}
impl PresenceAnswer for Option<PresenceMember> {}
impl PresenceAnswer for Decision {}
impl<T: PresenceAnswer, E: fmt::Display> PresenceAnswer for Result<T, E> {}

/// A return type that answers for a `private-` or `private-encrypted-` channel: yes or no.
#[diagnostic::on_unimplemented(
    message = "a `private-` channel route answers yes or no, and `{Self}` is not that",
    label = "return `bool` (or `Decision`, a `Result` of one)",
    note = "a private channel has no members, so a `PresenceMember` would be dropped; \
            for a room whose members see each other, start the pattern with `presence-`"
)]
pub trait PrivateAnswer: IntoDecision {}

impl PrivateAnswer for bool {}
impl PrivateAnswer for Decision {}
impl<T: PrivateAnswer, E: fmt::Display> PrivateAnswer for Result<T, E> {}
