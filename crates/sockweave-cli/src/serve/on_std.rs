//! The echo server on the blocking adapter: a thread per connection.
//! SIGINT or SIGTERM stops accepting and closes every plain connection
//! with 1001 through its writer half, waiting (bounded) for the replies;
//! a TLS connection cannot be split on this adapter (its reads and writes
//! share one rustls state), so it ends with the process.

use super::lifecycle::{self, Ticket};
use super::{Settings, decide, log, log_close, log_message, log_open, log_stopping};
use sockweave::CloseCode;
use sockweave_std::{MaybeTls, TlsAcceptor, WebSocket, Writer};
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// The writer half of every open plain connection, to close them with
/// 1001 when the server stops.
#[derive(Clone, Default)]
struct Writers(Arc<Mutex<HashMap<u64, Writer>>>);

impl Writers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Writer>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(super) fn serve(listener: TcpListener, settings: Settings) -> std::io::Result<()> {
    let acceptor = settings.tls.clone().map(TlsAcceptor::new);
    let writers = Writers::default();
    let stopping = Arc::new(AtomicBool::new(false));
    let addr = listener.local_addr()?;
    let (signalled, to_close) = (stopping.clone(), writers.clone());
    lifecycle::on_stop_signal(move || {
        signalled.store(true, Ordering::Release);
        for writer in to_close.lock().values() {
            let _ = writer.close(CloseCode::GOING_AWAY, "server shutting down");
        }
        // Wakes the accept loop, which then sees the flag.
        let _ = TcpStream::connect(addr);
    })?;
    for (id, stream) in (0u64..).zip(listener.incoming()) {
        if stopping.load(Ordering::Acquire) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let ticket = settings.live.enter();
        let (settings, acceptor) = (settings.clone(), acceptor.clone());
        let (writers, stopping) = (writers.clone(), stopping.clone());
        std::thread::spawn(move || {
            let peer = stream
                .peer_addr()
                .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
            let _ = stream.set_nodelay(true);
            match open(stream, peer, &settings, acceptor.as_ref(), &ticket) {
                Ok(ws) => echo(peer, ws, id, &writers, &stopping),
                Err(e) => log(format_args!("{peer} rejected: {e}")),
            }
            drop(ticket);
        });
    }
    drop(listener);
    // The writers were closed by the signal's thread; wait for the replies.
    log_stopping(settings.live.count());
    let deadline = std::time::Instant::now() + lifecycle::grace(settings.config.close_timeout);
    while settings.live.count() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Ok(())
}

fn open(
    stream: TcpStream,
    peer: SocketAddr,
    settings: &Settings,
    acceptor: Option<&TlsAcceptor>,
    ticket: &Ticket,
) -> Result<WebSocket<MaybeTls<TcpStream>>, sockweave_std::Error> {
    let stream = match acceptor {
        Some(acceptor) => acceptor.accept(stream)?,
        None => MaybeTls::Plain(stream),
    };
    let (policy, config) = (settings.policy.clone(), settings.config.clone());
    if super::needs_decision(ticket.over) {
        let decide = decide(peer, &settings.policy, ticket.over);
        return sockweave_std::accept_with_hook(stream, policy, config, decide);
    }
    sockweave_std::accept_with(stream, policy, config)
}

fn echo(
    peer: SocketAddr,
    ws: WebSocket<MaybeTls<TcpStream>>,
    id: u64,
    writers: &Writers,
    stopping: &AtomicBool,
) {
    log_open(peer, ws.connection());
    if ws.get_ref().is_tls() {
        return echo_whole(peer, ws);
    }
    let (mut reader, writer) = match ws.split() {
        Ok(halves) => halves,
        Err(e) => return log(format_args!("{peer} failed: {e}")),
    };
    writers.lock().insert(id, writer.clone());
    if stopping.load(Ordering::Acquire) {
        // Opened as the server stopped, after the writers were closed.
        let _ = writer.close(CloseCode::GOING_AWAY, "server shutting down");
    }
    loop {
        match reader.recv() {
            Ok(Some(message)) => {
                log_message(peer, &message);
                if writer.send(message).is_err() {
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
    writers.lock().remove(&id);
    log_close(peer, reader.close_event().as_ref());
}

/// A TLS connection, from this one thread.
fn echo_whole(peer: SocketAddr, mut ws: WebSocket<MaybeTls<TcpStream>>) {
    loop {
        match ws.recv() {
            Ok(Some(message)) => {
                log_message(peer, &message);
                if ws.send(message).is_err() {
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
