//! The axum extractor against tungstenite (a client nobody here wrote),
//! over HTTP/1.1 on loopback.

use axum::Router;
use axum::response::Response;
use sockweave_axum::{WebSocketUpgrade, ws};
use std::net::SocketAddr;
use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;

async fn echo(upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .protocols(["chat"])
        .allowed_origins(["https://good.example"])
        .on_upgrade(|mut socket| async move {
            while let Ok(Some(message)) = socket.recv().await {
                if socket.send(message).await.is_err() {
                    return;
                }
            }
        })
}

async fn serve() -> SocketAddr {
    let app = Router::new().route("/echo", ws(echo));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn request(
    addr: SocketAddr,
    headers: &[(&'static str, &str)],
) -> tungstenite::handshake::client::Request {
    let mut request = format!("ws://{addr}/echo").into_client_request().unwrap();
    for (name, value) in headers {
        request
            .headers_mut()
            .append(*name, HeaderValue::from_str(value).unwrap());
    }
    request
}

fn status_of(result: tungstenite::Result<impl Sized>) -> u16 {
    match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("{e}"),
        Ok(_) => 101,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn echo_subprotocol_and_origin_policy_over_http1() {
    let addr = serve().await;
    tokio::task::spawn_blocking(move || {
        let (mut socket, response) = tungstenite::connect(request(
            addr,
            &[
                ("Sec-WebSocket-Protocol", "other, chat"),
                ("Origin", "https://good.example"),
            ],
        ))
        .unwrap();
        assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
        socket.send(tungstenite::Message::text("héllo 🎉")).unwrap();
        assert_eq!(
            socket.read().unwrap(),
            tungstenite::Message::text("héllo 🎉")
        );
        socket
            .send(tungstenite::Message::binary(vec![0u8; 100_000]))
            .unwrap();
        assert_eq!(socket.read().unwrap().into_data().len(), 100_000);
        socket.close(None).unwrap();
        while socket.read().is_ok() {}

        // The Origin policy applies as in every other server.
        let evil = [("Origin", "https://evil.example")];
        assert_eq!(status_of(tungstenite::connect(request(addr, &evil))), 403);
        let twice = [
            ("Origin", "https://evil.example"),
            ("Origin", "https://evil.example"),
        ];
        assert_eq!(status_of(tungstenite::connect(request(addr, &twice))), 400);
        // A request that breaks a rule gets the RFC's status.
        let old = [("Sec-WebSocket-Version", "8")];
        let mut req = request(addr, &[]);
        req.headers_mut().remove("Sec-WebSocket-Version");
        for (name, value) in old {
            req.headers_mut()
                .insert(name, HeaderValue::from_static(value));
        }
        assert_eq!(status_of(tungstenite::connect(req)), 426);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_get_to_a_websocket_route_is_refused() {
    let addr = serve().await;
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_queue_hands_the_message_back() {
    use sockweave_axum::{Config, Message, sockweave::SendError};
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Arc::new(std::sync::Mutex::new(Some(tx)));
    let app = Router::new().route(
        "/",
        ws(move |upgrade: WebSocketUpgrade| {
            let tx = tx.lock().unwrap().take();
            async move {
                let mut config = Config::default();
                config.max_queued = 1024;
                upgrade.config(config).on_upgrade(|mut socket| async move {
                    let big = Message::from(vec![7u8; 100_000]);
                    // An empty queue takes any message; the next waits.
                    socket.try_feed(big.clone()).unwrap();
                    let queued = socket.buffered_amount();
                    let back = socket.try_feed(big.clone());
                    let handed_back = matches!(&back, Err(SendError::Full(m)) if *m == big);
                    socket.flush().await.unwrap();
                    tx.unwrap().send((queued, handed_back)).unwrap();
                })
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = tokio::task::spawn_blocking(move || {
        let (mut socket, _) = tungstenite::connect(format!("ws://{addr}/")).unwrap();
        socket.read().unwrap().into_data().len()
    });
    let (queued, handed_back) = rx.await.unwrap();
    assert_eq!(queued, 100_000);
    assert!(handed_back);
    assert_eq!(client.await.unwrap(), 100_000);
}
