//! [`BrowserOptions`]: what every adapter's browser-style `WebSocket` takes
//! beyond the URL and protocols.

use crate::TlsConnector;
use sockweave::Config;
use sockweave::browser::{self, default_config};
use std::time::Duration;

/// What the browser-style constructor takes beyond the URL and protocols
/// (each adapter's `browser::Options`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BrowserOptions {
    /// Limits and timers, including keepalive and the handshake timeout
    /// (default: [`default_config`], a browser's).
    pub config: Config,
    /// Extra request headers (`Origin`, `Authorization`, `Cookie`…).
    pub headers: Vec<(String, String)>,
    /// How `wss://` is secured.
    pub tls: TlsConnector,
    /// How long the TCP connect may take (per address), and again the TLS
    /// handshake (10 s).
    pub connect_timeout: Duration,
    /// The proxy to connect through ([`crate::Proxy::from_env`] for the
    /// conventional variables), or none (the default).
    pub proxy: Option<crate::Proxy>,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        Self {
            config: default_config(),
            headers: Vec::new(),
            tls: TlsConnector::default(),
            connect_timeout: Duration::from_secs(10),
            proxy: None,
        }
    }
}

impl BrowserOptions {
    /// The part the core's rules take ([`browser::Layer::new`]).
    pub fn rules(&self) -> browser::Options {
        let mut options = browser::Options::default();
        options.config = self.config.clone();
        options.headers = self.headers.clone();
        options
    }
}
