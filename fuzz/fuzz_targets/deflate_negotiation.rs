//! permessage-deflate negotiation: any header value, as an offer or a
//! response, never panics; whatever a server accepts, a client that made
//! that offer accepts back with the same agreement on window sizes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::deflate::{DeflateConfig, accept_offer, check_response};

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let config = DeflateConfig::default();
    let _ = check_response(header, &config);
    if let Some((response, agreed)) = accept_offer(header.split(','), &config) {
        // The response is well formed, and a client reading it agrees on
        // both windows.
        let back = check_response(&response, &config).expect("our own response parses");
        assert_eq!(back.server_window_bits, agreed.server_window_bits);
        assert_eq!(back.client_window_bits, agreed.client_window_bits);
    }
});
