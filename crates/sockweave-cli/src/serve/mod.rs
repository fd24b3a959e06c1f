//! `sockweave serve`: an echo server on any of the three adapters, with or
//! without TLS.

mod exec;
mod lifecycle;
mod on_mio;
mod on_std;
mod on_tokio;

use crate::Outcome;
use crate::terminal::escape;
use lifecycle::Live;
use sockweave::handshake::{Accept, Reject, Request};
use sockweave::{CloseEvent, Config, Message, ServerPolicy};
use sockweave_net::tls::rustls::ServerConfig;
use std::fmt::Display;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Address to listen on: HOST:PORT, or a bare PORT for 127.0.0.1:PORT.
    #[arg(default_value = "127.0.0.1:9001")]
    addr: String,
    /// Adapter to serve with.
    #[arg(long, value_enum, default_value_t = Adapter::Tokio)]
    adapter: Adapter,
    /// Serve WebSockets only at this path (repeatable); other paths get
    /// 404. Without it, every path is served.
    #[arg(long = "path", value_name = "P")]
    paths: Vec<String>,
    /// Refuse connections beyond this many open at once (503).
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Log nothing per connection (only startup and shutdown).
    #[arg(short = 'q', long, conflicts_with = "verbose")]
    quiet: bool,
    /// Also log each request (path, Origin, subprotocols) and each
    /// message (its type and length).
    #[arg(short = 'v', long)]
    verbose: bool,
    /// A subprotocol to accept, in order of preference (repeatable).
    #[arg(long = "protocol", value_name = "P")]
    protocols: Vec<String>,
    /// An Origin to allow; when given, other browser origins get 403 (repeatable).
    #[arg(long = "allow-origin", value_name = "O")]
    allowed_origins: Vec<String>,
    /// Allow browser pages served by this same host and port (with
    /// --allow-origin: as well as those).
    #[arg(long)]
    same_origin: bool,
    /// Refuse clients that send no Origin (only browsers send one): 403.
    #[arg(long)]
    require_origin: bool,
    /// Serve wss:// with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Require a client certificate signed by a CA in this PEM file
    /// (mutual TLS); clients without one fail the TLS handshake.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    client_ca: Option<PathBuf>,
    /// Largest message accepted, in bytes (larger ones close with 1009).
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    max_message: u64,
    /// Close connections that receive nothing for this long (1001, "idle timeout").
    #[arg(long, value_name = "SECONDS")]
    idle_timeout: Option<f64>,
    /// Ping a client after this long without hearing from it; 0: never.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    ping_interval: f64,
    /// Then close (1001) unless something arrives within this long.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    ping_timeout: f64,
    /// Close (1008) a client whose message takes longer than this to
    /// arrive, from its first byte to its last; 0: no limit.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    message_timeout: f64,
    /// Accept permessage-deflate offers (off unless given; `--deflate=PRESET`
    /// picks a preset other than `default`).
    #[arg(long, value_enum, value_name = "PRESET", num_args = 0..=1, require_equals = true, default_missing_value = "default")]
    deflate: Option<crate::deflate::Preset>,
    /// A chat room instead of an echo: every message goes to every
    /// connected client, framed (and compressed) once for all of them. A
    /// client 256 messages behind is closed with 1008 "too slow". Tokio
    /// adapter only.
    #[arg(long, conflicts_with = "exec")]
    broadcast: bool,
    /// Bridge each connection to a new process running CMD (with `sh -c`):
    /// each message goes to its stdin as a line, each line it writes to
    /// stdout comes back as a message, and its exit closes the connection.
    /// Anyone who can connect runs it: listen on loopback, or add
    /// --allow-origin and TLS. Tokio adapter only.
    #[arg(long, value_name = "CMD")]
    exec: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Adapter {
    Tokio,
    Std,
    Mio,
}

/// What every connection is served with.
#[derive(Clone)]
pub(crate) struct Settings {
    policy: ServerPolicy,
    /// One copy for every connection.
    config: Arc<Config>,
    tls: Option<Arc<ServerConfig>>,
    broadcast: bool,
    /// `--exec`: the command each connection is bridged to.
    exec: Option<String>,
    /// The open connections, against `--max-connections`.
    live: Live,
}

/// The TLS configuration: the certificate and key, and the client CA when
/// clients must present certificates.
fn server_tls(
    cert: &std::path::Path,
    key: &std::path::Path,
    client_ca: Option<&std::path::Path>,
) -> Result<Arc<ServerConfig>, String> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let (cert, key) = (read(cert)?, read(key)?);
    match client_ca {
        Some(ca) => sockweave_net::tls::server_config_with_client_auth(&cert, &key, &read(ca)?),
        None => sockweave_net::tls::server_config(&cert, &key),
    }
    .map_err(|e| e.to_string())
}

fn settings(args: &Args) -> Result<Settings, String> {
    let mut policy = ServerPolicy::default();
    policy.protocols = args.protocols.clone();
    if !args.allowed_origins.is_empty() {
        policy.allowed_origins = Some(args.allowed_origins.clone());
    }
    policy.same_host_origin = args.same_origin;
    policy.require_origin = args.require_origin;
    if !args.paths.is_empty() {
        policy.paths = Some(args.paths.clone());
    }
    let mut config = Config::default();
    config.max_message_len = args.max_message;
    config.max_frame_len = args.max_message;
    config.max_queued = (args.max_message as usize).saturating_mul(2);
    if let Some(seconds) = args.idle_timeout {
        config.idle_timeout = Some(seconds_arg("--idle-timeout", seconds)?);
    }
    let interval = seconds_arg("--ping-interval", args.ping_interval)?;
    config.keepalive = (!interval.is_zero())
        .then(|| {
            Ok::<_, String>(sockweave::Keepalive {
                interval,
                timeout: seconds_arg("--ping-timeout", args.ping_timeout)?,
            })
        })
        .transpose()?;
    let message = seconds_arg("--message-timeout", args.message_timeout)?;
    config.message_timeout = (!message.is_zero()).then_some(message);
    config.deflate = args.deflate.map(crate::deflate::Preset::config);
    config.validate().map_err(|e| e.to_string())?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(server_tls(cert, key, args.client_ca.as_deref())?),
        _ => None,
    };
    if args.broadcast && args.adapter != Adapter::Tokio {
        return Err("--broadcast runs on the tokio adapter (the default)".into());
    }
    if args.exec.is_some() && args.adapter != Adapter::Tokio {
        return Err("--exec runs on the tokio adapter (the default)".into());
    }
    Ok(Settings {
        policy,
        config: Arc::new(config),
        tls,
        broadcast: args.broadcast,
        exec: args.exec.clone(),
        live: Live::new(args.max_connections),
    })
}

/// `9002` means `127.0.0.1:9002`: a bare port listens on loopback only.
fn listen_addr(addr: &str) -> String {
    if addr.parse::<u16>().is_ok() {
        format!("127.0.0.1:{addr}")
    } else {
        addr.to_string()
    }
}

fn seconds_arg(flag: &str, seconds: f64) -> Result<std::time::Duration, String> {
    std::time::Duration::try_from_secs_f64(seconds)
        .map_err(|_| format!("{flag} {seconds}: not a duration in seconds"))
}

/// How much is logged per connection: 0 nothing (`-q`), 1 opens, closes
/// and failures, 2 also requests and messages (`-v`).
static LOG_LEVEL: AtomicU8 = AtomicU8::new(1);

fn log_level() -> u8 {
    LOG_LEVEL.load(Ordering::Relaxed)
}

/// Logs a line about one connection, unless `-q`.
fn log(line: impl Display) {
    if log_level() > 0 {
        eprintln!("{line}");
    }
}

/// With `-v`: a message's type and length.
fn log_message(peer: impl Display, message: &Message) {
    if log_level() > 1 {
        let kind = match message {
            Message::Text(_) => "text",
            Message::Binary(_) => "binary",
        };
        eprintln!("{peer} {kind} message, {} bytes", message.as_bytes().len());
    }
}

/// Whether a request must be seen before it is answered: over the limit
/// (503), or to log it (`-v`).
fn needs_decision(over: bool) -> bool {
    over || log_level() > 1
}

/// The answer to a request seen first: 503 over `--max-connections`,
/// else the policy's; with `-v`, the request is logged.
fn decide<'a>(
    peer: impl Display + 'a,
    policy: &'a ServerPolicy,
    over: bool,
) -> impl FnMut(&Request) -> Result<Accept, Reject> + 'a {
    move |request| {
        if log_level() > 1 {
            let origin = request.origin.as_deref().unwrap_or("none");
            eprintln!(
                "{peer} request {} origin {} protocols {}",
                escape(&request.path),
                escape(origin),
                escape(&request.protocols.join(", "))
            );
        }
        if over {
            log(format_args!("{peer} refused: over --max-connections (503)"));
            return Err(Reject::status(503));
        }
        policy.decide(request).map_err(|e| Reject::from(&e))
    }
}

pub(crate) fn run(args: Args) -> Outcome {
    LOG_LEVEL.store(
        match (args.quiet, args.verbose) {
            (true, _) => 0,
            (_, true) => 2,
            _ => 1,
        },
        Ordering::Relaxed,
    );
    let settings = match settings(&args) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("sockweave: {e}");
            return Outcome::Usage;
        }
    };
    let addr = listen_addr(&args.addr);
    let listener = match std::net::TcpListener::bind(&addr) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("sockweave: cannot listen on {addr}: {e}");
            return Outcome::Usage;
        }
    };
    eprintln!(
        "sockweave: {} on {}://{}",
        if settings.broadcast {
            "chat room"
        } else if settings.exec.is_some() {
            "exec bridge"
        } else {
            "echo server"
        },
        if settings.tls.is_some() { "wss" } else { "ws" },
        listener
            .local_addr()
            .map_or(addr.clone(), |a| a.to_string())
    );
    let result = match args.adapter {
        Adapter::Tokio => on_tokio::serve(listener, settings),
        Adapter::Std => on_std::serve(listener, settings),
        Adapter::Mio => on_mio::serve(listener, settings),
    };
    match result {
        Ok(()) => {
            eprintln!("sockweave: stopped");
            Outcome::Ok
        }
        Err(e) => {
            eprintln!("sockweave: server stopped: {e}");
            Outcome::Failed
        }
    }
}

fn log_open(peer: impl Display, conn: &sockweave::Connection) {
    let mut note = String::new();
    if let Some(p) = conn.protocol() {
        note.push_str(&format!(" (protocol {p})"));
    }
    if let Some(e) = conn.extensions() {
        note.push_str(&format!(" (extensions {e})"));
    }
    log(format_args!("{peer} open{note}"));
}

fn log_close(peer: impl Display, close: Option<&CloseEvent>) {
    match close {
        Some(c) => log(format_args!(
            "{peer} closed: code {} reason {:?} clean {}",
            c.code, c.reason, c.was_clean
        )),
        None => log(format_args!("{peer} closed")),
    }
}

/// Says that the server is stopping, and how many connections it closes.
fn log_stopping(open: usize) {
    eprintln!("sockweave: stopping: closing {open} connection(s) with 1001");
}
