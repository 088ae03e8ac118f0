//! A broadcast event names at least one channel.

use rocket_pusher::Broadcast;

#[derive(serde::Serialize, Broadcast)]
#[broadcast(event = "order.shipped")]
struct OrderShipped {
    id: u64,
}

#[derive(serde::Serialize, Broadcast)]
struct NoAttribute {
    id: u64,
}

fn main() {}
