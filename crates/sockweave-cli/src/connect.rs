//! `sockweave connect`: stdin lines out as messages, messages to stdout.

use crate::Outcome;
use sockweave::handshake::{ClientRequest, HandshakeError};
use sockweave::{CloseCode, Config, Message};
use sockweave_tokio::{Error, TlsConnector};
use std::path::PathBuf;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The server, e.g. ws://127.0.0.1:9001/chat.
    url: String,
    /// A subprotocol to offer (repeatable).
    #[arg(long = "protocol", value_name = "P")]
    protocols: Vec<String>,
    /// An extra request header, 'Name: value' (repeatable).
    #[arg(long = "header", value_name = "'K: V'")]
    headers: Vec<String>,
    /// Send each line as a binary message instead of text.
    #[arg(long)]
    binary: bool,
    /// For wss://, trust the CA certificates in this PEM file instead of the
    /// platform's roots.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// For wss://, accept any certificate (testing only: anyone on the path
    /// can read and change the traffic).
    #[arg(long, conflicts_with = "ca")]
    insecure: bool,
    /// Offer permessage-deflate (`--deflate=PRESET` picks a preset other
    /// than `default`; the `=` keeps the URL from being read as one).
    #[arg(long, value_enum, value_name = "PRESET", num_args = 0..=1, require_equals = true, default_missing_value = "default")]
    deflate: Option<crate::deflate::Preset>,
}

pub(crate) fn run(args: Args) -> Outcome {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("sockweave: cannot start the runtime: {e}");
            return Outcome::Failed;
        }
    };
    runtime.block_on(connect(args))
}

fn request(args: &Args) -> Result<ClientRequest, String> {
    let mut request =
        ClientRequest::new(&args.url).map_err(|e| format!("bad URL {:?}: {e}", args.url))?;
    for protocol in &args.protocols {
        request = request.protocol(protocol.clone());
    }
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| format!("bad header {header:?}: expected 'Name: value'"))?;
        request = request.header(name.trim(), value.trim());
    }
    Ok(request)
}

fn connector(args: &Args) -> Result<TlsConnector, String> {
    if args.insecure {
        return Ok(TlsConnector::rustls(crate::insecure::client_config()));
    }
    match &args.ca {
        Some(path) => sockweave_rustls::client_config_with_ca_file(path)
            .map(TlsConnector::rustls)
            .map_err(|e| e.to_string()),
        None => Ok(TlsConnector::default()),
    }
}

async fn connect(args: Args) -> Outcome {
    let request = match request(&args) {
        Ok(request) => request,
        Err(e) => {
            eprintln!("sockweave: {e}");
            return Outcome::Usage;
        }
    };
    let stream = match tokio::net::TcpStream::connect((request.host.as_str(), request.port)).await {
        Ok(stream) => stream,
        Err(e) => {
            eprintln!(
                "sockweave: cannot connect to {}:{}: {e}",
                request.host, request.port
            );
            return Outcome::Unreachable;
        }
    };
    let _ = stream.set_nodelay(true);
    let mut config = Config::default();
    config.deflate = args.deflate.map(crate::deflate::Preset::config);
    let tls = match connector(&args) {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("sockweave: {e}");
            return Outcome::Usage;
        }
    };
    let secure = request.secure;
    let timeout = config.handshake_timeout;
    let opened = match tls.connect(stream, &request.host, secure, timeout).await {
        Ok(stream) => sockweave_tokio::client(stream, &request, config).await,
        Err(e) => Err(e),
    };
    let mut ws = match opened {
        Ok(ws) => ws,
        Err(Error::Tls(e)) => {
            eprintln!("sockweave: TLS failed: {e}");
            return Outcome::Tls;
        }
        Err(Error::Handshake(e)) => {
            match &e {
                HandshakeError::Status { status, .. } => {
                    eprintln!("sockweave: handshake failed: {e} (HTTP {status})")
                }
                _ => eprintln!("sockweave: handshake failed: {e}"),
            }
            return Outcome::Handshake;
        }
        Err(e) => {
            eprintln!("sockweave: {e}");
            return Outcome::Failed;
        }
    };
    if let Some(protocol) = ws.connection().protocol() {
        eprintln!("sockweave: connected (protocol {protocol})");
    }
    if let Some(extensions) = ws.connection().extensions() {
        eprintln!("sockweave: extensions {extensions}");
    }
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    let mut stdin_open = true;
    loop {
        tokio::select! {
            line = lines.next_line(), if stdin_open => match line {
                Ok(Some(line)) => {
                    let message = if args.binary { Message::from(line.into_bytes()) } else { Message::from(line) };
                    if let Err(e) = ws.send(message).await {
                        eprintln!("sockweave: {e}");
                    }
                }
                _ => {
                    stdin_open = false;
                    let _ = ws.close(CloseCode::NORMAL, "").await;
                }
            },
            message = ws.recv() => match message {
                Ok(Some(Message::Text(text))) => {
                    let _ = stdout.write_all(format!("{text}\n").as_bytes()).await;
                }
                Ok(Some(Message::Binary(bytes))) => {
                    let _ = stdout.write_all(&bytes).await;
                    let _ = stdout.write_all(b"\n").await;
                }
                Ok(None) => break,
                Err(e) => {
                    // The error says "connection failed: …" itself.
                    eprintln!("sockweave: {e}");
                    break;
                }
            },
        }
    }
    let _ = stdout.flush().await;
    match ws.close_event() {
        Some(close) => {
            eprintln!(
                "sockweave: closed: code {} reason {:?}",
                close.code, close.reason
            );
            if close.was_clean {
                Outcome::Ok
            } else {
                Outcome::Failed
            }
        }
        None => Outcome::Failed,
    }
}
