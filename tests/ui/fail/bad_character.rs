//! A character no channel name may hold.

use rocket_pusher::channel;

#[channel("private-orders.all items")]
async fn orders() -> bool {
    true
}

fn main() {}
