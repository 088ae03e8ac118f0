//! A parameter named twice.

use rocket_pusher::channel;

#[channel("private-orders.<id>.items.<id>")]
async fn orders(id: u64) -> bool {
    id > 0
}

fn main() {}
