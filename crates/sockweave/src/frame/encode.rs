//! Frame encoding into caller-owned memory.

use super::header::{FrameHeader, MAX_HEADER_LEN};
use crate::mask;
use alloc::vec::Vec;

/// Appends one frame to `out`: the header (with `payload_len` taken from
/// `payload`) and the payload, masked when the header carries a key.
pub fn encode_frame(header: &FrameHeader, payload: &[u8], out: &mut Vec<u8>) {
    let header = FrameHeader {
        payload_len: payload.len() as u64,
        ..*header
    };
    let mut head = [0; MAX_HEADER_LEN];
    let n = header.encode(&mut head);
    out.reserve(n + payload.len());
    out.extend_from_slice(&head[..n]);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = header.mask {
        mask::apply(&mut out[start..], key, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::OpCode;

    #[test]
    fn rfc6455_section_5_7_masked_hello_byte_for_byte() {
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: OpCode::Text,
            mask: Some([0x37, 0xfa, 0x21, 0x3d]),
            payload_len: 0,
        };
        let mut out = Vec::new();
        encode_frame(&header, b"Hello", &mut out);
        assert_eq!(out, b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
    }

    #[test]
    fn rfc6455_section_5_7_unmasked_ping() {
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: OpCode::Ping,
            mask: None,
            payload_len: 0,
        };
        let mut out = Vec::new();
        encode_frame(&header, b"Hello", &mut out);
        assert_eq!(out, b"\x89\x05Hello");
    }
}
