//! Echo server on a multi-threaded tokio runtime:
//! `tokio_echo_server [ADDR] [--deflate]` (default 127.0.0.1:9001). Echoes
//! text and binary unchanged; a close is answered with the same code.
//! `--deflate` accepts permessage-deflate offers.

use sockweave_tokio::{Config, ServerPolicy, accept_with};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .filter(|a| a != "--deflate")
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("tokio echo server on ws://{addr}");
    let mut config = Config::default();
    config.max_queued = 32 << 20; // a 16 MiB echo fits whole
    // `--deflate`: offer or accept permessage-deflate.
    config.deflate = std::env::args()
        .any(|a| a == "--deflate")
        .then(sockweave::deflate::DeflateConfig::default);
    // One copy of the settings for every connection.
    let config = std::sync::Arc::new(config);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        // The handshake is set up here and the task holds only its future
        // (two pointers): a task is as large as what it holds, for its
        // whole life.
        let accepting = accept_with(stream, ServerPolicy::default(), config.clone());
        tokio::spawn(async move {
            let mut ws = match accepting.await {
                Ok(ws) => ws,
                Err(e) => return eprintln!("handshake: {e}"),
            };
            'serve: loop {
                let message = match ws.recv().await {
                    Ok(Some(message)) => message,
                    Ok(None) => break,
                    Err(e) => {
                        eprintln!("connection: {e}");
                        break;
                    }
                };
                // Answer a burst with one write: queue this message and
                // every one already received, then flush once. (Nothing
                // but the socket is held across these awaits: the task
                // stays small for its whole life.)
                if ws.feed(message).await.is_err() {
                    break;
                }
                while let Some(next) = ws.try_recv() {
                    if ws.feed(next).await.is_err() {
                        break 'serve;
                    }
                }
                if ws.flush().await.is_err() {
                    break;
                }
            }
        });
    }
}
