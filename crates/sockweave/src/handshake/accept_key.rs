//! `Sec-WebSocket-Accept` = base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Length of an accept value: base64 of a 20-byte digest.
pub const ACCEPT_LEN: usize = 28;

/// Computes the `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`.
pub fn accept_key(key: &[u8]) -> [u8; ACCEPT_LEN] {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    let digest = sha.finalize();
    let mut out = [0; ACCEPT_LEN];
    let written = STANDARD
        .encode_slice(digest, &mut out)
        .expect("28 bytes hold base64 of 20");
    debug_assert_eq!(written, ACCEPT_LEN);
    out
}

/// Whether `key` is a valid `Sec-WebSocket-Key`: base64 of 16 bytes.
pub fn is_valid_key(key: &[u8]) -> bool {
    let mut decoded = [0u8; 18];
    key.len() == 24 && matches!(STANDARD.decode_slice(key, &mut decoded), Ok(16))
}

/// A fresh `Sec-WebSocket-Key` from 16 caller-supplied random bytes.
pub fn new_key(random: [u8; 16]) -> [u8; 24] {
    let mut out = [0; 24];
    STANDARD
        .encode_slice(random, &mut out)
        .expect("24 bytes hold base64 of 16");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_section_1_3_example() {
        assert_eq!(
            &accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn keys_must_decode_to_sixteen_bytes() {
        assert!(is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ"));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZSE="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25j!Q=="));
        assert!(!is_valid_key(b""));
        assert!(is_valid_key(&new_key([0xff; 16])));
    }
}
