//! A readiness adapter for [mio](https://docs.rs/mio): each [`WebSocket`]
//! says which [`mio::Interest`] it needs and when its next deadline is;
//! the event loop registers it, and calls [`WebSocket::on_ready`] and
//! [`WebSocket::on_timeout`]. One `mio::Poll` drives thousands of
//! connections on one thread (see the `mio_echo_server` example).
//!
//! ```no_run
//! use mio::{Events, Poll, Token};
//! use sockweave_mio::{Event, WebSocket};
//!
//! # fn run() -> std::io::Result<()> {
//! let mut poll = Poll::new()?;
//! let stream = mio::net::TcpStream::connect("127.0.0.1:9001".parse().unwrap())?;
//! let request = sockweave::ClientRequest::new("ws://127.0.0.1:9001/").unwrap();
//! let mut ws = WebSocket::client(stream, &request, sockweave::Config::default())
//!     .map_err(std::io::Error::other)?;
//! ws.register(poll.registry(), Token(0))?;
//! let mut events = Events::with_capacity(64);
//! while !ws.is_closed() {
//!     poll.poll(&mut events, ws.timeout())?;
//!     for event in &events {
//!         ws.on_ready(event.is_readable(), event.is_writable())?;
//!     }
//!     ws.on_timeout()?;
//!     while let Some(event) = ws.poll_event() {
//!         if let Event::Open(_) = event {
//!             ws.send("hello").unwrap();
//!         }
//!     }
//!     ws.flush()?;
//!     ws.reregister(poll.registry(), Token(0))?;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## When bytes move, and backpressure
//!
//! `send` only queues. Bytes are written by `flush` and by `on_ready` when
//! the socket is writable, until it would block; `interest()` asks for
//! WRITABLE exactly while bytes wait, so pongs and close replies go out
//! even if the application only reads. A full queue hands the message back
//! (`SendError::Full`): keep it, take no more events, and send it again
//! after the next writable event (the `mio_echo_server` example does).
//!
//! Reading is bounded three ways, so one peer can neither grow memory nor
//! starve the loop:
//! - a connection reads only while it may ([`WebSocket::may_read`]): the
//!   application has taken its events and its queue is below
//!   `Config::max_queued`. An application that stops taking events, or a
//!   peer that stops
//!   reading what we send, stops the reading; the peer's sends then block
//!   in its own socket;
//! - one `on_ready` reads about 1 MiB (a knob:
//!   [`WebSocket::set_read_budget`]), and past it only the rest of a
//!   frame already arriving (at most `Config::max_frame_len`): a large
//!   frame split across turns has its buffer regrown among the other
//!   connections' allocations, copied each time. What is left is read by
//!   `on_timeout`, whose deadline is then now, and `reregister` re-arms
//!   the readiness edge, so a loop with or without timers comes back;
//! - readiness is edge-triggered, so everything else is read until the
//!   socket would block, as mio requires, or until a socket's short read
//!   shows it held no more ([`Transport`]: one read per message, no
//!   re-arm; TLS streams, which buffer, read until they would block).
//!
//! ## Deciding who gets in
//!
//! With `ServerPolicy::defer`, a server's first event is
//! `Event::Request`: look at the path, the headers, the Origin (a token,
//! a cookie, a session you may need another event to check), then call
//! [`WebSocket::accept`] or [`WebSocket::reject`] with your own status.
//!
//! ## wss://
//!
//! With the `rustls` feature, `TlsStream::server(socket, config)` (or
//! `::client`) wraps rustls's own sans-IO connection around the socket and
//! goes where the socket went: `WebSocket<TlsStream<TcpStream>>`. TLS
//! records the socket did not take keep WRITABLE in [`WebSocket::interest`]
//! until they are out. See the `mio_echo_server` example and docs/tls.md.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "rustls")]
mod tls;
mod transport;
mod websocket;

pub use sockweave::{
    self, Bytes, CloseCode, CloseEvent, Config, Event, Message, PreparedMessage, SendError,
    ServerPolicy,
};
#[cfg(feature = "rustls")]
pub use sockweave_net::tls as rustls;
#[cfg(feature = "rustls")]
pub use tls::TlsStream;
pub use transport::Transport;
pub use websocket::{DEFAULT_READ_BUDGET, WebSocket};
