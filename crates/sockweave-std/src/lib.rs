//! Blocking WebSockets over `std::net` (or any `Read + Write`), driven by
//! the [`sockweave`] core.
//!
//! ```no_run
//! use sockweave_std::{accept, connect, Message};
//! use std::net::TcpListener;
//!
//! // Server: echo every message.
//! let listener = TcpListener::bind("127.0.0.1:9001")?;
//! std::thread::spawn(move || {
//!     for stream in listener.incoming() {
//!         let mut ws = accept(stream.unwrap()).unwrap();
//!         while let Some(message) = ws.recv().unwrap() {
//!             ws.send(message).unwrap();
//!         }
//!     }
//! });
//!
//! // Client.
//! let mut ws = connect("ws://127.0.0.1:9001/")?;
//! ws.send("hello")?;
//! assert_eq!(ws.recv()?, Some(Message::from("hello")));
//! ws.close(sockweave::CloseCode::NORMAL, "bye")?;
//! while ws.recv()?.is_some() {}
//! # Ok::<(), sockweave_std::Error>(())
//! ```
//!
//! ## When bytes move
//!
//! Every call writes out everything the core has queued before it returns:
//! `send` returns once the frame is in the socket's send buffer, and `recv`
//! flushes pongs and close replies before it blocks on a read. So a loop
//! that only reads still answers pings. Backpressure is the socket's: a
//! peer that stops reading makes `send` block (or fail with the socket's
//! write timeout, if one is set).
//!
//! ## Timers
//!
//! The core's timers (handshake, close, keepalive, idle, message) run
//! through the read and write timeouts of the transport
//! ([`Transport::set_read_timeout`], [`Transport::set_write_timeout`]):
//! before each read and write the adapter sets them to the core's next
//! deadline. So a peer that stops reading holds a thread no longer than
//! the timers allow (by default: a ping after 30 s, 30 s for an answer,
//! 5 s for the close); the blocked call then returns [`Error::Closed`].
//!
//! ## One driver
//!
//! Everything that moves bytes is one driver (decoded events first, then
//! the queued writes, then one read, each bounded by the core's next
//! deadline), run by [`WebSocket`] on a connection it owns, by the split
//! halves and by the browser-style socket's thread on a connection shared
//! under a lock. A shared connection's blocked read or write looks at the
//! deadlines again every 100 ms, so a `close` from another thread times
//! out on time. Once the connection is CLOSED, the last write takes what
//! the socket takes at once and the rest is abandoned.
//!
//! ## Two threads
//!
//! [`WebSocket::split`] gives a [`Reader`] and a [`Writer`] for a
//! `TcpStream`, usable from two threads at once. The connection state is
//! shared under a mutex held only to move bytes in or out, never during a
//! blocking read or write; the halves keep the connection's clock, bytes
//! already read and how it ended. A TLS connection cannot be split (see
//! [`WebSocket::split`]).
//!
//! ## wss://
//!
//! With the `rustls` feature, [`connect`] takes `wss://` URLs (default
//! roots with `webpki-roots` or `native-roots`; your own `ClientConfig`
//! through [`connect_with`] and `TlsConnector::rustls`), and a server runs
//! `TlsAcceptor::accept` on each socket before [`accept`]: `accept(acceptor.accept(stream)?)`.
//! TLS failures are `Error::Tls` with a kind (unknown issuer, name
//! mismatch, …). See docs/tls.md.
//!
//! ## The browser's interface
//!
//! With the `browser` feature (on by default), the `browser` module has the
//! WHATWG `WebSocket`: `new(url, protocols)`, `send`, `close(code,
//! reason)`, `ready_state`, `buffered_amount`, and open / message / error /
//! close events. See docs/browser.md.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "browser")]
pub mod browser;
mod driver;
mod split;
mod tls;
mod transport;
mod websocket;

pub use sockweave::{
    self, Bytes, CloseCode, CloseEvent, Config, Event, Message, PreparedMessage, ReadyState,
    ServerPolicy, Text,
};
pub use sockweave_net::Error;
#[cfg(feature = "rustls")]
pub use sockweave_net::tls as rustls;
pub use sockweave_net::{Proxy, ProxyError, ProxyKind};
pub use split::{Reader, Writer};
#[cfg(feature = "rustls")]
pub use tls::TlsAcceptor;
pub use tls::{MaybeTls, TlsConnector};
pub use transport::Transport;
pub use websocket::{
    WebSocket, accept, accept_with, accept_with_hook, client, connect, connect_via, connect_with,
};
