//! The Autobahn|Testsuite client protocol, driven by the bare core over
//! blocking sockets: `core_autobahn_client [ws://127.0.0.1:9001] [agent] [--deflate]`.

use sockweave::{ClientRequest, Config, Connection, Event, Instant, Message};
use sockweave_tests::drive_blocking;
use std::net::TcpStream;
use std::time::Duration;

fn run(url: &str, mut on_message: impl FnMut(&mut Connection, Message)) -> std::io::Result<()> {
    let request = ClientRequest::new(url).map_err(std::io::Error::other)?;
    let mut stream = TcpStream::connect((request.host.as_str(), request.port))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_millis(100)))?;
    let mut config = Config::default();
    // The harness writes after each batch of events: with no bound on the
    // queue, an echo is never refused.
    config.max_queued = usize::MAX;
    // `--deflate`: offer or accept permessage-deflate.
    config.deflate = std::env::args()
        .any(|a| a == "--deflate")
        .then(sockweave::deflate::DeflateConfig::default);
    let mut conn = Connection::client(
        &request,
        config,
        |buf: &mut [u8]| rand::fill(buf),
        Instant::ZERO,
    )
    .map_err(std::io::Error::other)?;
    drive_blocking(&mut conn, &mut stream, |conn, event| {
        if let Event::Message(m) = event {
            on_message(conn, m);
        }
    })
}

fn main() -> std::io::Result<()> {
    let base = std::env::args()
        .filter(|a| a != "--deflate")
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = std::env::args()
        .filter(|a| a != "--deflate")
        .nth(2)
        .unwrap_or_else(|| "sockweave-core".into());
    let mut count = 0u32;
    run(&format!("{base}/getCaseCount"), |_, m| {
        if let Message::Text(t) = m {
            count = t.parse().unwrap_or(0);
        }
    })?;
    eprintln!("{count} cases");
    for case in 1..=count {
        run(
            &format!("{base}/runCase?case={case}&agent={agent}"),
            |conn, m| {
                conn.send(m)
                    .expect("an open connection with an unbounded queue takes every echo");
            },
        )?;
    }
    run(&format!("{base}/updateReports?agent={agent}"), |_, _| {})?;
    Ok(())
}
