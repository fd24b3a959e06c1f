//! The Autobahn|Testsuite client protocol over the blocking adapter:
//! `std_autobahn_client [ws://127.0.0.1:9001] [agent] [--deflate]`.

use sockweave_std::sockweave::ClientRequest;
use sockweave_std::{Config, Message, client};
use std::net::TcpStream;

fn open(url: &str) -> Result<sockweave_std::WebSocket<TcpStream>, sockweave_std::Error> {
    let request = ClientRequest::new(url)?;
    let stream = TcpStream::connect((request.host.as_str(), request.port))?;
    stream.set_nodelay(true)?;
    let mut config = Config::default();
    config.max_queued = 32 << 20;
    // `--deflate`: offer or accept permessage-deflate.
    config.deflate = std::env::args()
        .any(|a| a == "--deflate")
        .then(sockweave::deflate::DeflateConfig::default);
    client(stream, &request, config)
}

fn main() -> Result<(), sockweave_std::Error> {
    let base = std::env::args()
        .filter(|a| a != "--deflate")
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = std::env::args()
        .filter(|a| a != "--deflate")
        .nth(2)
        .unwrap_or_else(|| "sockweave-std".into());
    let mut ws = open(&format!("{base}/getCaseCount"))?;
    let count: u32 = match ws.recv()? {
        Some(Message::Text(text)) => text.parse().unwrap_or(0),
        _ => 0,
    };
    while ws.recv()?.is_some() {}
    for case in 1..=count {
        let mut ws = open(&format!("{base}/runCase?case={case}&agent={agent}"))?;
        // Failures are what many cases are about: the run goes on.
        while let Ok(Some(message)) = ws.recv() {
            if ws.send(message).is_err() {
                break;
            }
        }
    }
    let mut ws = open(&format!("{base}/updateReports?agent={agent}"))?;
    while ws.recv()?.is_some() {}
    Ok(())
}
