#!/usr/bin/env python3
"""User-space instructions per echoed message, per server, under callgrind.

The echo matrix's rates move by 10-30% between runs on this shared 2-core
machine, more than the differences left in the one-message-in-flight
cells. Instructions retired in user space do not: each server runs under
valgrind's callgrind, the same load client (ws_load) echoes for a few
seconds, and the instruction count (the whole process: our code, the
runtime, libc's malloc and memcpy; not the kernel) is divided by the
messages echoed. The connection set-up is in the count too, and is small
beside tens of thousands of echoes.

usage: benches/instructions.py [--cell C,P,F] [--seconds S] [--servers A,B]
  --cell     connections, payload bytes, messages in flight (16,1024,1)
  --seconds  load per server (default 6; the server runs ~50x slower)
Needs valgrind (installed with apt-get when missing) and the release
builds of benches/matrix.py.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from matrix import SERVERS  # noqa: E402
from echo_load import BIN, wait_port  # noqa: E402

# tokio-tungstenite is left out: under valgrind it echoes too few messages
# (its 128 KiB buffers per connection) for its set-up to wash out.
RUST_SERVERS = ["sockweave-tokio", "sockweave-mio", "fastwebsockets"]
PORT = 9790


def ensure_valgrind():
    if shutil.which("valgrind") and shutil.which("callgrind_control"):
        return
    subprocess.run(["apt-get", "update", "-q"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "valgrind"], check=True)


def measure(name, cell, seconds, port):
    """Instructions per echoed message for one server."""
    out_dir = tempfile.mkdtemp(prefix="instructions-")
    out = os.path.join(out_dir, "callgrind.out")
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        + SERVERS[name] + [f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        connections, payload, in_flight = cell
        load = subprocess.run(
            [os.path.join(BIN, "ws_load"), f"127.0.0.1:{port}", str(connections),
             str(payload), str(in_flight), str(seconds)],
            capture_output=True, text=True, timeout=seconds + 120, check=True)
        echoed = json.loads(load.stdout.splitlines()[-1])["echoed"]
        # The servers run until killed: dump the counts first.
        subprocess.run(["callgrind_control", "--dump", str(server.pid)],
                       capture_output=True, timeout=60)
    finally:
        server.kill()
        server.wait()
    total = 0
    for dump in glob.glob(out + "*"):
        with open(dump) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    total = max(total, int(line.split()[1]))
    shutil.rmtree(out_dir, ignore_errors=True)
    return total / max(echoed, 1), echoed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cell", default="16,1024,1")
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--servers", default=",".join(RUST_SERVERS))
    args = parser.parse_args()
    cell = tuple(int(x) for x in args.cell.split(","))
    ensure_valgrind()
    print(f"| server | user-space instructions per echo ({args.cell}) | messages echoed |")
    print("|---|---|---|")
    for i, name in enumerate(args.servers.split(",")):
        per_echo, echoed = measure(name, cell, args.seconds, PORT + i)
        print(f"| {name} | {per_echo:,.0f} | {echoed:,} |", flush=True)


if __name__ == "__main__":
    main()
