//! `serve --exec CMD`: each connection bridged to a process of its own,
//! as websocat's `exec:`. Messages go to the process's stdin a line each;
//! each line it writes to stdout comes back as a message (text when it is
//! UTF-8, else binary). The process ending closes the connection (1000,
//! or 1011 when it failed); the connection ending closes its stdin, and a
//! process still running a moment later is killed.

use super::{log, log_message};
use sockweave::{CloseCode, Message};
use sockweave_tokio::{MaybeTls, WebSocket};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;
use tokio::sync::watch;

/// How long a process may run on after its connection ended.
const LINGER: Duration = Duration::from_secs(2);

/// Longest line read from the process as one message; a longer one is
/// sent in pieces of this size.
const MAX_LINE: usize = 1 << 20;

pub(super) async fn bridge(
    peer: SocketAddr,
    ws: &mut WebSocket<MaybeTls<TcpStream>>,
    command: &str,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), sockweave_tokio::Error> {
    let mut child = match Command::new("sh")
        .args(["-c", command])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            log(format_args!("{peer} cannot run the command: {e}"));
            return ws
                .close(CloseCode::from(1011), "cannot run the command")
                .await;
        }
    };
    let mut stdin = child.stdin.take();
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut line = Vec::new();
    let mut closing = false;
    loop {
        tokio::select! {
            received = ws.recv() => match received? {
                Some(message) => {
                    log_message(peer, &message);
                    if let Some(input) = &mut stdin {
                        let mut bytes = message.as_bytes().to_vec();
                        bytes.push(b'\n');
                        if input.write_all(&bytes).await.is_err() {
                            // The process stopped reading: its stdout
                            // and exit say what comes next.
                            stdin = None;
                        }
                    }
                }
                None => break,
            },
            read = read_line(&mut stdout, &mut line), if !closing => match read {
                Ok(true) => {
                    let bytes = std::mem::take(&mut line);
                    let message = match String::from_utf8(bytes) {
                        Ok(text) => Message::from(text),
                        Err(e) => Message::from(e.into_bytes()),
                    };
                    ws.send(message).await?;
                }
                // Its stdout closed: it is done, or about to be.
                Ok(false) | Err(_) => {
                    closing = true;
                    let status = tokio::time::timeout(LINGER, child.wait()).await;
                    let (code, reason) = match status {
                        Ok(Ok(status)) if status.success() => (CloseCode::NORMAL, ""),
                        _ => (CloseCode::from(1011), "the command failed"),
                    };
                    ws.close(code, reason).await?;
                }
            },
            _ = stopped.changed(), if !closing => {
                closing = true;
                ws.close(CloseCode::GOING_AWAY, "server shutting down").await?;
            }
        }
    }
    // The connection is over: EOF on stdin, a moment to finish, then kill.
    drop(stdin);
    if tokio::time::timeout(LINGER, child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
    Ok(())
}

/// Reads one line (without its newline) into `line`; false at the end.
/// Cancel-safe: what was read stays in `line`. A line over `MAX_LINE`
/// comes in pieces.
async fn read_line(
    stdout: &mut BufReader<tokio::process::ChildStdout>,
    line: &mut Vec<u8>,
) -> std::io::Result<bool> {
    loop {
        let buffered = stdout.fill_buf().await?;
        if buffered.is_empty() {
            // The end: a last line without a newline is still a line.
            return Ok(!line.is_empty());
        }
        let room = MAX_LINE - line.len();
        match buffered.iter().take(room).position(|&b| b == b'\n') {
            Some(end) => {
                line.extend_from_slice(&buffered[..end]);
                stdout.consume(end + 1);
                return Ok(true);
            }
            None => {
                let take = buffered.len().min(room);
                line.extend_from_slice(&buffered[..take]);
                stdout.consume(take);
                if line.len() == MAX_LINE {
                    return Ok(true);
                }
            }
        }
    }
}
