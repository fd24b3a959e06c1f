//! An echo server: every connection on one `mio::Poll`, or with
//! `--threads N` one loop per thread on one port (SO_REUSEPORT).
//! `mio_echo_server [ADDR] [CERT KEY] [--deflate] [--threads N]` (default 127.0.0.1:9001). Echoes
//! text and binary unchanged; a close is answered with the same code.
//! Given a PEM certificate chain and key (and built with `--features
//! rustls`), it serves wss:// through rustls's sans-IO connection.
//!
//! No echo is dropped: when a peer does not read its echoes and the queue
//! is full, the echo waits (one per connection) and so does everything
//! behind it; the connection stops reading until the socket takes bytes
//! again, so the peer's own sends block.

use mio::event::Source;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use sockweave_mio::{Config, Event, Message, SendError, ServerPolicy, Transport, WebSocket};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::time::Instant;

const LISTENER: Token = Token(usize::MAX);

fn main() -> io::Result<()> {
    let mut threads = 1;
    let mut args = Vec::new();
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "--deflate" => {}
            "--threads" => {
                let n = given.next().and_then(|n| n.parse().ok());
                threads = n.filter(|&n| n > 0).expect("--threads N, N >= 1");
            }
            _ => args.push(arg),
        }
    }
    let addr: std::net::SocketAddr = args
        .first()
        .map_or("127.0.0.1:9001", String::as_str)
        .parse()
        .expect("ADDR is host:port");
    // One loop per thread, each with its own listener on the same port
    // (SO_REUSEPORT): the kernel spreads new connections over them, and a
    // connection stays on the loop that accepted it. Nothing is shared.
    let listeners = (0..threads)
        .map(|_| listener(addr))
        .collect::<io::Result<Vec<_>>>()?;
    let addr = listeners[0].local_addr()?;
    let mut loops = Vec::new();
    for listener in listeners {
        let (cert, key) = (args.get(1).cloned(), args.get(2).cloned());
        loops.push(std::thread::spawn(move || run(listener, cert, key)));
    }
    eprintln!(
        "mio echo server on {}://{addr} ({threads} loop{})",
        if args.len() > 1 { "wss" } else { "ws" },
        if threads == 1 { "" } else { "s" }
    );
    for running in loops {
        running.join().expect("a loop panicked")?;
    }
    Ok(())
}

/// A listener on `addr` that other loops may share the port with.
fn listener(addr: std::net::SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// One loop: plain, or wss:// when given a certificate and key.
fn run(listener: TcpListener, cert: Option<String>, key: Option<String>) -> io::Result<()> {
    match (cert, key) {
        #[cfg(feature = "rustls")]
        (Some(cert), Some(key)) => {
            let config =
                sockweave_mio::rustls::server_config_from_files(cert.as_ref(), key.as_ref())
                    .map_err(io::Error::other)?;
            serve(listener, |stream| {
                sockweave_mio::TlsStream::server(stream, config.clone()).map_err(io::Error::other)
            })
        }
        (Some(_), _) => {
            panic!("usage: mio_echo_server [ADDR] [CERT KEY], TLS needs --features rustls")
        }
        _ => serve(listener, Ok),
    }
}

/// The loop, over whatever `wrap` makes of each accepted socket.
fn serve<S: Transport + Source>(
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
        .then(sockweave::deflate::DeflateConfig::default);
    // One copy of the settings for every connection.
    let config = std::sync::Arc::new(config);
    let mut conns: Vec<Option<Peer<S>>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    // Deadlines: one entry per connection at most (`Peer::armed`), for the
    // earliest deadline it had; one that moved later is re-armed when the
    // entry fires.
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
                            let ws =
                                WebSocket::server(stream, ServerPolicy::default(), config.clone())
                                    .map_err(io::Error::other)?;
                            let mut peer = Peer {
                                ws,
                                held: None,
                                armed: None,
                            };
                            peer.arm(&mut timers, slot);
                            conns[slot] = Some(peer);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
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
            // An entry of a closed connection whose slot was reused is not
            // this connection's: its `armed` differs.
            if let Some(peer) = conns.get_mut(slot).and_then(Option::as_mut) {
                if peer.armed == Some(at) {
                    peer.armed = None;
                    ready.push((slot, false, false));
                }
            }
        }
        for &(slot, readable, writable) in &ready {
            let Some(peer) = conns.get_mut(slot).and_then(Option::as_mut) else {
                continue;
            };
            let Peer { ws, held, .. } = peer;
            // A socket event, or a timer entry (neither flag): the timers
            // are looked at only when one is due, not on every message.
            let result = if readable || writable {
                ws.on_ready(readable, writable)
            } else {
                ws.on_timeout()
            };
            if let Err(e) = result {
                eprintln!("connection {slot}: {e}");
            }
            echo(ws, held);
            let _ = ws.flush();
            if held.is_some() {
                // The flush may have made room.
                echo(ws, held);
                let _ = ws.flush();
            }
            if ws.is_closed() {
                if let Some(mut peer) = conns[slot].take() {
                    peer.ws.deregister(poll.registry())?;
                }
                free.push(slot);
                continue;
            }
            peer.arm(&mut timers, slot);
            peer.ws.reregister(poll.registry(), Token(slot))?;
        }
    }
}

/// A connection, the echo waiting for room in its queue, if any, and the
/// deadline it has an entry in the timer heap for.
struct Peer<S> {
    ws: WebSocket<S>,
    /// Boxed: it is rare, and every idle connection would carry it.
    held: Option<Box<Message>>,
    armed: Option<Instant>,
}

impl<S: Transport> Peer<S> {
    /// Adds a timer entry if the connection's deadline is earlier than
    /// the one it has, so the heap holds one entry per connection.
    fn arm(&mut self, timers: &mut BinaryHeap<Reverse<(Instant, usize)>>, slot: usize) {
        if let Some(at) = self.ws.deadline() {
            if self.armed.is_none_or(|armed| at < armed) {
                timers.push(Reverse((at, slot)));
                self.armed = Some(at);
            }
        }
    }
}

/// Echoes every message received, in order. A full queue hands the message
/// back: it is held, and no later event is taken until it is sent.
fn echo<S: Transport>(ws: &mut WebSocket<S>, held: &mut Option<Box<Message>>) {
    loop {
        let message = match held.take() {
            Some(message) => *message,
            None => match ws.poll_event() {
                Some(Event::Message(message)) => message,
                Some(_) => continue,
                None => return,
            },
        };
        match ws.send(message) {
            Ok(()) => {}
            Err(SendError::Full(message)) => {
                *held = Some(Box::new(message));
                return;
            }
            // Closing or closed: no more data goes out on this connection.
            Err(_) => {}
        }
    }
}
