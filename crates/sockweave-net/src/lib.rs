//! What the sockweave adapters share above the sans-IO core, so each rule
//! is written once: the error type every adapter returns ([`Error`], with
//! typed TLS failures), what counts as the peer going away
//! ([`is_disconnect`]), and, with the `rustls` feature, the rustls
//! configurations and error mapping ([`tls`]). The core
//! (`sockweave`) stays protocol only: no I/O, no TLS.

mod error;
#[cfg(feature = "rustls")]
pub mod tls;

pub use error::{Error, TlsError, TlsErrorKind, is_disconnect};
