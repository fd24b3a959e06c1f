//! An axum echo server:
//! `axum_echo_server [ADDR] [--tls-cert F --tls-key F] [--deflate] [--protocol P]...
//! [--allow-origin O]... [--idle-timeout S]` (default 127.0.0.1:9001).
//!
//! One port speaks HTTP/1.1 and HTTP/2: h2c with prior knowledge on a
//! plain port, ALPN `h2` or `http/1.1` with TLS; HTTP/2 advertises
//! extended CONNECT (RFC 8441). WebSockets at `/` and `/echo` echo every
//! message unchanged and answer a close with the same code and reason;
//! `GET /health` answers `ok`; any other path is 404. Each WebSocket is
//! logged on stderr with the HTTP version it came over, then what it
//! negotiated. `--allow-origin` refuses other Origins (403);
//! `--idle-timeout` closes silent connections (1001).

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use sockweave_axum::{Config, WebSocket, WebSocketUpgrade, ws};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;

#[derive(Clone, Default)]
struct Options {
    addr: Option<String>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    deflate: bool,
    protocols: Vec<String>,
    origins: Vec<String>,
    idle_timeout: Option<std::time::Duration>,
}

fn options() -> Options {
    let mut options = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tls-cert" => options.cert = args.next().map(PathBuf::from),
            "--tls-key" => options.key = args.next().map(PathBuf::from),
            "--deflate" => options.deflate = true,
            "--protocol" => options.protocols.extend(args.next()),
            "--allow-origin" => options.origins.extend(args.next()),
            "--idle-timeout" => {
                let seconds = args.next().and_then(|s| s.parse::<f64>().ok());
                options.idle_timeout =
                    seconds.and_then(|s| std::time::Duration::try_from_secs_f64(s).ok());
            }
            _ if options.addr.is_none() => options.addr = Some(arg),
            _ => {
                eprintln!("unexpected argument {arg:?}");
                std::process::exit(2);
            }
        }
    }
    options
}

async fn echo_route(upgrade: WebSocketUpgrade, options: Arc<Options>) -> Response {
    let mut config = Config::default();
    config.max_queued = 32 << 20; // a 16 MiB echo fits whole
    config.idle_timeout = options.idle_timeout;
    #[cfg(feature = "deflate")]
    if options.deflate {
        config.deflate = Some(sockweave::deflate::DeflateConfig::default());
    }
    let request = upgrade.request();
    eprintln!(
        "websocket {:?} {} origin={:?}",
        request.version,
        request.path,
        request.origin.as_deref().unwrap_or("-")
    );
    let mut upgrade = upgrade.protocols(options.protocols.clone());
    if !options.origins.is_empty() {
        upgrade = upgrade.allowed_origins(options.origins.clone());
    }
    upgrade
        .config(config)
        .on_failed_upgrade(|e| eprintln!("upgrade failed: {e}"))
        .on_upgrade(echo)
}

async fn echo(mut socket: WebSocket) {
    let conn = socket.connection();
    let mut note = String::new();
    if let Some(p) = conn.protocol() {
        note.push_str(&format!(" (protocol {p})"));
    }
    if let Some(e) = conn.extensions() {
        note.push_str(&format!(" (extensions {e})"));
    }
    eprintln!("open{note}");
    loop {
        match socket.recv().await {
            Ok(Some(message)) => {
                // Answer a burst with one write: queue this message and
                // every one already received, then flush once.
                let mut echoed = socket.feed(message).await;
                while let (Ok(()), Some(next)) = (&echoed, socket.try_recv()) {
                    echoed = socket.feed(next).await;
                }
                if echoed.is_err() || socket.flush().await.is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                eprintln!("connection: {e}");
                break;
            }
        }
    }
    if let Some(close) = socket.close_event() {
        eprintln!(
            "closed {} {:?} clean={}",
            close.code, close.reason, close.was_clean
        );
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let options = Arc::new(options());
    let addr = options
        .addr
        .clone()
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let echo = {
        let options = options.clone();
        move |upgrade: WebSocketUpgrade| echo_route(upgrade, options.clone())
    };
    let app = Router::new()
        .route("/", ws(echo.clone()))
        .route("/echo", ws(echo))
        .route("/health", get(|| async { "ok\n" }));
    let tls = match (&options.cert, &options.key) {
        (Some(cert), Some(key)) => {
            let config = sockweave_net::tls::server_config_from_files(cert, key)
                .map_err(std::io::Error::other)?;
            let mut config = (*config).clone();
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
        }
        _ => None,
    };
    let listener = TcpListener::bind(&addr).await?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    eprintln!("axum echo server on {scheme}://{addr} (HTTP/1.1 and HTTP/2)");
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http2().enable_connect_protocol();
    let builder = Arc::new(builder);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let (builder, app, tls) = (builder.clone(), app.clone(), tls.clone());
        tokio::spawn(async move {
            let service = TowerToHyperService::new(app);
            let served = match tls {
                Some(tls) => match tls.accept(stream).await {
                    Ok(stream) => {
                        builder
                            .serve_connection_with_upgrades(TokioIo::new(stream), service)
                            .await
                    }
                    Err(e) => return eprintln!("tls: {e}"),
                },
                None => {
                    builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .await
                }
            };
            if let Err(e) = served {
                eprintln!("http: {e}");
            }
        });
    }
}
