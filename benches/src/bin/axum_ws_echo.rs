//! axum's built-in WebSocket echo server, for comparison with
//! sockweave-axum's `axum_echo_server`: `axum_ws_echo [ADDR]`. Served the
//! way axum's documentation does it (`axum::serve`, which speaks HTTP/1.1
//! and h2c), with axum's defaults.

use axum::Router;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::any;

async fn handler(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(echo)
}

async fn echo(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        if matches!(
            message,
            axum::extract::ws::Message::Text(_) | axum::extract::ws::Message::Binary(_)
        ) && socket.send(message).await.is_err()
        {
            break;
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let app = Router::new()
        .route("/", any(handler))
        .route("/echo", any(handler));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
