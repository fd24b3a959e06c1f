//! Reading masked frames as a server: sockweave's frame layer and whole
//! connection, tungstenite's and fastwebsockets' read paths, and the
//! machine's limit for the same bytes (copy, then unmask). Each iteration
//! reads about 1 MiB of input: many 16-byte frames, or one 1 MiB frame.
//!
//! Every row pays the same socket-read copy inside the timing (the peers
//! read from an in-memory stream that copies, sockweave copies the input
//! into its read buffer) and every reader keeps one connection and its
//! buffers for the whole measurement, so no row pays for allocation or
//! page faults the others do not.
// criterion_group! makes public functions that cannot carry docs.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sockweave::frame::{DecodeRules, Status, decode_frame};
use sockweave::{BytesMut, Config, Connection, Event, Instant, Role};
use sockweave_benches::{MemStream, SIZES, frames_per_batch, masked_frames};
use std::hint::black_box;

/// What a socket read hands over at most: the reads the connection row
/// copies its input in.
const READ: usize = 64 << 10;

fn bench(c: &mut Criterion) {
    for text in [false, true] {
        let kind = if text { "text" } else { "binary" };
        let mut group = c.benchmark_group(format!("decode_{kind}"));
        for (size, label) in SIZES {
            let count = frames_per_batch(size);
            group.throughput(Throughput::Bytes((count * size) as u64));
            let input = masked_frames(size, text, count, [0x37, 0xfa, 0x21, 0x3d]);
            group.bench_function(BenchmarkId::new("sockweave_frame", label), |b| {
                // The frame layer over a read buffer the input is copied
                // into (the socket read), unmasking in place.
                let rules = DecodeRules::new(Role::Server, 16 << 20);
                let mut buf = vec![0u8; input.len()];
                b.iter(|| {
                    buf.copy_from_slice(black_box(&input));
                    let mut at = 0;
                    let mut validator = sockweave::utf8::Validator::new();
                    while let Ok(Status::Complete(frame)) = decode_frame(&mut buf[at..], &rules) {
                        if text {
                            validator.feed(frame.payload).unwrap();
                        }
                        black_box(frame.payload);
                        at += frame.len;
                    }
                    assert_eq!(at, buf.len());
                });
            });
            group.bench_function(BenchmarkId::new("sockweave_connection", label), |b| {
                // Like an adapter: socket reads of up to 64 KiB copied into
                // the read buffer, events drained after each (receive stops
                // at max_pending_events and is called again once drained).
                let mut config = Config::default();
                config.max_message_len = 16 << 20;
                config.max_pending_events = 1 << 20;
                let mut conn = Connection::established_server(config, Instant::ZERO).unwrap();
                let mut buf = BytesMut::with_capacity(READ);
                b.iter(|| {
                    let mut n = 0;
                    for read in input.chunks(READ) {
                        buf.extend_from_slice(read);
                        loop {
                            conn.receive(&mut buf, Instant::ZERO);
                            while let Some(event) = conn.poll_event() {
                                if let Event::Message(m) = event {
                                    black_box(&m);
                                    n += 1;
                                }
                            }
                            if !conn.needs_receive() {
                                break;
                            }
                        }
                    }
                    assert_eq!(n, count);
                });
            });
            group.bench_function(BenchmarkId::new("tungstenite_frame", label), |b| {
                // tungstenite's frame layer. It leaves unmasking (and UTF-8)
                // to its message layer, so this does less work than the others.
                let mut socket =
                    tungstenite::protocol::frame::FrameSocket::new(MemStream::new(input.clone()));
                b.iter(|| {
                    for _ in 0..count {
                        black_box(socket.read(Some(16 << 20)).unwrap().unwrap());
                    }
                });
            });
            group.bench_function(BenchmarkId::new("tungstenite", label), |b| {
                let mut config = tungstenite::protocol::WebSocketConfig::default();
                config.max_message_size = Some(16 << 20);
                config.max_frame_size = Some(16 << 20);
                let mut ws = tungstenite::WebSocket::from_raw_socket(
                    MemStream::new(input.clone()),
                    tungstenite::protocol::Role::Server,
                    Some(config),
                );
                b.iter(|| {
                    for _ in 0..count {
                        // Text messages are UTF-8 checked by tungstenite itself.
                        black_box(ws.read().unwrap());
                    }
                });
            });
            group.bench_function(BenchmarkId::new("fastwebsockets", label), |b| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                let mut ws = fastwebsockets::WebSocket::after_handshake(
                    MemStream::new(input.clone()),
                    fastwebsockets::Role::Server,
                );
                ws.set_max_message_size(16 << 20);
                b.iter(|| {
                    rt.block_on(async {
                        for _ in 0..count {
                            let frame = ws.read_frame().await.unwrap();
                            if text {
                                // fastwebsockets leaves UTF-8 to the caller.
                                black_box(std::str::from_utf8(&frame.payload).unwrap());
                            }
                            black_box(&frame);
                        }
                    })
                });
            });
            group.bench_function(BenchmarkId::new("copy_unmask", label), |b| {
                // The machine's limit for a reader that owns its buffer: the
                // socket-read copy, then one unmasking pass over all of it.
                let mut dst = vec![0u8; input.len()];
                b.iter(|| {
                    dst.copy_from_slice(black_box(&input));
                    sockweave::mask::apply(black_box(&mut dst), [0x37, 0xfa, 0x21, 0x3d], 0);
                });
            });
            group.bench_function(BenchmarkId::new("memcpy", label), |b| {
                let mut dst = vec![0u8; input.len()];
                b.iter(|| dst.copy_from_slice(black_box(&input)));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
