//! A channel expression that is no channel argument is reported on the expression.

use rocket_pusher::Broadcast;

#[derive(serde::Serialize, Broadcast)]
#[broadcast(event = "shipped", channel = "orders", channel = self.id)]
struct OrderShipped {
    id: u64,
}

fn main() {}
