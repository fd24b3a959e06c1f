//! A server connection with permessage-deflate agreed (a fixed request
//! offering it comes first), fed hostile frames in chunks with an echo
//! application: compressed or not, fragmented, with RSV bits anywhere.
//! Never panics, reports `Closed` exactly once, holds no more than its
//! limits (the message limit applies to inflated bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::deflate::DeflateConfig;
use sockweave::{Config, Connection, Instant, ServerPolicy};

mod common;

const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, frames)) = data.split_first() else {
        return;
    };
    let mut config = Config::default();
    config.max_message_len = 1 << 16;
    config.max_frame_len = 1 << 16;
    let mut deflate = DeflateConfig::default();
    deflate.threshold = 0;
    config.deflate = Some(deflate);
    let conn = Connection::server(ServerPolicy::default(), config, Instant::ZERO).unwrap();
    let mut input = Vec::with_capacity(1 + REQUEST.len() + frames.len());
    input.push(chunk);
    input.extend_from_slice(REQUEST);
    input.extend_from_slice(frames);
    common::drive(conn, &input);
});
