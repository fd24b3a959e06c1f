//! `sockweave connect`: stdin out as messages, messages to stdout; at a
//! terminal, an interactive prompt with slash commands.

mod input;
mod open;
mod output;
mod tap;

use crate::Outcome;
use input::Input;
use output::Output;
use sockweave::handshake::ClientRequest;
use sockweave::{CloseCode, Config, Event, Message};
use sockweave_tokio::TlsConnector;
use std::collections::VecDeque;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};

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
    /// `Authorization: Basic` with these credentials (`user:pass@` in the
    /// URL does the same).
    #[arg(long, value_name = "USER:PASS")]
    auth: Option<String>,
    /// Send each line as a binary message instead of text (raw bytes,
    /// never required to be UTF-8).
    #[arg(short = 'b', long)]
    binary: bool,
    /// With --binary: send stdin as it arrives, each read (up to 64 KiB)
    /// one message, instead of line by line; messages are written out
    /// back to back, without a newline each (a byte stream both ways).
    #[arg(long, requires = "binary")]
    chunks: bool,
    /// Show binary messages as base64 text.
    #[arg(long, conflicts_with = "jsonl")]
    base64: bool,
    /// One JSON object per line on stdout for each message (type, and
    /// data or base64), ping and pong (with --show-ping-pong) and the
    /// close (code, reason, clean): for scripts.
    #[arg(long)]
    jsonl: bool,
    /// Write what arrives as it came even to a terminal (by default a
    /// terminal gets control characters escaped, so a server cannot drive
    /// it).
    #[arg(long)]
    raw: bool,
    /// Show pings and pongs (a pong answering our ping with its round
    /// trip).
    #[arg(short = 'P', long)]
    show_ping_pong: bool,
    /// Ping the server every this many seconds and show the round trip
    /// with --show-ping-pong; 0: never.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    ping_interval: f64,
    /// With --ping-interval: close (1001) when nothing, not even a pong,
    /// has come for an interval and this long.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    ping_timeout: f64,
    /// Largest message accepted, in bytes (larger ones close with 1009).
    #[arg(long, value_name = "BYTES")]
    max_message: Option<u64>,
    /// Send this message once connected (repeatable), then wait --wait
    /// seconds for what comes back and close; stdin is not read.
    #[arg(short = 'x', long = "execute", value_name = "MESSAGE")]
    execute: Vec<String>,
    /// With --execute: how long to wait before closing.
    #[arg(
        short = 'w',
        long,
        value_name = "SECONDS",
        default_value_t = 2.0,
        requires = "execute"
    )]
    wait: f64,
    /// Show the request and response heads and a summary of each
    /// message, ping, pong and close, on stderr.
    #[arg(short = 'v', long)]
    verbose: bool,
    /// Close after the first message arrives (printing it).
    #[arg(short = '1', long)]
    one_message: bool,
    /// The close code sent at the end of input or on Ctrl-C: 1000, or
    /// 3000 to 4999.
    #[arg(long, value_name = "CODE", default_value_t = 1000, value_parser = close_code_arg)]
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
fn close_code_arg(value: &str) -> Result<u16, String> {
    input::close_code(value).map(u16::from)
}

fn seconds(flag: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value).map_err(|_| format!("{flag} {value}: not a duration"))
}

fn request(args: &Args) -> Result<ClientRequest, String> {
    if args.close_reason.len() > sockweave::MAX_REASON_LEN {
        return Err("--close-reason is over 123 bytes".into());
    }
    let mut request = ClientRequest::new_with_userinfo(&args.url)
        .map_err(|e| format!("bad URL {:?}: {e}", args.url))?;
    if let Some(auth) = &args.auth {
        let (user, password) = auth.split_once(':').ok_or("--auth takes user:password")?;
        request = request.basic_auth(user, password);
    }
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
    // Every field as it will be written: a bad header is a usage error
    // here, not a failed handshake later.
    request.check().map_err(|e| format!("bad request: {e}"))?;
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

/// The configuration the flags ask for.
fn config(args: &Args) -> Result<Config, String> {
    let mut config = Config::default();
    config.deflate = args.deflate.map(crate::deflate::Preset::config);
    if let Some(max) = args.max_message {
        config.max_message_len = max;
        config.max_frame_len = max;
    }
    let interval = seconds("--ping-interval", args.ping_interval)?;
    if !interval.is_zero() {
        // The loop pings on this clock; the core's idle timeout ends a
        // connection that then hears nothing, pong or otherwise, for an
        // interval and the timeout.
        config.idle_timeout = Some(interval + seconds("--ping-timeout", args.ping_timeout)?);
    }
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

async fn connect(args: Args) -> Outcome {
    let prepared = request(&args).and_then(|request| {
        let proxy = match &args.proxy {
            Some(url) if url == "env" => {
                sockweave_tokio::Proxy::from_env(request.secure, &request.host)
            }
            Some(url) => sockweave_tokio::Proxy::parse(url).map(Some),
            None => Ok(None),
        }
        .map_err(|e| e.to_string())?;
        Ok((request, proxy, config(&args)?, connector(&args)?))
    });
    let (request, proxy, config, tls) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            eprintln!("sockweave: {e}");
            return Outcome::Usage;
        }
    };
    let mut ws = match open::open(request, proxy.as_ref(), &tls, &config, args.verbose).await {
        Ok(ws) => ws,
        Err(outcome) => return outcome,
    };
    if let Some(protocol) = ws.connection().protocol() {
        eprintln!("sockweave: connected (protocol {protocol})");
    }
    if let Some(extensions) = ws.connection().extensions() {
        eprintln!(
            "sockweave: extensions {}",
            crate::terminal::escape(extensions)
        );
    }
    Session::new(&args).run(&mut ws).await
}

/// One connection's loop: stdin (or `--execute`) out, events in.
struct Session<'a> {
    args: &'a Args,
    out: Output,
    /// At a terminal on both ends: a prompt and slash commands.
    interactive: bool,
    close_with: (CloseCode, String),
    /// Our pings not yet answered, oldest first, for round trips.
    pings: VecDeque<(Vec<u8>, Instant)>,
    sent_pings: u64,
    closing: bool,
    input_failed: bool,
    printed_one: bool,
}

impl<'a> Session<'a> {
    fn new(args: &'a Args) -> Self {
        let to_terminal = std::io::stdout().is_terminal();
        let interactive =
            to_terminal && std::io::stdin().is_terminal() && args.execute.is_empty() && !args.jsonl;
        Self {
            args,
            out: {
                let escaped = to_terminal && !args.raw;
                let out = Output::new(args.jsonl, args.base64, escaped, interactive);
                if args.chunks && !escaped && !args.base64 {
                    out.stream()
                } else {
                    out
                }
            },
            interactive,
            close_with: (CloseCode::from(args.close_code), args.close_reason.clone()),
            pings: VecDeque::new(),
            sent_pings: 0,
            closing: false,
            input_failed: false,
            printed_one: false,
        }
    }

    async fn run(mut self, ws: &mut open::Socket) -> Outcome {
        let args = self.args;
        let mut interrupt = Interrupt::new();
        let mut stdin = BufReader::with_capacity(64 << 10, tokio::io::stdin());
        let mut stdout = BufWriter::with_capacity(64 << 10, tokio::io::stdout());
        let mut line = Vec::new();
        let mut chunk = vec![0; if args.chunks { 64 << 10 } else { 0 }];
        let mut stdin_open = args.execute.is_empty();
        // --execute: the messages, then --wait, then the close.
        let mut wait_until = None;
        if !args.execute.is_empty() {
            for message in &args.execute {
                self.send(ws, Message::from(message.as_str())).await;
            }
            let _ = ws.flush().await;
            let wait = seconds("--wait", args.wait).unwrap_or_default();
            wait_until = Some(tokio::time::Instant::now() + wait);
        }
        let interval = seconds("--ping-interval", args.ping_interval).unwrap_or_default();
        let mut pinger = (!interval.is_zero()).then(|| {
            let start = tokio::time::Instant::now() + interval;
            tokio::time::interval_at(start, interval)
        });
        if self.interactive {
            eprintln!("sockweave: connected; /help lists the commands, Ctrl-D or /quit closes");
            self.out.show_prompt();
            self.write_out(&mut stdout).await;
        }
        loop {
            tokio::select! {
                read = next_input(&mut stdin, &mut line, &mut chunk, args.chunks), if stdin_open => match read {
                    Ok(None) | Err(_) => {
                        if let Err(e) = read {
                            self.out.note(&format!("reading stdin: {e}"));
                            self.input_failed = true;
                        }
                        // (A last line without a newline came as a line of
                        // its own before this.)
                        stdin_open = false;
                        self.close(ws, None).await;
                    }
                    Ok(Some(mut bytes)) => {
                        loop {
                            if args.chunks {
                                self.send(ws, Message::from(bytes)).await;
                            } else if !self.line(ws, bytes).await {
                                stdin_open = false;
                                break;
                            }
                            // Whole lines already buffered are taken here,
                            // not one turn of the loop each.
                            if args.chunks || !stdin.buffer().contains(&b'\n') {
                                break;
                            }
                            match next_input(&mut stdin, &mut line, &mut chunk, false).await {
                                Ok(Some(next)) => bytes = next,
                                _ => break,
                            }
                        }
                        // What stdin already holds goes out together: one
                        // write for all of it, not one per line.
                        if stdin.buffer().is_empty() {
                            let _ = ws.flush().await;
                        }
                        if self.interactive {
                            self.out.show_prompt();
                            self.write_out(&mut stdout).await;
                        }
                    }
                },
                event = ws.next_event() => {
                    let mut go_on = self.event(ws, event).await;
                    // What already arrived (messages, and the pings and
                    // pongs among them) is written out in one go.
                    while go_on && !self.printed_one {
                        let Some(event) = ws.try_next_event() else { break };
                        go_on = self.event(ws, Ok(Some(event))).await;
                    }
                    self.write_out(&mut stdout).await;
                    if !go_on {
                        break;
                    }
                }
                _ = async { pinger.as_mut().unwrap().tick().await }, if pinger.is_some() && !self.closing => {
                    self.sent_pings += 1;
                    let payload = format!("sockweave {}", self.sent_pings).into_bytes();
                    self.ping(ws, payload).await;
                }
                () = interrupt.recv(), if !self.closing => {
                    self.out.note("interrupted: closing");
                    stdin_open = false;
                    self.close(ws, None).await;
                }
                () = tokio::time::sleep_until(wait_until.unwrap_or_else(tokio::time::Instant::now)), if wait_until.is_some() && !self.closing => {
                    self.close(ws, None).await;
                }
            }
        }
        self.write_out(&mut stdout).await;
        match ws.close_event().cloned() {
            Some(close) => {
                self.out.closed(&close);
                self.write_out(&mut stdout).await;
                if close.was_clean && !self.input_failed {
                    Outcome::Ok
                } else {
                    Outcome::Failed
                }
            }
            None => Outcome::Failed,
        }
    }

    /// A line of stdin: a message, or at the prompt perhaps a command.
    /// False once input should stop.
    async fn line(&mut self, ws: &mut open::Socket, bytes: Vec<u8>) -> bool {
        if self.args.binary {
            self.send(ws, Message::from(bytes)).await;
            return true;
        }
        let Ok(text) = String::from_utf8(bytes) else {
            // Never drop input without a word: say so, send nothing more,
            // close, and fail.
            self.out
                .note("a line of input is not UTF-8 text (--binary sends bytes); closing");
            self.input_failed = true;
            self.close(ws, Some((CloseCode::NORMAL, String::new())))
                .await;
            return false;
        };
        if !self.interactive {
            self.send(ws, Message::from(text)).await;
            return true;
        }
        match input::parse(&text) {
            Input::Send(message) => self.send(ws, message).await,
            Input::Ping(payload) => self.ping(ws, payload).await,
            Input::Close(code, reason) => {
                self.close(ws, Some((code, reason))).await;
                return false;
            }
            Input::Quit => {
                self.close(ws, None).await;
                return false;
            }
            Input::Help => eprintln!("{}", input::HELP),
            Input::Invalid(why) => self.out.note(&why),
        }
        true
    }

    async fn send(&mut self, ws: &mut open::Socket, message: Message) {
        if self.args.verbose {
            eprintln!("> {}", summary(&message));
        }
        if let Err(e) = ws.feed(message).await {
            self.out.note(&crate::terminal::escape(&e.to_string()));
        }
    }

    async fn ping(&mut self, ws: &mut open::Socket, payload: Vec<u8>) {
        if self.args.verbose {
            eprintln!("> ping, {} bytes", payload.len());
        }
        if ws.ping(&payload).await.is_ok() {
            self.pings.push_back((payload, Instant::now()));
            // Only so many are remembered; a server that never answers
            // cannot grow this.
            if self.pings.len() > 64 {
                self.pings.pop_front();
            }
        }
    }

    /// Starts the close, once: with `how` or the flags' code and reason.
    async fn close(&mut self, ws: &mut open::Socket, how: Option<(CloseCode, String)>) {
        if self.closing {
            return;
        }
        self.closing = true;
        let (code, reason) = how.unwrap_or_else(|| self.close_with.clone());
        if self.args.verbose {
            eprintln!("> close {code} {:?}", reason);
        }
        let _ = ws.close(code, &reason).await;
    }

    /// Handles one event; false once the connection is over.
    async fn event(
        &mut self,
        ws: &mut open::Socket,
        event: Result<Option<Event>, sockweave_tokio::Error>,
    ) -> bool {
        match event {
            Ok(Some(Event::Message(message))) => self.message(ws, message).await,
            Ok(Some(Event::Ping(payload))) => {
                if self.args.verbose {
                    eprintln!("< ping, {} bytes", payload.len());
                }
                if self.args.show_ping_pong {
                    self.out.control("ping", &payload, None);
                }
            }
            Ok(Some(Event::Pong(payload))) => {
                if self.args.verbose {
                    eprintln!("< pong, {} bytes", payload.len());
                }
                let ours = self.pings.iter().position(|(p, _)| p[..] == payload[..]);
                let rtt = ours
                    .and_then(|i| self.pings.remove(i))
                    .map(|(_, at)| at.elapsed());
                if self.args.show_ping_pong {
                    self.out.control("pong", &payload, rtt);
                }
            }
            Ok(Some(Event::Closed(close))) => {
                if self.args.verbose {
                    eprintln!("< close {} {:?}", close.code, close.reason);
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => return false,
            Err(e) => {
                // The error says "connection failed: …" itself.
                self.out.note(&crate::terminal::escape(&e.to_string()));
                return false;
            }
        }
        true
    }

    async fn message(&mut self, ws: &mut open::Socket, message: Message) {
        // With --one-message, what comes after the first (before the
        // close completes) is not shown.
        if self.printed_one {
            return;
        }
        if self.args.verbose {
            eprintln!("< {}", summary(&message));
        }
        self.out.message(&message);
        if self.args.one_message {
            self.printed_one = true;
            self.close(ws, None).await;
        }
    }

    async fn write_out(&mut self, stdout: &mut BufWriter<tokio::io::Stdout>) {
        if !self.out.pending.is_empty() {
            let _ = stdout.write_all(&self.out.pending).await;
            self.out.pending.clear();
        }
        let _ = stdout.flush().await;
    }
}

/// The next piece of stdin: a line (without its newline), or with
/// `--chunks` whatever one read gives; `None` at its end. Cancel-safe: a
/// line read in part stays in `line`.
async fn next_input(
    stdin: &mut BufReader<tokio::io::Stdin>,
    line: &mut Vec<u8>,
    chunk: &mut [u8],
    chunks: bool,
) -> std::io::Result<Option<Vec<u8>>> {
    if chunks {
        let n = stdin.read(chunk).await?;
        return Ok((n > 0).then(|| chunk[..n].to_vec()));
    }
    if stdin.read_until(b'\n', line).await? == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(Some(std::mem::take(line)))
}

/// A message's type and length, for `-v`.
fn summary(message: &Message) -> String {
    let kind = match message {
        Message::Text(_) => "text",
        Message::Binary(_) => "binary",
    };
    format!("{kind}, {} bytes", message.as_bytes().len())
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
