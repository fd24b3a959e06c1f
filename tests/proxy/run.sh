#!/usr/bin/env bash
# Clients through real proxies: installs Debian's tinyproxy (HTTP CONNECT)
# and dante-server (SOCKS5) if missing, then runs tests/proxy (ignored in a
# plain `cargo test`: they need the two programs). Each test starts its own
# proxies on free loopback ports and stops them by their PIDs.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v tinyproxy > /dev/null || ! command -v danted > /dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q > /dev/null
    apt-get install -y -q --no-install-recommends tinyproxy dante-server > /dev/null
fi
cargo test -q -p sockweave-tests --test proxy -- --ignored --test-threads 1
