//! A parameter that is not an identifier.

use rocket_pusher::channel;

#[channel("private-orders.<order id>")]
async fn orders() -> bool {
    true
}

fn main() {}
