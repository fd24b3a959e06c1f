//! The inflate path: arbitrary compressed input, split anywhere, never
//! panics and never holds more than the limit (plus one byte); and the
//! input compressed by us inflates back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::deflate::{Compression, Deflater, Inflater};

const MAX: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let bits = 9 + (control % 7);
    let no_takeover = control & 0x80 != 0;
    let cut = if rest.is_empty() {
        0
    } else {
        usize::from(control) % rest.len()
    };

    let mut inflater = Inflater::new(bits, no_takeover, false);
    let mut out = Vec::new();
    if inflater.inflate(&rest[..cut], false, MAX, &mut out).is_ok() {
        let _ = inflater.inflate(&rest[cut..], true, MAX, &mut out);
    }
    assert!(out.len() as u64 <= MAX + 1);

    let mut deflater = Deflater::new(bits, no_takeover, Compression::default());
    let mut compressed = Vec::new();
    deflater.compress(&rest[..cut], false, &mut compressed);
    deflater.compress(&rest[cut..], true, &mut compressed);
    let mut inflater = Inflater::new(bits, no_takeover, false);
    let mut back = Vec::new();
    inflater
        .inflate(&compressed, true, MAX, &mut back)
        .expect("our own output inflates");
    assert_eq!(back, rest);
});
