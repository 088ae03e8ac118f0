//! What the `#[channel]` attribute refuses at compile time, with its messages
//! (`tests/ui/fail/*.stderr`; regenerate with `TRYBUILD=overwrite` and review), and what
//! it accepts (`tests/ui/pass/`).

#[test]
fn channel_attribute() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
