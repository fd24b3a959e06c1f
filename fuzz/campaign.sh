#!/usr/bin/env bash
# A coverage-guided fuzzing campaign on stable Rust: builds TARGET with
# the sanitizer-coverage instrumentation libFuzzer needs (what cargo-fuzz
# adds, without its nightly-only sanitizers), then fuzzes for SECONDS,
# adding what it finds to fuzz/corpus/TARGET. Crashes go to
# fuzz/artifacts/TARGET/.
#
#   fuzz/campaign.sh TARGET SECONDS [libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")"
target=$1
seconds=$2
shift 2
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
triple=$(rustc -vV | sed -n 's/^host: //p')
# --target keeps the flags off build scripts and proc macros.
cargo build -q --release --target-dir target/cov --target "$triple" --bin "$target"
mkdir -p "corpus/$target" "artifacts/$target"
exec "target/cov/$triple/release/$target" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="artifacts/$target/" "$@" "corpus/$target"
