//! The incremental validator against `core::str::from_utf8`, across the
//! splits the first byte chooses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::utf8::Validator;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, data)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk % 8).max(1);
    let mut validator = Validator::new();
    let mut ok = true;
    let mut failed_at = None;
    for (i, piece) in data.chunks(chunk).enumerate() {
        if validator.feed(piece).is_err() {
            ok = false;
            failed_at = Some(i * chunk);
            break;
        }
    }
    ok = ok && validator.finish().is_ok();
    let expected = core::str::from_utf8(data);
    assert_eq!(ok, expected.is_ok());
    // Fail fast: the failure comes with the piece holding the first bad byte.
    if let (Some(at), Err(e)) = (failed_at, expected) {
        assert!(
            e.valid_up_to() + 3 >= at && e.valid_up_to() < at + chunk,
            "failed too late or too early"
        );
    }
});
