#!/usr/bin/env python3
"""Echo load: messages per second and server CPU per message, for each echo
server, over a small matrix of connections x payload x messages in flight.

The load client (benches/src/bin/echo_load.rs) and the server share the
machine's cores, so figures are relative: all servers face the same client
in the same run. Server CPU comes from /proc/PID/stat (user + system).

Each cell is the median of three runs (the machine is small and noisy).

usage: benches/echo_load.py [SECONDS] [--check]
  --check  fail unless, in the pipelined row, each sockweave server echoes at
           least 85% of the better peer's rate, and, one at a time, uses at
           most 115% of the better peer's CPU per message (margins for a
           2-core machine where client and server share the cores)
"""
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(ROOT, "target", "release")
PORT = 9412
CLK = os.sysconf("SC_CLK_TCK")

SERVERS = [
    ("sockweave-tokio", [os.path.join(BIN, "examples", "tokio_echo_server")]),
    ("sockweave-mio", [os.path.join(BIN, "examples", "mio_echo_server")]),
    ("tokio-tungstenite", [os.path.join(BIN, "tokio_tungstenite_echo")]),
    ("fastwebsockets", [os.path.join(BIN, "fastwebsockets_echo")]),
]
# (connections, payload bytes, messages in flight per connection)
MATRIX = [(1, 32, 1), (10, 32, 64), (100, 1024, 8), (10, 64 << 10, 4)]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def wait_port(port):
    end = time.time() + 10
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def run(command, connections, payload, in_flight, seconds):
    server = subprocess.Popen(command + [f"127.0.0.1:{PORT}"], stderr=subprocess.DEVNULL)
    try:
        wait_port(PORT)
        before = cpu_seconds(server.pid)
        out = subprocess.run(
            [os.path.join(BIN, "echo_load"), f"ws://127.0.0.1:{PORT}/", str(connections), str(payload),
             str(in_flight), str(seconds)],
            capture_output=True, text=True, timeout=seconds + 60, check=True,
        )
        cpu = cpu_seconds(server.pid) - before
        rate = float(out.stdout.strip())
        return rate, cpu / max(rate * seconds, 1) * 1e6
    finally:
        server.kill()
        server.wait()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    seconds = float(args[0]) if args else 3.0
    check = "--check" in sys.argv
    print("| connections x payload x in flight | " + " | ".join(n for n, _ in SERVERS) + " |")
    print("|---|" + "---|" * len(SERVERS))
    results = {}
    for row in MATRIX:
        cells = []
        for name, command in SERVERS:
            runs = sorted(run(command, *row, seconds) for _ in range(3))
            rate, cpu_us = runs[1]
            results[(row, name)] = (rate, cpu_us)
            cells.append(f"{rate / 1000:,.0f} k/s, {cpu_us:.2f} µs")
        connections, payload, in_flight = row
        print(f"| {connections} x {payload} B x {in_flight} | " + " | ".join(cells) + " |")
    if not check:
        return
    peers, ours = ("tokio-tungstenite", "fastwebsockets"), ("sockweave-tokio", "sockweave-mio")
    missed = []
    best_rate = max(results[(MATRIX[1], p)][0] for p in peers)
    best_cpu = min(results[(MATRIX[0], p)][1] for p in peers)
    for name in ours:
        if results[(MATRIX[1], name)][0] < 0.85 * best_rate:
            missed.append(f"{name} pipelined rate")
        if results[(MATRIX[0], name)][1] > 1.15 * best_cpu:
            missed.append(f"{name} one-at-a-time CPU per message")
    if missed:
        print("MISSED: " + "; ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
