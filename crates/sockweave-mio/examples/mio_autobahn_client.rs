//! The Autobahn|Testsuite client protocol over the mio adapter, one
//! connection at a time on one `mio::Poll`:
//! `mio_autobahn_client [ws://127.0.0.1:9001] [agent] [--deflate]`.

use mio::net::TcpStream;
use mio::{Events, Poll, Token};
use sockweave_mio::sockweave::ClientRequest;
use sockweave_mio::{Config, Event, Message, SendError, WebSocket};
use std::net::ToSocketAddrs;

/// Runs one connection to the end, answering each message with `reply`.
fn run(
    poll: &mut Poll,
    url: &str,
    mut reply: impl FnMut(Message) -> Option<Message>,
) -> std::io::Result<()> {
    let request = ClientRequest::new(url).map_err(std::io::Error::other)?;
    let addr = (request.host.as_str(), request.port)
        .to_socket_addrs()?
        .next()
        .expect("an address");
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    let mut config = Config::default();
    config.max_queued = 32 << 20;
    // `--deflate`: offer or accept permessage-deflate.
    config.deflate = std::env::args()
        .any(|a| a == "--deflate")
        .then(sockweave::deflate::DeflateConfig::default);
    let mut ws = WebSocket::client(stream, &request, config).map_err(std::io::Error::other)?;
    ws.register(poll.registry(), Token(0))?;
    let mut events = Events::with_capacity(16);
    // An answer that did not fit in the queue waits for room, and nothing
    // behind it is taken until it is sent.
    let mut held: Option<Message> = None;
    while !ws.is_closed() {
        poll.poll(&mut events, ws.timeout())?;
        for event in &events {
            ws.on_ready(
                event.is_readable() || event.is_read_closed(),
                event.is_writable(),
            )?;
        }
        ws.on_timeout()?;
        loop {
            let answer = match held.take() {
                Some(answer) => answer,
                None => match ws.poll_event() {
                    Some(Event::Message(message)) => match reply(message) {
                        Some(answer) => answer,
                        None => continue,
                    },
                    Some(_) => continue,
                    None => break,
                },
            };
            match ws.send(answer) {
                Ok(()) => {}
                Err(SendError::Full(answer)) => {
                    held = Some(answer);
                    break;
                }
                // Closing: no more answers go out on this connection.
                Err(_) => {}
            }
        }
        ws.flush()?;
        ws.reregister(poll.registry(), Token(0))?;
    }
    ws.deregister(poll.registry())?;
    Ok(())
}

fn main() -> std::io::Result<()> {
    let base = std::env::args()
        .filter(|a| a != "--deflate")
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = std::env::args()
        .filter(|a| a != "--deflate")
        .nth(2)
        .unwrap_or_else(|| "sockweave-mio".into());
    let mut poll = Poll::new()?;
    let mut count = 0u32;
    run(&mut poll, &format!("{base}/getCaseCount"), |m| {
        if let Message::Text(t) = m {
            count = t.parse().unwrap_or(0);
        }
        None
    })?;
    for case in 1..=count {
        run(
            &mut poll,
            &format!("{base}/runCase?case={case}&agent={agent}"),
            Some,
        )?;
    }
    run(
        &mut poll,
        &format!("{base}/updateReports?agent={agent}"),
        |_| None,
    )
}
