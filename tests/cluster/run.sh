#!/usr/bin/env bash
# chat_cluster across three nodes and a real Redis: installs Debian's
# redis-server if missing, builds the example, and runs tests/cluster
# (ignored in a plain `cargo test`: it needs both). The test starts its own
# redis-server on a free loopback port and stops it by its PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v redis-server > /dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q > /dev/null
    apt-get install -y -q --no-install-recommends redis-server > /dev/null
fi
cargo build -q -p sockweave-tokio --example chat_cluster
export CHAT_CLUSTER_BIN="$PWD/target/debug/examples/chat_cluster"
cargo test -q -p sockweave-tests --test cluster -- --ignored
