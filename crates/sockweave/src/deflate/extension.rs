//! permessage-deflate as a connection [`Extension`]: one compressor for
//! what we send, one inflater for what we receive, each with the
//! parameters agreed for its direction.

use super::codec::{Deflater, InflateError, Inflater};
use super::params::{Agreed, DeflateConfig};
use crate::Role;
use crate::error::ProtocolError;
use crate::extension::Extension;
use alloc::vec::Vec;

/// RSV1, the bit permessage-deflate defines (`0b100` of the RSV field).
const RSV1: u8 = 0b100;

#[derive(Debug)]
pub(crate) struct PerMessageDeflate {
    deflater: Deflater,
    inflater: Inflater,
    threshold: usize,
}

impl PerMessageDeflate {
    pub(crate) fn new(role: Role, agreed: &Agreed, config: &DeflateConfig) -> Self {
        let (ours, theirs) = match role {
            Role::Server => (
                (agreed.server_window_bits, agreed.server_no_context_takeover),
                (agreed.client_window_bits, agreed.client_no_context_takeover),
            ),
            Role::Client => (
                (agreed.client_window_bits, agreed.client_no_context_takeover),
                (agreed.server_window_bits, agreed.server_no_context_takeover),
            ),
        };
        let compression = config.compression;
        Self {
            deflater: Deflater::new(ours.0, ours.1, compression),
            inflater: Inflater::new(theirs.0, theirs.1, compression.release),
            threshold: config.threshold,
        }
    }
}

impl Extension for PerMessageDeflate {
    fn rsv(&self) -> u8 {
        RSV1
    }

    fn wants(&self, len: usize, whole: bool) -> bool {
        self.deflater.can_compress() && (!whole || len >= self.threshold)
    }

    fn group(&self) -> Option<super::DeflateGroup> {
        self.deflater.group(self.threshold)
    }

    fn encode(&mut self, piece: &[u8], last: bool, out: &mut Vec<u8>) {
        self.deflater.compress(piece, last, out);
    }

    fn decode(
        &mut self,
        piece: &[u8],
        last: bool,
        max: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), ProtocolError> {
        self.inflater
            .inflate(piece, last, max, out)
            .map_err(|e| match e {
                InflateError::TooLarge { max } => ProtocolError::InflatedTooLarge { max },
                InflateError::Corrupt => ProtocolError::InvalidCompressedData,
            })
    }
}
