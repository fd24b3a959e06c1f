//! An echo load generator that is not built on sockweave, so every server
//! in `benches/matrix.py` faces the same independent client:
//! `ws_load ADDR CONNECTIONS PAYLOAD IN_FLIGHT SECONDS`.
//!
//! One thread, one epoll loop (mio), meant to be pinned to a core of its
//! own. The wire is spoken by `sockweave_benches::raw`, not by sockweave.
//! The handshake is a fixed HTTP request; frames are built once,
//! masked, and written from that one buffer (up to IN_FLIGHT at a time),
//! so the client costs the same for every server. Echoes are checked (a
//! final binary frame, unmasked, PAYLOAD bytes long) and skipped without
//! being copied anywhere; anything else ends the run with exit code 1.
//!
//! Each connection keeps IN_FLIGHT messages outstanding: one more is sent
//! for every echo. After the handshakes and a warm-up of half a second it
//! prints `start`, then after SECONDS one JSON line: echoes per second and
//! the round trip's p50 and p99 in microseconds (from queueing a message
//! to reading the end of its echo).

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use sockweave_benches::raw::{FrameReader, handshake, masked_frames};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const WARM_UP: Duration = Duration::from_millis(500);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, connections, payload, in_flight, seconds] = &args[..] else {
        eprintln!("usage: ws_load ADDR CONNECTIONS PAYLOAD IN_FLIGHT SECONDS");
        std::process::exit(2);
    };
    let addr: SocketAddr = addr.parse().expect("ADDR is host:port");
    let payload: usize = payload.parse().expect("PAYLOAD");
    let in_flight: usize = in_flight.parse().expect("IN_FLIGHT");
    let seconds: f64 = seconds.parse().expect("SECONDS");
    let connections: usize = connections.parse().expect("CONNECTIONS");
    if let Err(e) = run(addr, connections, payload, in_flight, seconds) {
        eprintln!("ws_load: {e}");
        std::process::exit(1);
    }
}

fn run(
    addr: SocketAddr,
    count: usize,
    payload: usize,
    in_flight: usize,
    seconds: f64,
) -> io::Result<()> {
    let body: Vec<u8> = (0..payload).map(|i| i as u8 ^ 0x42).collect();
    let burst = masked_frames(0x2, &body, in_flight);
    let frame_len = burst.len() / in_flight;
    let mut poll = Poll::new()?;
    let mut conns = Vec::with_capacity(count);
    for i in 0..count {
        let mut stream = TcpStream::from_std(handshake(addr, false)?.0);
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        conns.push(Conn::new(stream, in_flight));
    }
    let mut scratch = vec![0u8; 256 << 10];
    let mut events = Events::with_capacity(1024);
    let started = Instant::now();
    let mut measuring: Option<Instant> = None;
    let mut latencies: Vec<u32> = Vec::with_capacity(1 << 20);
    let mut echoed: u64 = 0;
    for conn in &mut conns {
        conn.write(&burst, frame_len)?;
    }
    loop {
        let now = Instant::now();
        match measuring {
            None if now - started >= WARM_UP => {
                println!("start");
                io::stdout().flush()?;
                measuring = Some(Instant::now());
                latencies.clear();
                echoed = 0;
            }
            Some(since) if (now - since).as_secs_f64() >= seconds => {
                let elapsed = (now - since).as_secs_f64();
                latencies.sort_unstable();
                let at = |q: f64| {
                    latencies
                        .get(
                            ((latencies.len() as f64 * q) as usize).min(latencies.len().max(1) - 1),
                        )
                        .map_or(0.0, |ns| f64::from(*ns) / 1e3)
                };
                println!(
                    "{{\"rate\": {:.0}, \"p50_us\": {:.1}, \"p99_us\": {:.1}, \"echoed\": {echoed}}}",
                    echoed as f64 / elapsed,
                    at(0.50),
                    at(0.99)
                );
                return Ok(());
            }
            _ => {}
        }
        poll.poll(&mut events, Some(Duration::from_millis(10)))?;
        for event in events.iter() {
            let conn = &mut conns[event.token().0];
            if event.is_readable() {
                let done = conn.read(&mut scratch, payload, &mut latencies)?;
                echoed += done as u64;
                conn.pending += done;
                let now = Instant::now();
                conn.sent.extend(std::iter::repeat_n(now, done));
            }
            conn.write(&burst, frame_len)?;
        }
    }
}

struct Conn {
    stream: TcpStream,
    /// Frames waiting to be written, the first `offset` bytes in.
    pending: usize,
    offset: usize,
    /// When each message still awaiting its echo was queued, oldest first.
    sent: VecDeque<Instant>,
    /// The echo being read.
    frames: FrameReader,
}

impl Conn {
    fn new(stream: TcpStream, in_flight: usize) -> Self {
        let now = Instant::now();
        Self {
            stream,
            pending: in_flight,
            offset: 0,
            sent: std::iter::repeat_n(now, in_flight).collect(),
            frames: FrameReader::default(),
        }
    }

    /// Writes pending frames until done or the socket is full.
    fn write(&mut self, burst: &[u8], frame_len: usize) -> io::Result<()> {
        let max = burst.len() / frame_len;
        while self.pending > 0 {
            let frames = self.pending.min(max);
            match self.stream.write(&burst[self.offset..frames * frame_len]) {
                Ok(n) => {
                    let at = self.offset + n;
                    self.pending -= at / frame_len;
                    self.offset = at % frame_len;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads until the socket is drained; returns how many echoes ended.
    fn read(
        &mut self,
        scratch: &mut [u8],
        payload: usize,
        latencies: &mut Vec<u32>,
    ) -> io::Result<usize> {
        let mut done = 0;
        loop {
            let n = match self.stream.read(scratch) {
                Ok(0) => return Err(io::Error::other("the server closed the connection")),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(done),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let (frames, sent) = (&mut self.frames, &mut self.sent);
            frames.feed(&scratch[..n], |first, len| {
                if first != 0x82 || len != payload as u64 {
                    return Err(io::Error::other(format!(
                        "expected a final binary frame of {payload} bytes, got {first:02x}, {len} bytes"
                    )));
                }
                done += 1;
                echoed(sent, latencies)
            })?;
        }
    }
}

fn echoed(sent: &mut VecDeque<Instant>, latencies: &mut Vec<u32>) -> io::Result<()> {
    let sent = sent
        .pop_front()
        .ok_or_else(|| io::Error::other("an echo of a message never sent"))?;
    let ns = sent.elapsed().as_nanos().min(u128::from(u32::MAX)) as u32;
    latencies.push(ns);
    Ok(())
}
