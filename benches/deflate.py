#!/usr/bin/env python3
"""permessage-deflate, beside Node `ws` and Python `websockets`:

1. Bytes per idle connection with compression on: N connections each
   exchange one 2 KiB JSON-like message (compressed both ways, so every
   server holds its zlib state), then sit idle; the growth of the server's
   resident memory divided by N. For sockweave, each preset.
2. Compressed echo: messages per second and server CPU per message
   (benches/src/bin/echo_load.rs --deflate: JSON-like text), median of three.

The peers run with their own defaults for compression (ws: 15-bit windows,
memLevel 8, threshold 1 KiB; websockets: 12-bit windows, memLevel 5). They
install themselves as tests/interop does (a venv from its requirements.txt,
npm ci from its lock file).

usage: benches/deflate.py [N] [SECONDS]     (defaults: 1000 connections, 3 s)
"""
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(ROOT, "target", "release")
VENV = os.path.join(ROOT, "target", "interop", "venv")
PORT = 9413
CLK = os.sysconf("SC_CLK_TCK")
MESSAGE = 2048
LOAD = [(10, 1024, 8), (10, 16 << 10, 4)]


def sockweave(adapter, preset):
    return lambda port: [os.path.join(BIN, "sockweave"), "serve", f"127.0.0.1:{port}",
                         "--adapter", adapter, "--deflate", preset]


def node(port):
    return ["node", os.path.join(ROOT, "tests/interop/node/peer.js"), "server", str(port), "--deflate"]


def python(port):
    return [os.path.join(VENV, "bin", "python"), os.path.join(ROOT, "tests/interop/python_peer.py"),
            "server", str(port), "--deflate"]


MEMORY = [
    ("sockweave-tokio", "default", sockweave("tokio", "default")),
    ("sockweave-tokio", "low-memory", sockweave("tokio", "low-memory")),
    ("sockweave-tokio", "no-context", sockweave("tokio", "no-context")),
    ("sockweave-mio", "default", sockweave("mio", "default")),
    ("node ws 8.23", "perMessageDeflate: true", node),
    ("python websockets 17.4", "compression=\"deflate\"", python),
]
ECHO = [
    ("sockweave-tokio", sockweave("tokio", "default")),
    ("sockweave-mio", sockweave("mio", "default")),
    ("node ws", node),
    ("python websockets", python),
]


def setup():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "sockweave-cli", "--bin", "sockweave",
                    "-p", "sockweave-benches", "--bin", "idle_clients", "--bin", "echo_load"],
                   cwd=ROOT, check=True)
    if not os.path.exists(os.path.join(VENV, "bin", "python")):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([os.path.join(VENV, "bin", "pip"), "install", "-q", "--disable-pip-version-check",
                    "-r", os.path.join(ROOT, "tests/interop/requirements.txt")], check=True)
    subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"],
                   cwd=os.path.join(ROOT, "tests/interop/node"), check=True)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def start(command):
    server = subprocess.Popen(command(PORT), stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    end = time.time() + 15
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            time.sleep(0.3)
            return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"nothing listening on {PORT}: {command(PORT)}")


def stop(server):
    server.kill()
    server.wait()


def idle_memory(command, count):
    server = start(command)
    try:
        before = rss_bytes(server.pid)
        client = subprocess.Popen(
            [os.path.join(BIN, "idle_clients"), f"ws://127.0.0.1:{PORT}/", str(count),
             "--deflate", "--message", str(MESSAGE)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = client.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"client failed: {line!r}")
        time.sleep(1.0)
        after = rss_bytes(server.pid)
        client.stdin.close()
        client.wait(timeout=60)
        return (after - before) / count
    finally:
        stop(server)


def echo(command, connections, payload, in_flight, seconds):
    server = start(command)
    try:
        before = cpu_seconds(server.pid)
        out = subprocess.run(
            [os.path.join(BIN, "echo_load"), f"ws://127.0.0.1:{PORT}/", str(connections), str(payload),
             str(in_flight), str(seconds), "--deflate"],
            capture_output=True, text=True, timeout=seconds + 60, check=True)
        cpu = cpu_seconds(server.pid) - before
        rate = float(out.stdout.strip())
        return rate, cpu / max(rate * seconds, 1) * 1e6
    finally:
        stop(server)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(args[0]) if args else 1000
    seconds = float(args[1]) if len(args) > 1 else 3.0
    setup()
    print(f"| server | compression settings | bytes per idle connection ({count}, after one "
          f"{MESSAGE} B message each way) |")
    print("|---|---|---|")
    for name, preset, command in MEMORY:
        print(f"| {name} | {preset} | {idle_memory(command, count):,.0f} |", flush=True)
    print()
    print("| connections x payload x in flight | " + " | ".join(n for n, _ in ECHO) + " |")
    print("|---|" + "---|" * len(ECHO))
    for row in LOAD:
        cells = []
        for _, command in ECHO:
            rate, cpu_us = sorted(echo(command, *row, seconds) for _ in range(3))[1]
            cells.append(f"{rate / 1000:,.1f} k/s, {cpu_us:.1f} µs")
        connections, payload, in_flight = row
        print(f"| {connections} x {payload} B x {in_flight} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
