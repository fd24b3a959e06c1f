//! Opens N WebSocket connections to URL and keeps them idle until stdin
//! closes: `idle_clients URL N [--deflate] [--message BYTES]`. Prints
//! `ready` once all are open. `--deflate` offers permessage-deflate;
//! `--message` first sends each connection one compressible text message of
//! BYTES bytes and waits for its echo, so compression state exists on both
//! ends before they go idle.

use sockweave_tokio::sockweave::ClientRequest;
use sockweave_tokio::sockweave::deflate::DeflateConfig;
use sockweave_tokio::{Config, Message};
use std::io::Read;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args.first().expect("URL").clone();
    let count: usize = args.get(1).expect("N").parse().expect("N is a number");
    let deflate = args.iter().any(|a| a == "--deflate");
    let message = args
        .iter()
        .position(|a| a == "--message")
        .map(|i| args[i + 1].parse::<usize>().expect("BYTES"));
    let text = message.map(sockweave_benches::json_like);
    let mut held = Vec::with_capacity(count);
    for batch in (0..count).collect::<Vec<_>>().chunks(250) {
        let opening: Vec<_> = batch
            .iter()
            .map(|_| {
                let (url, text) = (url.clone(), text.clone());
                tokio::spawn(async move {
                    let request = ClientRequest::new(&url).expect("URL");
                    let stream =
                        tokio::net::TcpStream::connect((request.host.as_str(), request.port))
                            .await
                            .expect("connect");
                    let mut config = Config::default();
                    config.deflate = deflate.then(DeflateConfig::default);
                    let mut ws = sockweave_tokio::client(stream, &request, config)
                        .await
                        .expect("handshake");
                    if deflate {
                        assert!(ws.connection().extensions().is_some(), "not negotiated");
                    }
                    if let Some(text) = text {
                        ws.send(Message::from(text.as_str())).await.expect("send");
                        let echo = ws.recv().await.expect("echo").expect("echo");
                        assert_eq!(echo.len(), text.len());
                    }
                    ws
                })
            })
            .collect();
        for task in opening {
            held.push(task.await.expect("task"));
        }
    }
    println!("ready {}", held.len());
    // Hold them until the measuring script is done.
    tokio::task::spawn_blocking(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    })
    .await
    .unwrap();
    drop(held);
}
