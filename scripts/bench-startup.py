#!/usr/bin/env python3
"""Cold start of the provider: time from launch to the port line on stdout (what the engine
waits for), over N runs; prints the median and the spread. Usage:

    scripts/bench-startup.py [path/to/pulumi-resource-defang] [runs]
"""
import os
import signal
import statistics
import subprocess
import sys
import time

binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "target", "release", "pulumi-resource-defang")
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
times = []
for _ in range(runs):
    start = time.perf_counter()
    p = subprocess.Popen([binary], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    times.append((time.perf_counter() - start) * 1000)
    assert line.strip().isdigit(), f"not a port line: {line!r}"
    p.send_signal(signal.SIGINT)
    p.wait(timeout=10)
times.sort()
print(f"{binary}: cold start to port line over {runs} runs: median {statistics.median(times):.1f} ms, "
      f"min {times[0]:.1f} ms, max {times[-1]:.1f} ms")
