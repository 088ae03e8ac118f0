//! A parameter that is not a whole segment between dots.

use rocket_pusher::channel;

#[channel("private-orders<id>")]
async fn orders(id: u64) -> bool {
    id > 0
}

fn main() {}
