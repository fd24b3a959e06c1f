//! Incremental UTF-8 validation against `core::str::from_utf8`.
// criterion_group! makes public functions that cannot carry docs.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sockweave::utf8::Validator;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("utf8");
    let ascii = "websocket frames ".repeat(1000).into_bytes()[..16 << 10].to_vec();
    let mixed = "κόσμε websocket 𝄞 ".repeat(1000).into_bytes()[..(16 << 10) - 3].to_vec();
    let mixed =
        mixed[..std::str::from_utf8(&mixed).map_or_else(|e| e.valid_up_to(), |s| s.len())].to_vec();
    for (label, data) in [("ascii_16KiB", &ascii), ("mixed_16KiB", &mixed)] {
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(BenchmarkId::new("validator_whole", label), |b| {
            b.iter(|| {
                let mut v = Validator::new();
                v.feed(black_box(data)).unwrap();
                v.finish().unwrap();
            });
        });
        group.bench_function(BenchmarkId::new("validator_1KiB_pieces", label), |b| {
            b.iter(|| {
                let mut v = Validator::new();
                for piece in black_box(data).chunks(1000) {
                    v.feed(piece).unwrap();
                }
                v.finish().unwrap();
            });
        });
        group.bench_function(BenchmarkId::new("core_from_utf8", label), |b| {
            b.iter(|| core::str::from_utf8(black_box(data)).unwrap().len());
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
