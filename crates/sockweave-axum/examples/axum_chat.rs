//! A chat room: every message any client sends goes to every connected
//! client. `axum_chat [ADDR]` (default 127.0.0.1:9001), WebSockets at
//! `/chat` over HTTP/1.1 and h2c.
//!
//! The room ([`Room`]) frames each message once for everyone, and with
//! permessage-deflate compresses it once per group of clients that agreed
//! the same settings. Each client has a bounded outbox (256 messages); a
//! client that falls that far behind is disconnected with 1008 "too slow"
//! rather than skipped ([`Laggard::Drop`]): nobody silently misses a
//! message.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use sockweave_axum::{Laggard, Room, WebSocket, WebSocketUpgrade, ws};
use std::sync::Arc;
use tokio::net::TcpListener;

const OUTBOX: usize = 256;

async fn chat(upgrade: WebSocketUpgrade, State(room): State<Room>) -> Response {
    upgrade.on_upgrade(move |socket| member(socket, room))
}

async fn member(mut socket: WebSocket, room: Room) {
    // Everything it says goes to the room, everything the room says goes
    // to it; a member 256 messages behind is closed with 1008.
    let _ = room.chat(&mut socket).await;
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let app = Router::new()
        .route("/chat", ws(chat))
        .with_state(Room::new(OUTBOX, Laggard::Drop));
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("axum chat on ws://{addr}/chat");
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http2().enable_connect_protocol();
    let builder = Arc::new(builder);
    loop {
        let (stream, _) = listener.accept().await?;
        let (builder, app) = (builder.clone(), app.clone());
        tokio::spawn(async move {
            let service = TowerToHyperService::new(app);
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await;
        });
    }
}
