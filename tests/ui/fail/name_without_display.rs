//! A parameter type without `Display` leaves the route as it was; only calling `name`
//! fails, on the value that cannot be formatted.

use rocket_pusher::channel;

#[channel("private-orders.<id>")]
async fn orders(id: Option<u64>) -> bool {
    id.is_some()
}

fn main() {
    let _ = rocket_pusher::channels![orders];
    let _ = orders::name(Some(42));
}
