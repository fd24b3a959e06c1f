//! A WebSocket server that is not sockweave, written by hand on a raw
//! socket, for tests that need a peer to misbehave on purpose: trickle
//! bytes, flood, stop reading. Included by path from the adapters' tests;
//! each uses some of it.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};

/// Serves one connection: answers its opening handshake (no subprotocol,
/// no extension), then hands the socket to `then`. `accept_key` is the
/// RFC 6455 key derivation. Returns the `ws://` URL.
pub(crate) fn raw_server(
    accept_key: fn(&[u8]) -> [u8; 28],
    then: impl FnOnce(TcpStream) + Send + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_nodelay(true).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).unwrap() == 0 {
                return;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let key = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("sec-websocket-key")
                    .then(|| value.trim().to_owned())
            })
            .unwrap();
        let accept = accept_key(key.as_bytes());
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            std::str::from_utf8(&accept).unwrap()
        );
        stream.write_all(response.as_bytes()).unwrap();
        then(stream);
    });
    url
}

/// An unmasked server frame: FIN, `opcode`, `payload` (under 64 KiB).
pub(crate) fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// Sends a text message, a 300-byte binary one and a close (1000, "bye")
/// one byte per write with a pause after each, so the client reads every
/// byte on its own; then reads the client's close reply and hangs up.
pub(crate) fn trickle(mut stream: TcpStream) {
    let mut bytes = frame(0x1, "𝄞é!".as_bytes());
    bytes.extend(frame(0x2, &[7u8; 300]));
    bytes.extend(frame(0x8, b"\x03\xe8bye"));
    for byte in bytes {
        if stream.write_all(&[byte]).is_err() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_micros(500));
    }
    let mut reply = [0u8; 64];
    let _ = stream.read(&mut reply);
}

/// Floods pings of 125 bytes and never reads. Once a write has waited
/// 200 ms (the client stopped reading: its pongs fill both sockets'
/// buffers), or after 2 s of flooding a client that keeps reading, it says
/// so on `full`; it goes on never reading until 20 seconds have passed.
pub(crate) fn ping_flood_never_reading(mut stream: TcpStream, full: std::sync::mpsc::Sender<()>) {
    use std::time::{Duration, Instant};
    let ping = frame(0x9, &[1u8; 125]);
    let burst: Vec<u8> = ping.iter().copied().cycle().take(ping.len() * 64).collect();
    stream
        .set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let start = Instant::now();
    let until = start + Duration::from_secs(20);
    let mut told = false;
    while Instant::now() < until {
        if !told && start.elapsed() > Duration::from_secs(2) {
            told = true;
            if full.send(()).is_err() {
                return; // the test is over
            }
        }
        match stream.write_all(&burst) {
            Ok(()) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if full.send(()).is_err() {
                    return; // the test is over
                }
                // Holds the socket, unread, for as long as a test waits.
                std::thread::sleep(until - Instant::now());
                return;
            }
            Err(_) => return,
        }
    }
}
