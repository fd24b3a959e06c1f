//! The WebSocket wire as the load generators (`ws_load`, `ws_fanout`)
//! speak it, written out here rather than taken from sockweave, so every
//! server is measured by a client that is not sockweave: a fixed upgrade
//! request, masked frames built once, server frame headers checked.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

/// What the upgrade asks for beyond a plain WebSocket.
pub const DEFLATE_OFFER: &str =
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

/// Connects and upgrades; returns the socket, non-blocking, once the
/// server's 101 head has been read, and the head itself. With `deflate`,
/// permessage-deflate without context takeover either way is offered and
/// must be accepted.
pub fn handshake(addr: SocketAddr, deflate: bool) -> io::Result<(std::net::TcpStream, String)> {
    // A server's accept backlog can overflow while thousands connect:
    // a refused connection is tried again for a while.
    let mut tries = 0;
    let mut stream = loop {
        match std::net::TcpStream::connect(addr) {
            Ok(stream) => break stream,
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    };
    stream.set_nodelay(true)?;
    let extension = if deflate {
        format!("Sec-WebSocket-Extensions: {DEFLATE_OFFER}\r\n")
    } else {
        String::new()
    };
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extension}\r\n"
    );
    stream.write_all(request.as_bytes())?;
    // Byte by byte up to the blank line: nothing after the head may be
    // swallowed.
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 || head.len() > 8192 {
            return Err(io::Error::other("no complete HTTP response"));
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    if !head.starts_with("HTTP/1.1 101") {
        let line = head.lines().next().unwrap_or_default().to_owned();
        return Err(io::Error::other(format!("handshake refused: {line}")));
    }
    if deflate && !head.to_ascii_lowercase().contains("permessage-deflate") {
        return Err(io::Error::other(
            "the server did not take permessage-deflate",
        ));
    }
    stream.set_nonblocking(true)?;
    Ok((stream, head))
}

/// `count` identical masked frames (`opcode`: 0x1 text, 0x2 binary) of
/// `payload`, back to back.
pub fn masked_frames(opcode: u8, payload: &[u8], count: usize) -> Vec<u8> {
    let key = [0x5a, 0x1c, 0xe3, 0x07];
    let len = payload.len();
    let mut frame = vec![0x80 | opcode];
    match len {
        0..=125 => frame.push(0x80 | len as u8),
        126..=0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame.repeat(count)
}

/// A server frame's header as it arrives, then how much payload to skip.
#[derive(Debug, Default)]
pub struct FrameReader {
    header: [u8; 10],
    header_len: usize,
    skip: u64,
}

impl FrameReader {
    /// Consumes `input`; calls `done(first_byte, payload_len)` for every
    /// frame whose last byte arrived. The payload is skipped, not kept.
    pub fn feed(
        &mut self,
        mut input: &[u8],
        mut done: impl FnMut(u8, u64) -> io::Result<()>,
    ) -> io::Result<()> {
        while !input.is_empty() {
            if self.skip > 0 {
                let take = (self.skip as usize).min(input.len());
                self.skip -= take as u64;
                input = &input[take..];
                if self.skip == 0 {
                    done(self.header[0], self.payload_len())?;
                    self.header_len = 0;
                }
                continue;
            }
            let need = header_len(&self.header[..self.header_len]);
            let take = (need - self.header_len).min(input.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&input[..take]);
            self.header_len += take;
            input = &input[take..];
            if self.header_len < header_len(&self.header[..self.header_len]) {
                continue;
            }
            if self.header[1] & 0x80 != 0 {
                return Err(io::Error::other("a masked frame from the server"));
            }
            match self.payload_len() {
                0 => {
                    done(self.header[0], 0)?;
                    self.header_len = 0;
                }
                n => self.skip = n,
            }
        }
        Ok(())
    }

    fn payload_len(&self) -> u64 {
        let h = &self.header;
        match h[1] & 0x7f {
            126 => u64::from(u16::from_be_bytes([h[2], h[3]])),
            127 => u64::from_be_bytes(h[2..10].try_into().expect("8 bytes")),
            n => u64::from(n),
        }
    }
}

/// How long the header starting with `have` is (2 until its second byte
/// is known).
fn header_len(have: &[u8]) -> usize {
    match have.get(1).map(|b| b & 0x7f) {
        Some(126) => 4,
        Some(127) => 10,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_anywhere_come_out_whole() {
        // Unmasked server frames of 5, 300 and 70,000 bytes.
        let mut wire = Vec::new();
        for len in [5usize, 300, 70_000] {
            let mut frame = masked_frames(0x2, &vec![1; len], 1);
            // Unmask: drop the mask bit and key (payload XOR is irrelevant).
            let at = match len {
                0..=125 => 2,
                126..=0xffff => 4,
                _ => 10,
            };
            frame[1] &= 0x7f;
            frame.drain(at..at + 4);
            wire.extend(frame);
        }
        for step in [1, 7, 4096, wire.len()] {
            let mut reader = FrameReader::default();
            let mut seen = Vec::new();
            for piece in wire.chunks(step) {
                reader
                    .feed(piece, |first, len| {
                        seen.push((first, len));
                        Ok(())
                    })
                    .unwrap();
            }
            assert_eq!(
                seen,
                [(0x82, 5), (0x82, 300), (0x82, 70_000)],
                "step {step}"
            );
        }
    }
}
