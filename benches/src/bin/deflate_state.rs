//! Heap held by permessage-deflate per connection, per preset, counted by
//! a global allocator: one compressor and one inflater after one 2 KiB
//! message each way, then idle. `deflate_state`.
//!
//! This is the zlib state alone; benches/deflate.py measures whole servers.

use sockweave::deflate::{Compression, DeflateConfig, Deflater, Inflater};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator and only counts sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same layout, as the caller guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: allocated above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Bytes held by a compressor with `bits` and `compression`, and by an
/// inflater of a peer's `peer_bits` window, after one message each.
fn held(
    bits: u8,
    no_takeover: bool,
    peer_bits: u8,
    peer_no_takeover: bool,
    compression: Compression,
) -> (isize, isize) {
    let message = sockweave_benches::json_like(2048);
    let before = live();
    let mut deflater = Deflater::new(bits, no_takeover, compression);
    let mut wire = Vec::new();
    deflater.compress(message.as_bytes(), true, &mut wire);
    drop(wire);
    let deflate = live() - before;
    let mut peer = Deflater::new(peer_bits, peer_no_takeover, Compression::default());
    let mut wire = Vec::new();
    peer.compress(message.as_bytes(), true, &mut wire);
    let before = live();
    let mut inflater = Inflater::new(peer_bits, peer_no_takeover, compression.release);
    let mut out = Vec::new();
    inflater
        .inflate(&wire, true, 1 << 20, &mut out)
        .expect("inflates");
    drop(out);
    let inflate = live() - before;
    drop((deflater, inflater));
    (deflate, inflate)
}

fn main() {
    println!(
        "| preset (server side, peer honours its requests) | compressor idle | inflater idle | \
         total idle | compressor while compressing |"
    );
    println!("|---|---|---|---|---|");
    for (name, config) in [
        ("DeflateConfig::default()", DeflateConfig::default()),
        ("DeflateConfig::low_memory()", DeflateConfig::low_memory()),
        ("DeflateConfig::no_context()", DeflateConfig::no_context()),
    ] {
        let (deflate, inflate) = held(
            config.max_window_bits,
            config.no_context_takeover,
            config.peer_max_window_bits,
            config.peer_no_context_takeover,
            config.compression,
        );
        let mut kept = config.compression;
        kept.release = false;
        let (in_use, _) = held(config.max_window_bits, false, 15, false, kept);
        println!(
            "| {name} | {deflate} | {inflate} | {} | {in_use} |",
            deflate + inflate
        );
    }
}
