#!/usr/bin/env bash
# Interop with implementations nobody here wrote: Python `websockets` and
# Node `ws`, both directions, plain and over TLS with a certificate made
# for the run.
#
#   tests/interop/run.sh [python] [node]      (default: both)
#
# Our servers: `sockweave serve` on every adapter, plain and TLS,
# against each peer's client. Our client (tests/examples/interop_client.rs,
# tokio adapter) against each peer's server. The peers install themselves:
# pip into target/interop/venv from requirements.txt, `npm ci` from the
# lock file in tests/interop/node.
set -euo pipefail
cd "$(dirname "$0")/../.."
peers=("$@")
[ ${#peers[@]} -gt 0 ] || peers=(python node)
out="$PWD/target/interop"
mkdir -p "$out"
source tests/support.sh

cargo build --release -q -p sockweave-cli --bin sockweave
cargo build --release -q -p sockweave-tests --example interop_client --example gen_certs
sockweave="$PWD/target/release/sockweave"
client="$PWD/target/release/examples/interop_client"
./target/release/examples/gen_certs "$out/certs" >/dev/null
ca="$out/certs/ca.pem" cert="$out/certs/cert.pem" key="$out/certs/key.pem"

# A fresh machine may lack the runtimes themselves.
python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
command -v npm >/dev/null || apt_install nodejs npm

for peer in "${peers[@]}"; do
    case "$peer" in
        python)
            [ -x "$out/venv/bin/python" ] || python3 -m venv "$out/venv"
            "$out/venv/bin/pip" install -q --disable-pip-version-check -r tests/interop/requirements.txt
            ;;
        node) (cd tests/interop/node && npm ci --silent --no-audit --no-fund) ;;
        *) echo "unknown peer $peer" >&2; exit 2 ;;
    esac
done

peer_cmd() { # peer → the command that runs it
    case "$1" in
        python) echo "$out/venv/bin/python tests/interop/python_peer.py" ;;
        node) echo "node tests/interop/node/peer.js" ;;
    esac
}

for adapter in tokio std mio; do
    for scheme in ws wss; do
        tls=()
        client_tls=()
        if [ "$scheme" = wss ]; then tls=(--tls-cert "$cert" --tls-key "$key"); client_tls=(--ca "$ca"); fi
        main=$(free_port)
        start "$main" "$out/serve-$adapter-$scheme.log" \
            "$sockweave" serve "127.0.0.1:$main" --adapter "$adapter" --protocol chat "${tls[@]}"
        small=$(free_port)
        start "$small" "$out/serve-$adapter-$scheme-small.log" \
            "$sockweave" serve "127.0.0.1:$small" --adapter "$adapter" --max-message 1024 "${tls[@]}"
        for peer in "${peers[@]}"; do
            rc=0
            timeout 120 $(peer_cmd "$peer") client "$scheme://127.0.0.1:$main/" \
                "$scheme://127.0.0.1:$small/" "${client_tls[@]}" || rc=$?
            result "$peer client -> sockweave serve --adapter $adapter ($scheme)" "$rc"
        done
        stop_all
    done
done

# permessage-deflate, both directions: our servers with --deflate against
# each peer's client offering it, and our client offering it to each
# peer's server accepting it (plain ws; TLS changes nothing here).
for adapter in tokio std mio; do
    main=$(free_port)
    start "$main" "$out/serve-$adapter-deflate.log" \
        "$sockweave" serve "127.0.0.1:$main" --adapter "$adapter" --protocol chat --deflate
    small=$(free_port)
    start "$small" "$out/serve-$adapter-deflate-small.log" \
        "$sockweave" serve "127.0.0.1:$small" --adapter "$adapter" --max-message 1024 --deflate
    for peer in "${peers[@]}"; do
        rc=0
        timeout 120 $(peer_cmd "$peer") client "ws://127.0.0.1:$main/" \
            "ws://127.0.0.1:$small/" --deflate || rc=$?
        result "$peer client -> sockweave serve --adapter $adapter --deflate" "$rc"
    done
    stop_all
done
for peer in "${peers[@]}"; do
    port=$(free_port)
    start "$port" "$out/$peer-server-deflate.log" $(peer_cmd "$peer") server "$port" --deflate
    rc=0
    timeout 120 "$client" "ws://127.0.0.1:$port/" --deflate || rc=$?
    result "sockweave client --deflate -> $peer server --deflate" "$rc"
    stop_all
done

for peer in "${peers[@]}"; do
    for scheme in ws wss; do
        tls=()
        client_tls=()
        if [ "$scheme" = wss ]; then tls=(--cert "$cert" --key "$key"); client_tls=(--ca "$ca"); fi
        port=$(free_port)
        start "$port" "$out/$peer-server-$scheme.log" $(peer_cmd "$peer") server "$port" "${tls[@]}"
        rc=0
        timeout 120 "$client" "$scheme://127.0.0.1:$port/" "${client_tls[@]}" || rc=$?
        result "sockweave client -> $peer server ($scheme)" "$rc"
        stop_all
    done
done
exit $status
