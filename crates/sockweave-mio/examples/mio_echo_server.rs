//! A single-threaded echo server: every connection on one `mio::Poll`.
//! `mio_echo_server [ADDR] [CERT KEY] [--deflate]` (default 127.0.0.1:9001). Echoes
//! text and binary unchanged; a close is answered with the same code.
//! Given a PEM certificate chain and key (and built with `--features
//! rustls`), it serves wss:// through rustls's sans-IO connection.

use mio::event::Source;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use sockweave_mio::{Config, Event, ServerPolicy, WebSocket};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Read, Write};
use std::time::Instant;

const LISTENER: Token = Token(usize::MAX);

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args()
        .filter(|a| a != "--deflate")
        .skip(1)
        .collect();
    let addr = args.first().map_or("127.0.0.1:9001", String::as_str);
    let listener = TcpListener::bind(addr.parse().expect("ADDR is host:port"))?;
    match (args.get(1), args.get(2)) {
        #[cfg(feature = "rustls")]
        (Some(cert), Some(key)) => {
            let config =
                sockweave_mio::rustls::server_config_from_files(cert.as_ref(), key.as_ref())
                    .map_err(io::Error::other)?;
            eprintln!("mio echo server on wss://{addr}");
            serve(listener, |stream| {
                sockweave_mio::TlsStream::server(stream, config.clone()).map_err(io::Error::other)
            })
        }
        (Some(_), _) => {
            panic!("usage: mio_echo_server [ADDR] [CERT KEY], TLS needs --features rustls")
        }
        _ => {
            eprintln!("mio echo server on ws://{addr}");
            serve(listener, Ok)
        }
    }
}

/// The loop, over whatever `wrap` makes of each accepted socket.
fn serve<S: Read + Write + Source>(
    mut listener: TcpListener,
    wrap: impl Fn(TcpStream) -> io::Result<S>,
) -> io::Result<()> {
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;

    let mut config = Config::default();
    config.max_queued = 32 << 20; // a 16 MiB echo fits whole
    // `--deflate`: offer or accept permessage-deflate.
    config.deflate = std::env::args()
        .any(|a| a == "--deflate")
        .then(sockweave_mio::sockweave::deflate::DeflateConfig::default);
    let mut conns: Vec<Option<WebSocket<S>>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    // Deadlines, lazily: an entry may be stale; on_timeout checks the real one.
    let mut timers: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    let mut events = Events::with_capacity(1024);
    let mut ready: Vec<(usize, bool, bool)> = Vec::new();

    loop {
        let timeout = timers
            .peek()
            .map(|Reverse((at, _))| at.saturating_duration_since(Instant::now()));
        poll.poll(&mut events, timeout)?;
        ready.clear();
        for event in &events {
            if event.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            stream.set_nodelay(true)?;
                            let Ok(mut stream) = wrap(stream) else {
                                continue;
                            };
                            let slot = free.pop().unwrap_or_else(|| {
                                conns.push(None);
                                conns.len() - 1
                            });
                            poll.registry().register(
                                &mut stream,
                                Token(slot),
                                Interest::READABLE,
                            )?;
                            conns[slot] = Some(WebSocket::server(
                                stream,
                                ServerPolicy::default(),
                                config.clone(),
                            ));
                            if let Some(at) = conns[slot].as_ref().and_then(WebSocket::deadline) {
                                timers.push(Reverse((at, slot)));
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
            } else {
                ready.push((
                    event.token().0,
                    event.is_readable() || event.is_read_closed(),
                    event.is_writable(),
                ));
            }
        }
        let now = Instant::now();
        while let Some(Reverse((at, slot))) = timers.peek().copied() {
            if at > now {
                break;
            }
            timers.pop();
            ready.push((slot, false, false));
        }
        for &(slot, readable, writable) in &ready {
            let Some(ws) = conns.get_mut(slot).and_then(Option::as_mut) else {
                continue;
            };
            if let Err(e) = ws.on_ready(readable, writable) {
                eprintln!("connection {slot}: {e}");
            }
            ws.on_timeout();
            while let Some(event) = ws.poll_event() {
                if let Event::Message(message) = event {
                    let _ = ws.send(message);
                }
            }
            let _ = ws.flush();
            if ws.is_closed() {
                if let Some(mut ws) = conns[slot].take() {
                    ws.deregister(poll.registry())?;
                }
                free.push(slot);
                continue;
            }
            if let Some(at) = ws.deadline() {
                timers.push(Reverse((at, slot)));
            }
            ws.reregister(poll.registry(), Token(slot))?;
        }
    }
}
