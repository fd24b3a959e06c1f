//! Async WebSockets over tokio (any `AsyncRead + AsyncWrite`), driven by
//! the [`sockweave`] core.
//!
//! ```no_run
//! use sockweave_tokio::{accept, connect, CloseCode, Message};
//! use tokio::net::TcpListener;
//!
//! # async fn run() -> Result<(), sockweave_tokio::Error> {
//! let listener = TcpListener::bind("127.0.0.1:9001").await?;
//! tokio::spawn(async move {
//!     while let Ok((stream, _)) = listener.accept().await {
//!         tokio::spawn(async move {
//!             let mut ws = accept(stream).await?;
//!             while let Some(message) = ws.recv().await? {
//!                 ws.send(message).await?;
//!             }
//!             Ok::<_, sockweave_tokio::Error>(())
//!         });
//!     }
//! });
//!
//! let mut ws = connect("ws://127.0.0.1:9001/").await?;
//! ws.send("hello").await?;
//! assert_eq!(ws.recv().await?, Some(Message::from("hello")));
//! ws.close(CloseCode::NORMAL, "bye").await?;
//! while ws.recv().await?.is_some() {}
//! # Ok(())
//! # }
//! ```
//!
//! ## One driver
//!
//! Everything that moves bytes is [`WebSocket`]'s poll loop
//! (`poll_next_event`: decoded events first, then the queued writes, the
//! core's timer, one read; `poll_write_out` for writes, racing the timer).
//! The split halves poll it under a mutex, and the browser-style socket's
//! task polls it under the lock its calls take, with the WHATWG rules of
//! `sockweave::browser::Layer` between the events and the application: one
//! loop, so every bound below holds for every way of using the adapter.
//!
//! ## When bytes move, and backpressure
//!
//! `send` returns once the frame has been written to the stream (the core's
//! queue is empty again). Every `recv`/`next_event` poll first writes out what
//! the core queued (pongs, close replies) without waiting for it, so a task
//! that only reads still answers pings; it never blocks reading on a full
//! socket. A peer that stops reading makes `send` wait: that is the
//! backpressure, and `Config::max_queued` bounds what the core holds.
//! While the socket takes nothing, the core's timers still run: by default
//! a peer that stops reading is pinged after 30 s, failed 30 s later, and
//! abandoned after the close timeout (5 s); the waiting call then returns
//! [`Error::Closed`].
//!
//! ## Cancellation
//!
//! `recv` and `next_event` are cancel-safe: all state lives in the
//! `WebSocket`, and bytes count as written only once the stream took them.
//! A cancelled `send` leaves its message queued; the next call writes it.
//!
//! ## Split
//!
//! [`WebSocket::split`] gives a [`ReadHalf`] (a `Stream` of messages) and a
//! [`WriteHalf`] (a `Sink`), for two tasks. They share the connection under a
//! mutex that is only held inside a poll, never across an `.await`. The
//! socket and the timer keep one waker each, and either half may write
//! (the reader flushes pongs) or run a timer, so each half polls with a
//! waker that wakes both: no wake-up is lost, at the cost of a spurious
//! one now and then.
//!
//! ## wss://
//!
//! With the `rustls` feature, [`connect`] takes `wss://` URLs (default
//! roots with `webpki-roots` or `native-roots`; your own `ClientConfig`
//! through [`connect_with`] and `TlsConnector::rustls`), and a server runs
//! `TlsAcceptor::accept` on each socket before [`accept`]: `accept(acceptor.accept(stream).await?)`.
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
mod fanout;
mod room;
mod split;
mod tls;
mod websocket;

pub use room::{Laggard, Member, Room};
pub use sockweave::{
    self, Bytes, CloseCode, CloseEvent, Config, Event, Message, PreparedMessage, ReadyState,
    ServerPolicy, Text,
};
pub use sockweave_net::Error;
#[cfg(feature = "rustls")]
pub use sockweave_net::tls as rustls;
pub use sockweave_net::{Proxy, ProxyError, ProxyKind};
pub use split::{ReadHalf, WriteHalf};
#[cfg(feature = "rustls")]
pub use tls::TlsAcceptor;
pub use tls::{MaybeTls, TlsConnector};
pub use websocket::{
    WebSocket, accept, accept_with, accept_with_hook, client, connect, connect_via, connect_with,
    tunnel,
};
