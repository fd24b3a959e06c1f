//! A chat room across several server processes, joined through Redis
//! pub/sub: `chat_cluster [LISTEN] [REDIS]` (defaults 127.0.0.1:9001 and
//! 127.0.0.1:6379). Each node keeps its own clients in a [`Room`]; what a
//! client sends is PUBLISHed to the `sockweave-chat` channel, and every
//! node (this one included) hears it on its SUBSCRIBE connection and
//! broadcasts it to its room: framed once per node, whoever sent it.
//!
//! Each message on the channel is one byte for its kind (`t` text, `b`
//! binary) and then its payload. The queue to Redis holds at most 4,096
//! messages; a client whose message finds it full is closed with 1013
//! "try again later" (never a message dropped unsaid). A client 256
//! messages behind in the room is closed with 1008 "too slow". If Redis
//! goes away the node says so and exits: run it under a supervisor.

mod resp;

use resp::Value;
use sockweave_tokio::{Config, Laggard, Message, Room, ServerPolicy, accept_with};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const CHANNEL: &[u8] = b"sockweave-chat";

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:9001".into());
    let redis = args.next().unwrap_or_else(|| "127.0.0.1:6379".into());
    let room = Room::new(256, Laggard::Drop);
    // Subscribed before anyone can connect: no message published through
    // this node is missed by it.
    let subscriber = subscribe(&redis).await?;
    let (to_redis, queue) = mpsc::channel::<Message>(4096);
    let publisher = TcpStream::connect(&redis).await?;
    let listener = TcpListener::bind(&listen).await?;
    eprintln!(
        "chat_cluster node on ws://{} through redis {redis}",
        listener.local_addr()?
    );
    tokio::spawn({
        let room = room.clone();
        async move {
            if let Err(e) = relay(subscriber, room).await {
                eprintln!("redis subscription lost: {e}");
            }
            std::process::exit(1);
        }
    });
    tokio::spawn(async move {
        if let Err(e) = publish(publisher, queue).await {
            eprintln!("redis publisher lost: {e}");
        }
        std::process::exit(1);
    });
    let config = Arc::new(Config::default());
    loop {
        let (stream, peer) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let (room, to_redis, config) = (room.clone(), to_redis.clone(), config.clone());
        tokio::spawn(async move {
            let mut ws = match accept_with(stream, ServerPolicy::default(), config).await {
                Ok(ws) => ws,
                Err(e) => return eprintln!("{peer} rejected: {e}"),
            };
            // What the client says goes to Redis, not straight to the room:
            // it comes back from there, to every node alike.
            let chatted = room
                .chat_via(&mut ws, |message| to_redis.try_send(message).is_ok())
                .await;
            if let Err(e) = chatted {
                eprintln!("{peer} failed: {e}");
            }
        });
    }
}

/// A connection to Redis subscribed to the channel.
async fn subscribe(redis: &str) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(redis).await?;
    let mut command = Vec::new();
    resp::command(&mut command, &[b"SUBSCRIBE", CHANNEL]);
    stream.write_all(&command).await?;
    // The confirmation: ["subscribe", channel, 1].
    let mut input = Vec::new();
    match next_value(&mut stream, &mut input).await? {
        Value::Array(items) if items.first() == Some(&Value::Bulk(Some(b"subscribe".to_vec()))) => {
        }
        other => return Err(std::io::Error::other(format!("SUBSCRIBE: {other:?}"))),
    }
    Ok(stream)
}

/// Every message Redis pushes on the channel, broadcast to this node's room.
async fn relay(mut stream: TcpStream, room: Room) -> std::io::Result<()> {
    let mut input = Vec::new();
    loop {
        let Value::Array(items) = next_value(&mut stream, &mut input).await? else {
            continue;
        };
        if let [Value::Bulk(Some(kind)), _, Value::Bulk(Some(payload))] = &items[..] {
            if kind != b"message" {
                continue;
            }
            let message = match payload.split_first() {
                Some((b't', text)) => match String::from_utf8(text.to_vec()) {
                    Ok(text) => Message::from(text),
                    Err(_) => continue, // not one of ours
                },
                Some((b'b', bytes)) => Message::from(bytes.to_vec()),
                _ => continue,
            };
            room.broadcast(message);
        }
    }
}

/// Sends what the clients say to Redis, a batch per write, and reads the
/// replies (subscriber counts) so they never pile up.
async fn publish(stream: TcpStream, mut queue: mpsc::Receiver<Message>) -> std::io::Result<()> {
    let (mut replies, mut out) = stream.into_split();
    tokio::spawn(async move {
        let mut input = Vec::new();
        while let Ok(value) = next_value(&mut replies, &mut input).await {
            if let Value::Error(e) = value {
                eprintln!("redis: {e}");
            }
        }
    });
    let mut batch = Vec::new();
    let mut payload = Vec::new();
    while let Some(message) = queue.recv().await {
        let mut next = Some(message);
        while let Some(message) = next {
            payload.clear();
            payload.push(match message {
                Message::Text(_) => b't',
                Message::Binary(_) => b'b',
            });
            payload.extend_from_slice(message.as_bytes());
            resp::command(&mut batch, &[b"PUBLISH", CHANNEL, &payload]);
            next = queue.try_recv().ok();
        }
        out.write_all(&batch).await?;
        batch.clear();
    }
    Ok(())
}

/// Reads until a whole RESP value is in `input`, and takes it.
async fn next_value(
    stream: &mut (impl AsyncReadExt + Unpin),
    input: &mut Vec<u8>,
) -> std::io::Result<Value> {
    loop {
        match resp::parse(input).map_err(std::io::Error::other)? {
            Some((value, used)) => {
                input.drain(..used);
                return Ok(value);
            }
            None => {
                let mut buf = [0; 16 << 10];
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                input.extend_from_slice(&buf[..n]);
            }
        }
    }
}
