//! # sockweave: a sans-IO WebSocket engine
//!
//! This crate turns bytes into events and calls into bytes, for both ends
//! of RFC 6455: framing, masking, fragmentation, UTF-8 validation, ping and
//! pong, the closing handshake, the HTTP/1.1 opening handshake and the
//! connection state machine. It does no I/O, spawns nothing, reads no clock
//! and draws no random numbers: the caller moves bytes, passes the time
//! in and supplies randomness. It is `#![no_std]` with `alloc`.
//!
//! ```text
//!            socket reads                               socket writes
//!                 │                                          ▲
//!                 ▼                                          │
//!   receive(&mut BytesMut, now) ──► Connection ──► transmit() / advance_transmit(n)
//!   receive_eof(now)                 │    ▲        poll_transmit(&mut Vec<u8>)
//!   handle_timeout(now)              │    │
//!                                    ▼    │ send(msg) ping(..) close(code, reason, now)
//!                           poll_event()  │ accept(..) reject(..)
//!                                    │    │
//!                                    ▼    │
//!                                 application
//! ```
//!
//! ## The drive loop
//!
//! After *any* call that takes `&mut self` (receive, send, close, a
//! timeout, …):
//!
//! 1. drain [`Connection::poll_event`] until it returns `None`; then, if
//!    [`Connection::needs_receive`], call `receive` again with the same
//!    buffer (it stopped at [`Config`]'s `max_pending_events`, so a flood
//!    of small frames costs a bounded number of events) and drain again;
//! 2. write out [`Connection::transmit`] and report what the socket took
//!    with [`Connection::advance_transmit`] (or copy it all with
//!    [`Connection::poll_transmit`]); pongs and close replies are queued
//!    here by the core, so a loop that only reads still flushes them;
//! 3. re-arm the timer from [`Connection::poll_timeout`] and call
//!    [`Connection::handle_timeout`] when it fires;
//! 4. when [`Connection::ready_state`] is [`ReadyState::Closed`], flush
//!    what is left to write (best effort) and close the socket.
//!
//! Reads go into a `BytesMut` the caller owns and keeps: `receive` takes
//! complete frames out of it (a single-frame message is handed on without
//! a copy) and leaves an incomplete one in place, and whole frames too
//! once `max_pending_events` events wait. Reactions to what was received
//! (pongs, close replies, failing) take effect as `poll_event` reaches
//! them, so drain it before relying on the state; with
//! [`ServerPolicy::defer`], `accept`/`reject` must be followed by another
//! `receive` for bytes that came after the request.
//!
//! ```
//! use bytes::BytesMut;
//! use sockweave::{ClientRequest, Config, Connection, Event, Instant, Message, ServerPolicy};
//!
//! let now = Instant::ZERO;
//! let request = ClientRequest::new("ws://localhost/chat").unwrap();
//! let mut client = Connection::client(&request, Config::default(), |buf: &mut [u8]| buf.fill(7), now).unwrap();
//! let mut server = Connection::server(ServerPolicy::default(), Config::default(), now).unwrap();
//!
//! // One round of the drive loop for each side, over an in-memory "link".
//! fn pump(from: &mut Connection, to: &mut Connection, now: Instant) {
//!     let mut wire = Vec::new();
//!     from.poll_transmit(&mut wire);
//!     let mut input = BytesMut::from(&wire[..]);
//!     to.receive(&mut input, now);
//! }
//!
//! pump(&mut client, &mut server, now); // request
//! pump(&mut server, &mut client, now); // 101 response
//! assert!(matches!(client.poll_event(), Some(Event::Open(_))));
//! assert!(matches!(server.poll_event(), Some(Event::Open(_))));
//!
//! client.send("hello").unwrap();
//! pump(&mut client, &mut server, now);
//! assert_eq!(server.poll_event(), Some(Event::Message(Message::from("hello"))));
//! ```
//!
//! ## Layers
//!
//! - [`frame`]: zero-allocation header decoding (`Partial` on short input)
//!   and encoding, usable on its own as a frame codec.
//! - [`mask`], [`utf8`]: in-place masking with a phase offset, and
//!   incremental fail-fast UTF-8 validation.
//! - [`handshake`]: client and server opening handshakes, each its own
//!   machine, usable without [`Connection`] (e.g. inside an HTTP server).
//! - [`deflate`]: permessage-deflate (RFC 7692). Negotiation is always
//!   compiled; the data path needs the `deflate` feature (zlib-rs, `no_std`
//!   too) and is switched on per connection with [`Config`]'s `deflate`.
//!   Limits apply to inflated bytes.
//! - [`Connection`]: everything above plus the state machine.
//!
//! ## What it leaves out
//!
//! Sockets, TLS, DNS and timers belong to the adapters
//! (`sockweave-std`, `sockweave-tokio`, `sockweave-mio`). Extensions other
//! than permessage-deflate are not run: their RSV bits fail the connection.
//!
//! ## Safety
//!
//! `unsafe` is denied crate-wide. The one exception is [`Text::as_str`],
//! which skips revalidating bytes that [`utf8::Validator`] already
//! checked; `mask` vectorises without it.

#![no_std]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "browser")]
pub mod browser;
mod budget;
mod close;
mod config;
mod connection;
pub mod deflate;
mod error;
mod event;
mod extension;
pub mod frame;
pub mod handshake;
pub mod mask;
mod message;
mod prepared;
mod time;
pub mod utf8;

pub use budget::Budget;
pub use bytes::{Bytes, BytesMut};
pub use close::{CloseCode, MAX_REASON_LEN};
pub use config::{Config, ConfigError, Keepalive, MAX_HEADERS_LIMIT};
pub use connection::{Connection, ReadyState};
pub use error::{Error, ProtocolError, SendError, Timeout};
pub use event::{CloseEvent, Event, Fragment, Negotiated};
pub use handshake::{Accept, ClientRequest, HandshakeError, Reject, Request, ServerPolicy};
pub use message::{Message, MessageKind};
pub use prepared::PreparedMessage;
pub use time::Instant;
pub use utf8::Text;

/// Which end of the connection we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// We opened the connection; we mask what we send.
    Client,
    /// We accepted it; the peer masks what it sends.
    Server,
}

/// A source of randomness for masking keys and handshake nonces.
///
/// RFC 6455 §5.3 asks for mask keys an intermediary cannot predict, so
/// adapters pass a cryptographically secure generator (e.g. `rand`'s
/// `ThreadRng` through a closure); tests pass a fixed one so that wire
/// bytes are reproducible.
pub trait Entropy: Send {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

impl<F: FnMut(&mut [u8]) + Send> Entropy for F {
    fn fill(&mut self, buf: &mut [u8]) {
        self(buf)
    }
}
