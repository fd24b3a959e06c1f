//! A whole server connection, handshake included, fed hostile bytes in
//! chunks with an echo application: never panics, reports `Closed` at most
//! once and last, and holds no more than its limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::{Config, Connection, Instant, ServerPolicy};

mod common;

fuzz_target!(|data: &[u8]| {
    let mut config = Config::default();
    config.max_message_len = 1 << 16;
    config.max_frame_len = 1 << 16;
    let conn = Connection::server(ServerPolicy::default(), config, Instant::ZERO).unwrap();
    common::drive(conn, data);
});
