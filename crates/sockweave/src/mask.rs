//! Payload masking (RFC 6455 §5.3).
//!
//! Masking is an XOR with a 4-byte key that repeats over the payload. The
//! `phase` argument says how far into the payload `buf` starts, so a payload
//! that arrives in pieces can be unmasked piece by piece, in place.
//!
//! The bulk loop works on 64-byte blocks against a pre-rotated 64-byte key
//! pattern; with fixed-size blocks the compiler emits straight vector XORs
//! (SSE2 on any x86-64, NEON on aarch64) without any `unsafe` here.

/// XORs `buf` in place with `key`, as if `buf` started `phase` bytes into
/// the masked payload. Applying the same mask twice restores the input.
#[inline]
pub fn apply(buf: &mut [u8], key: [u8; 4], phase: usize) {
    let key = rotate(key, phase);
    if buf.len() < 16 {
        for (i, byte) in buf.iter_mut().enumerate() {
            *byte ^= key[i & 3];
        }
        return;
    }
    apply_bulk(buf, key);
}

fn apply_bulk(buf: &mut [u8], key: [u8; 4]) {
    const BLOCK: usize = 64;
    let mut pattern = [0u8; BLOCK];
    for (i, byte) in pattern.iter_mut().enumerate() {
        *byte = key[i & 3];
    }
    let mut blocks = buf.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        let block: &mut [u8; BLOCK] = block.try_into().expect("chunks_exact yields BLOCK bytes");
        for (byte, k) in block.iter_mut().zip(pattern.iter()) {
            *byte ^= k;
        }
    }
    // BLOCK is a multiple of 4, so the tail starts at phase 0 again.
    let tail = blocks.into_remainder();
    let word = u32::from_ne_bytes(key);
    let mut words = tail.chunks_exact_mut(4);
    for chunk in &mut words {
        let value = u32::from_ne_bytes(chunk.try_into().expect("4 bytes")) ^ word;
        chunk.copy_from_slice(&value.to_ne_bytes());
    }
    for (i, byte) in words.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i];
    }
}

/// The key as seen from `phase` bytes into the payload.
#[inline]
fn rotate(key: [u8; 4], phase: usize) -> [u8; 4] {
    let mut rotated = key;
    rotated.rotate_left(phase & 3);
    rotated
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn naive(buf: &mut [u8], key: [u8; 4], phase: usize) {
        for (i, byte) in buf.iter_mut().enumerate() {
            *byte ^= key[(phase + i) % 4];
        }
    }

    #[test]
    fn matches_naive_loop_at_every_length_and_offset() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..600u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..300 {
            for start in 0..8 {
                for phase in 0..8 {
                    let mut fast = source[start..start + len].to_vec();
                    let mut slow = fast.clone();
                    apply(&mut fast, key, phase);
                    naive(&mut slow, key, phase);
                    assert_eq!(fast, slow, "len {len} start {start} phase {phase}");
                }
            }
        }
    }

    #[test]
    fn unmasking_in_pieces_equals_unmasking_whole() {
        let key = [1, 2, 3, 4];
        let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let mut whole = data.clone();
        apply(&mut whole, key, 0);
        for split in [1, 2, 3, 5, 63, 64, 65, 999] {
            let mut pieces = data.clone();
            let (a, b) = pieces.split_at_mut(split);
            apply(a, key, 0);
            apply(b, key, split);
            assert_eq!(pieces, whole);
        }
    }

    #[test]
    fn rfc6455_section_5_7_masked_hello() {
        let mut payload = *b"\x7f\x9f\x4d\x51\x58";
        apply(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&payload, b"Hello");
    }
}
