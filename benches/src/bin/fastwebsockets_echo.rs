//! fastwebsockets echo server, for comparison: `fastwebsockets_echo [ADDR]`.
//! The HTTP upgrade is parsed with sockweave's handshake machine (the
//! crate's own needs hyper); from the 101 on, fastwebsockets does all.

use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket};
use sockweave::handshake::{Accept, ServerHandshake};
use sockweave::{BytesMut, Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn serve(mut stream: TcpStream) -> Option<()> {
    let mut handshake = ServerHandshake::new(&Config::default());
    let mut input = BytesMut::with_capacity(1024);
    let request = loop {
        if stream.read_buf(&mut input).await.ok()? == 0 {
            return None;
        }
        if let Some(request) = handshake.receive(&mut input).ok()? {
            break request;
        }
    };
    stream
        .write_all(&request.accept(&Accept::default()).ok()?)
        .await
        .ok()?;
    let mut ws = FragmentCollector::new(WebSocket::after_handshake(stream, Role::Server));
    loop {
        let frame = ws.read_frame().await.ok()?;
        match frame.opcode {
            OpCode::Close => return Some(()),
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await.ok()?,
            _ => {}
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(serve(stream));
    }
}
