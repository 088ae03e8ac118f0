//! A presence route must say who joins: a `bool` would make the socket id the member.

use rocket_pusher::channel;

#[channel("presence-room.<name>")]
async fn room(name: &str) -> bool {
    name != "closed"
}

#[channel("presence-chat.<name>")]
fn chat(name: &str) -> Result<bool, String> {
    Ok(name != "closed")
}

fn main() {}
