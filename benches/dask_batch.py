"""Dask against a local batch: 1000 generated traces, `shuntscope batch --jobs 2` against
`shuntscope.batch(..., client=Client(LocalCluster(n_workers=2, threads_per_worker=1)))`.

    target/ci-venv/bin/python benches/dask_batch.py [FILES] [RUNS]

Prints the best and median wall time of each, and their ratio (the scheduler's price). The
traces are written once under target/bench/dask-FILES/ (3 s at 2 kS/s, a burst every 250 ms).
"""

import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import shuntscope

ROOT = Path(__file__).resolve().parents[1]


def generate(folder: Path, files: int) -> None:
    if folder.exists() and len(list(folder.rglob("*.csv"))) == files:
        return
    t = np.arange(6000) / 2000.0
    for k in range(files):
        group = folder / f"fw{k % 4}"
        group.mkdir(parents=True, exist_ok=True)
        i = 10.0 + np.where((t % 0.25) < 0.005, 40.0 + 0.01 * k, 0.0) + 0.05 * np.sin(7.0 * t + k)
        rows = "\n".join(f"{a:.6f},{b:.5f}" for a, b in zip(t, i))
        (group / f"run{k:04d}.csv").write_text("time_s,current_ma\n" + rows + "\n")


def timed(f) -> float:
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def main() -> None:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    folder = ROOT / "target" / "bench" / f"dask-{files}"
    generate(folder, files)
    cli = ROOT / "target" / "release" / "shuntscope"
    out = ROOT / "target" / "bench" / "dask-report"
    local = [
        timed(lambda: subprocess.run(
            [str(cli), "batch", str(folder), "--out", str(out), "--force", "--jobs", "2", "-q",
             "--no-summary", "--period", "250ms"], check=False))
        for _ in range(runs)
    ]
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, Client(c) as client:
        dask = [
            timed(lambda: shuntscope.batch(folder, client=client, period="250ms").write(out, force=True))
            for _ in range(runs)
        ]
    for name, v in (("batch --jobs 2", local), ("dask, 2 workers", dask)):
        print(f"{name:16} best {min(v):6.2f} s, median {statistics.median(v):6.2f} s, {files / min(v):7.0f} files/s")
    print(f"dask / local: {min(dask) / min(local):.2f}x (best), {statistics.median(dask) / statistics.median(local):.2f}x (median)")


if __name__ == "__main__":
    main()
