//! permessage-deflate through whole connections, without sockets: a client
//! sends a JSON-like text message compressed, the server inflates it and
//! echoes it compressed, the client inflates the echo. Throughput is in
//! application bytes, for each preset, beside the same echo uncompressed.
//! Messages cycle through 16 different ones (same keys, other values), so
//! context takeover helps as much as it does on real feeds, not more.
// criterion_group! makes public functions that cannot carry docs.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sockweave::deflate::DeflateConfig;
use sockweave::{
    BytesMut, ClientRequest, Config, Connection, Event, Instant, Message, ServerPolicy,
};
use std::hint::black_box;

const T0: Instant = Instant::ZERO;

fn pump(from: &mut Connection, to: &mut Connection, wire: &mut Vec<u8>) -> Option<Message> {
    wire.clear();
    from.poll_transmit(wire);
    let mut input = BytesMut::from(&wire[..]);
    to.receive(&mut input, T0);
    let mut got = None;
    while let Some(event) = to.poll_event() {
        if let Event::Message(m) = event {
            got = Some(m);
        }
    }
    got
}

fn pair(deflate: Option<DeflateConfig>) -> (Connection, Connection) {
    let mut config = Config::default();
    config.deflate = deflate;
    let request = ClientRequest::new("ws://h/").unwrap();
    let mut client =
        Connection::client(&request, config.clone(), |b: &mut [u8]| b.fill(7), T0).unwrap();
    let mut server = Connection::server(ServerPolicy::default(), config, T0).unwrap();
    let mut wire = Vec::new();
    pump(&mut client, &mut server, &mut wire);
    pump(&mut server, &mut client, &mut wire);
    assert_eq!(client.extensions().is_some(), deflate.is_some());
    (client, server)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("deflate_echo");
    for size in [1024, 16 << 10] {
        let messages: Vec<Message> = (0..16)
            .map(|seed| Message::from(sockweave_benches::json_like_seeded(size, seed).as_str()))
            .collect();
        group.throughput(Throughput::Bytes(size as u64));
        // No context takeover, state kept: isolates what freeing costs.
        let mut kept = DeflateConfig::default();
        kept.no_context_takeover = true;
        kept.peer_no_context_takeover = true;
        for (label, deflate) in [
            ("uncompressed", None),
            ("default", Some(DeflateConfig::default())),
            ("no_takeover_kept", Some(kept)),
            ("low_memory", Some(DeflateConfig::low_memory())),
            ("no_context", Some(DeflateConfig::no_context())),
        ] {
            let (mut client, mut server) = pair(deflate);
            let mut wire = Vec::new();
            let mut next = messages.iter().cycle();
            group.bench_function(BenchmarkId::new(label, size), |b| {
                b.iter(|| {
                    client.send(next.next().unwrap().clone()).unwrap();
                    let got = pump(&mut client, &mut server, &mut wire).unwrap();
                    server.send(got).unwrap();
                    black_box(pump(&mut server, &mut client, &mut wire).unwrap());
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
