//! The echo server on the tokio adapter: a task per connection, replies to
//! a burst of messages leave in one write.

use super::{Settings, log_close, log_open};
use sockweave_tokio::{MaybeTls, TlsAcceptor, WebSocket};
use std::net::SocketAddr;
use tokio::net::TcpStream;

pub(super) fn serve(listener: std::net::TcpListener, settings: Settings) -> std::io::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let acceptor = settings.tls.clone().map(TlsAcceptor::new);
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let (settings, acceptor) = (settings.clone(), acceptor.clone());
            tokio::spawn(async move {
                match open(stream, settings, acceptor.as_ref()).await {
                    Ok(ws) => echo(peer, ws).await,
                    Err(e) => eprintln!("{peer} rejected: {e}"),
                }
            });
        }
    })
}

async fn open(
    stream: TcpStream,
    settings: Settings,
    acceptor: Option<&TlsAcceptor>,
) -> Result<WebSocket<MaybeTls<TcpStream>>, sockweave_tokio::Error> {
    let stream = match acceptor {
        Some(acceptor) => acceptor.accept(stream).await?,
        None => MaybeTls::Plain(stream),
    };
    sockweave_tokio::accept_with(stream, settings.policy, settings.config).await
}

async fn echo(peer: SocketAddr, mut ws: WebSocket<MaybeTls<TcpStream>>) {
    log_open(peer, ws.connection());
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
}
