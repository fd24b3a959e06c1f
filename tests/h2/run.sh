#!/usr/bin/env bash
# WebSockets over HTTP/2 (RFC 8441) against implementations nobody here
# wrote: Node's built-in http2 module as the client of axum_echo_server,
# over h2c (prior knowledge) and over TLS (ALPN h2). The server's log must
# show every WebSocket as an HTTP/2 extended CONNECT.
#
#   tests/h2/run.sh
#
# Node ws (its Receiver and Sender frame the messages) comes from the lock
# file in tests/interop/node.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="$PWD/target/h2"
mkdir -p "$out"
source tests/support.sh

command -v npm >/dev/null || apt_install nodejs npm
(cd tests/interop/node && npm ci --silent --no-audit --no-fund)
cargo build --release -q -p sockweave-axum --example axum_echo_server
cargo build --release -q -p sockweave-tests --example gen_certs
server="$PWD/target/release/examples/axum_echo_server"
./target/release/examples/gen_certs "$out/certs" >/dev/null
ca="$out/certs/ca.pem" cert="$out/certs/cert.pem" key="$out/certs/key.pem"

for scheme in http https; do
    tls=()
    [ "$scheme" = https ] && tls=(--tls-cert "$cert" --tls-key "$key")
    port=$(free_port)
    log="$out/axum-$scheme.log"
    start "$port" "$log" "$server" "127.0.0.1:$port" --protocol chat "${tls[@]}"
    rc=0
    timeout 180 node tests/h2/client.js "$scheme://127.0.0.1:$port" --ca "$ca" || rc=$?
    result "Node http2 client -> axum_echo_server ($scheme)" "$rc"
    stop_all
    # 1 + 10 + 1 WebSockets opened, every one of them over HTTP/2.
    h2=$(grep -c '^websocket Http2 ' "$log" || true)
    other=$(grep '^websocket ' "$log" | grep -vc '^websocket Http2 ' || true)
    rc=0
    { [ "$h2" -ge 12 ] && [ "$other" -eq 0 ]; } || rc=1
    result "every WebSocket was an extended CONNECT on HTTP/2 ($scheme: $h2 h2, $other other)" "$rc"
done
exit $status
