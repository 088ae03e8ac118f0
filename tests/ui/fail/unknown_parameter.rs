//! A parameter that no argument is named after.

use rocket_pusher::channel;

#[channel("private-orders.<order>")]
async fn orders(id: u64) -> bool {
    id > 0
}

fn main() {}
