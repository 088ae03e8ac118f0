//! An argument that is neither a parameter nor a request guard: reported on its type.

use rocket_pusher::channel;

struct Db;

#[channel("private-orders.<id>")]
async fn orders(id: u64, db: Db) -> bool {
    let _ = db;
    id > 0
}

fn main() {}
