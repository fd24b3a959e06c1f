//! `sockweave serve`: an echo server on the tokio or std adapter.

use crate::Outcome;
use sockweave::handshake::{Accept, Reject, Request};
use sockweave::{CloseEvent, Config, ServerPolicy};
use std::net::SocketAddr;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(default_value = "127.0.0.1:9001")]
    addr: String,
    /// Adapter to serve with.
    #[arg(long, value_enum, default_value_t = Adapter::Tokio)]
    adapter: Adapter,
    /// A subprotocol to accept, in order of preference (repeatable).
    #[arg(long = "protocol", value_name = "P")]
    protocols: Vec<String>,
    /// An Origin to allow; when given, other browser origins get 403 (repeatable).
    #[arg(long = "allow-origin", value_name = "O")]
    allowed_origins: Vec<String>,
    /// Largest message accepted, in bytes (larger ones close with 1009).
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    max_message: u64,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Adapter {
    Tokio,
    Std,
}

fn settings(args: &Args) -> (ServerPolicy, Config) {
    let mut policy = ServerPolicy::default();
    policy.protocols = args.protocols.clone();
    if !args.allowed_origins.is_empty() {
        policy.allowed_origins = Some(args.allowed_origins.clone());
    }
    let mut config = Config::default();
    config.max_message_len = args.max_message;
    config.max_frame_len = args.max_message;
    config.max_queued = (args.max_message as usize).saturating_mul(2);
    (policy, config)
}

fn log_close(peer: SocketAddr, close: Option<&CloseEvent>) {
    match close {
        Some(c) => eprintln!(
            "{peer} closed: code {} reason {:?} clean {}",
            c.code, c.reason, c.was_clean
        ),
        None => eprintln!("{peer} closed"),
    }
}

pub(crate) fn run(args: Args) -> Outcome {
    let listener = match std::net::TcpListener::bind(&args.addr) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("sockweave: cannot listen on {}: {e}", args.addr);
            return Outcome::Usage;
        }
    };
    eprintln!(
        "sockweave: echo server on ws://{}",
        listener
            .local_addr()
            .map_or(args.addr.clone(), |a| a.to_string())
    );
    let (policy, config) = settings(&args);
    match args.adapter {
        Adapter::Tokio => serve_tokio(listener, policy, config),
        Adapter::Std => serve_std(listener, policy, config),
    }
}

/// The adapters' `accept_with` takes an optional decision hook; we use none.
type Hook = fn(&Request) -> Result<Accept, Reject>;

fn no_hook() -> Option<Hook> {
    None
}

fn serve_std(listener: std::net::TcpListener, policy: ServerPolicy, config: Config) -> Outcome {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let (policy, config) = (policy.clone(), config.clone());
        std::thread::spawn(move || {
            let peer = stream
                .peer_addr()
                .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
            let _ = stream.set_nodelay(true);
            let mut ws = match sockweave_std::accept_with(stream, policy, config, no_hook()) {
                Ok(ws) => ws,
                Err(e) => return eprintln!("{peer} rejected: {e}"),
            };
            eprintln!("{peer} open{}", protocol_note(ws.connection().protocol()));
            loop {
                match ws.recv() {
                    Ok(Some(message)) => {
                        if ws.send(message).is_err() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        eprintln!("{peer} failed: {e}");
                        break;
                    }
                }
            }
            log_close(peer, ws.close_event());
        });
    }
    Outcome::Ok
}

fn serve_tokio(listener: std::net::TcpListener, policy: ServerPolicy, config: Config) -> Outcome {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("sockweave: cannot start the runtime: {e}");
            return Outcome::Failed;
        }
    };
    runtime.block_on(async move {
        let _ = listener.set_nonblocking(true);
        let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
            return Outcome::Failed;
        };
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let (policy, config) = (policy.clone(), config.clone());
            tokio::spawn(async move {
                let mut ws =
                    match sockweave_tokio::accept_with(stream, policy, config, no_hook()).await {
                        Ok(ws) => ws,
                        Err(e) => return eprintln!("{peer} rejected: {e}"),
                    };
                eprintln!("{peer} open{}", protocol_note(ws.connection().protocol()));
                loop {
                    match ws.recv().await {
                        Ok(Some(message)) => {
                            let mut echoed = ws.feed(message).await;
                            while let (Ok(()), Some(next)) = (&echoed, ws.try_recv()) {
                                echoed = ws.feed(next).await;
                            }
                            if echoed.is_err() || ws.flush().await.is_err() {
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            eprintln!("{peer} failed: {e}");
                            break;
                        }
                    }
                }
                log_close(peer, ws.close_event());
            });
        }
    })
}

fn protocol_note(protocol: Option<&str>) -> String {
    protocol.map_or_else(String::new, |p| format!(" (protocol {p})"))
}
