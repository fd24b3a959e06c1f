//! The pinned budget (`Config::pinned_budget`) against a counting
//! allocator, on the shapes of input that come closest to it: a whole
//! frame waiting in the read buffer beside a message being reassembled,
//! compressed messages that each inflate to the limit, a ping flood the
//! host never writes out. Each test asserts the peak stays within the
//! budget *and* comes within a stated fraction of it, so the budget is
//! neither broken nor vacuous. (`fuzz/fuzz_targets/pinned_budget.rs`
//! searches the rest of the input space the same way.)
//!
//! Counting is per thread, so the tests may run in parallel.

// A global allocator cannot be written without `unsafe`; this binary only
// counts and forwards to the system allocator.
#![allow(unsafe_code)]

use bytes::BytesMut;
use sockweave::deflate::{Compression, DeflateConfig, Deflater};
use sockweave::frame::{FrameHeader, OpCode, encode_frame};
use sockweave::{Budget, Config, Connection, Event, Instant};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Signed: a thread may free what another allocated.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn grew(by: usize) {
    let _ = LIVE.try_with(|live| {
        live.set(live.get() + by as isize);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
    });
}

fn shrank(by: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get() - by as isize));
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
        shrank(layout.size());
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const T0: Instant = Instant::ZERO;
const KEY: [u8; 4] = [1, 2, 3, 4];

fn frame(opcode: OpCode, fin: bool, rsv: u8, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        fin,
        rsv,
        opcode,
        mask: Some(KEY),
        payload_len: 0,
    };
    let mut out = Vec::new();
    encode_frame(&header, payload, &mut out);
    out
}

/// What a host following the crate docs' drive loop holds at its peak
/// while `wire` arrives `read_len` bytes at a time: the heap allocated
/// after the connection was made, through the last read. Events are
/// drained and dropped before each read; `write` says whether the host
/// writes out what the connection queues.
fn peak(mut conn: Connection, wire: &[u8], read_len: usize, write: bool) -> usize {
    let mut input = BytesMut::new();
    let baseline = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(baseline));
    for piece in wire.chunks(read_len) {
        input.reserve(read_len);
        input.extend_from_slice(piece);
        conn.receive(&mut input, T0);
        while let Some(event) = conn.poll_event_from(&mut input, T0) {
            assert!(!matches!(event, Event::Error(_)), "{event:?}");
        }
        if write {
            let n = conn.transmit().map(<[u8]>::len).sum();
            conn.advance_transmit(n);
        }
    }
    let held = (PEAK.with(Cell::get) - baseline) as usize;
    drop(input);
    drop(conn);
    held
}

/// `held` is within `budget` and at least `fraction` of it.
fn assert_within(held: usize, budget: Budget, fraction: f64) {
    let total = budget.total() as usize;
    assert!(
        held <= total,
        "held {held} bytes, budget {total}: {budget:?}"
    );
    assert!(
        held as f64 >= fraction * total as f64,
        "held {held} of {total}: the budget is further off than this test says"
    );
}

fn limits(frame: u64, message: u64) -> Config {
    let mut config = Config::default();
    config.max_frame_len = frame;
    config.max_message_len = message;
    config
}

#[test]
fn a_whole_frame_waiting_beside_a_reassembled_message() {
    const LIMIT: usize = 1 << 20;
    let config = limits(LIMIT as u64, LIMIT as u64);
    let read_len = 64 << 10;
    // A message in 16 fragments, all but its last byte; then a ping, and
    // the whole of a one-frame message of the frame limit but its last
    // byte: the read buffer holds that frame while the other message
    // waits to be finished.
    let piece = vec![b'a'; LIMIT / 16];
    let mut wire = frame(OpCode::Binary, false, 0, &piece);
    for _ in 1..15 {
        wire.extend(frame(OpCode::Continuation, false, 0, &piece));
    }
    wire.extend(frame(OpCode::Continuation, false, 0, &piece[1..]));
    wire.extend(frame(OpCode::Ping, true, 0, b"still here"));
    let mut whole = frame(OpCode::Binary, true, 0, &vec![b'b'; LIMIT]);
    whole.pop();
    let budget = config.pinned_budget(read_len);
    let conn = Connection::established_server(config, T0).unwrap();
    // A fragmented message cannot interleave a data frame; so the whole
    // frame comes on a second connection, the two peaks added: the budget
    // covers both at once.
    let fragmented = peak(conn, &wire, read_len, true);
    let config = limits(LIMIT as u64, LIMIT as u64);
    let conn = Connection::established_server(config, T0).unwrap();
    let waiting = peak(conn, &whole, read_len, true);
    assert!(fragmented >= LIMIT - LIMIT / 16, "{fragmented}");
    assert!(waiting >= LIMIT, "{waiting}");
    assert_within(fragmented + waiting, budget, 0.4);
}

#[test]
fn compressed_messages_inflating_to_the_limit_wait_under_twice_it() {
    const LIMIT: usize = 1 << 20;
    let mut config = limits(LIMIT as u64, LIMIT as u64);
    config.deflate = Some(DeflateConfig::default());
    config.max_pending_events = 64;
    let read_len = 64 << 10;
    // 48 messages of a megabyte of zeros, about 1 KiB each on the wire, in
    // one read: all 48 would wait, inflated, without the byte bound.
    let mut compressed = Vec::new();
    Deflater::new(15, true, Compression::default()).compress(
        &vec![0; LIMIT],
        true,
        &mut compressed,
    );
    let mut wire = Vec::new();
    for _ in 0..48 {
        wire.extend(frame(OpCode::Binary, true, 0x4, &compressed));
    }
    assert!(wire.len() < read_len);
    let budget = config.pinned_budget(read_len);
    let mut conn = Connection::established_server(config, T0).unwrap();
    conn.use_extensions("permessage-deflate").unwrap();
    let held = peak(conn, &wire, read_len, true);
    // One inflated message waits at a time here (the first reaches the
    // limit); the budget's read-buffer term is for a whole frame, which
    // this input never has.
    assert!(
        held < 2 * LIMIT,
        "{held} bytes: messages waited past the bound"
    );
    assert_within(held, budget, 0.2);
}

#[test]
fn a_ping_flood_the_host_never_writes_out() {
    let config = limits(1 << 10, 1 << 10);
    let read_len = 4 << 10;
    let wire: Vec<u8> = (0..10_000)
        .flat_map(|_| frame(OpCode::Ping, true, 0, &[b'p'; 125]))
        .collect();
    let budget = config.pinned_budget(read_len);
    let conn = Connection::established_server(config, T0).unwrap();
    let held = peak(conn, &wire, read_len, false);
    // 16 pongs wait, later pings share one: a few KiB, not 1.3 MB.
    assert!(held < 16 << 10, "{held}");
    assert_within(held, budget, 0.01);
}
