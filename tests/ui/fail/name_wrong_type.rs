//! A route's `name` takes each parameter with the type its function declares.

use rocket_pusher::channel;

#[channel("private-orders.<id>")]
async fn orders(id: u64) -> bool {
    id > 0
}

fn main() {
    let _ = orders::name("42");
}
