//! Compressing and inflating message payloads (RFC 7692 §7.2), bounded.
//!
//! The backend is flate2 over zlib-rs: zlib's algorithms in safe, portable
//! Rust (no C toolchain), as fast as zlib-ng, and the one flate2 backend
//! besides C zlib that offers raw deflate with a chosen window size, which
//! `*_max_window_bits` needs (miniz_oxide only does 15 bits).

use super::params::MIN_COMPRESS_WINDOW_BITS;
use alloc::vec::Vec;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The tail a sync flush ends with; removed from each compressed message
/// and put back before inflating (§7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// Output grows in steps of this much, so a bomb is caught within one step
/// of the limit, whatever its ratio.
const STEP: usize = 16 << 10;

/// Memory and effort for a compressor, per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Level {
    /// zlib level 0–9 (6 is zlib's default; 1 is fastest).
    pub level: u32,
}

impl Default for Level {
    fn default() -> Self {
        Self { level: 6 }
    }
}

/// Why a compressed message could not be inflated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InflateError {
    /// The inflated message would exceed the limit (close 1009).
    TooLarge {
        /// The limit, in inflated bytes.
        max: u64,
    },
    /// Not a valid deflate stream (close 1007).
    Corrupt,
}

/// Compresses the messages one direction sends.
pub struct Deflater {
    compress: Compress,
    no_context_takeover: bool,
    /// False when the agreed window is smaller than zlib can produce:
    /// then every message goes uncompressed, which the RFC allows.
    can_compress: bool,
}

impl core::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Deflater")
            .field("no_context_takeover", &self.no_context_takeover)
            .finish_non_exhaustive()
    }
}

impl Deflater {
    /// A compressor with a window of `2^window_bits` bytes.
    pub fn new(window_bits: u8, no_context_takeover: bool, level: Level) -> Self {
        let bits = window_bits.clamp(MIN_COMPRESS_WINDOW_BITS, 15);
        Self {
            compress: Compress::new_with_window_bits(
                Compression::new(level.level.min(9)),
                false,
                bits,
            ),
            no_context_takeover,
            can_compress: window_bits >= MIN_COMPRESS_WINDOW_BITS,
        }
    }

    /// Whether messages can be compressed at all with the agreed window.
    pub fn can_compress(&self) -> bool {
        self.can_compress
    }

    /// Compresses one piece of a message into `out`. `last` ends the
    /// message: its sync-flush tail is removed, and without context
    /// takeover the window is forgotten.
    pub fn compress(&mut self, piece: &[u8], last: bool, out: &mut Vec<u8>) {
        let start = out.len();
        let mut input = piece;
        loop {
            let len = out.len();
            let room = (input.len() / 2).max(STEP.min(input.len() + 64)).max(64);
            out.resize(len + room, 0);
            let (before_in, before_out) = (self.compress.total_in(), self.compress.total_out());
            // Sync flush: everything so far comes out, byte-aligned, ending
            // in an empty stored block (00 00 ff ff).
            self.compress
                .compress(input, &mut out[len..], FlushCompress::Sync)
                .expect("deflate with valid parameters does not fail");
            let consumed = (self.compress.total_in() - before_in) as usize;
            let produced = (self.compress.total_out() - before_out) as usize;
            out.truncate(len + produced);
            input = &input[consumed..];
            // Done once all input is in and the flush fit in the room given.
            if input.is_empty() && produced < room {
                break;
            }
        }
        if last {
            if out.len() - start >= TAIL.len() && out.ends_with(&TAIL) {
                out.truncate(out.len() - TAIL.len());
            }
            if out.len() == start {
                // An empty message compresses to a single empty block.
                out.push(0x00);
            }
            if self.no_context_takeover {
                self.compress.reset();
            }
        }
    }
}

/// Inflates the messages one direction receives, within a size limit.
pub struct Inflater {
    decompress: Decompress,
    no_context_takeover: bool,
    /// Inflated bytes of the message in progress.
    produced: u64,
}

impl core::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inflater")
            .field("produced", &self.produced)
            .finish_non_exhaustive()
    }
}

impl Inflater {
    /// An inflater for a peer compressing with `2^window_bits` bytes.
    pub fn new(window_bits: u8, no_context_takeover: bool) -> Self {
        Self {
            // A window at least the peer's: 8 is raised to 9, which is
            // larger and so still correct.
            decompress: Decompress::new_with_window_bits(false, window_bits.clamp(9, 15)),
            no_context_takeover,
            produced: 0,
        }
    }

    /// Inflates one received piece of a compressed message, appending to
    /// `out`. `last` ends the message. Fails as soon as the message would
    /// pass `max` inflated bytes: a message of exactly `max` passes.
    pub fn inflate(
        &mut self,
        piece: &[u8],
        last: bool,
        max: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), InflateError> {
        self.feed(piece, max, out)?;
        if last {
            self.feed(&TAIL, max, out)?;
            self.produced = 0;
            if self.no_context_takeover {
                self.decompress.reset(false);
            }
        }
        Ok(())
    }

    fn feed(&mut self, mut input: &[u8], max: u64, out: &mut Vec<u8>) -> Result<(), InflateError> {
        loop {
            // Room for at most one byte past the limit: enough to tell
            // "exactly the limit" from "over it", never more than a step.
            let allowed = (max + 1).saturating_sub(self.produced);
            let room = usize::try_from(allowed).map_or(STEP, |a| a.min(STEP));
            let len = out.len();
            out.resize(len + room, 0);
            let (before_in, before_out) = (self.decompress.total_in(), self.decompress.total_out());
            let status = self
                .decompress
                .decompress(input, &mut out[len..], FlushDecompress::Sync)
                .map_err(|_| InflateError::Corrupt);
            let consumed = (self.decompress.total_in() - before_in) as usize;
            let produced = (self.decompress.total_out() - before_out) as usize;
            out.truncate(len + produced);
            let status = status?;
            input = &input[consumed..];
            self.produced += produced as u64;
            if self.produced > max {
                return Err(InflateError::TooLarge { max });
            }
            if status == Status::StreamEnd {
                // A final block ends the stream: nothing may follow it in
                // this message, and the next one starts afresh.
                if !input.is_empty() {
                    return Err(InflateError::Corrupt);
                }
                self.decompress.reset(false);
                return Ok(());
            }
            if input.is_empty() && produced < room {
                return Ok(());
            }
            if consumed == 0 && produced == 0 {
                // Input left, room left, and no progress.
                return Err(InflateError::Corrupt);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn deflate(d: &mut Deflater, message: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        d.compress(message, true, &mut out);
        out
    }

    fn inflate(i: &mut Inflater, data: &[u8], max: u64) -> Result<Vec<u8>, InflateError> {
        let mut out = Vec::new();
        i.inflate(data, true, max, &mut out)?;
        Ok(out)
    }

    #[test]
    fn rfc7692_examples() {
        // §7.2.3.1: "Hello" in one compressed message.
        let mut i = Inflater::new(15, false);
        let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(inflate(&mut i, &hello, 100).unwrap(), b"Hello");
        // §7.2.3.2: the second "Hello" refers back into the first.
        assert_eq!(
            inflate(&mut i, &[0xf2, 0x00, 0x11, 0x00, 0x00], 100).unwrap(),
            b"Hello"
        );
        // §7.2.3.1 again, sent in two fragments.
        let mut i = Inflater::new(15, false);
        let mut out = Vec::new();
        i.inflate(&hello[..3], false, 100, &mut out).unwrap();
        i.inflate(&hello[3..], true, 100, &mut out).unwrap();
        assert_eq!(out, b"Hello");
        // Our compressor produces the same bytes for the first message.
        let mut d = Deflater::new(15, false, Level::default());
        assert_eq!(deflate(&mut d, b"Hello"), hello);
    }

    fn corpus() -> Vec<Vec<u8>> {
        let text: Vec<u8> = b"WebSocket permessage-deflate, repeated. ".repeat(700);
        let noise: Vec<u8> = (0..50_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        vec![Vec::new(), b"a".to_vec(), text, noise, vec![0; 300_000]]
    }

    #[test]
    fn round_trips_for_every_window_and_takeover() {
        for bits in 9..=15u8 {
            for no_takeover in [false, true] {
                let mut d = Deflater::new(bits, no_takeover, Level::default());
                let mut i = Inflater::new(bits, no_takeover);
                for _ in 0..2 {
                    for message in corpus() {
                        let compressed = deflate(&mut d, &message);
                        let back = inflate(&mut i, &compressed, 1 << 20).unwrap();
                        assert!(
                            back == message,
                            "bits {bits} no_takeover {no_takeover} len {}",
                            message.len()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn fragments_compressed_and_inflated_in_any_pieces() {
        let mut d = Deflater::new(15, false, Level::default());
        let mut i = Inflater::new(15, false);
        let message = b"fragmented and compressed, ".repeat(2000);
        let mut compressed = Vec::new();
        for (n, piece) in message.chunks(7001).enumerate() {
            d.compress(
                piece,
                n == message.len().div_ceil(7001) - 1,
                &mut compressed,
            );
        }
        let mut back = Vec::new();
        let pieces: Vec<&[u8]> = compressed.chunks(333).collect();
        for (n, piece) in pieces.iter().enumerate() {
            i.inflate(piece, n == pieces.len() - 1, 1 << 20, &mut back)
                .unwrap();
        }
        assert_eq!(back, message);
    }

    #[test]
    fn context_takeover_makes_repeats_small_and_no_takeover_does_not() {
        let message = b"the same message, again and again".repeat(4);
        let mut keep = Deflater::new(15, false, Level::default());
        let mut forget = Deflater::new(15, true, Level::default());
        let (first, second) = (deflate(&mut keep, &message), deflate(&mut keep, &message));
        assert!(
            second.len() < first.len() / 2,
            "{} vs {}",
            second.len(),
            first.len()
        );
        let (a, b) = (
            deflate(&mut forget, &message),
            deflate(&mut forget, &message),
        );
        assert_eq!(a, b, "without takeover every message starts afresh");
    }

    #[test]
    fn the_limit_is_exact() {
        let mut d = Deflater::new(15, true, Level::default());
        let message = vec![b'x'; 100_000];
        let compressed = deflate(&mut d, &message);
        let mut i = Inflater::new(15, true);
        assert_eq!(
            inflate(&mut i, &compressed, 100_000).unwrap().len(),
            100_000
        );
        let mut i = Inflater::new(15, true);
        assert_eq!(
            inflate(&mut i, &compressed, 99_999),
            Err(InflateError::TooLarge { max: 99_999 })
        );
    }

    #[test]
    fn a_bomb_stops_at_the_limit_with_bounded_memory() {
        // 1 MiB of zeros compresses to about 1 KiB; with context takeover
        // the same 1 MiB again compresses to the same bytes, so 1,024 of
        // them make one message that inflates to 1 GiB.
        let mut d = Deflater::new(15, false, Level { level: 9 });
        let zeros = vec![0u8; 1 << 20];
        let mut first = Vec::new();
        d.compress(&zeros, false, &mut first);
        let mut repeat = Vec::new();
        d.compress(&zeros, false, &mut repeat);
        let mut bomb = first;
        for _ in 1..1024 {
            bomb.extend_from_slice(&repeat);
        }
        assert!(bomb.len() < 2 << 20, "{} compressed bytes", bomb.len());
        let max = 16 << 20;
        let mut i = Inflater::new(15, false);
        let mut out = Vec::new();
        let result = i.inflate(&bomb, true, max, &mut out);
        assert_eq!(result, Err(InflateError::TooLarge { max }));
        assert!(out.len() as u64 <= max + 1, "held {} bytes", out.len());
        assert!(
            out.capacity() <= (max as usize) * 2 + STEP,
            "capacity {}",
            out.capacity()
        );
    }

    #[test]
    fn corrupt_input() {
        let mut i = Inflater::new(15, false);
        assert_eq!(
            inflate(&mut i, &[0xff, 0xff, 0xff, 0xff], 100),
            Err(InflateError::Corrupt)
        );
    }

    #[test]
    fn an_8_bit_window_is_never_compressed() {
        assert!(!Deflater::new(8, false, Level::default()).can_compress());
        assert!(Deflater::new(9, false, Level::default()).can_compress());
    }
}
