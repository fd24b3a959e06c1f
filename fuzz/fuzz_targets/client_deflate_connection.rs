//! A client's opening handshake answered by a server that agrees to
//! permessage-deflate (the answer is computed from the client's own key),
//! then hostile server frames in chunks, compressed or not. Never panics;
//! `Closed` once, last; within the limits (the common driver's checks).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::deflate::DeflateConfig;
use sockweave::handshake::accept_key;
use sockweave::{ClientRequest, Config, Connection, Instant};

mod common;

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
    let request = ClientRequest::new("ws://h/").unwrap();
    let mut conn =
        Connection::client(&request, config, |b: &mut [u8]| b.fill(0x5a), Instant::ZERO).unwrap();
    let mut head = Vec::new();
    conn.poll_transmit(&mut head);
    let head = String::from_utf8(head).unwrap();
    let key = head
        .lines()
        .find_map(|line| line.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let accept = accept_key(key.as_bytes());
    let mut input = vec![chunk];
    input.extend_from_slice(
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
            std::str::from_utf8(&accept).unwrap()
        )
        .as_bytes(),
    );
    input.extend_from_slice(frames);
    common::drive(conn, &input);
});
