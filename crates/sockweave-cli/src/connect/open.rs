//! Opening the connection: TCP (through a proxy's tunnel when given), TLS
//! for wss://, the opening handshake, and the redirects `-L` follows;
//! each failure said once on stderr, as its exit code.

use super::tap::Tap;
use crate::Outcome;
use crate::terminal::escape;
use sockweave::Config;
use sockweave::handshake::{ClientRequest, HandshakeError};
use sockweave_tokio::{Error, MaybeTls, TlsConnector};

/// The connection, through the `-v` tap.
pub(super) type Socket = sockweave_tokio::WebSocket<Tap<MaybeTls<tokio::net::TcpStream>>>;

/// Why an attempt to connect failed: already said (the outcome is the
/// exit code), or an error to follow (a redirect) or report.
enum Failed {
    Said(Outcome),
    Error(Error),
}

/// Connects for `request`, following redirects as far as it allows
/// (`-L`); a failure is reported on stderr and returned as its outcome.
pub(super) async fn open(
    mut request: ClientRequest,
    proxy: Option<&sockweave_tokio::Proxy>,
    tls: &TlsConnector,
    config: &Config,
    verbose: bool,
) -> Result<Socket, Outcome> {
    let mut followed = 0;
    loop {
        let error = match attempt(&request, proxy, tls, config.clone(), verbose).await {
            Ok(ws) => return Ok(ws),
            Err(Failed::Said(outcome)) => return Err(outcome),
            Err(Failed::Error(error)) => error,
        };
        match sockweave_net::next_request(&request, followed, &error) {
            Some(Ok(next)) => {
                let scheme = if next.secure { "wss" } else { "ws" };
                let url = format!("{scheme}://{}{}", next.host_header(), next.path);
                eprintln!("sockweave: redirected to {}", escape(&url));
                request = next;
                followed += 1;
            }
            Some(Err(e)) => {
                eprintln!("sockweave: handshake failed: {}", escape(&e.to_string()));
                return Err(Outcome::Handshake);
            }
            None => return Err(report(error)),
        }
    }
}

/// One attempt: TCP (to the proxy, then through its tunnel, when there
/// is one), TLS for wss://, and the opening handshake.
async fn attempt(
    request: &ClientRequest,
    proxy: Option<&sockweave_tokio::Proxy>,
    tls: &TlsConnector,
    config: Config,
    verbose: bool,
) -> Result<Socket, Failed> {
    let (host, port) = match proxy {
        Some(proxy) => (proxy.host.as_str(), proxy.port),
        None => (request.host.as_str(), request.port),
    };
    let timeout = config.handshake_timeout;
    let connecting = tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port)));
    let mut stream = match connecting.await {
        Ok(Ok(stream)) => stream,
        failed => {
            let what = if proxy.is_some() { "the proxy " } else { "" };
            let why = match failed {
                Ok(Err(e)) => e.to_string(),
                _ => format!("no answer within {timeout:?}"),
            };
            eprintln!("sockweave: cannot connect to {what}{host}:{port}: {why}");
            return Err(Failed::Said(Outcome::Unreachable));
        }
    };
    if let Some(proxy) = proxy {
        let tunnel = sockweave_tokio::tunnel(&mut stream, proxy, &request.host, request.port);
        match tokio::time::timeout(timeout, tunnel).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                eprintln!("sockweave: {}", escape(&e.to_string()));
                return Err(Failed::Said(Outcome::Unreachable));
            }
            Err(_) => {
                eprintln!("sockweave: the proxy did not answer within {timeout:?}");
                return Err(Failed::Said(Outcome::Unreachable));
            }
        }
    }
    let _ = stream.set_nodelay(true);
    let secure = request.secure;
    match MaybeTls::connect(tls, stream, &request.host, secure, timeout).await {
        Ok(stream) => sockweave_tokio::client(Tap::new(stream, verbose), request, config).await,
        Err(e) => Err(e),
    }
    .map_err(Failed::Error)
}

/// Says why the connection could not be opened; the exit code.
fn report(error: Error) -> Outcome {
    match error {
        Error::Tls(e) => {
            eprintln!("sockweave: TLS failed: {}", escape(&e.to_string()));
            use sockweave_net::TlsErrorKind as Kind;
            if matches!(
                e.kind(),
                Kind::UnknownIssuer | Kind::NameMismatch | Kind::Expired | Kind::BadCertificate
            ) {
                eprintln!(
                    "sockweave: to trust the server's CA: --ca FILE; to skip the check \
                     (testing only): -k"
                );
            }
            Outcome::Tls
        }
        Error::Handshake(e) => {
            match &e {
                HandshakeError::Status { status, .. } => {
                    eprintln!("sockweave: handshake failed: {e} (HTTP {status})")
                }
                _ => eprintln!("sockweave: handshake failed: {}", escape(&e.to_string())),
            }
            Outcome::Handshake
        }
        e => {
            eprintln!("sockweave: {}", escape(&e.to_string()));
            Outcome::Failed
        }
    }
}
