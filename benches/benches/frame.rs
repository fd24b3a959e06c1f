//! Reading masked frames as a server: sockweave's frame layer and whole
//! connection, tungstenite's and fastwebsockets' read paths, and a memcpy
//! of the same bytes as the physical reference. Each iteration reads about
//! 1 MiB of input: many 20-byte frames, or two 1 MiB frames.
// criterion_group! makes public functions that cannot carry docs.
#![allow(missing_docs)]

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sockweave::frame::{DecodeRules, Status, decode_frame};
use sockweave::{BytesMut, Config, Connection, Event, Instant, Role};
use sockweave_benches::{MemStream, SIZES, frames_per_batch, masked_frames};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    for text in [false, true] {
        let kind = if text { "text" } else { "binary" };
        let mut group = c.benchmark_group(format!("decode_{kind}"));
        for (size, label) in SIZES {
            let count = frames_per_batch(size);
            group.throughput(Throughput::Bytes((count * size) as u64));
            let input = masked_frames(size, text, count, [0x37, 0xfa, 0x21, 0x3d]);
            group.bench_function(BenchmarkId::new("sockweave_frame", label), |b| {
                // In-place unmasking changes the input, so each pass starts
                // from a fresh copy made outside the timing.
                let rules = DecodeRules::new(Role::Server, 16 << 20);
                b.iter_batched_ref(
                    || input.clone(),
                    |buf| {
                        let mut at = 0;
                        let mut validator = sockweave::utf8::Validator::new();
                        while let Ok(Status::Complete(frame)) = decode_frame(&mut buf[at..], &rules)
                        {
                            if text {
                                validator.feed(frame.payload).unwrap();
                            }
                            at += frame.len;
                        }
                        assert_eq!(at, buf.len());
                    },
                    BatchSize::LargeInput,
                );
            });
            group.bench_function(BenchmarkId::new("sockweave_connection", label), |b| {
                // Like an adapter: socket reads of up to 64 KiB are copied
                // into the read buffer, and events are drained after each.
                let mut config = Config::default();
                config.max_message_len = 16 << 20;
                b.iter_batched_ref(
                    || {
                        (
                            Connection::established_server(config.clone(), Instant::ZERO).unwrap(),
                            BytesMut::with_capacity(64 << 10),
                        )
                    },
                    |(conn, buf)| {
                        let mut n = 0;
                        for read in input.chunks(64 << 10) {
                            buf.extend_from_slice(read);
                            conn.receive(buf, Instant::ZERO);
                            while let Some(event) = conn.poll_event() {
                                if let Event::Message(m) = event {
                                    black_box(&m);
                                    n += 1;
                                }
                            }
                        }
                        assert_eq!(n, count);
                    },
                    BatchSize::LargeInput,
                );
            });
            group.bench_function(BenchmarkId::new("tungstenite_frame", label), |b| {
                // tungstenite's frame layer. It leaves unmasking (and UTF-8)
                // to its message layer, so this does less work than the others.
                b.iter_batched_ref(
                    || {
                        tungstenite::protocol::frame::FrameSocket::new(MemStream::new(
                            input.clone(),
                        ))
                    },
                    |socket| {
                        for _ in 0..count {
                            black_box(socket.read(Some(16 << 20)).unwrap().unwrap());
                        }
                    },
                    BatchSize::LargeInput,
                );
            });
            group.bench_function(BenchmarkId::new("tungstenite", label), |b| {
                let mut config = tungstenite::protocol::WebSocketConfig::default();
                config.max_message_size = Some(16 << 20);
                config.max_frame_size = Some(16 << 20);
                b.iter_batched_ref(
                    || {
                        let stream = MemStream::new(input.clone());
                        tungstenite::WebSocket::from_raw_socket(
                            stream,
                            tungstenite::protocol::Role::Server,
                            Some(config),
                        )
                    },
                    |ws| {
                        for _ in 0..count {
                            // Text messages are UTF-8 checked by tungstenite itself.
                            black_box(ws.read().unwrap());
                        }
                    },
                    BatchSize::LargeInput,
                );
            });
            group.bench_function(BenchmarkId::new("fastwebsockets", label), |b| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                b.iter_batched_ref(
                    || {
                        let mut ws = fastwebsockets::WebSocket::after_handshake(
                            MemStream::new(input.clone()),
                            fastwebsockets::Role::Server,
                        );
                        ws.set_max_message_size(16 << 20);
                        ws
                    },
                    |ws| {
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
                    },
                    BatchSize::LargeInput,
                );
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
