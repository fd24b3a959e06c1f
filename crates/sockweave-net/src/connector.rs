//! [`TlsConnector`]: how an adapter secures `wss://`, the same type in
//! every adapter (each runs the handshake on its own kind of stream).

#[cfg(feature = "rustls")]
use {crate::TlsError, rustls::ClientConfig, rustls_pki_types::ServerName, std::sync::Arc};

/// How `wss://` connections are secured: the default roots (see
/// [`crate::tls::client_config`], feature `rustls`), or a rustls
/// `ClientConfig` of your own (client certificates, private CAs, ALPN).
#[derive(Clone, Default)]
pub struct TlsConnector {
    #[cfg(feature = "rustls")]
    config: Option<Arc<ClientConfig>>,
}

impl core::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        #[cfg(feature = "rustls")]
        let own = self.config.is_some();
        #[cfg(not(feature = "rustls"))]
        let own = false;
        f.debug_struct("TlsConnector")
            .field("own_config", &own)
            .finish()
    }
}

impl TlsConnector {
    /// Secures connections with `config`.
    #[cfg(feature = "rustls")]
    pub fn rustls(config: Arc<ClientConfig>) -> Self {
        Self {
            config: Some(config),
        }
    }

    /// The configuration and server name a TLS session to `host` starts
    /// with: this connector's configuration, else the default roots.
    #[cfg(feature = "rustls")]
    pub fn client(&self, host: &str) -> Result<(Arc<ClientConfig>, ServerName<'static>), TlsError> {
        let config = crate::tls::client_config_or_default(self.config.as_ref())?;
        Ok((config, crate::tls::server_name(host)?))
    }
}
