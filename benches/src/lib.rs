//! Shared inputs for the benches: masked client frames as a server reads
//! them, and in-memory streams for the peers that need a reader.

pub mod raw;

use sockweave::frame::{FrameHeader, OpCode, encode_frame};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Frame payload sizes the issue names.
pub const SIZES: [(usize, &str); 5] = [
    (16, "16B"),
    (1024, "1KiB"),
    (16 << 10, "16KiB"),
    (64 << 10, "64KiB"),
    (1 << 20, "1MiB"),
];

/// How many frames one bench iteration reads: about 1 MiB of input.
pub fn frames_per_batch(size: usize) -> usize {
    ((1 << 20) / (size + 14)).clamp(2, 20_000)
}

/// `count` masked single-frame messages of `size` payload bytes. Text
/// payloads are ASCII with a 2-byte and a 4-byte code point mixed in.
pub fn masked_frames(size: usize, text: bool, count: usize, mask: [u8; 4]) -> Vec<u8> {
    let payload: Vec<u8> = if text {
        let unit = "websocket é 𝄞 ";
        unit.repeat(size / unit.len() + 1).as_bytes()[..size].to_vec()
    } else {
        (0..size).map(|i| i as u8).collect()
    };
    let payload = if text { fix_utf8_end(payload) } else { payload };
    let opcode = if text { OpCode::Text } else { OpCode::Binary };
    let header = FrameHeader {
        fin: true,
        rsv: 0,
        opcode,
        mask: Some(mask),
        payload_len: 0,
    };
    let mut out = Vec::with_capacity(count * (size + 14));
    for _ in 0..count {
        encode_frame(&header, &payload, &mut out);
    }
    out
}

/// Replaces a code point cut at the end by spaces, keeping the length.
fn fix_utf8_end(mut payload: Vec<u8>) -> Vec<u8> {
    let valid = match std::str::from_utf8(&payload) {
        Ok(_) => return payload,
        Err(e) => e.valid_up_to(),
    };
    payload[valid..].fill(b' ');
    payload
}

/// A stream that reads `data` over and over and discards writes: what a
/// long-lived socket looks like to a peer library when the bytes are
/// already there. Each read copies, as a socket read does, and a reader
/// keeps its connection and buffers for the whole measurement.
#[derive(Debug)]
pub struct MemStream {
    data: Vec<u8>,
    at: usize,
}

impl MemStream {
    /// A stream repeating `data` (whole frames, so a pass ends on a frame
    /// boundary).
    pub fn new(data: Vec<u8>) -> Self {
        Self { data, at: 0 }
    }

    /// Copies the next bytes into `buf`, wrapping at the end of the data.
    fn next_into(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at = (self.at + n) % self.data.len();
        n
    }
}

impl io::Read for MemStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.next_into(buf))
    }
}

impl io::Write for MemStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for MemStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // put_slice copies into uninitialised room without zeroing it
        // first, as a socket read does.
        let this = self.get_mut();
        let n = buf.remaining().min(this.data.len() - this.at);
        buf.put_slice(&this.data[this.at..this.at + n]);
        this.at = (this.at + n) % this.data.len();
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for MemStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// `len` bytes of JSON-like text, as a chat or market-data feed sends:
/// repeated keys, varying values (a fixed pseudo-random sequence), so it
/// compresses about as well as real traffic does, not a thousandfold.
pub fn json_like(len: usize) -> String {
    json_like_seeded(len, 0)
}

/// [`json_like`] with its own sequence of values: messages with different
/// seeds share keys and shape, not values.
pub fn json_like_seeded(len: usize, seed: u32) -> String {
    let mut out = String::with_capacity(len + 128);
    let mut state: u32 = 0x9e37_79b9 ^ seed.wrapping_mul(0x85eb_ca6b);
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    out.push('[');
    while out.len() < len {
        let (id, price, qty, user) = (
            next() % 100_000,
            next() % 1_000_000,
            next() % 500,
            next() % 64,
        );
        out.push_str(&format!(
            "{{\"id\":{id},\"symbol\":\"SW{}\",\"price\":{}.{:02},\"qty\":{qty},\"user\":\"user-{user}\",\"side\":\"{}\"}},",
            id % 37,
            price / 100,
            price % 100,
            if qty % 2 == 0 { "buy" } else { "sell" }
        ));
    }
    out.truncate(len);
    out
}
