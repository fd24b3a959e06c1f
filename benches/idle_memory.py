#!/usr/bin/env python3
"""Bytes per idle WebSocket connection, per server, on loopback.

Starts each echo server, opens N idle connections to it from a separate
client process (benches/src/bin/idle_clients.rs), and divides the growth of
the server's resident memory (VmRSS) by N. Kernel socket buffers are not in
a process's RSS and are not counted, for any server.

usage: benches/idle_memory.py [N] [--check]
  --check  fail unless mio <= 576 B and tokio <= 1,600 B per connection
"""
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(ROOT, "target", "release")
PORT = 9411

SERVERS = [
    ("sockweave-mio", [os.path.join(BIN, "examples", "mio_echo_server")]),
    ("sockweave-tokio", [os.path.join(BIN, "examples", "tokio_echo_server")]),
    ("tokio-tungstenite", [os.path.join(BIN, "tokio_tungstenite_echo")]),
]
TARGETS = {"sockweave-mio": 576, "sockweave-tokio": 1600}


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def wait_port(port, deadline=10.0):
    end = time.time() + deadline
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def measure(name, command, count):
    server = subprocess.Popen(command + [f"127.0.0.1:{PORT}"], stderr=subprocess.DEVNULL)
    try:
        wait_port(PORT)
        time.sleep(0.5)
        before = rss_bytes(server.pid)
        client = subprocess.Popen(
            [os.path.join(BIN, "idle_clients"), f"ws://127.0.0.1:{PORT}/", str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = client.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"{name}: client failed: {line!r}")
        time.sleep(1.0)
        after = rss_bytes(server.pid)
        client.stdin.close()
        client.wait(timeout=30)
        return (after - before) / count
    finally:
        server.kill()
        server.wait()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(args[0]) if args else 10_000
    check = "--check" in sys.argv
    missed = []
    print(f"| server | bytes per idle connection ({count} connections) |")
    print("|---|---|")
    for name, command in SERVERS:
        per = measure(name, command, count)
        print(f"| {name} | {per:,.0f} |")
        limit = TARGETS.get(name)
        if check and limit is not None and per > limit:
            missed.append(f"{name}: {per:.0f} > {limit}")
    if missed:
        print("MISSED: " + "; ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
