//! A parameter in place of the channel type.

use rocket_pusher::channel;

#[channel("<kind>.orders")]
async fn orders(kind: &str) -> bool {
    !kind.is_empty()
}

fn main() {}
