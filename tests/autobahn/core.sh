#!/usr/bin/env bash
# Autobahn|Testsuite against the bare core, both roles, strict: every case
# OK or INFORMATIONAL, no NON-STRICT, no FAILED.
#
# usage: tests/autobahn/core.sh [PROFILE]   (default: core = cases 1.*-10.*)
# Needs ../shared/autobahn beside the repository (it installs itself).
set -euo pipefail
cd "$(dirname "$0")/../.."
profile="${1:-core}"
autobahn="${AUTOBAHN_DIR:-../shared/autobahn}"
port="${AB_PORT:-9301}"

cargo build --release -q -p sockweave-tests --example core_echo_server --example core_autobahn_client

strict() { # report dir, label
    local total
    total=$(python3 "$autobahn/summarize.py" "$1" | grep '^TOTAL')
    echo "$2: $total"
    [[ "$total" =~ nonstrict=0\ .*failed=0$ ]] || { python3 "$autobahn/summarize.py" "$1"; return 1; }
}

./target/release/examples/core_echo_server "127.0.0.1:$port" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

OUTDIR="$PWD/target/autobahn/core-server" AGENT=sockweave-core \
    bash "$autobahn/test-server.sh" "127.0.0.1:$port" "$profile" >/dev/null
strict target/autobahn/core-server "server (core)"

OUTDIR="$PWD/target/autobahn/core-client" \
    bash "$autobahn/test-client.sh" './target/release/examples/core_autobahn_client {url} sockweave-core' "$profile" >/dev/null
strict target/autobahn/core-client "client (core)"
