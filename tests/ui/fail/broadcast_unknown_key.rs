//! Only `event` and `channel`: a typo is an error, not ignored.

use rocket_pusher::Broadcast;

#[derive(serde::Serialize, Broadcast)]
#[broadcast(event = "shipped", channels = "orders")]
struct OrderShipped {
    id: u64,
}

fn main() {}
