//! rustls for sockweave's `wss://`: the configurations the adapters build by
//! default and the mapping of rustls failures to the typed [`TlsError`].
//! Feature `rustls`.
//!
//! Every adapter (`sockweave-std`, `sockweave-tokio`, `sockweave-mio`,
//! feature `rustls`) uses this module; a caller with its own `ClientConfig` or `ServerConfig` (ALPN,
//! another crypto provider) passes it instead and only the error mapping
//! applies. Mutual TLS: [`client_config_with_identity`] on the client,
//! [`server_config_with_client_auth`] on the server. ALPN is left empty here: a WebSocket needs
//! none, and a server sharing its port with HTTP/2 sets its own.
//!
//! ```no_run
//! let config = sockweave_net::tls::server_config_from_files(
//!     "cert.pem".as_ref(),
//!     "key.pem".as_ref(),
//! )?;
//! # Ok::<(), sockweave_net::TlsError>(())
//! ```

use crate::{Error, TlsError, TlsErrorKind};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io;
use std::path::Path;
use std::sync::{Arc, OnceLock};

pub use rustls;

/// The process's default crypto provider if one is installed, else ring
/// (the one this crate is built with).
fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

fn config_error(what: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> TlsError {
    TlsError::new(TlsErrorKind::Config, what)
}

/// A client configuration trusting the default roots: the platform's store
/// with the `native-roots` feature, else Mozilla's with `webpki-roots`.
/// Built once per process.
pub fn client_config() -> Result<Arc<ClientConfig>, TlsError> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(config.clone());
    }
    let config = client_config_with_roots(default_roots()?)?;
    Ok(CONFIG.get_or_init(|| config).clone())
}

/// `config` if given, else [`client_config`]: what a connector without a
/// config of its own uses.
pub fn client_config_or_default(
    config: Option<&Arc<ClientConfig>>,
) -> Result<Arc<ClientConfig>, TlsError> {
    config.cloned().map_or_else(client_config, Ok)
}

#[allow(unused_mut)]
fn default_roots() -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    #[cfg(feature = "native-roots")]
    {
        // Unreadable entries are skipped, as browsers do; only an empty
        // store is an error.
        let found = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(found.certs);
    }
    #[cfg(feature = "webpki-roots")]
    if roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if roots.is_empty() {
        return Err(config_error(
            "no root certificates: enable the native-roots or webpki-roots \
             feature, or pass a ClientConfig",
        ));
    }
    Ok(roots)
}

/// A client configuration trusting exactly `roots`.
pub fn client_config_with_roots(roots: RootCertStore) -> Result<Arc<ClientConfig>, TlsError> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(config_error)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A client configuration trusting `roots` that presents the certificate
/// chain in `chain_pem` (leaf first) with the private key in `key_pem`
/// to a server that asks for one: mutual TLS.
pub fn client_config_with_identity(
    roots: RootCertStore,
    chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<ClientConfig>, TlsError> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(config_error)?
        .with_root_certificates(roots)
        .with_client_auth_cert(certificates(chain_pem)?, private_key(key_pem)?)
        .map_err(config_error)?;
    Ok(Arc::new(config))
}

/// The roots a client trusts: the CA certificates in `ca_pem`, and no
/// others, when given; else the default roots (see [`client_config`]).
pub fn roots(ca_pem: Option<&[u8]>) -> Result<RootCertStore, TlsError> {
    let Some(pem) = ca_pem else {
        return default_roots();
    };
    let mut roots = RootCertStore::empty();
    for cert in certificates(pem)? {
        roots.add(cert).map_err(config_error)?;
    }
    Ok(roots)
}

/// A client configuration trusting the CA certificates in `pem` (and no
/// others): a private CA, or a test's self-signed certificate.
pub fn client_config_with_ca_pem(pem: &[u8]) -> Result<Arc<ClientConfig>, TlsError> {
    client_config_with_roots(roots(Some(pem))?)
}

/// [`client_config_with_ca_pem`] from a file.
pub fn client_config_with_ca_file(path: &Path) -> Result<Arc<ClientConfig>, TlsError> {
    client_config_with_ca_pem(&read(path)?)
}

/// A server configuration presenting `chain_pem` (leaf first) with the
/// private key in `key_pem` (PKCS#8, PKCS#1 or SEC1), without client
/// certificates.
pub fn server_config(chain_pem: &[u8], key_pem: &[u8]) -> Result<Arc<ServerConfig>, TlsError> {
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(config_error)?
        .with_no_client_auth()
        .with_single_cert(certificates(chain_pem)?, private_key(key_pem)?)
        .map_err(config_error)?;
    Ok(Arc::new(config))
}

/// [`server_config`] that requires every client to present a certificate
/// signed by one of the CAs in `client_ca_pem` (mutual TLS); a client
/// without one fails the TLS handshake.
pub fn server_config_with_client_auth(
    chain_pem: &[u8],
    key_pem: &[u8],
    client_ca_pem: &[u8],
) -> Result<Arc<ServerConfig>, TlsError> {
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots(Some(client_ca_pem))?),
        provider(),
    )
    .build()
    .map_err(config_error)?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(config_error)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certificates(chain_pem)?, private_key(key_pem)?)
        .map_err(config_error)?;
    Ok(Arc::new(config))
}

fn private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem)
        .map_err(|e| config_error(format!("no usable private key: {e}")))
}

/// [`server_config`] from a certificate chain file and a key file.
pub fn server_config_from_files(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    server_config(&read(cert)?, &read(key)?)
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| config_error(format!("{}: {e}", path.display())))
}

fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| config_error(format!("bad PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(config_error("no certificate in the PEM input"));
    }
    Ok(certs)
}

/// The TLS name for `host` (a DNS name or an IP address).
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    // The URL keeps IPv6 literals in brackets; TLS wants the bare address.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_owned())
        .map_err(|e| config_error(format!("{host:?} is not a TLS server name: {e}")))
}

/// The kind of a rustls failure.
pub fn kind(e: &rustls::Error) -> TlsErrorKind {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => TlsErrorKind::UnknownIssuer,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsErrorKind::NameMismatch
            }
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => TlsErrorKind::Expired,
            _ => TlsErrorKind::BadCertificate,
        },
        E::AlertReceived(_) => TlsErrorKind::PeerRejected,
        _ => TlsErrorKind::Handshake,
    }
}

/// A rustls failure as a typed [`TlsError`].
pub fn tls_error(e: rustls::Error) -> TlsError {
    TlsError::new(kind(&e), e)
}

/// Maps an I/O error from a TLS stream: a rustls failure inside it becomes
/// [`Error::Tls`], anything else stays [`Error::Io`].
pub fn map_io_error(e: io::Error) -> Error {
    let is_tls = e
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
    if !is_tls {
        return Error::Io(e);
    }
    match e
        .into_inner()
        .map(|inner| inner.downcast::<rustls::Error>())
    {
        Some(Ok(tls)) => Error::Tls(tls_error(*tls)),
        Some(Err(inner)) => Error::Io(io::Error::other(inner)),
        None => Error::Io(io::Error::other("TLS error")),
    }
}

/// Maps an I/O error during the TLS handshake: besides rustls failures, a
/// timeout or a peer closing mid-handshake is a [`TlsErrorKind::Handshake`].
pub fn map_handshake_error(e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Tls(TlsError::new(
            TlsErrorKind::Handshake,
            "timed out waiting for the peer",
        )),
        io::ErrorKind::UnexpectedEof => Error::Tls(TlsError::new(
            TlsErrorKind::Handshake,
            "the peer closed the connection during the TLS handshake",
        )),
        _ => map_io_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_from_generated_certificates() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let chain = cert.cert.pem();
        let key = cert.key_pair.serialize_pem();
        server_config(chain.as_bytes(), key.as_bytes()).unwrap();
        client_config_with_ca_pem(chain.as_bytes()).unwrap();
    }

    #[test]
    fn bad_inputs_are_config_errors() {
        fn kind<T>(r: Result<T, TlsError>) -> TlsErrorKind {
            r.map(|_| ()).unwrap_err().kind()
        }
        assert_eq!(kind(client_config_with_ca_pem(b"")), TlsErrorKind::Config);
        assert_eq!(kind(server_config(b"junk", b"junk")), TlsErrorKind::Config);
        assert_eq!(kind(server_name("bad host!")), TlsErrorKind::Config);
        assert!(server_name("[::1]").is_ok());
        assert!(server_name("example.com").is_ok());
    }

    #[cfg(not(any(feature = "native-roots", feature = "webpki-roots")))]
    #[test]
    fn no_roots_is_a_config_error_that_says_why() {
        let e = client_config().unwrap_err();
        assert_eq!(e.kind(), TlsErrorKind::Config);
        assert!(e.to_string().contains("webpki-roots"), "{e}");
    }

    #[test]
    fn certificate_failures_have_kinds() {
        let e = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        assert_eq!(kind(&e), TlsErrorKind::UnknownIssuer);
        let e = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
        assert_eq!(kind(&e), TlsErrorKind::NameMismatch);
        let e = rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA);
        assert_eq!(kind(&e), TlsErrorKind::PeerRejected);
        let io = io::Error::new(io::ErrorKind::InvalidData, e);
        assert!(
            matches!(map_io_error(io), Error::Tls(t) if t.kind() == TlsErrorKind::PeerRejected)
        );
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        assert!(
            matches!(map_handshake_error(eof), Error::Tls(t) if t.kind() == TlsErrorKind::Handshake)
        );
    }
}
