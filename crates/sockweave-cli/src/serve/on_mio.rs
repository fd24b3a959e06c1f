//! The echo server on the mio adapter: every connection on one thread and
//! one `mio::Poll`, deadlines in a heap; TLS through `sockweave_mio::TlsStream`.

use super::{Settings, log_close, log_open};
use mio::event::Source;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use sockweave_mio::{Event, TlsStream, WebSocket};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

const LISTENER: Token = Token(usize::MAX);

struct Peer<S> {
    ws: WebSocket<S>,
    addr: SocketAddr,
    open: bool,
}

pub(super) fn serve(listener: std::net::TcpListener, settings: Settings) -> io::Result<()> {
    match settings.tls.clone() {
        Some(config) => serve_with(listener, settings, |stream| {
            TlsStream::server(stream, config.clone()).map_err(io::Error::other)
        }),
        None => serve_with(listener, settings, Ok),
    }
}

/// The loop, over whatever `wrap` makes of each accepted socket.
fn serve_with<S: Read + Write + Source>(
    listener: std::net::TcpListener,
    settings: Settings,
    wrap: impl Fn(TcpStream) -> io::Result<S>,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut listener = TcpListener::from_std(listener);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut peers: Vec<Option<Peer<S>>> = Vec::new();
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
            if event.token() != LISTENER {
                let readable = event.is_readable() || event.is_read_closed();
                ready.push((event.token().0, readable, event.is_writable()));
                continue;
            }
            loop {
                let (stream, addr) = match listener.accept() {
                    Ok(accepted) => accepted,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                };
                let _ = stream.set_nodelay(true);
                let Ok(mut stream) = wrap(stream) else {
                    continue;
                };
                let slot = free.pop().unwrap_or_else(|| {
                    peers.push(None);
                    peers.len() - 1
                });
                poll.registry()
                    .register(&mut stream, Token(slot), Interest::READABLE)?;
                let ws =
                    WebSocket::server(stream, settings.policy.clone(), settings.config.clone());
                if let Some(at) = ws.deadline() {
                    timers.push(Reverse((at, slot)));
                }
                peers[slot] = Some(Peer {
                    ws,
                    addr,
                    open: false,
                });
            }
        }
        let now = Instant::now();
        while let Some(&Reverse((at, slot))) = timers.peek() {
            if at > now {
                break;
            }
            timers.pop();
            ready.push((slot, false, false));
        }
        for &(slot, readable, writable) in &ready {
            let Some(peer) = peers.get_mut(slot).and_then(Option::as_mut) else {
                continue;
            };
            if let Err(e) = peer.ws.on_ready(readable, writable) {
                eprintln!("{} failed: {e}", peer.addr);
            }
            peer.ws.on_timeout();
            while let Some(event) = peer.ws.poll_event() {
                match event {
                    Event::Open(_) => {
                        peer.open = true;
                        log_open(peer.addr, peer.ws.connection());
                    }
                    Event::Message(message) => {
                        let _ = peer.ws.send(message);
                    }
                    Event::Error(e) if !peer.open => eprintln!("{} rejected: {e}", peer.addr),
                    Event::Error(e) => eprintln!("{} failed: {e}", peer.addr),
                    Event::Closed(close) if peer.open => log_close(peer.addr, Some(&close)),
                    _ => {}
                }
            }
            let _ = peer.ws.flush();
            if peer.ws.is_closed() {
                if let Some(mut peer) = peers[slot].take() {
                    peer.ws.deregister(poll.registry())?;
                }
                free.push(slot);
                continue;
            }
            if let Some(at) = peer.ws.deadline() {
                timers.push(Reverse((at, slot)));
            }
            peer.ws.reregister(poll.registry(), Token(slot))?;
        }
    }
}
