//! Echo load: `echo_load URL CONNECTIONS PAYLOAD IN_FLIGHT SECONDS [--deflate]`.
//! Each connection keeps IN_FLIGHT binary messages of PAYLOAD bytes
//! outstanding (pipelined) and sends one more per echo received. Prints the
//! echoed messages per second. With `--deflate` it offers permessage-deflate
//! (and fails unless the server takes it), and the messages are JSON-like
//! text that compresses as real traffic does, 16 different ones in turn.

use futures_util::{SinkExt, StreamExt};
use sockweave_tokio::sockweave::ClientRequest;
use sockweave_tokio::sockweave::deflate::DeflateConfig;
use sockweave_tokio::{Bytes, Config, Message};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deflate = args.iter().any(|a| a == "--deflate");
    let args: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let [url, connections, payload, in_flight, seconds] = args[..] else {
        panic!("usage: echo_load URL CONNECTIONS PAYLOAD IN_FLIGHT SECONDS [--deflate]");
    };
    let connections: usize = connections.parse().unwrap();
    let size: usize = payload.parse().unwrap();
    // Compressed runs cycle through 16 different messages (same keys, other
    // values), so context takeover helps as on a real feed, not more.
    let messages: Vec<Message> = if deflate {
        (0..16)
            .map(|seed| Message::from(sockweave_benches::json_like_seeded(size, seed).as_str()))
            .collect()
    } else {
        vec![Message::Binary(Bytes::from(vec![0x42u8; size]))]
    };
    let in_flight: usize = in_flight.parse().unwrap();
    let seconds: f64 = seconds.parse().unwrap();
    let echoed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    let mut sockets = Vec::new();
    for _ in 0..connections {
        let request = ClientRequest::new(url).expect("URL");
        let stream = tokio::net::TcpStream::connect((request.host.as_str(), request.port))
            .await
            .expect("connect");
        stream.set_nodelay(true).unwrap();
        let mut config = Config::default();
        config.deflate = deflate.then(DeflateConfig::default);
        let ws = sockweave_tokio::client(stream, &request, config)
            .await
            .expect("handshake");
        assert_eq!(ws.connection().extensions().is_some(), deflate);
        sockets.push(ws);
    }
    let start = Instant::now();
    for ws in sockets {
        let (echoed, stop, messages) = (echoed.clone(), stop.clone(), messages.clone());
        tasks.push(tokio::spawn(async move {
            let (mut read, mut write) = ws.split();
            let mut next = messages.iter().cycle();
            for _ in 0..in_flight {
                write.feed(next.next().unwrap().clone()).await.unwrap();
            }
            write.flush().await.unwrap();
            while let Some(Ok(_)) = read.next().await {
                echoed.fetch_add(1, Ordering::Relaxed);
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                write.send(next.next().unwrap().clone()).await.unwrap();
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let count = echoed.load(Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    println!("{:.0}", count as f64 / elapsed);
    std::process::exit(0);
}
