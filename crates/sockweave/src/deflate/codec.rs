//! Compressing and inflating message payloads (RFC 7692 §7.2), bounded.
//!
//! The backend is zlib-rs: zlib's algorithms in portable Rust with a safe
//! API (no C toolchain), as fast as zlib-ng, `no_std` with `alloc`, and
//! with the knobs permessage-deflate needs: raw deflate, a chosen window
//! size (`*_max_window_bits`; miniz_oxide only does 15 bits) and a memory
//! level (flate2 does not pass one through).
//!
//! Both halves allocate their zlib state on first use, so a connection
//! that never sends (or never receives) a compressed message pays nothing
//! for that direction. Without context takeover the state can also be
//! freed after each message ([`Compression::release`]).

use super::params::{Compression, MIN_COMPRESS_WINDOW_BITS};
use alloc::vec::Vec;
use zlib_rs::{
    Deflate, DeflateConfig as ZConfig, DeflateFlush, Inflate, InflateFlush, Method, Status,
    Strategy,
};

/// The tail a sync flush ends with; removed from each compressed message
/// and put back before inflating (§7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// Output grows in steps of this much, so a bomb is caught within one step
/// of the limit, whatever its ratio.
const STEP: usize = 16 << 10;

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
    state: Option<Deflate>,
    window_bits: u8,
    no_context_takeover: bool,
    compression: Compression,
}

impl core::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Deflater")
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .field("allocated", &self.state.is_some())
            .finish_non_exhaustive()
    }
}

impl Deflater {
    /// A compressor with a window of `2^window_bits` bytes. Allocates
    /// nothing until the first message.
    pub fn new(window_bits: u8, no_context_takeover: bool, compression: Compression) -> Self {
        Self {
            state: None,
            window_bits,
            no_context_takeover,
            compression,
        }
    }

    /// Whether messages can be compressed at all with the agreed window:
    /// zlib cannot keep within 256 bytes, so with 8 bits every message goes
    /// uncompressed, which the RFC allows.
    pub fn can_compress(&self) -> bool {
        self.window_bits >= MIN_COMPRESS_WINDOW_BITS
    }

    /// Whether the zlib state is allocated now.
    pub fn is_allocated(&self) -> bool {
        self.state.is_some()
    }

    /// The group of compressors that turn a message into the same bytes
    /// as this one: only without context takeover, and only when it
    /// compresses at all.
    pub(crate) fn group(&self, threshold: usize) -> Option<super::DeflateGroup> {
        (self.no_context_takeover && self.can_compress())
            .then(|| super::DeflateGroup::new(self.window_bits, self.compression, threshold))
    }

    /// Compresses one piece of a message into `out`. `last` ends the
    /// message: its sync-flush tail is removed, and without context
    /// takeover the window is forgotten.
    pub fn compress(&mut self, piece: &[u8], last: bool, out: &mut Vec<u8>) {
        let compression = self.compression;
        let bits = self.window_bits.clamp(MIN_COMPRESS_WINDOW_BITS, 15);
        let state = self.state.get_or_insert_with(|| {
            Deflate::new_with_config(ZConfig {
                level: i32::from(compression.level.min(9)),
                method: Method::Deflated,
                window_bits: -i32::from(bits),
                mem_level: i32::from(compression.mem_level.clamp(1, 9)),
                strategy: Strategy::Default,
            })
        });
        let start = out.len();
        let mut input = piece;
        loop {
            let len = out.len();
            let room = (input.len() / 2).max(STEP.min(input.len() + 64)).max(64);
            out.resize(len + room, 0);
            let (before_in, before_out) = (state.total_in(), state.total_out());
            // Sync flush: everything so far comes out, byte-aligned, ending
            // in an empty stored block (00 00 ff ff).
            let status = state.compress(input, &mut out[len..], DeflateFlush::SyncFlush);
            debug_assert!(
                status.is_ok(),
                "deflate with valid parameters does not fail"
            );
            let consumed = (state.total_in() - before_in) as usize;
            let produced = (state.total_out() - before_out) as usize;
            out.truncate(len + produced);
            input = &input[consumed..];
            // Done once all input is in and the flush fit in the room given.
            // An error or a call without progress (neither happens with
            // valid parameters) ends the loop too: the peer would then fail
            // on the message, but nothing here can spin.
            let stuck = consumed == 0 && produced == 0;
            if (input.is_empty() && produced < room) || status.is_err() || stuck {
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
                if self.compression.release {
                    self.state = None;
                } else {
                    state.reset();
                }
            }
        }
    }
}

/// Inflates the messages one direction receives, within a size limit.
pub struct Inflater {
    state: Option<Inflate>,
    window_bits: u8,
    no_context_takeover: bool,
    release: bool,
    /// Inflated bytes of the message in progress.
    produced: u64,
}

impl core::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inflater")
            .field("window_bits", &self.window_bits)
            .field("allocated", &self.state.is_some())
            .field("produced", &self.produced)
            .finish_non_exhaustive()
    }
}

impl Inflater {
    /// An inflater for a peer compressing with `2^window_bits` bytes.
    /// Allocates nothing until the first message. `release`: without
    /// context takeover, free the state after each message.
    pub fn new(window_bits: u8, no_context_takeover: bool, release: bool) -> Self {
        Self {
            state: None,
            // A window at least the peer's: 8 is raised to 9, which is
            // larger and so still correct.
            window_bits: window_bits.clamp(9, 15),
            no_context_takeover,
            release,
            produced: 0,
        }
    }

    /// Whether the zlib state is allocated now.
    pub fn is_allocated(&self) -> bool {
        self.state.is_some()
    }

    /// Inflates one received piece of a compressed message, appending to
    /// `out`. `last` ends the message. Fails as soon as the message would
    /// pass `max` inflated bytes: a message of exactly `max` passes, and
    /// `out` never grows past `max + 1` bytes of this message.
    pub fn inflate(
        &mut self,
        piece: &[u8],
        last: bool,
        max: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), InflateError> {
        let result = self.feed(piece, max, out).and_then(|()| {
            if last {
                self.feed(&TAIL, max, out)
            } else {
                Ok(())
            }
        });
        if last || result.is_err() {
            self.produced = 0;
            if self.no_context_takeover || result.is_err() {
                self.forget();
            }
        }
        result
    }

    fn forget(&mut self) {
        if self.release {
            self.state = None;
        } else if let Some(state) = &mut self.state {
            // zlib-rs resets to a 15-bit window; make a smaller one anew.
            if self.window_bits == 15 {
                state.reset(false);
            } else {
                self.state = None;
            }
        }
    }

    fn feed(&mut self, mut input: &[u8], max: u64, out: &mut Vec<u8>) -> Result<(), InflateError> {
        let bits = self.window_bits;
        let message_start = out.len() as u64 - self.produced.min(out.len() as u64);
        // Output room sized from the input (a few times it: what text
        // usually inflates to), doubling up to a step while the output
        // keeps filling it: a small message costs a small buffer, not a
        // zeroed step.
        let mut step = input
            .len()
            .saturating_mul(4)
            .saturating_add(64)
            .clamp(256, STEP);
        loop {
            let state = self.state.get_or_insert_with(|| Inflate::new(false, bits));
            // Room for at most one byte past the limit: enough to tell
            // "exactly the limit" from "over it", never more than a step.
            let allowed = (max + 1).saturating_sub(self.produced);
            let room = usize::try_from(allowed).map_or(step, |a| a.min(step));
            step = (step * 2).min(STEP);
            let len = out.len();
            reserve_within(out, room, message_start.saturating_add(max + 1));
            out.resize(len + room, 0);
            let (before_in, before_out) = (state.total_in(), state.total_out());
            let status = state
                .decompress(input, &mut out[len..], InflateFlush::SyncFlush)
                .map_err(|_| InflateError::Corrupt);
            let consumed = (state.total_in() - before_in) as usize;
            let produced = (state.total_out() - before_out) as usize;
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
                state.reset(false);
                if bits < 15 {
                    self.state = None;
                }
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

/// Grows `out` for `more` bytes, doubling as usual but never past `cap`
/// total (the message's limit plus one), so a message at the limit never
/// costs twice the limit.
fn reserve_within(out: &mut Vec<u8>, more: usize, cap: u64) {
    let needed = out.len() + more;
    if needed <= out.capacity() {
        return;
    }
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let target = (out.capacity() * 2).max(needed).min(cap.max(needed));
    out.reserve_exact(target - out.len());
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
        let mut i = Inflater::new(15, false, false);
        let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(inflate(&mut i, &hello, 100).unwrap(), b"Hello");
        // §7.2.3.2: the second "Hello" refers back into the first.
        assert_eq!(
            inflate(&mut i, &[0xf2, 0x00, 0x11, 0x00, 0x00], 100).unwrap(),
            b"Hello"
        );
        // §7.2.3.1 again, sent in two fragments.
        let mut i = Inflater::new(15, false, false);
        let mut out = Vec::new();
        i.inflate(&hello[..3], false, 100, &mut out).unwrap();
        i.inflate(&hello[3..], true, 100, &mut out).unwrap();
        assert_eq!(out, b"Hello");
        // Our compressor produces the same bytes for the first message.
        let mut d = Deflater::new(15, false, Compression::default());
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
                let mut d = Deflater::new(bits, no_takeover, Compression::default());
                let mut i = Inflater::new(bits, no_takeover, false);
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
        let mut d = Deflater::new(15, false, Compression::default());
        let mut i = Inflater::new(15, false, false);
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
        let mut keep = Deflater::new(15, false, Compression::default());
        let mut forget = Deflater::new(15, true, Compression::default());
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
        let mut d = Deflater::new(15, true, Compression::default());
        let message = vec![b'x'; 100_000];
        let compressed = deflate(&mut d, &message);
        let mut i = Inflater::new(15, true, false);
        assert_eq!(
            inflate(&mut i, &compressed, 100_000).unwrap().len(),
            100_000
        );
        let mut i = Inflater::new(15, true, false);
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
        let mut d = Deflater::new(
            15,
            false,
            Compression {
                level: 9,
                ..Compression::default()
            },
        );
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
        let mut i = Inflater::new(15, false, false);
        let mut out = Vec::new();
        let result = i.inflate(&bomb, true, max, &mut out);
        assert_eq!(result, Err(InflateError::TooLarge { max }));
        assert!(out.len() as u64 <= max + 1, "held {} bytes", out.len());
        assert!(
            out.capacity() <= max as usize + 1,
            "capacity {}",
            out.capacity()
        );
    }

    #[test]
    fn corrupt_input() {
        let mut i = Inflater::new(15, false, false);
        assert_eq!(
            inflate(&mut i, &[0xff, 0xff, 0xff, 0xff], 100),
            Err(InflateError::Corrupt)
        );
    }

    #[test]
    fn an_8_bit_window_is_never_compressed() {
        assert!(!Deflater::new(8, false, Compression::default()).can_compress());
        assert!(Deflater::new(9, false, Compression::default()).can_compress());
    }
}
