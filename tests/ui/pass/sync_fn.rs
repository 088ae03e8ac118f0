//! A channel route may be a plain `fn`, as a Rocket handler may: with guards, of either
//! kind, returning any answer its kind takes.

use rocket::State;
use rocket_pusher::{Decision, PresenceMember, channel, channels};

struct Owners(Vec<u64>);

#[channel("private-orders.<id>")]
fn orders(id: u64, owners: &State<Owners>) -> bool {
    owners.0.contains(&id)
}

#[channel("presence-room.<name>")]
fn room(name: &str) -> Option<PresenceMember> {
    (name != "closed").then(|| PresenceMember::new("1"))
}

#[channel("private-encrypted-inbox.<id>")]
fn inbox(id: u64) -> Result<Decision, String> {
    if id == 0 {
        return Err("no inbox 0".into());
    }
    Ok(Decision::Allow)
}

fn main() {
    let routes = channels![orders, room, inbox];
    assert_eq!(routes.len(), 3);
}
