#!/usr/bin/env python3
"""Checks the benchmark bars from criterion's estimates (target/criterion).

Speeds come from each bench's median time per iteration and the bytes (or
frames) one iteration processes, which the benches define in src/lib.rs:
about 1 MiB of input per iteration, made of frames_per_batch(size) frames.
Every reader in benches/frame.rs pays the same socket-read copy and keeps
its connection and buffers for the whole measurement.
"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "target", "criterion")
SIZES = {"16B": 16, "1KiB": 1024, "16KiB": 16 << 10, "64KiB": 64 << 10, "1MiB": 1 << 20}
# Peers that read and unmask, as sockweave's frame layer does.
UNMASKING_PEERS = ("tungstenite", "fastwebsockets")


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
    has two shared cores), so only ratios against readers measured in the
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


# 16-byte masked frames: frames/s against the fastest peer row, including
# tungstenite's frame layer, which does not even unmask.
ours, _ = decode_speed("decode_binary", "sockweave_frame", "16B")
peer = max(decode_speed("decode_binary", f, "16B")[0] for f in UNMASKING_PEERS + ("tungstenite_frame",))
bar("16 B masked binary frames/s vs the fastest peer", ours / peer, 2.5, "x", gate=2.5)

# 1 KiB: payload bytes/s against the faster peer doing the same work.
# Close to the copy-and-unmask limit already (see docs/benchmarks.md), so
# the gate leaves room for a noisy machine.
_, ours = decode_speed("decode_binary", "sockweave_frame", "1KiB")
peer = max(decode_speed("decode_binary", f, "1KiB")[1] for f in UNMASKING_PEERS)
bar("1 KiB masked binary GB/s vs the faster peer", ours / peer, 2.5, "x", gate=1.5)

# 16 KiB and up: every reader is bound by the socket-read copy plus one
# unmasking pass, so the bar is that limit, measured in the same run
# (copy_unmask), and not falling behind a peer (all of them near that
# limit too). A tie moves by 15% between runs on the shared CI machine,
# so the gates only catch a real regression.
for label in ("16KiB", "64KiB", "1MiB"):
    _, ours = decode_speed("decode_binary", "sockweave_frame", label)
    _, limit = decode_speed("decode_binary", "copy_unmask", label)
    bar(f"{label} masked binary GB/s, share of copy + unmask", ours / limit, 0.95, "x", gate=0.75)
    peer = max(decode_speed("decode_binary", f, label)[1] for f in UNMASKING_PEERS)
    bar(f"{label} masked binary GB/s vs the faster peer", ours / peer, 1.0, "x", gate=0.75)

# Text frames with UTF-8 validation, 16 KiB: an absolute speed, reported.
_, ours = decode_speed("decode_text", "sockweave_frame", "16KiB")
bar("16 KiB masked text frames incl. UTF-8", ours / 1e9, 10.0, " GB/s")

# Masking a 16 KiB buffer in cache, 14 bytes past a 64-byte boundary as a
# payload sits in a read buffer: as fast as an aligned one.
aligned = median_ns("mask", "sockweave", "16KiB")
offset = median_ns("mask", "sockweave_offset14", "16KiB")
bar("masking 16 KiB in cache", (16 << 10) / aligned, 40.0, " GB/s")
bar("masking 16 KiB at a 14-byte offset vs aligned", aligned / offset, 0.95, "x", gate=0.8)

sys.exit(1 if failures else 0)
