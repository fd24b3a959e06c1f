#!/usr/bin/env bash
# WebSockets over HTTP/2 (RFC 8441) against implementations nobody here
# wrote: Node's built-in http2 module as the client of axum_echo_server,
# over h2c (prior knowledge) and over TLS (ALPN h2), the server's log
# showing every WebSocket as an HTTP/2 extended CONNECT; and as the server
# for sockweave-hyper's client (tests/examples/h2_interop_client.rs), which
# must use HTTP/2 when the server enables the extended CONNECT and fall
# back to HTTP/1.1 when it does not.
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
cargo build --release -q -p sockweave-tests --example gen_certs --example h2_interop_client
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
# Our client against Node's http2 server: h2c, TLS, and TLS without the
# setting (the server then takes HTTP/1.1 upgrades, ALPN http/1.1).
client="$PWD/target/release/examples/h2_interop_client"
for case in h2c tls fallback; do
    port=$(free_port)
    log="$out/node-$case.log"
    case "$case" in
        h2c) start "$port" "$log" node tests/h2/server.js "$port"
             url="ws://127.0.0.1:$port/" flags=(--prior-knowledge --expect h2) want="websocket h2" ;;
        tls) start "$port" "$log" node tests/h2/server.js "$port" --tls "$cert" "$key"
             url="wss://127.0.0.1:$port/" flags=(--ca "$ca" --expect h2) want="websocket h2" ;;
        fallback) start "$port" "$log" node tests/h2/server.js "$port" --tls "$cert" "$key" --no-connect-protocol
             url="wss://127.0.0.1:$port/" flags=(--ca "$ca" --expect http/1.1) want="websocket http/1.1" ;;
    esac
    rc=0
    timeout 120 "$client" "$url" "${flags[@]}" || rc=$?
    result "sockweave-hyper client -> Node http2 server ($case)" "$rc"
    stop_all
    rc=0
    other=$(grep '^websocket ' "$log" | grep -vc "^$want\$" || true)
    { grep -q "^$want\$" "$log" && [ "$other" -eq 0 ]; } || rc=1
    result "Node's log: every WebSocket was '$want' ($case)" "$rc"
done
exit $status
