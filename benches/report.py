#!/usr/bin/env python3
"""Prints the criterion results of the last `cargo bench -p sockweave-benches`
as markdown tables (used for docs/benchmarks.md)."""
import json
import os

ROOT = os.path.join(os.path.dirname(__file__), "..", "target", "criterion")
SIZES = {"16B": 16, "1KiB": 1024, "16KiB": 16 << 10, "64KiB": 64 << 10, "1MiB": 1 << 20}
LABELS = list(SIZES)


def frames_per_batch(size):
    return max(2, min(20_000, (1 << 20) // (size + 14)))


def median_ns(*parts):
    path = os.path.join(ROOT, *parts, "new", "estimates.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"]


def decode_table(group):
    functions = ["sockweave_frame", "sockweave_connection", "tungstenite_frame", "tungstenite", "fastwebsockets", "copy_unmask", "memcpy"]
    print(f"\n### {group}: GB/s of payload (million frames/s)\n")
    print("| reader | " + " | ".join(LABELS) + " |")
    print("|---|" + "---|" * len(LABELS))
    for function in functions:
        cells = []
        for label in LABELS:
            ns = median_ns(group, function, label)
            if ns is None:
                cells.append("")
                continue
            size = SIZES[label]
            frames = frames_per_batch(size)
            gbs = frames * size / ns
            mfs = frames / ns * 1e3
            cells.append(f"{gbs:.2f} ({mfs:.1f})" if function not in ("copy_unmask", "memcpy") else f"{gbs:.2f}")
        print(f"| {function} | " + " | ".join(cells) + " |")


def simple_table(group, functions, params, bytes_of):
    print(f"\n### {group}: GB/s\n")
    print("| | " + " | ".join(params) + " |")
    print("|---|" + "---|" * len(params))
    for function in functions:
        cells = []
        for param in params:
            ns = median_ns(group, function, param)
            cells.append("" if ns is None else f"{bytes_of(param) / ns:.2f}")
        print(f"| {function} | " + " | ".join(cells) + " |")


decode_table("decode_binary")
decode_table("decode_text")
simple_table("mask", ["sockweave", "sockweave_offset14", "naive", "memcpy"], LABELS, lambda p: SIZES[p])
utf8_bytes = {"ascii_16KiB": 16 << 10, "mixed_16KiB": None}
