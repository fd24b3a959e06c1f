//! Echo load: `echo_load URL CONNECTIONS PAYLOAD IN_FLIGHT SECONDS`.
//! Each connection keeps IN_FLIGHT binary messages of PAYLOAD bytes
//! outstanding (pipelined) and sends one more per echo received. Prints the
//! echoed messages per second.

use futures_util::{SinkExt, StreamExt};
use sockweave_tokio::{Bytes, Message};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, connections, payload, in_flight, seconds] = &args[..] else {
        panic!("usage: echo_load URL CONNECTIONS PAYLOAD IN_FLIGHT SECONDS");
    };
    let connections: usize = connections.parse().unwrap();
    let payload = Bytes::from(vec![0x42u8; payload.parse().unwrap()]);
    let in_flight: usize = in_flight.parse().unwrap();
    let seconds: f64 = seconds.parse().unwrap();
    let echoed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    let mut sockets = Vec::new();
    for _ in 0..connections {
        sockets.push(sockweave_tokio::connect(url).await.expect("connect"));
    }
    let start = Instant::now();
    for ws in sockets {
        let (echoed, stop, payload) = (echoed.clone(), stop.clone(), payload.clone());
        tasks.push(tokio::spawn(async move {
            let (mut read, mut write) = ws.split();
            for _ in 0..in_flight {
                write.feed(Message::Binary(payload.clone())).await.unwrap();
            }
            write.flush().await.unwrap();
            while let Some(Ok(_)) = read.next().await {
                echoed.fetch_add(1, Ordering::Relaxed);
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                write.send(Message::Binary(payload.clone())).await.unwrap();
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
