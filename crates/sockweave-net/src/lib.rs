//! What the sockweave adapters share above the sans-IO core, so each rule
//! is written once: the error type every adapter returns ([`Error`], with
//! typed TLS failures), what counts as the peer going away
//! ([`is_disconnect`]), how the outbound queue is written
//! ([`write_queued`]), how `wss://` is secured ([`TlsConnector`]) and,
//! with the `rustls` feature, the rustls configurations and error mapping
//! (`tls`). The core
//! (`sockweave`) stays protocol only: no I/O, no TLS.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "browser")]
mod browser_options;
mod connector;
mod error;
pub mod proxy;
mod receive;
#[cfg(feature = "rustls")]
pub mod tls;
mod transmit;

#[cfg(feature = "browser")]
pub use browser_options::BrowserOptions;
pub use connector::TlsConnector;
pub use error::{Error, TlsError, TlsErrorKind, is_disconnect, next_request};
pub use proxy::{Proxy, ProxyError, ProxyKind, Tunnel};
pub use receive::{
    RECEIVE_LEN, append_read, give_back, keep_read, reserve_read, take_receive_buffer,
};
pub use transmit::{WRITE_SLICES, queued_slices, write_queued};
