//! The pinned budget holds: a counting global allocator watches every byte
//! a connection and its read buffer hold while a hostile peer's bytes
//! arrive, and the peak never passes `Config::pinned_budget(read_len)`.
//!
//! The first bytes choose the setting: role (a server, or a client whose
//! request was answered), permessage-deflate, streaming, a deferred
//! decision, a writer that stops taking bytes (pongs pile up), a valid
//! handshake or a fuzzed one, the frame and message limits, the event
//! budget, the read size, the handshake limit and how fast time moves
//! (so timeouts fire). The host follows the crate docs' drive loop:
//! events are drained (and dropped) before the next read, which reserves
//! `read_len` and appends at most that many bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::deflate::DeflateConfig;
use sockweave::handshake::accept_key;
use sockweave::{
    Accept, BytesMut, ClientRequest, Config, Connection, Event, Instant, ServerPolicy,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

/// The system allocator, counting the bytes live and the peak since the
/// last reset. libFuzzer runs one input at a time on one thread.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(live, Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const OFFER: &str = "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Protocol: chat\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

struct Setting {
    client: bool,
    defer: bool,
    stalled_writer: bool,
    valid_handshake: bool,
    read_len: usize,
    step: Duration,
    config: Config,
}

fn setting(head: &[u8; 8]) -> Setting {
    let flags = head[0];
    let mut config = Config::default();
    config.max_frame_len = 1 << (4 + head[1] % 13);
    config.max_message_len = 1 << (4 + head[2] % 13);
    config.max_fragments = 1 + u32::from(head[2] >> 4) * 64;
    config.max_pending_events = 1 + usize::from(head[3] % 64);
    config.max_handshake_len = 256 + usize::from(head[7]) * 16;
    config.streaming = flags & 4 != 0;
    config.idle_timeout = (head[3] & 0x80 != 0).then(|| Duration::from_secs(2));
    if flags & 2 != 0 {
        let mut deflate = DeflateConfig::default();
        deflate.threshold = 0;
        config.deflate = Some(deflate);
    }
    config
        .validate()
        .expect("every setting chosen here is valid");
    Setting {
        client: flags & 1 != 0,
        defer: flags & 8 != 0,
        stalled_writer: flags & 16 != 0,
        valid_handshake: flags & 32 == 0,
        read_len: 1 + usize::from(u16::from_le_bytes([head[4], head[5]]) % 8192),
        step: Duration::from_millis(u64::from(head[6]) * 20),
        config,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((head, peer)) = data.split_first_chunk::<8>() else {
        return;
    };
    let s = setting(head);
    let terms = s.config.pinned_budget(s.read_len);
    let budget = terms.total() as usize;
    let now = Instant::ZERO;
    let (mut conn, mut stream) = if s.client {
        let request = ClientRequest::new("ws://h/chat").unwrap();
        let conn = Connection::client(&request, s.config.clone(), |b: &mut [u8]| b.fill(0x5a), now)
            .unwrap();
        let request: Vec<u8> = conn.transmit().flatten().copied().collect();
        let request = String::from_utf8(request).unwrap();
        let key = request
            .lines()
            .find_map(|line| line.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap();
        let accept = accept_key(key.as_bytes());
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
            std::str::from_utf8(&accept).unwrap()
        );
        (conn, answer.into_bytes())
    } else {
        let mut policy = ServerPolicy::default();
        policy.protocols = vec!["chat".into()];
        policy.defer = s.defer;
        (
            Connection::server(policy, s.config.clone(), now).unwrap(),
            OFFER.as_bytes().to_vec(),
        )
    };
    if !s.valid_handshake {
        stream.clear();
    }
    stream.extend_from_slice(peer);
    let mut input = BytesMut::new();

    let baseline = LIVE.load(Relaxed);
    PEAK.store(baseline, Relaxed);
    let mut now = now;
    let drive = |conn: &mut Connection, input: &mut BytesMut, now: Instant| {
        while let Some(event) = conn.poll_event_from(input, now) {
            if let Event::Request(_) = event {
                let _ = conn.accept(Accept::default());
                conn.receive(input, now);
            }
        }
        if !s.stalled_writer {
            let n = conn.transmit().map(<[u8]>::len).sum();
            conn.advance_transmit(n);
        }
        if conn.poll_timeout().is_some_and(|at| at <= now) {
            conn.handle_timeout(now);
        }
    };
    for piece in stream.chunks(s.read_len) {
        input.reserve(s.read_len);
        input.extend_from_slice(piece);
        conn.receive(&mut input, now);
        drive(&mut conn, &mut input, now);
        now = now + s.step;
        drive(&mut conn, &mut input, now);
    }
    conn.receive_eof(now);
    drive(&mut conn, &mut input, now);
    let peak = PEAK.load(Relaxed) - baseline;
    if std::env::var_os("SHOW_BUDGET").is_some() {
        // How close an input came: `SHOW_BUDGET=1 pinned_budget FILE`.
        eprintln!("held {peak} of {budget} bytes: {terms:?}");
    }
    assert!(
        peak <= budget,
        "held {peak} bytes, past the budget of {budget}: {terms:?}"
    );
});
