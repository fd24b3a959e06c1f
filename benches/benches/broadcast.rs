//! Broadcast without sockets: one message to 10,000 server connections,
//! as a loop of `send` (each connection frames, and with
//! permessage-deflate compresses, on its own) and with a
//! `PreparedMessage` (framed once, compressed once per group, queued by
//! reference). Each iteration queues the message on every connection and
//! then drains every connection as a socket write would; throughput is in
//! delivered messages. 16 B and 1 KiB, plain and with permessage-deflate
//! without context takeover (the setting where one compression can serve
//! everyone).
// criterion_group! makes public functions that cannot carry docs.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sockweave::deflate::DeflateConfig;
use sockweave::{Config, Connection, Instant, Message, PreparedMessage};
use std::hint::black_box;

const T0: Instant = Instant::ZERO;
const SUBSCRIBERS: usize = 10_000;

fn subscribers(deflate: bool) -> Vec<Connection> {
    (0..SUBSCRIBERS)
        .map(|_| {
            let mut deflate_config = DeflateConfig::no_context();
            deflate_config.threshold = 0;
            let mut config = Config::default();
            config.deflate = deflate.then_some(deflate_config);
            let mut conn = Connection::established_server(config, T0).unwrap();
            if deflate {
                conn.use_extensions(
                    "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                )
                .unwrap();
            }
            conn
        })
        .collect()
}

fn drain(conns: &mut [Connection]) -> usize {
    let mut total = 0;
    for conn in conns {
        let n: usize = conn.transmit().map(<[u8]>::len).sum();
        conn.advance_transmit(n);
        total += n;
    }
    total
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("broadcast");
    group.sample_size(20);
    group.throughput(Throughput::Elements(SUBSCRIBERS as u64));
    for deflate in [false, true] {
        let mut conns = subscribers(deflate);
        for (size, label) in [(16, "16B"), (1024, "1KiB")] {
            let text = "market data, tick 4711: bid 101.25 ask 101.50; ".repeat(30);
            let message = Message::from(&text[..size]);
            let label = format!("{label}{}", if deflate { "_deflate" } else { "" });
            group.bench_function(BenchmarkId::new("send_loop", &label), |b| {
                b.iter(|| {
                    for conn in conns.iter_mut() {
                        conn.send(message.clone()).unwrap();
                    }
                    black_box(drain(&mut conns))
                });
            });
            group.bench_function(BenchmarkId::new("prepared", &label), |b| {
                b.iter(|| {
                    let mut prepared = PreparedMessage::new(message.clone());
                    for conn in conns.iter() {
                        prepared.prepare_for(conn);
                    }
                    for conn in conns.iter_mut() {
                        conn.send_prepared(&prepared).unwrap();
                    }
                    black_box(drain(&mut conns))
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
