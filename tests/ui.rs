//! What the `#[channel]` attribute and the `Broadcast` derive refuse at compile time, with
//! their messages (`tests/ui/fail/*.stderr`; regenerate with `TRYBUILD=overwrite` and
//! review), and what they accept (`tests/ui/pass/`).

#[test]
fn channel_attribute_and_broadcast_derive() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
