#!/usr/bin/env python3
"""Time shuntscope.read (the Python package) against the CLI's analyze on the same trace:
the issue's target is read in under 1.5x analyze. Needs `pip install .` in the Python used.

    python benches/python_read.py target/bench/trace-20000000.csv
"""
import subprocess, sys, time
from pathlib import Path

import shuntscope

trace = sys.argv[1]
exe = Path(__file__).resolve().parents[1] / "target" / "release" / "shuntscope"
best = lambda f: min(f() for _ in range(3))

def analyze():
    t = time.perf_counter()
    subprocess.run([str(exe), "analyze", trace, "-q", "-f", "json"], check=True, capture_output=True)
    return time.perf_counter() - t

def read():
    t = time.perf_counter()
    df = shuntscope.read(trace)
    assert df.height > 0
    return time.perf_counter() - t

a, r = best(analyze), best(read)
print(f"analyze (CLI) {a:.3f} s, shuntscope.read {r:.3f} s: read takes {r / a:.2f}x analyze (target < 1.5x)")
