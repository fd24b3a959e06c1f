//! The client's response parser, fed in chunks: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::handshake::ClientHandshake;
use sockweave::{BytesMut, ClientRequest, Config};

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, data)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let request = ClientRequest::new("ws://example.com/chat")
        .unwrap()
        .protocol("chat")
        .extension("x-ok");
    // RFC 6455 §1.3's nonce, so the corpus can hold a valid response.
    let mut nonce = |buf: &mut [u8]| buf.copy_from_slice(b"the sample nonce");
    let (mut handshake, _) =
        ClientHandshake::new(&request, &mut nonce, &Config::default()).unwrap();
    let mut input = BytesMut::new();
    for piece in data.chunks(chunk) {
        input.extend_from_slice(piece);
        match handshake.receive(&mut input) {
            Ok(None) => {}
            Ok(Some(_)) | Err(_) => return,
        }
    }
});
