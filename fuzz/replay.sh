#!/usr/bin/env bash
# Replays every fuzz target's corpus (fuzz/corpus/TARGET): each input runs
# once through the target, built by plain cargo with debug assertions (no
# coverage instrumentation is needed to replay). A crash, a panic or an
# overflow fails. Run from anywhere; CI runs it after building the targets.
set -euo pipefail
cd "$(dirname "$0")"
cargo build -q
status=0
for target in $(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^sockweave-fuzz$'); do
    corpus="corpus/$target"
    if [ ! -d "$corpus" ]; then
        echo "fuzz target $target has no corpus in $corpus" >&2
        status=1
        continue
    fi
    log="target/replay-$target.log"
    if ./target/debug/"$target" -runs=0 "$corpus" > "$log" 2>&1; then
        printf 'ok      %-26s %5d inputs\n' "$target" "$(ls "$corpus" | wc -l)"
    else
        echo "FAILED  $target (see fuzz/$log)"
        tail -30 "$log"
        status=1
    fi
done
exit $status
