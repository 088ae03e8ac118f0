//! More than eight parameters.

use rocket_pusher::channel;

#[channel("private-p.<a>.<b>.<c>.<d>.<e>.<f>.<g>.<h>.<i>")]
async fn orders(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8, g: u8, h: u8, i: u8) -> bool {
    a + b + c + d + e + f + g + h + i > 0
}

fn main() {}
