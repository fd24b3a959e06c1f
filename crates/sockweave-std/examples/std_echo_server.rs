//! Echo server, one thread per connection: `std_echo_server [ADDR] [--deflate]`
//! (default 127.0.0.1:9001). Echoes text and binary unchanged; a close is
//! answered with the same code.

use sockweave_std::{Config, ServerPolicy, accept_with};
use std::net::TcpListener;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .filter(|a| a != "--deflate")
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr)?;
    eprintln!("std echo server on ws://{addr}");
    for stream in listener.incoming() {
        let stream = stream?;
        stream.set_nodelay(true)?;
        std::thread::spawn(move || {
            let mut config = Config::default();
            config.max_queued = 32 << 20; // a 16 MiB echo fits whole
            // `--deflate`: offer or accept permessage-deflate.
            config.deflate = std::env::args()
                .any(|a| a == "--deflate")
                .then(sockweave::deflate::DeflateConfig::default);
            let mut ws = match accept_with(stream, ServerPolicy::default(), config) {
                Ok(ws) => ws,
                Err(e) => return eprintln!("handshake: {e}"),
            };
            loop {
                match ws.recv() {
                    Ok(Some(message)) => {
                        if ws.send(message).is_err() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        eprintln!("connection: {e}");
                        break;
                    }
                }
            }
        });
    }
    Ok(())
}
