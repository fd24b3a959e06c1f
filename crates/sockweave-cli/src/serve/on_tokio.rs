//! The echo server on the tokio adapter: a task per connection, replies to
//! a burst of messages leave in one write. With `--broadcast`, a chat
//! room: every message goes to every member through one `Room`. SIGINT
//! or SIGTERM stops accepting, closes every connection with 1001 and
//! waits (bounded) for the replies.

use super::lifecycle::{self, StopSignal, Ticket};
use super::{Settings, decide, log, log_close, log_message, log_open, log_stopping};
use sockweave::CloseCode;
use sockweave_tokio::{Laggard, MaybeTls, Room, TlsAcceptor, WebSocket};
use std::net::SocketAddr;
use tokio::net::TcpStream;
use tokio::sync::watch;

/// Messages a chat member may have waiting before it is closed as too slow.
const OUTBOX: usize = 256;

type Socket = WebSocket<MaybeTls<TcpStream>>;

pub(super) fn serve(listener: std::net::TcpListener, settings: Settings) -> std::io::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let acceptor = settings.tls.clone().map(TlsAcceptor::new);
        let room = settings.broadcast.then(|| Room::new(OUTBOX, Laggard::Drop));
        let mut stop = StopSignal::new();
        let (stopping, stopped) = watch::channel(false);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(_) => continue,
                },
                () = stop.recv() => break,
            };
            let _ = stream.set_nodelay(true);
            let ticket = settings.live.enter();
            let (settings, acceptor, room) = (settings.clone(), acceptor.clone(), room.clone());
            let stopped = stopped.clone();
            tokio::spawn(async move {
                match (
                    open(stream, peer, &settings, acceptor.as_ref(), &ticket).await,
                    room,
                ) {
                    (Ok(ws), None) => match settings.exec.as_deref() {
                        Some(command) => bridged(peer, ws, command, stopped).await,
                        None => echo(peer, ws, stopped).await,
                    },
                    (Ok(ws), Some(room)) => member(peer, ws, room, stopped).await,
                    (Err(e), _) => log(format_args!("{peer} rejected: {e}")),
                }
                drop(ticket);
            });
        }
        drop(listener);
        log_stopping(settings.live.count());
        let _ = stopping.send(true);
        let deadline =
            tokio::time::Instant::now() + lifecycle::grace(settings.config.close_timeout);
        while settings.live.count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        Ok(())
    })
}

async fn open(
    stream: TcpStream,
    peer: SocketAddr,
    settings: &Settings,
    acceptor: Option<&TlsAcceptor>,
    ticket: &Ticket,
) -> Result<Socket, sockweave_tokio::Error> {
    let stream = match acceptor {
        Some(acceptor) => acceptor.accept(stream).await?,
        None => MaybeTls::Plain(stream),
    };
    let (policy, config) = (settings.policy.clone(), settings.config.clone());
    if super::needs_decision(ticket.over) {
        let decide = decide(peer, &settings.policy, ticket.over);
        return sockweave_tokio::accept_with_hook(stream, policy, config, decide).await;
    }
    sockweave_tokio::accept_with(stream, policy, config).await
}

async fn echo(peer: SocketAddr, mut ws: Socket, mut stopped: watch::Receiver<bool>) {
    log_open(peer, ws.connection());
    let mut closing = false;
    loop {
        let received = tokio::select! {
            received = ws.recv() => received,
            // Once the server stops: 1001, then the loop goes on
            // receiving until the client's reply.
            _ = stopped.changed(), if !closing => {
                closing = true;
                let _ = ws.close(CloseCode::GOING_AWAY, "server shutting down").await;
                continue;
            }
        };
        match received {
            Ok(Some(message)) => {
                log_message(peer, &message);
                let mut echoed = ws.feed(message).await;
                while let (Ok(()), Some(next)) = (&echoed, ws.try_recv()) {
                    log_message(peer, &next);
                    echoed = ws.feed(next).await;
                }
                if echoed.is_err() || ws.flush().await.is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                log(format_args!("{peer} failed: {e}"));
                break;
            }
        }
    }
    log_close(peer, ws.close_event());
}

/// A connection bridged to a process (`--exec`).
async fn bridged(peer: SocketAddr, mut ws: Socket, command: &str, stopped: watch::Receiver<bool>) {
    log_open(peer, ws.connection());
    if let Err(e) = super::exec::bridge(peer, &mut ws, command, stopped).await {
        log(format_args!("{peer} failed: {e}"));
    }
    log_close(peer, ws.close_event());
}

/// A chat member: what it sends goes to the room; what the room says
/// goes out to it (`Room::chat`), until the server stops.
async fn member(peer: SocketAddr, mut ws: Socket, room: Room, mut stopped: watch::Receiver<bool>) {
    log_open(peer, ws.connection());
    let chatted = tokio::select! {
        chatted = room.chat(&mut ws) => chatted,
        _ = stopped.changed() => {
            let _ = ws.close(CloseCode::GOING_AWAY, "server shutting down").await;
            // The reply, and anything before it, is read and dropped.
            loop {
                match ws.recv().await {
                    Ok(Some(_)) => {}
                    done => break done.map(|_| ()),
                }
            }
        }
    };
    if let Err(e) = chatted {
        log(format_args!("{peer} failed: {e}"));
    }
    log_close(peer, ws.close_event());
}
