//! An open client connection fed hostile bytes in chunks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::{Config, Connection, Instant};

mod common;

fuzz_target!(|data: &[u8]| {
    let mut config = Config::default();
    config.max_message_len = 1 << 16;
    config.max_frame_len = 1 << 16;
    let conn = Connection::established_client(config, |b: &mut [u8]| b.fill(0x5a), Instant::ZERO).unwrap();
    common::drive(conn, data);
});
