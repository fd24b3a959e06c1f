//! The broadcast load generator of `benches/broadcast.py`, not built on
//! sockweave: `ws_fanout ADDR SUBSCRIBERS PAYLOAD SECONDS [--deflate]`.
//!
//! SUBSCRIBERS connections listen; one more, the publisher, sends text
//! messages of PAYLOAD bytes (JSON-like, so compression has something to
//! do) that the server is to send to every connection. The publisher
//! keeps at most WINDOW messages ahead of the slowest subscriber, so the
//! run measures how fast the server fans out, not how much it can queue.
//! Every frame a subscriber receives is checked: a final text frame, of
//! PAYLOAD bytes unless compressed (with `--deflate`, permessage-deflate
//! without context takeover is offered and must be taken; compressed
//! frames carry RSV1 and are not inflated here).
//!
//! Prints `start` after the handshakes and half a second of warm-up, then
//! after SECONDS one JSON line: messages delivered to subscribers per
//! second, and how many.

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use sockweave_benches::json_like;
use sockweave_benches::raw::{FrameReader, handshake, masked_frames};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const WARM_UP: Duration = Duration::from_millis(500);
/// Messages the publisher may be ahead of the slowest subscriber.
const WINDOW: usize = 16;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deflate = args.iter().any(|a| a == "--deflate");
    let args: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let [addr, subscribers, payload, seconds] = args[..] else {
        eprintln!("usage: ws_fanout ADDR SUBSCRIBERS PAYLOAD SECONDS [--deflate]");
        std::process::exit(2);
    };
    let addr: SocketAddr = addr.parse().expect("ADDR is host:port");
    let subscribers: usize = subscribers.parse().expect("SUBSCRIBERS");
    let payload: usize = payload.parse().expect("PAYLOAD");
    let seconds: f64 = seconds.parse().expect("SECONDS");
    if let Err(e) = run(addr, subscribers, payload, seconds, deflate) {
        eprintln!("ws_fanout: {e}");
        std::process::exit(1);
    }
}

struct Subscriber {
    stream: TcpStream,
    frames: FrameReader,
    /// Messages received so far.
    received: usize,
}

fn run(
    addr: SocketAddr,
    count: usize,
    payload: usize,
    seconds: f64,
    deflate: bool,
) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let mut subs = Vec::with_capacity(count);
    for i in 0..count {
        let mut stream = TcpStream::from_std(handshake(addr, deflate)?.0);
        poll.registry()
            .register(&mut stream, Token(i), Interest::READABLE)?;
        subs.push(Subscriber {
            stream,
            frames: FrameReader::default(),
            received: 0,
        });
    }
    // The publisher: the server may send it the broadcasts too; they are
    // read and dropped.
    let publisher_token = Token(count);
    let mut publisher = TcpStream::from_std(handshake(addr, deflate)?.0);
    poll.registry().register(
        &mut publisher,
        publisher_token,
        Interest::READABLE | Interest::WRITABLE,
    )?;
    let frame = masked_frames(0x1, json_like(payload).as_bytes(), 1);
    // complete[i % WINDOW]: subscribers that have message i.
    let mut complete = [0usize; WINDOW];
    let (mut sent, mut done, mut offset) = (0usize, 0usize, 0usize);
    let mut scratch = vec![0u8; 256 << 10];
    let mut events = Events::with_capacity(1024);
    let started = Instant::now();
    let mut measuring: Option<(Instant, u64)> = None;
    let mut delivered: u64 = 0;
    loop {
        // Publish while within the window; a partial write resumes later.
        while sent - done < WINDOW || offset > 0 {
            match publisher.write(&frame[offset..]) {
                Ok(n) => {
                    offset += n;
                    if offset == frame.len() {
                        offset = 0;
                        sent += 1;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let now = Instant::now();
        match measuring {
            None if now - started >= WARM_UP => {
                println!("start");
                io::stdout().flush()?;
                measuring = Some((Instant::now(), delivered));
            }
            Some((since, before)) if (now - since).as_secs_f64() >= seconds => {
                let elapsed = (now - since).as_secs_f64();
                let n = delivered - before;
                println!(
                    "{{\"rate\": {:.0}, \"delivered\": {n}, \"published\": {sent}}}",
                    n as f64 / elapsed
                );
                return Ok(());
            }
            _ => {}
        }
        poll.poll(&mut events, Some(Duration::from_millis(10)))?;
        for event in events.iter() {
            if event.token() == publisher_token {
                drain(&mut publisher, &mut scratch)?;
                continue;
            }
            let sub = &mut subs[event.token().0];
            loop {
                let n = match sub.stream.read(&mut scratch) {
                    Ok(0) => return Err(io::Error::other("the server closed a subscriber")),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                let (frames, received) = (&mut sub.frames, &mut sub.received);
                frames.feed(&scratch[..n], |first, len| {
                    let compressed = first & 0x40 != 0;
                    if first & !0x40 != 0x81 || (compressed && !deflate) {
                        return Err(io::Error::other(format!("unexpected frame {first:02x}")));
                    }
                    if !compressed && len != payload as u64 {
                        return Err(io::Error::other(format!(
                            "{len} bytes, published {payload}"
                        )));
                    }
                    if *received >= sent {
                        return Err(io::Error::other("a message never published"));
                    }
                    complete[*received % WINDOW] += 1;
                    *received += 1;
                    delivered += 1;
                    Ok(())
                })?;
            }
        }
        // Messages every subscriber has free their slot in the window.
        while done < sent && complete[done % WINDOW] == count {
            complete[done % WINDOW] = 0;
            done += 1;
        }
    }
}

/// Reads and drops whatever the publisher's socket holds.
fn drain(stream: &mut TcpStream, scratch: &mut [u8]) -> io::Result<()> {
    loop {
        match stream.read(scratch) {
            Ok(0) => return Err(io::Error::other("the server closed the publisher")),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
