#!/usr/bin/env bash
# A real browser against sockweave servers: headless Chromium (Debian's
# package, installed here if missing) driven by playwright-core (npm ci from
# the lock file), running the reference's JavaScript inside a page served
# from loopback. Every adapter serves in turn.
#
#   tests/browser/run.sh [tokio] [std] [mio] [axum] [axum-h2]   (default: all)
#
# axum: axum_echo_server over HTTP/1.1 (ws://); axum-h2: the same over
# TLS, where Chromium opens every WebSocket as an HTTP/2 extended CONNECT
# (RFC 8441) on the connection the page holds; the servers' logs must
# show every WebSocket as HTTP/2.
set -euo pipefail
cd "$(dirname "$0")/../.."
adapters=("$@")
[ ${#adapters[@]} -gt 0 ] || adapters=(tokio std mio axum axum-h2)
out="$PWD/target/browser"
mkdir -p "$out"
source tests/support.sh

[ -x /usr/bin/chromium ] || apt_install chromium
command -v npm >/dev/null || apt_install nodejs npm
(cd tests/browser && npm ci --silent --no-audit --no-fund)
cargo build --release -q -p sockweave-cli --bin sockweave
cargo build --release -q -p sockweave-tokio --example browser_complete
cargo build --release -q -p sockweave-axum --example axum_echo_server
cargo build --release -q -p sockweave-tests --example gen_certs
sockweave="$PWD/target/release/sockweave"
complete="$PWD/target/release/examples/browser_complete"
./target/release/examples/gen_certs "$out/certs" >/dev/null

# serve NAME PORT ARGS...: the server under test for $adapter.
serve() {
    local name=$1 port=$2
    shift 2
    case "$adapter" in
        axum) start "$port" "$out/$name-$adapter.log" \
            ./target/release/examples/axum_echo_server "127.0.0.1:$port" "$@" ;;
        axum-h2) start "$port" "$out/$name-$adapter.log" \
            ./target/release/examples/axum_echo_server "127.0.0.1:$port" "$@" \
            --tls-cert "$out/certs/cert.pem" --tls-key "$out/certs/key.pem" ;;
        *) start "$port" "$out/$name-$adapter.log" \
            "$sockweave" serve "127.0.0.1:$port" --adapter "$adapter" "$@" ;;
    esac
}

for adapter in "${adapters[@]}"; do
    scheme=ws
    [ "$adapter" = axum-h2 ] && scheme=wss
    echo_port=$(free_port)
    serve echo "$echo_port" --protocol chat
    deflate_port=$(free_port)
    serve deflate "$deflate_port" --protocol chat --deflate
    idle_port=$(free_port)
    serve idle "$idle_port" --idle-timeout 1
    strict_port=$(free_port)
    serve strict "$strict_port" --allow-origin https://other.example
    page=() warm=""
    if [ "$adapter" = axum-h2 ]; then
        for port in "$deflate_port" "$idle_port" "$strict_port"; do warm="$warm,https://127.0.0.1:$port/health"; done
        page=(PAGE_URL="https://127.0.0.1:$echo_port/health" WARM_URLS="$warm" CERT="$out/certs/cert.pem")
    fi
    rc=0
    env "${page[@]}" timeout 300 node tests/browser/run.js "$adapter" "$scheme://127.0.0.1:$echo_port/" \
        "$scheme://127.0.0.1:$deflate_port/" "$scheme://127.0.0.1:$idle_port/" \
        "$scheme://127.0.0.1:$strict_port/" || rc=$?
    [ "$rc" -eq 0 ] || status=1
    # Chromium negotiated permessage-deflate with the --deflate server.
    rc=0
    grep -q "open (protocol chat) (extensions permessage-deflate)" "$out/deflate-$adapter.log" || rc=$?
    result "chromium -> $adapter: server log shows permessage-deflate" "$rc"
    if [ "$adapter" = axum-h2 ]; then
        # Every WebSocket, on every server, came as an extended CONNECT.
        h2=$(cat "$out"/*-axum-h2.log | grep -c '^websocket Http2 ' || true)
        other=$(cat "$out"/*-axum-h2.log | grep '^websocket ' | grep -vc '^websocket Http2 ' || true)
        rc=0
        { [ "$h2" -gt 0 ] && [ "$other" -eq 0 ]; } || rc=1
        result "chromium -> $adapter: every WebSocket was HTTP/2 ($h2 over h2, $other otherwise)" "$rc"
        stop_all
        continue
    fi
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
