//! Our client against another implementation's echo server (tests/interop):
//! `interop_client URL [--ca FILE] [--deflate]`. The server echoes text and binary,
//! selects the subprotocol `chat` when offered, and answers the text
//! `close:CODE:REASON` by closing with that code and reason. Exits non-zero
//! with the failed check on stderr.

use sockweave::handshake::ClientRequest;
use sockweave_tokio::{
    CloseCode, CloseEvent, Config, Event, MaybeTls, Message, TlsConnector, WebSocket,
};
use std::process::ExitCode;
use std::time::Duration;
use tokio::net::TcpStream;

type Ws = WebSocket<MaybeTls<TcpStream>>;
type Check = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

struct Target {
    url: String,
    tls: TlsConnector,
    /// Offer permessage-deflate, and require it negotiated.
    deflate: bool,
}

impl Target {
    async fn open(&self, protocols: &[&str]) -> Result<Ws, String> {
        let mut request = ClientRequest::new(&self.url).map_err(|e| e.to_string())?;
        for protocol in protocols {
            request = request.protocol(*protocol);
        }
        let mut config = Config::default();
        config.max_queued = 64 << 20;
        config.deflate = self
            .deflate
            .then(sockweave::deflate::DeflateConfig::default);
        sockweave_tokio::connect_with(&request, config, &self.tls)
            .await
            .map_err(|e| format!("connect: {e}"))
    }
}

fn describe(message: &Message) -> String {
    match message {
        Message::Text(t) if t.len() <= 40 => format!("text {:?}", t.as_str()),
        Message::Text(t) => format!("text of {} bytes", t.len()),
        Message::Binary(b) => format!("binary of {} bytes", b.len()),
    }
}

async fn echo(ws: &mut Ws, message: Message) -> Check {
    ws.send(message.clone()).await.map_err(|e| e.to_string())?;
    match ws.recv().await {
        Ok(Some(back)) => ensure!(back == message, "{} came back changed", describe(&message)),
        other => return Err(format!("{}: no echo: {other:?}", describe(&message))),
    }
    Ok(())
}

/// Waits for the end; returns how it closed.
async fn closed(ws: &mut Ws) -> Result<CloseEvent, String> {
    loop {
        match ws.next_event().await {
            Ok(Some(Event::Closed(close))) => return Ok(close),
            Ok(Some(_)) => {}
            Ok(None) => return ws.close_event().cloned().ok_or("no close event".into()),
            Err(e) => return Err(format!("while closing: {e}")),
        }
    }
}

async fn messages(target: &Target) -> Check {
    let mut ws = target.open(&["chat", "superchat"]).await?;
    ensure!(
        ws.connection().protocol() == Some("chat"),
        "selected protocol {:?}, expected chat",
        ws.connection().protocol()
    );
    let extensions = ws.connection().extensions().unwrap_or_default();
    ensure!(
        extensions.contains("permessage-deflate") == target.deflate,
        "extensions {extensions:?} with --deflate {}",
        target.deflate
    );
    let big: Vec<u8> = (0..16u32 << 20).map(|i| (i % 251) as u8).collect();
    for message in [
        Message::from("hello"),
        Message::from("κόσμε, 𝄞 and 🎉: two-, three- and four-byte UTF-8"),
        Message::from(""),
        Message::from(Vec::new()),
        Message::from((0..=255u8).collect::<Vec<u8>>()),
        Message::from(big),
    ] {
        echo(&mut ws, message).await?;
    }

    // Fragmented sends, a four-byte character alone in the middle piece.
    for piece in ["frag", "𝄞", "mented"].iter().enumerate() {
        ws.send_fragment(*piece.1, piece.0 == 2)
            .await
            .map_err(|e| e.to_string())?;
    }
    let back = ws.recv().await.map_err(|e| e.to_string())?;
    ensure!(
        back == Some(Message::from("frag𝄞mented")),
        "fragmented text came back as {back:?}"
    );
    for (i, piece) in [&b"\x00\x01"[..], b"", b"\xfe\xff"].iter().enumerate() {
        ws.send_fragment(piece.to_vec(), i == 2)
            .await
            .map_err(|e| e.to_string())?;
    }
    let back = ws.recv().await.map_err(|e| e.to_string())?;
    ensure!(
        back == Some(Message::from(vec![0, 1, 0xfe, 0xff])),
        "fragmented binary came back as {back:?}"
    );

    ws.ping(b"are you there").await.map_err(|e| e.to_string())?;
    loop {
        match ws.next_event().await.map_err(|e| e.to_string())? {
            Some(Event::Pong(payload)) => {
                ensure!(&payload[..] == b"are you there", "pong {payload:?}");
                break;
            }
            Some(Event::Message(m)) => return Err(format!("unexpected {}", describe(&m))),
            Some(_) => {}
            None => return Err("closed while waiting for the pong".into()),
        }
    }

    ws.close(CloseCode::from(4001), "client says bye 𝄞")
        .await
        .map_err(|e| e.to_string())?;
    let close = closed(&mut ws).await?;
    ensure!(
        u16::from(close.code) == 4001 && close.was_clean,
        "our close came back as {close:?}"
    );
    Ok(())
}

async fn no_common_protocol(target: &Target) -> Check {
    let mut ws = target.open(&["other"]).await?;
    ensure!(
        ws.connection().protocol().is_none(),
        "server picked {:?} from [other]",
        ws.connection().protocol()
    );
    echo(&mut ws, Message::from("still works")).await?;
    ws.close(CloseCode::NORMAL, "")
        .await
        .map_err(|e| e.to_string())?;
    closed(&mut ws).await.map(|_| ())
}

async fn server_closes(target: &Target) -> Check {
    let mut ws = target.open(&[]).await?;
    ws.send("close:4002:server says bye 𝄞")
        .await
        .map_err(|e| e.to_string())?;
    let close = closed(&mut ws).await?;
    ensure!(
        u16::from(close.code) == 4002 && close.reason == "server says bye 𝄞" && close.was_clean,
        "server's close arrived as {close:?}"
    );
    Ok(())
}

async fn run(target: Target) -> Check {
    messages(&target)
        .await
        .map_err(|e| format!("messages: {e}"))?;
    no_common_protocol(&target)
        .await
        .map_err(|e| format!("no common protocol: {e}"))?;
    server_closes(&target)
        .await
        .map_err(|e| format!("server-initiated close: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first().cloned() else {
        eprintln!("usage: interop_client URL [--ca FILE] [--deflate]");
        return ExitCode::from(2);
    };
    let tls = match args.iter().position(|a| a == "--ca") {
        Some(i) => {
            let path = args.get(i + 1).expect("--ca FILE");
            let config = sockweave_net::tls::client_config_with_ca_file(path.as_ref())
                .expect("the CA file loads");
            TlsConnector::rustls(config)
        }
        None => TlsConnector::default(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let result = runtime.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(60),
            run(Target {
                url,
                tls,
                deflate: args.iter().any(|a| a == "--deflate"),
            }),
        )
        .await
        .unwrap_or_else(|_| Err("timed out after 60 s".into()))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("interop_client: {e}");
            ExitCode::FAILURE
        }
    }
}
