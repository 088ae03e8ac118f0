//! A private route answers yes or no: a member would be dropped.

use rocket_pusher::{PresenceMember, channel};

#[channel("private-orders.<id>")]
async fn orders(id: u64) -> PresenceMember {
    PresenceMember::new(id.to_string())
}

#[channel("private-encrypted-inbox.<id>")]
async fn inbox(id: u64) -> Option<PresenceMember> {
    Some(PresenceMember::new(id.to_string()))
}

fn main() {}
