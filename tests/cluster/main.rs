//! `chat_cluster` (sockweave-tokio's example) across three server
//! processes joined by a real Redis (Debian's redis-server, started here
//! on a free loopback port and stopped by its PID): a message any client
//! sends reaches every client on every node, text and binary, in the
//! order each sender sent them.
//!
//! `bash tests/cluster/run.sh` installs redis-server, builds the example
//! and runs this (it is `#[ignore]`d otherwise: it needs both).

use sockweave::Message;
use sockweave_tests::process::{Running, free_port};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn redis() -> (Running, u16) {
    let port = free_port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server: bash tests/cluster/run.sh installs it");
    let mut redis = Running(child);
    redis.wait_for(port);
    (redis, port)
}

/// A node on a free port; returns it once it listens.
fn node(redis: u16) -> (Running, String) {
    let bin = std::env::var("CHAT_CLUSTER_BIN").expect("CHAT_CLUSTER_BIN: see run.sh");
    let mut child = Command::new(bin)
        .args(["127.0.0.1:0", &format!("127.0.0.1:{redis}")])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("ws://"))
        .unwrap();
    (Running(child), format!("{url}/"))
}

#[test]
#[ignore = "needs redis-server and the example: bash tests/cluster/run.sh"]
fn a_message_on_one_node_reaches_clients_on_every_node() {
    let (_redis, port) = redis();
    let nodes: Vec<_> = (0..3).map(|_| node(port)).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // Two clients on the first node, one on each of the others.
        let urls = [&nodes[0].1, &nodes[0].1, &nodes[1].1, &nodes[2].1];
        let mut clients = Vec::new();
        for url in urls {
            clients.push(sockweave_tokio::connect(url).await.unwrap());
        }
        // Each client sends two messages: text and binary.
        let sent: Vec<Vec<Message>> = (0..clients.len())
            .map(|i| {
                vec![
                    Message::from(format!("hello from client {i}")),
                    Message::from(vec![i as u8, 0xff, 0]),
                ]
            })
            .collect();
        for (client, messages) in clients.iter_mut().zip(&sent) {
            for message in messages {
                client.send(message.clone()).await.unwrap();
            }
        }
        // Every client hears all eight, each sender's in its order.
        for (i, client) in clients.iter_mut().enumerate() {
            let mut heard = Vec::new();
            while heard.len() < 8 {
                let next = tokio::time::timeout(Duration::from_secs(10), client.recv()).await;
                heard.push(next.expect("all eight in time").unwrap().unwrap());
            }
            for messages in &sent {
                let order: Vec<_> = heard.iter().filter(|m| messages.contains(m)).collect();
                assert_eq!(order, messages.iter().collect::<Vec<_>>(), "client {i}");
            }
            client
                .close(sockweave::CloseCode::NORMAL, "")
                .await
                .unwrap();
        }
    });
}
