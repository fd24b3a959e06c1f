#!/usr/bin/env python3
"""Broadcast at 10,000 connections: sockweave's `Room` (`sockweave serve
--broadcast`, the tokio adapter, a `PreparedMessage` framed and compressed
once per message) beside uWebSockets.js's `app.publish` and a Node ws loop
of `send` over its clients.

One publisher and SUBSCRIBERS listeners (benches/src/bin/ws_fanout.rs, not
built on sockweave); the publisher stays at most 16 messages ahead of the
slowest subscriber. Servers pinned to core 0, the client to core 1, the
order rotated per repetition, medians; server CPU from /proc over the
measured window. Messages are JSON-like text of 16 B and 1 KiB, without
and with permessage-deflate (no context takeover either way, offered by
the client: each server can compress a message once for everyone).

usage: benches/broadcast.py [--subscribers N] [--seconds S] [--reps N] [--write]
"""
import argparse
import datetime
import os
import resource
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix  # noqa: E402
from echo_load import BIN  # noqa: E402

SOCKWEAVE = os.path.join(BIN, "sockweave")
SERVERS = {
    "sockweave (Room)": [SOCKWEAVE, "serve", "--broadcast", "-q"],
    "sockweave (Room), deflate": [SOCKWEAVE, "serve", "--broadcast", "-q", "--deflate=no-context"],
    "uWebSockets.js (publish)": ["node", os.path.join(matrix.NODE_DIR, "broadcast.js"), "uws"],
    "uWebSockets.js (publish), deflate": ["node", os.path.join(matrix.NODE_DIR, "broadcast.js"), "uws", "--",
                                          "--deflate"],
    "ws (loop)": ["node", os.path.join(matrix.NODE_DIR, "broadcast.js"), "ws"],
    "ws (loop), deflate": ["node", os.path.join(matrix.NODE_DIR, "broadcast.js"), "ws", "--", "--deflate"],
}
LIBRARIES = ["sockweave (Room)", "uWebSockets.js (publish)", "ws (loop)"]
CELLS = [(16, False), (1024, False), (16, True), (1024, True)]
BASE_PORT = 9660


def server_for(library, deflate):
    return library + (", deflate" if deflate else "")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * args.subscribers + 1000
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    matrix.setup()
    import subprocess
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "sockweave-cli", "-p", "sockweave-benches",
                    "--bin", "sockweave", "--bin", "ws_fanout"], cwd=matrix.ROOT, check=True)
    servers = matrix.start_servers(list(SERVERS), SERVERS, BASE_PORT)
    results = {}
    try:
        for payload, deflate in CELLS:
            for rep in range(args.reps):
                shift = rep % len(LIBRARIES)
                for library in LIBRARIES[shift:] + LIBRARIES[:shift]:
                    name = server_for(library, deflate)
                    process, port = servers[name]
                    argv = [os.path.join(BIN, "ws_fanout"), f"127.0.0.1:{port}", str(args.subscribers),
                            str(payload), str(args.seconds)] + (["--deflate"] if deflate else [])
                    outcome = matrix.measure_client(process, argv)
                    if outcome:
                        result, cpu = outcome
                        value = (result["rate"], cpu / max(result["delivered"], 1) * 1e9)
                        print(f"{payload} B deflate={deflate} {library}: {value[0]:,.0f}/s "
                              f"{value[1]:.0f} ns", file=sys.stderr)
                    else:
                        value = None
                    results.setdefault((payload, deflate, library), []).append(value)
    finally:
        matrix.stop_servers(servers)

    lines = [f"\n{datetime.date.today().isoformat()}, `python3 benches/broadcast.py`: {args.subscribers:,} "
             f"subscribers and one publisher, {args.reps} repetitions of {args.seconds:g} s per cell "
             f"(after 0.5 s of warm-up). {matrix.versions()}.\n",
             "Messages delivered per second, and server CPU per delivered message (median of the runs):\n",
             "| message | " + " | ".join(LIBRARIES) + " | sockweave / best peer (rate, CPU) |",
             "|---|" + "---|" * (len(LIBRARIES) + 1)]
    below = []
    for payload, deflate in CELLS:
        cells, ratios = [], {"rate": [], "cpu": []}
        for library in LIBRARIES:
            runs = [r for r in results[(payload, deflate, library)] if r]
            if not runs:
                cells.append("failed")
                continue
            rate = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            cells.append(f"{rate / 1e3:,.0f} k/s, {cpu:,.0f} ns")
        for rep in range(args.reps):
            ours = results[(payload, deflate, LIBRARIES[0])][rep]
            peers = [results[(payload, deflate, p)][rep] for p in LIBRARIES[1:]]
            peers = [p for p in peers if p]
            if ours and peers:
                ratios["rate"].append(ours[0] / max(p[0] for p in peers))
                ratios["cpu"].append(min(p[1] for p in peers) / ours[1])
        rate_ratio = statistics.median(ratios["rate"]) if ratios["rate"] else 0
        cpu_ratio = statistics.median(ratios["cpu"]) if ratios["cpu"] else 0
        label = f"{payload} B" + (", permessage-deflate" if deflate else "")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {rate_ratio:.2f}, {cpu_ratio:.2f} |")
        for what, value in (("rate", rate_ratio), ("CPU", cpu_ratio)):
            if value < 1:
                below.append(f"{label}: {what} {value:.2f}")
    lines.append("\nBelow the best peer in this run:\n")
    lines += [f"- {b}" for b in below] or ["- none"]
    text = "\n".join(lines) + "\n\n"
    print(text)
    if args.write:
        path = os.path.join(matrix.ROOT, "docs", "benchmarks.md")
        with open(path) as f:
            doc = f.read()
        begin, end = "<!-- broadcast:begin -->", "<!-- broadcast:end -->"
        head, rest = doc.split(begin, 1)
        _, tail = rest.split(end, 1)
        with open(path, "w") as f:
            f.write(head + begin + "\n" + text + end + tail)


if __name__ == "__main__":
    main()
