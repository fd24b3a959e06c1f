//! The echo server on the tokio adapter: a task per connection, replies to
//! a burst of messages leave in one write. With `--broadcast`, a chat
//! room: every message goes to every member through one `Room`.

use super::{Settings, log_close, log_open};
use sockweave_tokio::{Laggard, MaybeTls, Room, TlsAcceptor, WebSocket};
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// Messages a chat member may have waiting before it is closed as too slow.
const OUTBOX: usize = 256;

pub(super) fn serve(listener: std::net::TcpListener, settings: Settings) -> std::io::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let acceptor = settings.tls.clone().map(TlsAcceptor::new);
        let room = settings.broadcast.then(|| Room::new(OUTBOX, Laggard::Drop));
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let (settings, acceptor, room) = (settings.clone(), acceptor.clone(), room.clone());
            tokio::spawn(async move {
                match (open(stream, settings, acceptor.as_ref()).await, room) {
                    (Ok(ws), None) => echo(peer, ws).await,
                    (Ok(ws), Some(room)) => member(peer, ws, room).await,
                    (Err(e), _) => eprintln!("{peer} rejected: {e}"),
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

/// A chat member: what it sends goes to the room; what the room says
/// goes out to it (`Room::chat`).
async fn member(peer: SocketAddr, mut ws: WebSocket<MaybeTls<TcpStream>>, room: Room) {
    log_open(peer, ws.connection());
    if let Err(e) = room.chat(&mut ws).await {
        eprintln!("{peer} failed: {e}");
    }
    log_close(peer, ws.close_event());
}
