#!/usr/bin/env python3
"""One core against two: echo throughput of mio_echo_server with one loop
and with `--threads 2` (two loops on one port, SO_REUSEPORT), and of
tokio_echo_server on one worker thread and on two (TOKIO_WORKER_THREADS).

The load client (benches/src/bin/echo_load.rs, the same for every server)
runs on the same two cores, so a second server core can at best take what
the client leaves: the figure is a ratio measured side by side, the median
of three runs per cell, with the order of the servers rotated per
repetition. Server CPU is in cores used over the run.

usage: benches/cores.py [SECONDS]
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from echo_load import BIN, PORT, cpu_seconds, wait_port  # noqa: E402

MIO = os.path.join(BIN, "examples", "mio_echo_server")
TOKIO = os.path.join(BIN, "examples", "tokio_echo_server")
SERVERS = [
    ("mio, 1 loop", [MIO], {}),
    ("mio, 2 loops", [MIO, "--threads", "2"], {}),
    ("tokio, 1 worker", [TOKIO], {"TOKIO_WORKER_THREADS": "1"}),
    ("tokio, 2 workers", [TOKIO], {"TOKIO_WORKER_THREADS": "2"}),
]
# (connections, payload bytes, messages in flight per connection)
CELLS = [(256, 1024, 16), (256, 16, 16), (16, 64 << 10, 4)]


def run(command, env, connections, payload, in_flight, seconds):
    server = subprocess.Popen(
        command[:1] + [f"127.0.0.1:{PORT}"] + command[1:],
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    try:
        wait_port(PORT)
        before = cpu_seconds(server.pid)
        out = subprocess.run(
            [os.path.join(BIN, "echo_load"), f"ws://127.0.0.1:{PORT}/", str(connections),
             str(payload), str(in_flight), str(seconds)],
            capture_output=True, text=True, timeout=seconds + 60, check=True,
        )
        return float(out.stdout.strip()), cpu_seconds(server.pid) - before
    finally:
        server.kill()
        server.wait()


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    print("| connections x payload x in flight | " + " | ".join(n for n, _, _ in SERVERS)
          + " | mio 2/1 | tokio 2/1 |")
    print("|---|" + "---|" * (len(SERVERS) + 2))
    for cell in CELLS:
        runs = {name: [] for name, _, _ in SERVERS}
        for rep in range(3):
            order = SERVERS[rep % len(SERVERS):] + SERVERS[:rep % len(SERVERS)]
            for name, command, env in order:
                runs[name].append(run(command, env, *cell, seconds))
        median = {name: sorted(r)[1] for name, r in runs.items()}
        cells = [f"{rate / 1000:,.0f} k/s ({cpu / seconds:.2f} cores)" for rate, cpu in median.values()]
        mio = median["mio, 2 loops"][0] / median["mio, 1 loop"][0]
        tokio = median["tokio, 2 workers"][0] / median["tokio, 1 worker"][0]
        connections, payload, in_flight = cell
        print(f"| {connections} x {payload} B x {in_flight} | " + " | ".join(cells)
              + f" | {mio:.2f}x | {tokio:.2f}x |")


if __name__ == "__main__":
    main()
