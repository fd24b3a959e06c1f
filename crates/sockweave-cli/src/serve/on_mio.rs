//! The echo server on the mio adapter: every connection on one thread and
//! one `mio::Poll`, deadlines in a heap; TLS through `sockweave_mio::TlsStream`.

use super::lifecycle::{self, Ticket};
use super::{Settings, decide, log, log_close, log_message, log_open, log_stopping};
use mio::event::Source;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use sockweave::{CloseCode, ServerPolicy};
use sockweave_mio::{Event, Message, SendError, TlsStream, Transport, WebSocket};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

const LISTENER: Token = Token(usize::MAX);
/// Woken by SIGINT or SIGTERM.
const STOP: Token = Token(usize::MAX - 1);

struct Peer<S> {
    ws: WebSocket<S>,
    addr: SocketAddr,
    open: bool,
    /// An echo waiting for room in the queue: nothing behind it is taken
    /// until it is sent (no echo is ever dropped).
    held: Option<Message>,
    /// The deadline this connection has an entry in the timer heap for.
    armed: Option<Instant>,
    /// Its place in the count of open connections; over the limit, its
    /// request is refused with 503.
    ticket: Ticket,
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
fn serve_with<S: Transport + Source>(
    listener: std::net::TcpListener,
    settings: Settings,
    wrap: impl Fn(TcpStream) -> io::Result<S>,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut listener = TcpListener::from_std(listener);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let stop = Arc::new(AtomicBool::new(false));
    // Kept here too: a waker dropped closes its descriptor, and the wake
    // would be lost if that happened before the poll saw it.
    let waker = Arc::new(Waker::new(poll.registry(), STOP)?);
    let (signalled, wake) = (stop.clone(), waker.clone());
    lifecycle::on_stop_signal(move || {
        signalled.store(true, Ordering::Release);
        let _ = wake.wake();
    })?;
    // Once stopping: when the server exits whatever is still open.
    let mut give_up: Option<Instant> = None;
    let mut peers: Vec<Option<Peer<S>>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    // Deadlines: one entry per connection at most (`Peer::armed`), for the
    // earliest deadline it had; one that moved later is re-armed when the
    // entry fires.
    let mut timers: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    let mut events = Events::with_capacity(1024);
    let mut ready: Vec<(usize, bool, bool)> = Vec::new();
    loop {
        if let Some(at) = give_up {
            if peers.iter().all(Option::is_none) || Instant::now() >= at {
                return Ok(());
            }
        }
        let timeout = timers
            .peek()
            .map(|Reverse((at, _))| at)
            .into_iter()
            .chain(&give_up)
            .min()
            .map(|at| at.saturating_duration_since(Instant::now()));
        match poll.poll(&mut events, timeout) {
            // A signal: its thread wakes the poll once the flag is set.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            polled => polled?,
        }
        ready.clear();
        if give_up.is_none() && stop.load(Ordering::Acquire) {
            // Stop accepting; every connection is closed with 1001 and
            // the loop runs on for the replies, within the grace period.
            poll.registry().deregister(&mut listener)?;
            log_stopping(settings.live.count());
            give_up = Some(Instant::now() + lifecycle::grace(settings.config.close_timeout));
            for (slot, peer) in peers.iter_mut().enumerate() {
                if let Some(peer) = peer {
                    let _ = peer.ws.close(CloseCode::GOING_AWAY, "server shutting down");
                    ready.push((slot, false, true));
                }
            }
        }
        for event in &events {
            if event.token() == STOP {
                continue;
            }
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
                let ticket = settings.live.enter();
                let mut policy = settings.policy.clone();
                // The request is seen first (Event::Request) to refuse it
                // over the limit, or to log it.
                policy.defer = super::needs_decision(ticket.over);
                // Checked at startup (serve::run validates it).
                let ws = WebSocket::server(stream, policy, settings.config.clone())
                    .map_err(io::Error::other)?;
                let mut peer = Peer {
                    ws,
                    addr,
                    open: false,
                    held: None,
                    armed: None,
                    ticket,
                };
                peer.arm(&mut timers, slot);
                peers[slot] = Some(peer);
            }
        }
        let now = Instant::now();
        while let Some(&Reverse((at, slot))) = timers.peek() {
            if at > now {
                break;
            }
            timers.pop();
            // An entry of a closed connection whose slot was reused is not
            // this connection's: its `armed` differs.
            if let Some(peer) = peers.get_mut(slot).and_then(Option::as_mut) {
                if peer.armed == Some(at) {
                    peer.armed = None;
                    ready.push((slot, false, false));
                }
            }
        }
        for &(slot, readable, writable) in &ready {
            let Some(peer) = peers.get_mut(slot).and_then(Option::as_mut) else {
                continue;
            };
            // A socket event, or a timer entry (neither flag): the timers
            // are looked at only when one is due, not on every message.
            let result = if readable || writable {
                peer.ws.on_ready(readable, writable)
            } else {
                peer.ws.on_timeout()
            };
            if let Err(e) = result {
                log(format_args!("{} failed: {e}", peer.addr));
            }
            peer.serve(&settings.policy);
            let _ = peer.ws.flush();
            if peer.held.is_some() {
                // The flush may have made room.
                peer.serve(&settings.policy);
                let _ = peer.ws.flush();
            }
            if peer.ws.is_closed() {
                if let Some(mut peer) = peers[slot].take() {
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

    /// Takes events in order, echoing messages, until none is left or an
    /// echo does not fit in the queue (it waits in `held`).
    fn serve(&mut self, policy: &ServerPolicy) {
        loop {
            let message = match self.held.take() {
                Some(message) => message,
                None => match self.ws.poll_event() {
                    Some(Event::Message(message)) => {
                        log_message(self.addr, &message);
                        message
                    }
                    Some(Event::Request(request)) => {
                        let mut decide = decide(self.addr, policy, self.ticket.over);
                        let _ = match decide(&request) {
                            Ok(accept) => self.ws.accept(accept),
                            Err(reject) => self.ws.reject(reject),
                        };
                        continue;
                    }
                    Some(Event::Open(_)) => {
                        self.open = true;
                        log_open(self.addr, self.ws.connection());
                        continue;
                    }
                    Some(Event::Error(e)) if !self.open => {
                        log(format_args!("{} rejected: {e}", self.addr));
                        continue;
                    }
                    Some(Event::Error(e)) => {
                        log(format_args!("{} failed: {e}", self.addr));
                        continue;
                    }
                    Some(Event::Closed(close)) if self.open => {
                        log_close(self.addr, Some(&close));
                        continue;
                    }
                    Some(_) => continue,
                    None => return,
                },
            };
            match self.ws.send(message) {
                Ok(()) => {}
                Err(SendError::Full(message)) => {
                    self.held = Some(message);
                    return;
                }
                // Closing or closed: no more data goes out on this connection.
                Err(_) => {}
            }
        }
    }
}
