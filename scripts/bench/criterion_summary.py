#!/usr/bin/env python3
"""Summary of the criterion benchmarks: one row per benchmark with its median, mean and (when
the benchmark sets a throughput) the median time per element or byte. Reads
`$CARGO_TARGET_DIR/criterion/**/new/{estimates,benchmark}.json` (default `target/criterion` in
the repository). Usage:

    cargo bench -p defang-resources -p pulumi-plugin
    scripts/bench/criterion_summary.py [criterion-dir]
"""
import json
import os
import sys


def criterion_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "target")
    return os.path.join(target, "criterion")


def duration(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.2f} {unit}"
    return f"{ns:.1f} ns"


def per_unit(median_ns, throughput):
    """`12.3 ns/elem` or `0.45 ns/B`; empty without a throughput."""
    if not isinstance(throughput, dict) or not throughput:
        return ""
    kind, amount = next(iter(throughput.items()))
    if isinstance(amount, dict):  # ElementsAndBytes {elements, bytes}
        amount, kind = amount.get("elements"), "Elements"
    if not amount:
        return ""
    unit = "elem" if kind.startswith("Elements") else "B"
    return f"{duration(median_ns / amount)}/{unit}"


def rows(root):
    for dirpath, _, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
            continue
        with open(os.path.join(dirpath, "estimates.json")) as f:
            estimates = json.load(f)
        meta = {}
        if "benchmark.json" in files:
            with open(os.path.join(dirpath, "benchmark.json")) as f:
                meta = json.load(f)
        name = meta.get("full_id") or os.path.relpath(os.path.dirname(dirpath), root)
        median = estimates["median"]["point_estimate"]
        mean = estimates["mean"]["point_estimate"]
        yield name, duration(median), duration(mean), per_unit(median, meta.get("throughput"))


def main():
    table = sorted(rows(criterion_dir()))
    if not table:
        return
    header = ("benchmark", "median", "mean", "per element")
    has_per = any(r[3] for r in table)
    if not has_per:
        header, table = header[:3], [r[:3] for r in table]
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    for r in [header, *table]:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        print("  ".join(cells).rstrip())


if __name__ == "__main__":
    main()
