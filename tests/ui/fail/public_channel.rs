//! A pattern naming a public channel, which needs no authorization.

use rocket_pusher::channel;

#[channel("orders.<id>")]
async fn orders(id: u64) -> bool {
    id > 0
}

fn main() {}
