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

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "sockweave",
    version,
    about = "A WebSocket client and server for the terminal",
    long_about = None,
    after_help = "Examples:
  sockweave serve 9001                          an echo server on ws://127.0.0.1:9001
  sockweave connect ws://127.0.0.1:9001/        a prompt at a terminal; lines from a pipe
  sockweave serve 9001 --broadcast              a chat room
  sockweave completions bash                    a completion script

More: docs/cli.md"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an echo server: text and binary come back unchanged, a close is
    /// answered with the same code. Connections and closes are logged on stderr.
    #[command(after_help = "Examples:
  sockweave serve 9001                                   127.0.0.1:9001 (a bare port is loopback)
  sockweave serve 0.0.0.0:9001 --adapter mio --path /chat
  sockweave serve 9001 --broadcast                       every message to every client
  sockweave serve 9001 --exec 'while read l; do echo \"$l\"; done'
  sockweave serve 9443 --tls-cert cert.pem --tls-key key.pem --client-ca ca.pem

SIGINT or SIGTERM closes every client with 1001 and waits for the replies.")]
    Serve(serve::Args),
    /// Connect, send each stdin line as a message, print what arrives, and
    /// print the close code and reason at the end. At a terminal: a prompt
    /// and slash commands (/help).
    #[command(after_help = "Examples:
  sockweave connect ws://127.0.0.1:9001/                  interactive at a terminal
  echo hello | sockweave connect ws://127.0.0.1:9001/     piped
  sockweave connect -x '{\"op\":\"sub\"}' -w 5 --jsonl wss://example.test/feed
  sockweave connect -b --chunks ws://host/ < file.bin
  sockweave connect -L --proxy env -H 'Authorization: Bearer T' wss://example.test/
  sockweave connect wss://localhost:9443/ --ca ca.pem --cert me.pem --key me-key.pem -v

Exit codes: 0 clean close, 1 failed or unclean, 2 bad arguments or URL,
3 cannot connect, 4 handshake refused, 5 TLS failed.")]
    Connect(connect::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish,
    /// powershell) to stdout.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
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
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "sockweave",
                &mut std::io::stdout(),
            );
            Outcome::Ok
        }
    };
    ExitCode::from(outcome as u8)
}
