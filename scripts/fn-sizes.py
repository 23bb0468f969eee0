#!/usr/bin/env python3
"""List Rust functions longer than a limit (default 150 lines) and files over 1000 lines.

Usage: scripts/fn-sizes.py [LIMIT] -- run from the repository root; exits 1 when any is found.
Functions are found by their `fn` line and the closing brace at the same indentation.
"""
import re, sys, pathlib

limit = int(sys.argv[1]) if len(sys.argv) > 1 else 150
bad = 0
for path in sorted(pathlib.Path(".").glob("src/**/*.rs")) + sorted(pathlib.Path(".").glob("python/src/**/*.rs")):
    lines = path.read_text().split("\n")
    if len(lines) > 1000:
        print(f"{path}: {len(lines)} lines (over 1000)")
        bad += 1
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)(pub(\([^)]*\))?\s+)?(const\s+)?(unsafe\s+)?(extern\s+\"C\"\s+)?fn\s+(\w+)", line)
        if not m or line.rstrip().endswith(";"):
            continue
        indent = m.group(1)
        for j in range(i + 1, len(lines)):
            if lines[j] == indent + "}":
                n = j - i + 1
                if n > limit:
                    print(f"{path}:{i + 1}: fn {m.group(7)} is {n} lines (over {limit})")
                    bad += 1
                break
sys.exit(1 if bad else 0)
