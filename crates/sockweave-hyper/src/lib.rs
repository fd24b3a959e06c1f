//! WebSockets in a [hyper] 1.x server, over HTTP/1.1 upgrades and HTTP/2
//! extended `CONNECT` (RFC 8441), on the sockweave engine.
//!
//! hyper parses the HTTP; sockweave's core decides. The request's method,
//! version, `:protocol` and headers go to
//! [`sockweave::handshake::Request::from_head`], the same rules the core's
//! own HTTP/1.1 reader runs; a [`ServerPolicy`] (Origin allow-list,
//! subprotocols) decides as it does everywhere; the core builds the
//! response (`101` with `Sec-WebSocket-Accept` for HTTP/1.1, `200` for
//! HTTP/2) and a [`sockweave::Connection`] that is already OPEN with the
//! negotiated subprotocol and permessage-deflate. This crate only copies
//! fields between `http` types and the core's, and hands the upgraded
//! connection to [`sockweave_tokio::WebSocket`].
//!
//! ```text
//!  hyper ──http::Request──► Upgrade::from_parts ──► (your auth, async) ──► accept / accept_with / reject
//!                                                                              │
//!  hyper ◄──────────────── http::Response (101 or 200, or the refusal) ◄────────┤
//!  hyper::upgrade ──► Upgrading (a future) ──► WebSocket (sockweave-tokio) ◄────┘
//! ```
//!
//! ```no_run
//! use sockweave_hyper::{Upgrade, is_upgrade_request};
//! use sockweave::{Config, ServerPolicy};
//!
//! async fn handle(
//!     request: http::Request<hyper::body::Incoming>,
//! ) -> Result<sockweave_hyper::Response, std::convert::Infallible> {
//!     let (mut parts, _body) = request.into_parts();
//!     if !is_upgrade_request(&parts) {
//!         return Ok(http::Response::new("not a WebSocket\n".into()));
//!     }
//!     let upgrade = match Upgrade::from_parts(&mut parts) {
//!         Ok(upgrade) => upgrade,
//!         Err(refusal) => return Ok(*refusal), // 400, 405, 426…
//!     };
//!     let (response, upgrading) = upgrade.accept_with(&ServerPolicy::default(), Config::default());
//!     if let Some(upgrading) = upgrading {
//!         tokio::spawn(async move {
//!             let mut ws = upgrading.await?;
//!             while let Some(message) = ws.recv().await? {
//!                 ws.send(message).await?;
//!             }
//!             Ok::<_, sockweave_hyper::Error>(())
//!         });
//!     }
//!     Ok(response)
//! }
//! ```
//!
//! Serve connections with upgrades on, and for HTTP/2 advertise
//! `SETTINGS_ENABLE_CONNECT_PROTOCOL`:
//!
//! ```ignore
//! let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
//! builder.http2().enable_connect_protocol();
//! builder.serve_connection_with_upgrades(TokioIo::new(stream), service_fn(handle)).await
//! ```
//!
//! Over HTTP/2 a WebSocket is one stream of the connection: its frames
//! travel in DATA frames under HTTP/2 flow control, and closing it ends
//! the stream, not the connection.
//!
//! [hyper]: https://docs.rs/hyper

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod server;
mod translate;

pub use client::{ClientOptions, ClientWebSocket, Http2Client, Io, Transport, connect};
pub use server::{Response, Upgrade, Upgrading, is_upgrade_request};
pub use sockweave;
pub use sockweave::{Config, ServerPolicy};
pub use sockweave_tokio::Error;

/// The WebSocket an upgrade yields: the tokio adapter's, over hyper's
/// upgraded connection (an HTTP/1.1 connection, or one HTTP/2 stream).
pub type WebSocket = sockweave_tokio::WebSocket<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>>;
