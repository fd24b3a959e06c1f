//! Masking in place, against a naive byte loop and memcpy.
// criterion_group! makes public functions that cannot carry docs.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask");
    for (size, label) in sockweave_benches::SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        let mut buf = vec![0xa5u8; size];
        group.bench_function(BenchmarkId::new("sockweave", label), |b| {
            b.iter(|| sockweave::mask::apply(black_box(&mut buf), [1, 2, 3, 4], 1));
        });
        // Where a large frame's payload sits in a read buffer: 14 bytes
        // (the longest header) past a 64-byte boundary.
        let mut spare = vec![0xa5u8; size + 128];
        let at = spare.as_ptr().align_offset(64) + 14;
        group.bench_function(BenchmarkId::new("sockweave_offset14", label), |b| {
            b.iter(|| {
                sockweave::mask::apply(black_box(&mut spare[at..at + size]), [1, 2, 3, 4], 1)
            });
        });
        group.bench_function(BenchmarkId::new("naive", label), |b| {
            b.iter(|| {
                let key = [1u8, 2, 3, 4];
                for (i, byte) in black_box(&mut buf).iter_mut().enumerate() {
                    *byte ^= key[(i + 1) & 3];
                }
            });
        });
        let src = vec![0x5au8; size];
        group.bench_function(BenchmarkId::new("memcpy", label), |b| {
            b.iter(|| black_box(&mut buf).copy_from_slice(black_box(&src)));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
