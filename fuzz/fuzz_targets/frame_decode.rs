//! Frame decoding: never panics; a complete frame re-encodes to a header
//! that decodes the same; every proper prefix of it is `Partial`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::Role;
use sockweave::frame::{
    DecodeRules, FrameHeader, MAX_HEADER_LEN, Status, decode_frame, decode_header,
};

fuzz_target!(|data: &[u8]| {
    for role in [Role::Server, Role::Client] {
        let rules = DecodeRules {
            role,
            allowed_rsv: 0b100,
            max_frame_len: 1 << 20,
        };
        let mut buf = data.to_vec();
        let Ok(Status::Complete(frame)) = decode_frame(&mut buf, &rules) else {
            continue;
        };
        let (header, len) = (frame.header, frame.len);
        assert!(len <= data.len());
        assert_eq!(frame.payload.len() as u64, header.payload_len);
        let mut out = [0; MAX_HEADER_LEN];
        let n = FrameHeader::encode(&header, &mut out);
        assert_eq!(
            decode_header(&out[..n], &rules),
            Ok(Status::Complete((header, n)))
        );
        for cut in [0, 1, len / 2, len.saturating_sub(1)] {
            if cut < len {
                assert!(matches!(
                    decode_frame(&mut data[..cut].to_vec(), &rules),
                    Ok(Status::Partial { .. })
                ));
            }
        }
    }
});
