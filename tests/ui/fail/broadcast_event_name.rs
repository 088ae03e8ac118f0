//! Event names break the protocol's rules at compile time: empty, over 200 bytes, twice,
//! not a string.

use rocket_pusher::Broadcast;

#[derive(serde::Serialize, Broadcast)]
#[broadcast(event = "", channel = "orders")]
struct Empty;

#[derive(serde::Serialize, Broadcast)]
#[broadcast(
    event = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
    channel = "orders"
)]
struct TooLong;

#[derive(serde::Serialize, Broadcast)]
#[broadcast(event = "a", event = "b", channel = "orders")]
struct Twice;

#[derive(serde::Serialize, Broadcast)]
#[broadcast(event = shipped, channel = "orders")]
struct NotAString;

fn main() {}
