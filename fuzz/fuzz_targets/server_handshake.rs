//! The server's request parser, fed in chunks: never panics, every error
//! has an HTTP status, and a request leaves exactly the bytes after it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::handshake::{Reject, ServerHandshake};
use sockweave::{BytesMut, Config};

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, data)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut handshake = ServerHandshake::new(&Config::default());
    let mut input = BytesMut::new();
    for piece in data.chunks(chunk) {
        input.extend_from_slice(piece);
        match handshake.receive(&mut input) {
            Ok(None) => {}
            Ok(Some(request)) => {
                request
                    .accept(&Default::default())
                    .expect("a parsed request can be answered");
                return;
            }
            Err(e) => {
                assert!(e.http_status().is_some());
                Reject::from(&e)
                    .to_bytes()
                    .expect("every refusal can be written");
                return;
            }
        }
    }
});
