//! A pattern whose shortest match is longer than any channel name (201 > 200).

use rocket_pusher::channel;

#[channel("private-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.<id>")]
async fn orders(id: u64) -> bool {
    id > 0
}

fn main() {}
