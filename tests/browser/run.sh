#!/usr/bin/env bash
# A real browser against sockweave servers: headless Chromium (Debian's
# package, installed here if missing) driven by playwright-core (npm ci from
# the lock file), running the reference's JavaScript inside a page served
# from loopback. Every adapter serves in turn.
#
#   tests/browser/run.sh [tokio] [std] [mio]      (default: all three)
set -euo pipefail
cd "$(dirname "$0")/../.."
adapters=("$@")
[ ${#adapters[@]} -gt 0 ] || adapters=(tokio std mio)
out="$PWD/target/browser"
mkdir -p "$out"
source tests/support.sh

[ -x /usr/bin/chromium ] || apt_install chromium
command -v npm >/dev/null || apt_install nodejs npm
(cd tests/browser && npm ci --silent --no-audit --no-fund)
cargo build --release -q -p sockweave-cli --bin sockweave
cargo build --release -q -p sockweave-tokio --example browser_complete
sockweave="$PWD/target/release/sockweave"
complete="$PWD/target/release/examples/browser_complete"

for adapter in "${adapters[@]}"; do
    echo_port=$(free_port)
    start "$echo_port" "$out/echo-$adapter.log" \
        "$sockweave" serve "127.0.0.1:$echo_port" --adapter "$adapter" --protocol chat
    deflate_port=$(free_port)
    start "$deflate_port" "$out/deflate-$adapter.log" \
        "$sockweave" serve "127.0.0.1:$deflate_port" --adapter "$adapter" --protocol chat --deflate
    idle_port=$(free_port)
    start "$idle_port" "$out/idle-$adapter.log" \
        "$sockweave" serve "127.0.0.1:$idle_port" --adapter "$adapter" --idle-timeout 1
    strict_port=$(free_port)
    start "$strict_port" "$out/strict-$adapter.log" \
        "$sockweave" serve "127.0.0.1:$strict_port" --adapter "$adapter" --allow-origin https://other.example
    rc=0
    timeout 300 node tests/browser/run.js "$adapter" "ws://127.0.0.1:$echo_port/" \
        "ws://127.0.0.1:$deflate_port/" "ws://127.0.0.1:$idle_port/" "ws://127.0.0.1:$strict_port/" || rc=$?
    [ "$rc" -eq 0 ] || status=1
    # Chromium negotiated permessage-deflate with the --deflate server.
    rc=0
    grep -q "open (protocol chat) (extensions permessage-deflate)" "$out/deflate-$adapter.log" || rc=$?
    result "chromium -> $adapter: server log shows permessage-deflate" "$rc"
    # The reference's complete example, in Rust, against the same server.
    rc=0
    timeout 30 "$complete" "ws://127.0.0.1:$echo_port/" >"$out/complete-$adapter.log" 2>&1 || rc=$?
    result "rust browser_complete -> $adapter" "$rc"
    rc=0
    timeout 30 "$complete" "ws://127.0.0.1:$deflate_port/" >"$out/complete-deflate-$adapter.log" 2>&1 || rc=$?
    result "rust browser_complete -> $adapter+deflate" "$rc"
    stop_all
done
exit $status
