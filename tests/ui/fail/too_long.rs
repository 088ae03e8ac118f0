//! A pattern whose shortest match is longer than any channel name (165 > 164).

use rocket_pusher::channel;

#[channel("private-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.<id>")]
async fn orders(id: u64) -> bool {
    id > 0
}

fn main() {}
