//! sockweave-hyper's client against Node's http2 server (tests/h2/server.js):
//! `h2_interop_client URL --ca FILE --expect h2|http/1.1 [--prior-knowledge]`.
//!
//! Prints one line per check; exits 1 if any failed. Over h2c (`ws://`
//! with prior knowledge) it also opens ten WebSockets on one connection.

use sockweave::{ClientRequest, CloseCode, Config, Event, Message};
use sockweave_hyper::{ClientOptions, ClientWebSocket, Http2Client, Transport, connect};
use std::time::Duration;

struct Checks {
    failed: usize,
}

impl Checks {
    fn check(&mut self, ok: bool, label: &str, detail: impl std::fmt::Debug) {
        if ok {
            println!("ok      our client: {label}");
        } else {
            println!("FAILED  our client: {label} ({detail:?})");
            self.failed += 1;
        }
    }
}

async fn echoes(ws: &mut ClientWebSocket, message: Message) -> bool {
    if ws.send(message.clone()).await.is_err() {
        return false;
    }
    matches!(ws.recv().await, Ok(Some(back)) if back == message)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let url = args.get(1).expect("a URL");
    let expect_h2 = value("--expect").as_deref() == Some("h2");
    let mut options = ClientOptions {
        http2_prior_knowledge: args.iter().any(|a| a == "--prior-knowledge"),
        ..ClientOptions::default()
    };
    if let Some(ca) = value("--ca") {
        options.tls =
            Some(sockweave_tokio::rustls::client_config_with_ca_file(ca.as_ref()).unwrap());
    }
    let request = ClientRequest::new(url).unwrap().protocol("chat");
    let mut config = Config::default();
    config.max_queued = 32 << 20;
    let mut c = Checks { failed: 0 };

    let (mut ws, transport) = connect(&request, config.clone(), &options).await.unwrap();
    let want = if expect_h2 {
        Transport::Http2
    } else {
        Transport::Http11
    };
    c.check(transport == want, &format!("transport {want:?}"), transport);
    c.check(
        ws.connection().protocol() == Some("chat"),
        "subprotocol selected",
        ws.connection().protocol(),
    );
    c.check(
        echoes(&mut ws, Message::from("four-byte UTF-8: 😀 𝄞 ✓")).await,
        "text with 4-byte UTF-8",
        (),
    );
    let bytes: Vec<u8> = (0..=255).collect();
    c.check(echoes(&mut ws, Message::from(bytes)).await, "binary", ());
    c.check(echoes(&mut ws, Message::from("")).await, "empty text", ());
    c.check(
        echoes(&mut ws, Message::from(Vec::new())).await,
        "empty binary",
        (),
    );
    let big: Vec<u8> = (0..16u32 << 20).map(|i| (i * 7) as u8).collect();
    c.check(
        echoes(&mut ws, Message::from(big)).await,
        "16 MiB each way",
        (),
    );

    let fragmented = async {
        ws.send_fragment(Message::from("frag"), false).await?;
        ws.send_fragment(Message::from("mented ✓"), true).await?;
        ws.recv().await
    };
    let back = fragmented.await;
    c.check(
        matches!(&back, Ok(Some(m)) if *m == Message::from("fragmented ✓")),
        "fragmented message",
        &back,
    );

    ws.ping(b"are you there?").await.unwrap();
    let pong = loop {
        match ws.next_event().await {
            Ok(Some(Event::Pong(payload))) => break Some(payload),
            Ok(Some(_)) => continue,
            _ => break None,
        }
    };
    c.check(
        pong.as_deref() == Some(&b"are you there?"[..]),
        "ping answered with its payload",
        &pong,
    );

    ws.close(CloseCode(4001), "bye ✓").await.unwrap();
    while let Ok(Some(_)) = ws.recv().await {}
    let close = ws.close_event().cloned();
    c.check(
        close
            .as_ref()
            .is_some_and(|e| e.code == CloseCode(4001) && e.reason == "bye ✓" && e.was_clean),
        "client-initiated close: code and reason echoed, clean",
        &close,
    );

    // Server-initiated close with a code and reason.
    let (mut ws, _) = connect(&request, config.clone(), &options).await.unwrap();
    ws.send(Message::from("close:4002:server says bye"))
        .await
        .unwrap();
    while let Ok(Some(_)) = ws.recv().await {}
    let close = ws.close_event().cloned();
    c.check(
        close
            .as_ref()
            .is_some_and(|e| e.code == CloseCode(4002) && e.reason == "server says bye"),
        "server-initiated close: code and reason seen",
        &close,
    );

    if expect_h2 && options.http2_prior_knowledge {
        let client = Http2Client::connect(&request, &options, Duration::from_secs(5))
            .await
            .unwrap();
        let sockets = (0..10).map(|i| {
            let (client, request, config) = (client.clone(), request.clone(), config.clone());
            tokio::spawn(async move {
                let mut ws = client.websocket(&request, config).await.ok()?;
                let text = format!("socket {i}");
                let ok = echoes(&mut ws, Message::from(text)).await;
                ws.close(CloseCode::NORMAL, "").await.ok()?;
                while let Ok(Some(_)) = ws.recv().await {}
                Some(ok && ws.close_event().is_some_and(|e| e.was_clean))
            })
        });
        let mut all = true;
        for socket in sockets.collect::<Vec<_>>() {
            all &= socket.await.ok().flatten() == Some(true);
        }
        c.check(all, "10 WebSockets on one HTTP/2 connection", ());
    }
    std::process::exit(if c.failed == 0 { 0 } else { 1 });
}
