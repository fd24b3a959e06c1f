//! Frame decoding: `Partial` on short input, never an error, at any split.

use super::header::{FrameHeader, MAX_CONTROL_PAYLOAD, OpCode};
use crate::Role;
use crate::error::ProtocolError;
use crate::mask;

/// Result of decoding from a buffer that may hold only part of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status<T> {
    /// Decoded.
    Complete(T),
    /// The buffer is too short; at least `needed` more bytes are required.
    Partial {
        /// Lower bound on the bytes still missing.
        needed: usize,
    },
}

/// What a well-formed frame must look like on this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeRules {
    /// Our role: a server requires masked frames, a client rejects them.
    pub role: Role,
    /// RSV bits a negotiated extension defines (`0b100` = RSV1).
    pub allowed_rsv: u8,
    /// Longest payload accepted, checked before anything is buffered.
    pub max_frame_len: u64,
}

impl DecodeRules {
    /// Rules for `role` with no extension and the given frame limit.
    pub const fn new(role: Role, max_frame_len: u64) -> Self {
        Self {
            role,
            allowed_rsv: 0,
            max_frame_len,
        }
    }
}

/// Decodes and validates a frame header at the start of `buf`.
///
/// Returns the header and its length in bytes. Every rule that can be
/// checked from the header is checked here, the declared length included,
/// so a caller can size buffers from `payload_len` safely.
#[inline]
pub fn decode_header(
    buf: &[u8],
    rules: &DecodeRules,
) -> Result<Status<(FrameHeader, usize)>, ProtocolError> {
    let [b0, b1, rest @ ..] = buf else {
        return Ok(Status::Partial {
            needed: 2 - buf.len(),
        });
    };
    let (b0, b1) = (*b0, *b1);
    let fin = b0 & 0x80 != 0;
    let rsv = (b0 >> 4) & 0b111;
    let opcode = OpCode::from_bits(b0 & 0x0f).ok_or(ProtocolError::ReservedOpcode(b0 & 0x0f))?;
    if rsv & !rules.allowed_rsv != 0 {
        return Err(ProtocolError::ReservedBits(rsv));
    }
    let masked = b1 & 0x80 != 0;
    match (rules.role, masked) {
        (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
        (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
        _ => {}
    }
    let short_len = b1 & 0x7f;
    if opcode.is_control() {
        if !fin {
            return Err(ProtocolError::FragmentedControl);
        }
        if usize::from(short_len) > MAX_CONTROL_PAYLOAD {
            // 126 and 127 announce an extended length: too long either way.
            return Err(ProtocolError::ControlTooLong(u64::from(short_len)));
        }
    }
    let len_bytes = match short_len {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask_bytes = if masked { 4 } else { 0 };
    let header_len = 2 + len_bytes + mask_bytes;
    if buf.len() < header_len {
        return Ok(Status::Partial {
            needed: header_len - buf.len(),
        });
    }
    let payload_len = match len_bytes {
        0 => u64::from(short_len),
        2 => u64::from(u16::from_be_bytes([rest[0], rest[1]])),
        _ => {
            let len = u64::from_be_bytes(rest[..8].try_into().expect("8 bytes"));
            if len >> 63 != 0 {
                return Err(ProtocolError::LengthOverflow);
            }
            len
        }
    };
    if payload_len > rules.max_frame_len {
        return Err(ProtocolError::FrameTooLarge {
            len: payload_len,
            max: rules.max_frame_len,
        });
    }
    // One 4-byte copy, not four byte stores: the key is read back as a word.
    let mask = masked.then(|| rest[len_bytes..len_bytes + 4].try_into().expect("4 bytes"));
    let header = FrameHeader {
        fin,
        rsv,
        opcode,
        mask,
        payload_len,
    };
    Ok(Status::Complete((header, header_len)))
}

/// A decoded frame whose payload was unmasked in place.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The header, mask key included.
    pub header: FrameHeader,
    /// The unmasked payload, borrowed from the input buffer.
    pub payload: &'a mut [u8],
    /// Bytes of input the whole frame took.
    pub len: usize,
}

/// Decodes a whole frame at the start of `buf`, unmasking its payload in
/// place. Returns `Partial` until the whole frame is in `buf`.
#[inline]
pub fn decode_frame<'a>(
    buf: &'a mut [u8],
    rules: &DecodeRules,
) -> Result<Status<Frame<'a>>, ProtocolError> {
    let (header, header_len) = match decode_header(buf, rules)? {
        Status::Complete(found) => found,
        Status::Partial { needed } => return Ok(Status::Partial { needed }),
    };
    // The limit check above keeps this within usize on every platform
    // whose limit fits in memory; saturate for the ones it does not.
    let payload_len = usize::try_from(header.payload_len).unwrap_or(usize::MAX);
    let total = header_len.saturating_add(payload_len);
    if buf.len() < total {
        return Ok(Status::Partial {
            needed: total - buf.len(),
        });
    }
    let payload = &mut buf[header_len..total];
    if let Some(key) = header.mask {
        mask::apply(payload, key, 0);
    }
    Ok(Status::Complete(Frame {
        header,
        payload,
        len: total,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    const SERVER: DecodeRules = DecodeRules::new(Role::Server, 1 << 24);
    const CLIENT: DecodeRules = DecodeRules::new(Role::Client, 1 << 24);

    /// Decodes `wire` whole, then at every split point and one byte at a
    /// time, and checks all agree.
    fn decode_everywhere(wire: &[u8], rules: &DecodeRules) -> (FrameHeader, Vec<u8>) {
        let mut whole = wire.to_vec();
        let Status::Complete(frame) = decode_frame(&mut whole, rules).unwrap() else {
            panic!("complete input decoded as partial");
        };
        let expected = (frame.header, frame.payload.to_vec());
        assert_eq!(frame.len, wire.len());
        for cut in 0..wire.len() {
            let mut prefix = wire[..cut].to_vec();
            match decode_frame(&mut prefix, rules).unwrap() {
                Status::Partial { needed } => assert!(needed >= 1 && needed <= wire.len() - cut),
                Status::Complete(_) => panic!("prefix of {cut} bytes decoded as complete"),
            }
        }
        expected
    }

    #[test]
    fn rfc6455_section_5_7_examples() {
        // Single-frame unmasked text message.
        let (h, p) = decode_everywhere(b"\x81\x05Hello", &CLIENT);
        assert!(h.fin && h.opcode == OpCode::Text && h.mask.is_none());
        assert_eq!(p, b"Hello");
        // Single-frame masked text message.
        let (h, p) = decode_everywhere(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", &SERVER);
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!(p, b"Hello");
        // Fragmented unmasked text message.
        let (h, p) = decode_everywhere(b"\x01\x03Hel", &CLIENT);
        assert!(!h.fin && h.opcode == OpCode::Text);
        assert_eq!(p, b"Hel");
        let (h, p) = decode_everywhere(b"\x80\x02lo", &CLIENT);
        assert!(h.fin && h.opcode == OpCode::Continuation);
        assert_eq!(p, b"lo");
        // Unmasked ping and masked pong.
        let (h, p) = decode_everywhere(b"\x89\x05Hello", &CLIENT);
        assert_eq!((h.opcode, p.as_slice()), (OpCode::Ping, &b"Hello"[..]));
        let (h, p) = decode_everywhere(b"\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", &SERVER);
        assert_eq!((h.opcode, p.as_slice()), (OpCode::Pong, &b"Hello"[..]));
        // 256 bytes binary in a single unmasked frame.
        let mut wire = b"\x82\x7e\x01\x00".to_vec();
        wire.extend(core::iter::repeat_n(0xab, 256));
        let (h, p) = decode_everywhere(&wire, &CLIENT);
        assert_eq!((h.payload_len, p.len()), (256, 256));
        // 64 KiB binary in a single unmasked frame.
        let mut wire = b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00".to_vec();
        wire.extend(core::iter::repeat_n(0xcd, 65536));
        let (h, _) = decode_everywhere(&wire, &CLIENT);
        assert_eq!(h.payload_len, 65536);
    }

    #[test]
    fn header_rules() {
        let err = |wire: &[u8], rules: &DecodeRules| decode_header(wire, rules).unwrap_err();
        assert_eq!(err(b"\x83\x80", &SERVER), ProtocolError::ReservedOpcode(3));
        assert_eq!(
            err(b"\x8b\x80", &SERVER),
            ProtocolError::ReservedOpcode(0xb)
        );
        assert_eq!(
            err(b"\xc1\x80", &SERVER),
            ProtocolError::ReservedBits(0b100)
        );
        assert_eq!(
            err(b"\x91\x80", &SERVER),
            ProtocolError::ReservedBits(0b001)
        );
        assert_eq!(err(b"\x09\x80", &SERVER), ProtocolError::FragmentedControl);
        assert_eq!(
            err(b"\x89\xfe", &SERVER),
            ProtocolError::ControlTooLong(126)
        );
        assert_eq!(err(b"\x81\x00", &SERVER), ProtocolError::UnmaskedFrame);
        assert_eq!(err(b"\x81\x80", &CLIENT), ProtocolError::MaskedFrame);
        assert_eq!(
            err(b"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", &CLIENT),
            ProtocolError::LengthOverflow
        );
        let small = DecodeRules::new(Role::Client, 100);
        assert_eq!(
            err(b"\x82\x7e\x01\x00", &small),
            ProtocolError::FrameTooLarge { len: 256, max: 100 }
        );
        let rsv1 = DecodeRules {
            allowed_rsv: 0b100,
            ..CLIENT
        };
        assert!(decode_header(b"\xc1\x00", &rsv1).is_ok());
    }

    #[test]
    fn errors_are_reported_as_soon_as_the_header_shows_them() {
        // The reserved opcode is visible in the first byte... but a header
        // needs two bytes; the second is enough to fail, whatever follows.
        assert_eq!(
            decode_header(b"\x83", &SERVER),
            Ok(Status::Partial { needed: 1 })
        );
        assert!(decode_header(b"\x83\x80", &SERVER).is_err());
    }

    #[test]
    fn encode_uses_minimal_lengths_and_round_trips() {
        for len in [0u64, 1, 125, 126, 127, 0xffff, 0x10000, 1 << 40] {
            for mask in [None, Some([9, 8, 7, 6])] {
                let header = FrameHeader {
                    fin: true,
                    rsv: 0,
                    opcode: OpCode::Binary,
                    mask,
                    payload_len: len,
                };
                let mut out = [0; super::super::MAX_HEADER_LEN];
                let n = header.encode(&mut out);
                assert_eq!(n, header.encoded_len());
                let expected =
                    2 + if len < 126 {
                        0
                    } else if len <= 0xffff {
                        2
                    } else {
                        8
                    } + if mask.is_some() { 4 } else { 0 };
                assert_eq!(n, expected);
                let role = if mask.is_some() {
                    Role::Server
                } else {
                    Role::Client
                };
                let rules = DecodeRules::new(role, u64::MAX >> 1);
                assert_eq!(
                    decode_header(&out[..n], &rules),
                    Ok(Status::Complete((header, n)))
                );
            }
        }
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use crate::frame::encode_frame;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn header() -> impl Strategy<Value = (FrameHeader, Vec<u8>)> {
        let opcode = prop_oneof![
            Just(OpCode::Continuation),
            Just(OpCode::Text),
            Just(OpCode::Binary),
            Just(OpCode::Close),
            Just(OpCode::Ping),
            Just(OpCode::Pong),
        ];
        (
            opcode,
            any::<bool>(),
            0u8..8,
            proptest::option::of(any::<[u8; 4]>()),
        )
            .prop_flat_map(|(opcode, fin, rsv, mask)| {
                let fin = fin || opcode.is_control();
                let max = if opcode.is_control() { 125 } else { 70_000 };
                proptest::collection::vec(any::<u8>(), 0..max).prop_map(move |payload| {
                    let header = FrameHeader {
                        fin,
                        rsv,
                        opcode,
                        mask,
                        payload_len: payload.len() as u64,
                    };
                    (header, payload)
                })
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn encode_then_decode_is_identity((header, payload) in header(), cut in any::<proptest::sample::Index>()) {
            let mut wire = Vec::new();
            encode_frame(&header, &payload, &mut wire);
            let role = if header.mask.is_some() { Role::Server } else { Role::Client };
            let rules = DecodeRules { role, allowed_rsv: 0b111, max_frame_len: 1 << 20 };
            let cut = cut.index(wire.len());
            let mut prefix = wire[..cut].to_vec();
            let partial = matches!(decode_frame(&mut prefix, &rules), Ok(Status::Partial { .. }));
            prop_assert!(partial, "a proper prefix must be partial");
            let Ok(Status::Complete(frame)) = decode_frame(&mut wire, &rules) else {
                return Err(TestCaseError::fail("complete frame did not decode"));
            };
            prop_assert_eq!(frame.header, header);
            prop_assert_eq!(&frame.payload[..], &payload[..]);
        }
    }
}
