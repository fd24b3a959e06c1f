#!/usr/bin/env python3
"""Checks the benchmark bars from criterion's estimates (target/criterion).

Speeds come from each bench's median time per iteration and the bytes (or
frames) one iteration processes, which the benches define in src/lib.rs:
about 1 MiB of input per iteration, made of frames_per_batch(size) frames.
"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "target", "criterion")
SIZES = {"20B": 20, "1KiB": 1024, "16KiB": 16 << 10, "1MiB": 1 << 20}


def frames_per_batch(size):
    return max(2, min(20_000, (1 << 20) // (size + 14)))


def median_ns(group, function, param):
    path = os.path.join(ROOT, group, function, param, "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"]


def decode_speed(group, function, label):
    """(frames per second, payload bytes per second) of a decode bench."""
    size = SIZES[label]
    frames = frames_per_batch(size)
    seconds = median_ns(group, function, label) / 1e9
    return frames / seconds, frames * size / seconds


failures = []


def bar(name, value, target, unit, gate=None):
    """Reports `value` against its target; fails the run only below `gate`.

    Wall-clock figures move with whatever else the machine runs (the CI box
    has two shared cores), so only ratios against the peers measured in the
    same run gate, with a margin below the target; absolute speeds are
    reported and never fail the run.
    """
    met = value >= target
    failed = gate is not None and value < gate
    gate_note = f", gate {gate:.2f}{unit}" if gate is not None else ", not gated"
    label = "ok  " if met else ("FAIL" if failed else "miss")
    print(f"{label} {name}: {value:.2f}{unit} (target {target:.2f}{unit}{gate_note})")
    if failed:
        failures.append(name)


# 20-byte masked frames: frames/s against tungstenite's faster read path.
# Measured 5.8x even on a loaded machine: the target itself gates.
ours, _ = decode_speed("decode_binary", "sockweave_frame", "20B")
peer = max(decode_speed("decode_binary", f, "20B")[0] for f in ("tungstenite", "tungstenite_frame"))
bar("20 B masked binary frames/s vs tungstenite", ours / peer, 2.0, "x", gate=2.0)

# 16 KiB and larger masked binary frames: GB/s against the faster peer that
# does the same work (reads and unmasks). From 16 KiB up every reader nears
# the machine's copy-and-unmask limit (docs/benchmarks.md), so the 2x target
# is reported and the gate is not being slower than a peer in the same run.
for label in ("16KiB", "1MiB"):
    _, ours = decode_speed("decode_binary", "sockweave_frame", label)
    peer = max(decode_speed("decode_binary", f, label)[1] for f in ("tungstenite", "fastwebsockets"))
    bar(f"{label} masked binary GB/s vs faster peer", ours / peer, 2.0, "x", gate=1.0)

# Text frames with UTF-8 validation, 16 KiB: an absolute speed, reported.
_, ours = decode_speed("decode_text", "sockweave_frame", "16KiB")
bar("16 KiB masked text frames incl. UTF-8", ours / 1e9, 10.0, " GB/s")

# Masking a 16 KiB buffer in cache: an absolute speed, reported.
seconds = median_ns("mask", "sockweave", "16KiB") / 1e9
bar("masking 16 KiB in cache", (16 << 10) / seconds / 1e9, 40.0, " GB/s")

sys.exit(1 if failures else 0)
