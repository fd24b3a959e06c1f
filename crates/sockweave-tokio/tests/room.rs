//! A chat room over loopback: every member hears every message, framed
//! and compressed once (permessage-deflate without context takeover on
//! every client here: one group), and a member that stops reading is
//! dropped with 1008 while the others carry on.

use sockweave_tokio::sockweave::deflate::DeflateConfig;
use sockweave_tokio::sockweave::{ClientRequest, Event};
use sockweave_tokio::{CloseCode, Config, Laggard, Message, Room, ServerPolicy, TlsConnector};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::time::timeout;

/// A chat server: `Room::chat` for every connection. Returns its URL.
async fn chat_server(room: Room, config: Config) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (room, config) = (room.clone(), config.clone());
            tokio::spawn(async move {
                let policy = ServerPolicy::default();
                let mut ws = sockweave_tokio::accept_with(stream, policy, config).await?;
                room.chat(&mut ws).await?;
                Ok::<_, sockweave_tokio::Error>(())
            });
        }
    });
    url
}

fn deflate_config() -> Config {
    let mut deflate = DeflateConfig::no_context();
    deflate.threshold = 0;
    let mut config = Config::default();
    config.deflate = Some(deflate);
    config
}

async fn client(
    url: &str,
) -> sockweave_tokio::WebSocket<sockweave_tokio::MaybeTls<tokio::net::TcpStream>> {
    let request = ClientRequest::new(url).unwrap();
    sockweave_tokio::connect_with(&request, deflate_config(), &TlsConnector::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_member_hears_every_message_compressed() {
    let room = Room::new(64, Laggard::Drop);
    let url = chat_server(room.clone(), deflate_config()).await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(client(&url).await);
    }
    while room.len() < 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for (i, sender) in [0, 2, 1].into_iter().enumerate() {
        let text = format!("message {i} from client {sender}: {}", "news ".repeat(50));
        clients[sender].send(text.as_str()).await.unwrap();
        for listener in &mut clients {
            let agreed = listener.connection().extensions().unwrap();
            assert!(agreed.contains("server_no_context_takeover"), "{agreed}");
            let got = timeout(Duration::from_secs(5), listener.recv()).await;
            assert_eq!(got.unwrap().unwrap(), Some(Message::from(text.as_str())));
        }
    }
}

/// A burst: members hear every message once, in order, however the
/// room's queue and each connection's write queue batch them.
#[tokio::test]
async fn a_burst_reaches_every_member_once_and_in_order() {
    for config in [Config::default(), deflate_config()] {
        let room = Room::new(1024, Laggard::Drop);
        let url = chat_server(room.clone(), config.clone()).await;
        let request = ClientRequest::new(&url).unwrap();
        let tls = TlsConnector::default();
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(
                sockweave_tokio::connect_with(&request, config.clone(), &tls)
                    .await
                    .unwrap(),
            );
        }
        while room.len() < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let sizes = [1usize, 16, 200, 3000, 70_000];
        let burst: Vec<String> = (0..300)
            .map(|i| format!("{i:05}{}", "y".repeat(sizes[i % sizes.len()])))
            .collect();
        for message in &burst {
            clients[0].feed(message.as_str()).await.unwrap();
        }
        clients[0].flush().await.unwrap();
        for listener in &mut clients {
            for message in &burst {
                let got = timeout(Duration::from_secs(10), listener.recv()).await;
                assert_eq!(got.unwrap().unwrap(), Some(Message::from(message.as_str())));
            }
        }
    }
}

#[tokio::test]
async fn a_member_that_stops_reading_is_dropped_and_the_others_carry_on() {
    let room = Room::new(4, Laggard::Drop);
    let mut config = Config::default();
    config.max_queued = 64 << 10;
    let url = chat_server(room.clone(), config).await;
    let request = ClientRequest::new(&url).unwrap();
    let tls = TlsConnector::default();
    let connect = || sockweave_tokio::connect_with(&request, Config::default(), &tls);
    let (mut talker, mut slow) = (connect().await.unwrap(), connect().await.unwrap());
    while room.len() < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The slow member reads nothing while the room sends it far more than
    // its outbox, its queue and the socket buffers hold.
    let big = "x".repeat(64 << 10);
    let mut rounds = 0;
    while room.len() == 2 {
        rounds += 1;
        assert!(rounds < 2_000, "the slow member was never dropped");
        talker.send(big.as_str()).await.unwrap();
        let echo = timeout(Duration::from_secs(5), talker.recv()).await;
        assert!(
            echo.unwrap().unwrap().is_some(),
            "the talker still hears itself"
        );
    }
    // It gets what was queued for it, then the room's close.
    let mut heard = 0;
    let closed = loop {
        match timeout(Duration::from_secs(10), slow.next_event())
            .await
            .unwrap()
        {
            Ok(Some(Event::Message(_))) => heard += 1,
            Ok(Some(Event::Closed(close))) => break close,
            Ok(Some(_)) => {}
            other => panic!("{other:?}"),
        }
    };
    assert!(heard > 0 && heard < rounds, "{heard} of {rounds}");
    assert_eq!(closed.code, CloseCode::POLICY_VIOLATION);
    assert_eq!(closed.reason, "too slow");
}

/// `Room::chat_via`: what a member says goes to the caller's `publish`
/// (here a bounded queue standing in for a broker), not to the room; a
/// message `publish` cannot take closes the connection with 1013, never
/// dropped unsaid.
#[tokio::test]
async fn chat_via_hands_messages_to_the_broker_and_closes_when_it_is_full() {
    let room = Room::new(64, Laggard::Drop);
    let (to_broker, mut broker) = tokio::sync::mpsc::channel::<Message>(1);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server_room = room.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = sockweave_tokio::accept(stream).await.unwrap();
        let publish = |message| to_broker.try_send(message).is_ok();
        server_room.chat_via(&mut ws, publish).await.unwrap();
    });
    let mut ws = client(&url).await;
    ws.send("to the broker").await.unwrap();
    let brokered = timeout(Duration::from_secs(5), broker.recv())
        .await
        .unwrap();
    assert_eq!(brokered, Some(Message::from("to the broker")));
    // What the broker brings back reaches the member through the room.
    room.broadcast("from the broker");
    let heard = timeout(Duration::from_secs(5), ws.recv()).await.unwrap();
    assert_eq!(heard.unwrap(), Some(Message::from("from the broker")));
    // The broker's queue (one message) fills: the second is refused.
    ws.send("kept").await.unwrap();
    ws.send("refused").await.unwrap();
    let end = timeout(Duration::from_secs(5), async {
        while ws.recv().await.unwrap().is_some() {}
    });
    end.await.unwrap();
    let close = ws.close_event().unwrap();
    assert_eq!(
        (u16::from(close.code), close.reason.as_str()),
        (1013, "try again later")
    );
    assert_eq!(broker.recv().await, Some(Message::from("kept")));
}
