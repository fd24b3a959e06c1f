//! The echo server on the blocking adapter: a thread per connection.

use super::{Settings, log_close, log_open};
use sockweave_std::{MaybeTls, TlsAcceptor, WebSocket};
use std::net::{SocketAddr, TcpListener, TcpStream};

pub(super) fn serve(listener: TcpListener, settings: Settings) -> std::io::Result<()> {
    let acceptor = settings.tls.clone().map(TlsAcceptor::new);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let (settings, acceptor) = (settings.clone(), acceptor.clone());
        std::thread::spawn(move || {
            let peer = stream
                .peer_addr()
                .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
            let _ = stream.set_nodelay(true);
            match open(stream, settings, acceptor.as_ref()) {
                Ok(ws) => echo(peer, ws),
                Err(e) => eprintln!("{peer} rejected: {e}"),
            }
        });
    }
    Ok(())
}

fn open(
    stream: TcpStream,
    settings: Settings,
    acceptor: Option<&TlsAcceptor>,
) -> Result<WebSocket<MaybeTls<TcpStream>>, sockweave_std::Error> {
    let stream = match acceptor {
        Some(acceptor) => acceptor.accept(stream)?,
        None => MaybeTls::Plain(stream),
    };
    sockweave_std::accept_with(stream, settings.policy, settings.config)
}

fn echo(peer: SocketAddr, mut ws: WebSocket<MaybeTls<TcpStream>>) {
    log_open(peer, ws.connection());
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
}
