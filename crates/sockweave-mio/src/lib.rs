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
//!     ws.on_timeout();
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
//! (`SendError::Full`): wait for the next writable event and send again.
//!
//! Readiness is edge-triggered: `on_ready` reads and writes until the
//! socket would block, as mio requires.
//!
//! ## wss://
//!
//! With the `rustls` feature, `TlsStream::server(socket, config)` (or
//! `::client`) wraps rustls's own sans-IO connection around the socket and
//! goes where the socket went: `WebSocket<TlsStream<TcpStream>>`. TLS
//! records the socket did not take keep WRITABLE in [`WebSocket::interest`]
//! until they are out. See the `mio_echo_server` example and docs/tls.md.

#[cfg(feature = "rustls")]
mod tls;
mod websocket;

pub use sockweave::{
    self, Bytes, CloseCode, CloseEvent, Config, Event, Message, SendError, ServerPolicy,
};
#[cfg(feature = "rustls")]
pub use sockweave_rustls as rustls;
#[cfg(feature = "rustls")]
pub use tls::TlsStream;
pub use websocket::WebSocket;
