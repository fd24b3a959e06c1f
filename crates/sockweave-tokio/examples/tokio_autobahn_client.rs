//! The Autobahn|Testsuite client protocol over the tokio adapter:
//! `tokio_autobahn_client [ws://127.0.0.1:9001] [agent] [--deflate]`
//! (`--deflate` offers permessage-deflate).

use sockweave_tokio::sockweave::ClientRequest;
use sockweave_tokio::{Config, Error, Message, WebSocket, client};
use tokio::net::TcpStream;

async fn open(url: &str) -> Result<WebSocket<TcpStream>, Error> {
    let request = ClientRequest::new(url)?;
    let stream = TcpStream::connect((request.host.as_str(), request.port)).await?;
    stream.set_nodelay(true)?;
    let mut config = Config::default();
    config.max_queued = 32 << 20;
    // `--deflate`: offer or accept permessage-deflate.
    config.deflate = std::env::args()
        .any(|a| a == "--deflate")
        .then(sockweave::deflate::DeflateConfig::default);
    client(stream, &request, config).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().filter(|a| a != "--deflate").collect();
    let base = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "sockweave-tokio".into());
    let mut ws = open(&format!("{base}/getCaseCount")).await?;
    let count: u32 = match ws.recv().await? {
        Some(Message::Text(text)) => text.parse().unwrap_or(0),
        _ => 0,
    };
    while ws.recv().await?.is_some() {}
    for case in 1..=count {
        let mut ws = open(&format!("{base}/runCase?case={case}&agent={agent}")).await?;
        // Failures are what many cases are about: the run goes on.
        while let Ok(Some(message)) = ws.recv().await {
            if ws.send(message).await.is_err() {
                break;
            }
        }
    }
    let mut ws = open(&format!("{base}/updateReports?agent={agent}")).await?;
    while ws.recv().await?.is_some() {}
    Ok(())
}
