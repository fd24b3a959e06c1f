//! `sockweave connect`: stdin lines out as messages, messages to stdout.

use crate::Outcome;
use crate::terminal::{escape, escape_bytes};
use sockweave::handshake::{ClientRequest, HandshakeError};
use sockweave::{CloseCode, Config, Message};
use sockweave_tokio::{Error, MaybeTls, TlsConnector};
use std::path::PathBuf;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The server, e.g. ws://127.0.0.1:9001/chat.
    url: String,
    /// A subprotocol to offer (repeatable).
    #[arg(short = 's', long = "protocol", value_name = "P")]
    protocols: Vec<String>,
    /// An extra request header, 'Name: value' (repeatable; `Host` replaces
    /// the URL's).
    #[arg(short = 'H', long = "header", value_name = "'K: V'")]
    headers: Vec<String>,
    /// The `Origin` header, as a browser page at that origin would send.
    #[arg(short = 'o', long, value_name = "ORIGIN")]
    origin: Option<String>,
    /// Send each line as a binary message instead of text.
    #[arg(short = 'b', long)]
    binary: bool,
    /// Close after the first message arrives (printing it).
    #[arg(short = '1', long)]
    one_message: bool,
    /// The close code sent at the end of input or on Ctrl-C: 1000, or
    /// 3000 to 4999.
    #[arg(long, value_name = "CODE", default_value_t = 1000, value_parser = close_code)]
    close_code: u16,
    /// The close reason sent with it (at most 123 bytes).
    #[arg(long, value_name = "TEXT", default_value = "")]
    close_reason: String,
    /// For wss://, trust the CA certificates in this PEM file instead of the
    /// platform's roots.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// For wss://, accept any certificate (testing only: anyone on the path
    /// can read and change the traffic).
    #[arg(short = 'k', long, conflicts_with_all = ["ca", "cert"])]
    insecure: bool,
    /// For wss://, present this PEM certificate chain (leaf first) to a
    /// server that asks for a client certificate (mutual TLS); needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// The PEM private key for --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Offer permessage-deflate (`--deflate=PRESET` picks a preset other
    /// than `default`; the `=` keeps the URL from being read as one).
    #[arg(long, value_enum, value_name = "PRESET", num_args = 0..=1, require_equals = true, default_missing_value = "default")]
    deflate: Option<crate::deflate::Preset>,
    /// Connect through a proxy: http://[user:password@]host:port (HTTP
    /// CONNECT) or socks5://[user:password@]host:port; `env` takes it
    /// from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, minding NO_PROXY.
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// Follow redirects (301, 302, 303, 307, 308) up to --max-redirects;
    /// never from wss:// to ws://, and Authorization and Cookie headers
    /// are not sent on to another origin.
    #[arg(short = 'L', long)]
    follow_redirects: bool,
    /// How many redirects -L follows.
    #[arg(long, value_name = "N", default_value_t = 10)]
    max_redirects: u8,
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
    let outcome = runtime.block_on(connect(args));
    // The stdin reader is a blocking thread that only a line (or Enter)
    // ends: do not wait for it, the connection is over.
    runtime.shutdown_background();
    outcome
}

/// A close code a client may send by choice: 1000, or an application's
/// (3000 to 4999).
fn close_code(value: &str) -> Result<u16, String> {
    match value.parse::<u16>() {
        Ok(code @ (1000 | 3000..=4999)) => Ok(code),
        _ => Err("must be 1000 or 3000 to 4999".into()),
    }
}

fn request(args: &Args) -> Result<ClientRequest, String> {
    if args.close_reason.len() > sockweave::MAX_REASON_LEN {
        return Err("--close-reason is over 123 bytes".into());
    }
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
    if let Some(origin) = &args.origin {
        request = request.header("Origin", origin.as_str());
    }
    if args.follow_redirects {
        request = request.follow_redirects(args.max_redirects);
    }
    Ok(request)
}

fn connector(args: &Args) -> Result<TlsConnector, String> {
    if args.insecure {
        return Ok(TlsConnector::rustls(crate::insecure::client_config()));
    }
    let read = |path: &PathBuf| {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let ca = args.ca.as_ref().map(read).transpose()?;
    let config = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => {
            let (chain, key) = (read(cert)?, read(key)?);
            sockweave_net::tls::roots(ca.as_deref()).and_then(|roots| {
                sockweave_net::tls::client_config_with_identity(roots, &chain, &key)
            })
        }
        _ => match &ca {
            Some(pem) => sockweave_net::tls::client_config_with_ca_pem(pem),
            None => return Ok(TlsConnector::default()),
        },
    };
    config.map(TlsConnector::rustls).map_err(|e| e.to_string())
}

async fn connect(args: Args) -> Outcome {
    let request = match request(&args) {
        Ok(request) => request,
        Err(e) => {
            eprintln!("sockweave: {e}");
            return Outcome::Usage;
        }
    };
    let proxy = match &args.proxy {
        Some(url) if url == "env" => {
            sockweave_tokio::Proxy::from_env(request.secure, &request.host)
        }
        Some(url) => sockweave_tokio::Proxy::parse(url).map(Some),
        None => Ok(None),
    };
    let proxy = match proxy {
        Ok(proxy) => proxy,
        Err(e) => {
            eprintln!("sockweave: {e}");
            return Outcome::Usage;
        }
    };
    let mut config = Config::default();
    config.deflate = args.deflate.map(crate::deflate::Preset::config);
    let tls = match connector(&args) {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("sockweave: {e}");
            return Outcome::Usage;
        }
    };
    let mut ws = match open(request, proxy.as_ref(), &tls, &config).await {
        Ok(ws) => ws,
        Err(outcome) => return outcome,
    };
    if let Some(protocol) = ws.connection().protocol() {
        eprintln!("sockweave: connected (protocol {protocol})");
    }
    if let Some(extensions) = ws.connection().extensions() {
        eprintln!("sockweave: extensions {}", escape(extensions));
    }
    let close_with = CloseCode::from(args.close_code);
    let mut printed_one = false;
    let mut interrupt = Interrupt::new();
    let mut stdin = BufReader::with_capacity(64 << 10, tokio::io::stdin());
    let mut stdout = BufWriter::with_capacity(64 << 10, tokio::io::stdout());
    // A terminal gets messages with control characters escaped; a pipe or
    // a file gets them byte for byte.
    let to_terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut line = Vec::new();
    let mut stdin_open = true;
    let mut closing = false;
    let mut input_failed = false;
    loop {
        tokio::select! {
            // read_until appends to `line`, which outlives a cancelled read.
            read = stdin.read_until(b'\n', &mut line), if stdin_open => match read {
                Ok(0) | Err(_) => {
                    if let Err(e) = read {
                        eprintln!("sockweave: reading stdin: {e}");
                        input_failed = true;
                    }
                    // (A last line without a newline came as a line of
                    // its own before this.)
                    stdin_open = false;
                    closing = true;
                    let _ = ws.close(close_with, &args.close_reason).await;
                }
                Ok(_) => {
                    if line.last() == Some(&b'\n') {
                        line.pop();
                    }
                    let bytes = std::mem::take(&mut line);
                    let message = if args.binary {
                        Message::from(bytes)
                    } else {
                        match String::from_utf8(bytes) {
                            Ok(text) => Message::from(text),
                            Err(_) => {
                                // Never drop input without a word: say so,
                                // send nothing more, close, and fail.
                                eprintln!("sockweave: a line of input is not UTF-8 text (--binary sends bytes); closing");
                                input_failed = true;
                                stdin_open = false;
                                closing = true;
                                let _ = ws.close(CloseCode::NORMAL, "").await;
                                continue;
                            }
                        }
                    };
                    // Lines already read go out together: one write for
                    // all of them, not one per line.
                    let mut sent = ws.feed(message).await;
                    if sent.is_ok() && stdin.buffer().is_empty() {
                        sent = ws.flush().await;
                    }
                    if let Err(e) = sent {
                        eprintln!("sockweave: {e}");
                    }
                }
            },
            message = ws.recv() => match message {
                // With --one-message, what comes after the first (before
                // the close completes) is not shown.
                Ok(Some(_)) if args.one_message && printed_one => {}
                Ok(Some(message)) => {
                    let mut next = Some(message);
                    // What already arrived is written out in one go.
                    while let Some(message) = next {
                        if to_terminal {
                            // Shown, never run (see `terminal`).
                            let shown = match &message {
                                Message::Text(text) => escape(text.as_str()).into_owned(),
                                Message::Binary(bytes) => escape_bytes(bytes),
                            };
                            let _ = stdout.write_all(shown.as_bytes()).await;
                        } else {
                            let _ = stdout.write_all(message.as_bytes()).await;
                        }
                        let _ = stdout.write_all(b"\n").await;
                        if args.one_message {
                            // One is all that was asked for: the rest,
                            // if any came, is left unread.
                            printed_one = true;
                            if !closing {
                                closing = true;
                                stdin_open = false;
                                let _ = ws.close(close_with, &args.close_reason).await;
                            }
                            break;
                        }
                        next = ws.try_recv();
                    }
                    let _ = stdout.flush().await;
                }
                Ok(None) => break,
                Err(e) => {
                    // The error says "connection failed: …" itself.
                    eprintln!("sockweave: {}", escape(&e.to_string()));
                    break;
                }
            },
            () = interrupt.recv(), if !closing => {
                eprintln!("sockweave: interrupted: closing");
                closing = true;
                stdin_open = false;
                let _ = ws.close(close_with, &args.close_reason).await;
            }
        }
    }
    let _ = stdout.flush().await;
    match ws.close_event() {
        Some(close) => {
            eprintln!(
                "sockweave: closed: code {} reason {:?}",
                close.code, close.reason
            );
            if close.was_clean && !input_failed {
                Outcome::Ok
            } else {
                Outcome::Failed
            }
        }
        None => Outcome::Failed,
    }
}

type Socket = sockweave_tokio::WebSocket<MaybeTls<tokio::net::TcpStream>>;

/// Why an attempt to connect failed: already said (the outcome is the
/// exit code), or an error to follow (a redirect) or report.
enum Failed {
    Said(Outcome),
    Error(Error),
}

/// Connects for `request`, following redirects as far as it allows
/// (`-L`); a failure is reported on stderr and returned as its outcome.
async fn open(
    mut request: ClientRequest,
    proxy: Option<&sockweave_tokio::Proxy>,
    tls: &TlsConnector,
    config: &Config,
) -> Result<Socket, Outcome> {
    let mut followed = 0;
    loop {
        let error = match attempt(&request, proxy, tls, config.clone()).await {
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
        Ok(stream) => sockweave_tokio::client(stream, request, config).await,
        Err(e) => Err(e),
    }
    .map_err(Failed::Error)
}

/// Says why the connection could not be opened; the exit code.
fn report(error: Error) -> Outcome {
    match error {
        Error::Tls(e) => {
            eprintln!("sockweave: TLS failed: {}", escape(&e.to_string()));
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

/// Ctrl-C, listened for from the moment the connection is open (on Unix
/// the handler is installed at once, not when first awaited).
struct Interrupt {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Interrupt {
    fn new() -> Self {
        Self {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok(),
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        match &mut self.signal {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending().await,
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
