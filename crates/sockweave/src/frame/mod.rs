//! The frame layer (RFC 6455 §5.2): headers, decoding with in-place
//! unmasking, and encoding. Nothing here allocates.
//!
//! This is the lower tier of the crate: [`crate::Connection`] is built on
//! [`decode_header`] and [`FrameHeader::encode`], and embedders that only
//! want a frame codec can use them directly.

mod decode;
mod encode;
mod header;

pub use decode::{DecodeRules, Frame, Status, decode_frame, decode_header};
pub use encode::encode_frame;
pub use header::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode};
