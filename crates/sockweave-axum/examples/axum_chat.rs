//! A chat room: every message any client sends goes to every connected
//! client. `axum_chat [ADDR]` (default 127.0.0.1:9001), WebSockets at
//! `/chat` over HTTP/1.1 and h2c.
//!
//! Each client has a bounded outbox (256 messages). A client that falls
//! that far behind is disconnected with 1008 "too slow" rather than
//! skipped: nobody silently misses a message.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use sockweave_axum::{CloseCode, Message, WebSocket, WebSocketUpgrade, ws};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const OUTBOX: usize = 256;

#[derive(Clone, Default)]
struct Room {
    next_id: Arc<AtomicU64>,
    clients: Arc<Mutex<HashMap<u64, mpsc::Sender<Message>>>>,
}

impl Room {
    fn join(&self) -> (u64, mpsc::Receiver<Message>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(OUTBOX);
        self.clients.lock().expect("not poisoned").insert(id, tx);
        (id, rx)
    }

    fn leave(&self, id: u64) {
        self.clients.lock().expect("not poisoned").remove(&id);
    }

    /// Hands `message` to every client; one whose outbox is full is
    /// dropped from the room, which closes its socket.
    fn broadcast(&self, message: &Message) {
        self.clients
            .lock()
            .expect("not poisoned")
            .retain(|_, outbox| outbox.try_send(message.clone()).is_ok());
    }
}

async fn chat(upgrade: WebSocketUpgrade, State(room): State<Room>) -> Response {
    upgrade.on_upgrade(move |socket| member(socket, room))
}

async fn member(mut socket: WebSocket, room: Room) {
    let (id, mut outbox) = room.join();
    loop {
        tokio::select! {
            // `recv` is cancel-safe: a message half-read stays buffered.
            received = socket.recv() => match received {
                Ok(Some(message)) => room.broadcast(&message),
                Ok(None) | Err(_) => break,
            },
            next = outbox.recv() => match next {
                Some(message) => {
                    // Queue it and whatever else waits, then write once.
                    let mut sent = socket.feed(message).await;
                    while let (Ok(()), Ok(more)) = (&sent, outbox.try_recv()) {
                        sent = socket.feed(more).await;
                    }
                    if sent.is_err() || socket.flush().await.is_err() {
                        break;
                    }
                }
                None => {
                    let _ = socket.close(CloseCode::POLICY_VIOLATION, "too slow").await;
                    while let Ok(Some(_)) = socket.recv().await {}
                    break;
                }
            },
        }
    }
    room.leave(id);
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let app = Router::new()
        .route("/chat", ws(chat))
        .with_state(Room::default());
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
