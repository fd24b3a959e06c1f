#!/usr/bin/env bash
# Runs the benches the issue sets bars for, in one run with the peers, and
# fails if a bar is missed. Full runs: cargo bench -p sockweave-benches.
set -euo pipefail
cd "$(dirname "$0")/.."
opts=(--warm-up-time 1 --measurement-time 3 --noplot)
log=target/check-bars.log
mkdir -p target
run() { cargo bench -q -p sockweave-benches "$@" >"$log" 2>&1 || { cat "$log"; exit 1; }; }
run --bench frame -- "${opts[@]}" \
    '^decode_binary/(sockweave_frame|tungstenite|tungstenite_frame|fastwebsockets|copy_unmask)/(16B|1KiB|16KiB|64KiB|1MiB)$|^decode_text/sockweave_frame/16KiB$'
run --bench mask -- "${opts[@]}" '^mask/(sockweave|sockweave_offset14)/16KiB$'
python3 benches/bars.py
