//! `sockweave`: an echo server and a line-oriented client for WebSockets.
//!
//! Exit codes (for scripts):
//! - 0: success (the connection closed cleanly, or the server was stopped)
//! - 1: the connection failed or closed uncleanly
//! - 2: bad arguments or a bad URL
//! - 3: could not connect (refused, unreachable, DNS)
//! - 4: the opening handshake failed (the HTTP status is printed, and the
//!   location of a redirect)
//! - 5: TLS failed (untrusted or mismatched certificate, handshake)

mod connect;
mod deflate;
mod insecure;
mod serve;
mod terminal;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "sockweave", version, about = "WebSocket echo server and client", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an echo server: text and binary come back unchanged, a close is
    /// answered with the same code. Connections and closes are logged on stderr.
    Serve(serve::Args),
    /// Connect, send each stdin line as a message, print what arrives, and
    /// print the close code and reason at the end.
    Connect(connect::Args),
}

/// How a run ended, as an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok = 0,
    Failed = 1,
    Usage = 2,
    Unreachable = 3,
    Handshake = 4,
    Tls = 5,
}

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Serve(args) => serve::run(args),
        Command::Connect(args) => connect::run(args),
    };
    ExitCode::from(outcome as u8)
}
