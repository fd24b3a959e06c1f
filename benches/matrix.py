#!/usr/bin/env python3
"""The echo matrix of issue 14: both sockweave echo servers beside
fastwebsockets, tokio-tungstenite, uWebSockets.js and Node ws.

Method: every server runs at once, each pinned to core 0 (taskset); the
load generator (benches/src/bin/ws_load.rs, not built on sockweave, the
same for every server) is pinned to core 1. For every cell and repetition
the servers take turns in an order rotated per repetition; ratios are
paired within a repetition (ours against the best peer of that same
repetition) and the tables give medians. Server CPU comes from
/proc/PID/stat (user + system) over the measured window.

usage: benches/matrix.py [--seconds S] [--reps N] [--quick] [--cell C,P,F]
                         [--servers A,B] [--write]
  --quick  four cells instead of eighteen (a smoke run)
  --cell   one cell: connections, payload bytes, messages in flight
  --servers  only these servers (names as in the tables)
  --write  put the tables into docs/benchmarks.md (between the matrix
           markers) with the date, the peers' versions and the command
Raw results go to target/matrix.json.
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from echo_load import BIN, ROOT, cpu_seconds, wait_port  # noqa: E402

NODE_DIR = os.path.join(ROOT, "benches", "node")
OURS = ["sockweave-tokio", "sockweave-mio"]
PEERS = ["fastwebsockets", "tokio-tungstenite", "uWebSockets.js", "ws"]
SERVERS = {
    "sockweave-tokio": [os.path.join(BIN, "examples", "tokio_echo_server")],
    "sockweave-mio": [os.path.join(BIN, "examples", "mio_echo_server")],
    "fastwebsockets": [os.path.join(BIN, "fastwebsockets_echo")],
    "tokio-tungstenite": [os.path.join(BIN, "tokio_tungstenite_echo")],
    "uWebSockets.js": ["node", os.path.join(NODE_DIR, "echo.js"), "uws"],
    "ws": ["node", os.path.join(NODE_DIR, "echo.js"), "ws"],
}
BASE_PORT = 9620
SERVER_CORE, CLIENT_CORE = "0", "1"

# (connections, payload bytes, messages in flight per connection)
ONE_IN_FLIGHT = [(c, p, 1) for c in (1, 16, 256) for p in (16, 1 << 10, 64 << 10, 1 << 20)]
PIPELINED = [(c, p, 16) for c in (1, 16, 256) for p in (16, 1 << 10)]
MATRIX = ONE_IN_FLIGHT + PIPELINED
QUICK = [(16, 16, 1), (256, 1 << 10, 1), (16, 1 << 10, 16), (16, 64 << 10, 1)]


def size(n):
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB" if n >= 1 << 10 else f"{n} B"


def cell_name(cell):
    connections, payload, in_flight = cell
    return f"{connections} x {size(payload)} x {in_flight}"


def setup():
    """Release builds of every server and the load generator, the Node
    peers from their lock file."""
    cargo = ["cargo", "build", "--release", "-q"]
    subprocess.run(cargo + ["-p", "sockweave-tokio", "--example", "tokio_echo_server",
                            "-p", "sockweave-mio", "--example", "mio_echo_server",
                            "-p", "sockweave-benches", "--bin", "ws_load",
                            "--bin", "fastwebsockets_echo", "--bin", "tokio_tungstenite_echo"],
                   cwd=ROOT, check=True)
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)


def start_servers(names, commands=SERVERS, base_port=BASE_PORT):
    """Starts each named server pinned to the server core; `commands[name]`
    is its command line before the address (a bare port for the Node
    peers, HOST:PORT otherwise, or after its options when it ends with
    options)."""
    servers = {}
    for i, name in enumerate(commands):
        if name not in names:
            continue
        port = base_port + i
        command = commands[name]
        address = str(port) if command[0] == "node" else f"127.0.0.1:{port}"
        extra = []
        if "--" in command:
            command, extra = command[:command.index("--")], command[command.index("--") + 1:]
        process = subprocess.Popen(["taskset", "-c", SERVER_CORE] + command + [address] + extra,
                                   stderr=subprocess.DEVNULL, cwd=NODE_DIR if command[0] == "node" else ROOT)
        servers[name] = (process, port)
    try:
        for name, (_, port) in servers.items():
            wait_port(port)
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers):
    for process, _ in servers.values():
        process.kill()
        process.wait()


def measure_client(server, argv):
    """Runs a load generator pinned to the client core: it prints `start`,
    then one JSON line. Returns (that result, server CPU seconds between
    the two lines), or None if the run failed."""
    client = subprocess.Popen(["taskset", "-c", CLIENT_CORE] + argv,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if client.stdout.readline().strip() != "start":
            client.wait(timeout=60)
            print(f"    failed: {client.stderr.read().strip()}", file=sys.stderr)
            return None
        before = cpu_seconds(server.pid)
        line = client.stdout.readline()
        after = cpu_seconds(server.pid)
        client.wait(timeout=60)
        if client.returncode != 0 or not line:
            print(f"    failed: {client.stderr.read().strip()}", file=sys.stderr)
            return None
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    return json.loads(line), after - before


def measure(server, port, cell, seconds):
    """One echo run; (rate, cpu µs per message, p50, p99) or None."""
    connections, payload, in_flight = cell
    outcome = measure_client(server, [os.path.join(BIN, "ws_load"), f"127.0.0.1:{port}", str(connections),
                                      str(payload), str(in_flight), str(seconds)])
    if outcome is None:
        return None
    result, cpu = outcome
    return result["rate"], cpu / max(result["echoed"], 1) * 1e6, result["p50_us"], result["p99_us"]


def run(cells, reps, seconds, names):
    servers = start_servers(names)
    results = {}  # (cell, server) -> [per repetition]
    try:
        for cell in cells:
            print(f"{cell_name(cell)}", file=sys.stderr)
            for rep in range(reps):
                shift = rep % len(names)
                for name in names[shift:] + names[:shift]:
                    process, port = servers[name]
                    outcome = measure(process, port, cell, seconds)
                    results.setdefault((cell, name), [None] * reps)[rep] = outcome
                    if outcome:
                        print(f"  {name}: {outcome[0]:,.0f}/s {outcome[1]:.2f} µs", file=sys.stderr)
    finally:
        stop_servers(servers)
    return results


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def paired(results, cell, ours, reps):
    """Median over repetitions of (our rate / best peer rate, best peer CPU
    / our CPU): above 1 means ours leads; and the peer that was best most
    often for each."""
    rate_ratios, cpu_ratios, rate_best, cpu_best = [], [], [], []
    for rep in range(reps):
        mine = results[(cell, ours)][rep]
        peers = [(p, results[(cell, p)][rep]) for p in PEERS
                 if (cell, p) in results and results[(cell, p)][rep]]
        if not mine or not peers:
            continue
        best_rate = max(peers, key=lambda p: p[1][0])
        best_cpu = min(peers, key=lambda p: p[1][1])
        rate_ratios.append(mine[0] / best_rate[1][0])
        cpu_ratios.append(best_cpu[1][1] / mine[1])
        rate_best.append(best_rate[0])
        cpu_best.append(best_cpu[0])
    mode = lambda xs: max(set(xs), key=xs.count) if xs else "-"  # noqa: E731
    return median(rate_ratios), median(cpu_ratios), mode(rate_best), mode(cpu_best)


def tables(results, cells, reps, names):
    out = []

    def table(title, render):
        out.append(f"\n{title}\n")
        out.append("| cell | " + " | ".join(names) + " |")
        out.append("|---|" + "---|" * len(names))
        for cell in cells:
            row = []
            for name in names:
                runs = results[(cell, name)]
                row.append(render(runs))
            out.append(f"| {cell_name(cell)} | " + " | ".join(row) + " |")

    def field(i, fmt):
        def render(runs):
            value = median([r[i] if r else None for r in runs])
            return "failed" if value is None else fmt(value)
        return render

    table("Messages echoed per second (median):", field(0, lambda v: f"{v / 1000:,.1f} k"))
    table("Server CPU per echoed message, µs (median):", field(1, lambda v: f"{v:.2f}"))
    table("Round trip p50 / p99, µs (median of each):",
          lambda runs: "failed" if not any(runs) else
          f"{median([r[2] for r in runs if r]):,.0f} / {median([r[3] for r in runs if r]):,.0f}")
    out.append("\nOurs against the best peer of the same repetition (median of the "
               "paired ratios; rate: ours / best, CPU: best / ours; ≥ 1.00 leads):\n")
    out.append("| cell | tokio rate | tokio CPU | mio rate | mio CPU | best peer (rate, CPU) |")
    out.append("|---|---|---|---|---|---|")
    below = []
    for cell in cells:
        row = []
        best = None
        for ours in OURS:
            if ours not in names:
                row += ["-", "-"]
                continue
            rate, cpu, rate_peer, cpu_peer = paired(results, cell, ours, reps)
            best = f"{rate_peer}, {cpu_peer}"
            for label, value in (("rate", rate), ("CPU", cpu)):
                if value is None:
                    row.append("failed")
                    below.append(f"{cell_name(cell)} {ours} {label}: failed")
                    continue
                mark = "" if value >= 1.0 else " ✗"
                row.append(f"{value:.2f}{mark}")
                if value < 1.0:
                    below.append(f"{cell_name(cell)}: {ours} {label} {value:.2f}")
        out.append(f"| {cell_name(cell)} | " + " | ".join(row) + f" | {best} |")
    return "\n".join(out) + "\n", below


def versions():
    with open(os.path.join(ROOT, "Cargo.lock")) as f:
        lock = f.read()

    def crate(name):
        # The newest, when the lock holds several (axum brings an older
        # tokio-tungstenite than the benches use).
        found = re.findall(rf'name = "{name}"\nversion = "([^"]+)"', lock)
        return max(found, key=lambda v: tuple(int(x) for x in re.findall(r"\d+", v))) if found else "?"

    def npm(name):
        with open(os.path.join(NODE_DIR, "node_modules", name, "package.json")) as f:
            return json.load(f)["version"]

    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"fastwebsockets {crate('fastwebsockets')}, tokio-tungstenite {crate('tokio-tungstenite')}, "
            f"uWebSockets.js {npm('@trufflesuite/uws-js-unofficial')} (native binary), "
            f"ws {npm('ws')} with bufferutil {npm('bufferutil')} (native), Node {node}, "
            f"tokio {crate('tokio')}, mio {crate('mio')}")


def write_docs(text):
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    with open(path) as f:
        doc = f.read()
    begin, end = "<!-- matrix:begin -->", "<!-- matrix:end -->"
    if begin not in doc:
        raise SystemExit(f"{path} has no {begin} marker")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(head + begin + "\n" + text + end + tail)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cell")
    parser.add_argument("--servers")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    setup()
    cells = QUICK if args.quick else MATRIX
    if args.cell:
        cells = [tuple(int(x) for x in args.cell.split(","))]
    names = args.servers.split(",") if args.servers else list(SERVERS)
    results = run(cells, args.reps, args.seconds, names)
    with open(os.path.join(ROOT, "target", "matrix.json"), "w") as f:
        json.dump([{"cell": list(c), "server": s, "runs": r} for (c, s), r in results.items()], f)
    text, below = tables(results, cells, args.reps, names)
    command = "python3 benches/matrix.py" + (f" --seconds {args.seconds:g}" if args.seconds != 2.0 else "") \
        + (f" --reps {args.reps}" if args.reps != 3 else "") + (" --quick" if args.quick else "")
    header = (f"\n{datetime.date.today().isoformat()}, `{command}`: {args.reps} repetitions of "
              f"{args.seconds:g} s per cell and server (after 0.5 s of warm-up). {versions()}.\n")
    print(header + text)
    print("Below the best peer:\n" + ("\n".join(f"- {b}" for b in below) or "- none"))
    if args.write and (args.cell or args.servers):
        raise SystemExit("--write takes the whole matrix with every server")
    if args.write:
        write_docs(header + text + "\nBelow the best peer in this run:\n\n"
                   + ("\n".join(f"- {b}" for b in below) or "- none") + "\n\n")


if __name__ == "__main__":
    main()
