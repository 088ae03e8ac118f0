//! A channel route is an `async fn`.

use rocket_pusher::channel;

#[channel("private-orders.<id>")]
fn orders(id: u64) -> bool {
    id > 0
}

fn main() {}
