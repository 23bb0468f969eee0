"""shuntscope for Python: what each burst of current costs, from shunt-resistor and power-meter
traces, with polars DataFrames out.

    import shuntscope
    a = shuntscope.analyze("samples/seed/mqtt.csv", period="1s")
    a.bursts          # polars DataFrame, columns named as in the CLI's JSON
    a.to_dict()       # exactly the CLI's `analyze -f json`
    t = shuntscope.read("capture.csv")           # time_s, voltage_v (or current_ma), digital
    r = shuntscope.batch(["samples/seed"])       # r.summary, r.events, r.windows; r.write(dir)

Keyword arguments are the command line's flags in snake_case (`shunt_ohms=1.0`,
`value_col="CH1-CH2"`, `supply_col="CH1"`, `window_col="D0"`, `period="1s"`, `pcap=...`); a list
repeats a flag, True sets a switch. Bad input raises `InputError` (a ValueError) with the CLI's
one-line message: file, line, what was expected.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import polars as pl

from . import _native
from ._native import InputError

__all__ = ["analyze", "read", "batch", "formats", "Analysis", "Report", "InputError"]
__version__ = _native.__version__


def _flags(settings: dict[str, Any]) -> list[str]:
    """Keyword arguments as command-line words: `shunt_ohms=1.0` → `--shunt-ohms=1.0`."""
    words: list[str] = []
    for key, value in settings.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            words.append(flag)
        elif isinstance(value, (list, tuple)):
            # `--flag=value`: a negative number is a value, not a flag.
            words += [f"{flag}={v}" for v in value]
        else:
            words.append(f"{flag}={value}")
    return words


def _frame(rows: list[dict[str, Any]], drop: Iterable[str] = ()) -> pl.DataFrame:
    rows = [{k: v for k, v in r.items() if k not in drop} for r in rows]
    return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()


class Analysis:
    """One trace through the pipeline. `to_dict()` is the CLI's JSON; `bursts`, `windows` and
    `events` are DataFrames with the JSON's column names."""

    def __init__(self, data: dict[str, Any]):
        self._data = data

    def to_dict(self) -> dict[str, Any]:
        """Exactly the CLI's `analyze -f json`."""
        return self._data

    @property
    def bursts(self) -> pl.DataFrame:
        return _frame(self._data["bursts"])

    @property
    def windows(self) -> pl.DataFrame:
        return _frame(self._data.get("windows", []))

    @property
    def events(self) -> pl.DataFrame:
        return _frame(self._data.get("attribution", {}).get("events", []))

    @property
    def classes(self) -> pl.DataFrame:
        return _frame(self._data.get("classes", []))

    @property
    def budget(self) -> dict[str, Any] | None:
        return self._data.get("budget")

    @property
    def floor_ma(self) -> float | None:
        return self._data.get("floor_ma")

    @property
    def baseline_ma(self) -> float:
        return self._data["baseline_ma"]

    @property
    def noise_ma(self) -> float:
        return self._data["noise_ma"]

    @property
    def totals(self) -> dict[str, Any]:
        return self._data["totals"]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return self._data["warnings"]

    def __repr__(self) -> str:
        t = self.totals
        return (
            f"<Analysis {self._data['file']}: {t['bursts']} bursts on {self.baseline_ma:.3f} mA, "
            f"{t['burst_excess_charge_ma_ms']:.3f} mA·ms in bursts>"
        )


def _default_threads(threads: int | None) -> int:
    """Threads of a call: as given; else 1 on a Dask worker (its processes share the machine's
    cores), else 0 (one per core)."""
    if threads is not None:
        return max(int(threads), 0)
    try:
        from distributed import get_worker

        get_worker()
        return 1
    except Exception:
        return 0


def analyze(path: str | os.PathLike, *, threads: int | None = None, **settings: Any) -> Analysis:
    """Run the whole pipeline (ingest, calibrate, detect, attribute) on one file, on `threads`
    threads (default: 1 on a Dask worker, one per core otherwise)."""
    return Analysis(json.loads(_native.analyze(str(path), _flags(settings), _default_threads(threads))))


def read(path: str | os.PathLike, *, shunt_ohms: float | None = None, **ingest: Any) -> pl.DataFrame:
    """The trace's samples: `time_s`, then `voltage_v` (or `current_ma` for current traces, or
    with `shunt_ohms`), then any digital channels. Columns arrive as buffers, not element by
    element."""
    names, chunks = _native.read(str(path), _flags(ingest), shunt_ohms)
    columns = []
    for name, bufs in zip(names, chunks):
        parts = [pl.Series(name, np.frombuffer(b, dtype="<f8")) for b in bufs]
        columns.append(pl.concat(parts, rechunk=False) if parts else pl.Series(name, [], dtype=pl.Float64))
    return pl.DataFrame(columns)


def formats() -> list[dict[str, str]]:
    """The input formats shuntscope recognises."""
    return [{"name": n, "description": d} for n, d in _native.formats()]


class Report:
    """A batch report: `summary` (summary.csv), `events` (events.parquet), `windows`
    (windows.csv) as DataFrames; `write(folder)` writes the CLI's report folder."""

    def __init__(self, folder: Path, tmp: tempfile.TemporaryDirectory):
        self._folder = folder
        self._tmp = tmp

    @property
    def summary(self) -> pl.DataFrame:
        return pl.read_csv(self._folder / "summary.csv")

    @property
    def events(self) -> pl.DataFrame:
        return pl.read_parquet(io.BytesIO((self._folder / "events.parquet").read_bytes()))

    @property
    def windows(self) -> pl.DataFrame:
        p = self._folder / "windows.csv"
        return pl.read_csv(p) if p.exists() else pl.DataFrame()

    def to_dict(self) -> dict[str, Any]:
        """report.json."""
        return json.loads((self._folder / "report.json").read_text())

    def write(self, folder: str | os.PathLike, force: bool = False) -> Path:
        """Write the report folder (as `shuntscope batch --out FOLDER`), whole or not at all."""
        dest = Path(folder)
        if dest.exists() and not force:
            raise InputError(f"{dest}: the report folder exists: give force=True to replace it")
        staging = Path(tempfile.mkdtemp(prefix=".shuntscope-", dir=dest.parent if str(dest.parent) else "."))
        try:
            shutil.copytree(self._folder, staging / "r")
            if dest.exists():
                shutil.rmtree(dest)
            os.replace(staging / "r", dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return dest


def _run_jobs(jobs: list[str], threads: int) -> list[str]:
    """A Dask task: some files' outcomes (each the JSON of a report.json `files` entry). Plain
    data in and out: paths and settings arrive, text leaves; a file that fails is an outcome
    with its error, never an exception that kills the job."""
    return _native.run_jobs(jobs, threads)


def _files_per_task(files: int, client: Any) -> int:
    """Files a task: about four tasks per worker thread (so that a slow worker's share is
    taken up by the others), at most 64 files (so that a retried task repeats little): a
    scheduler's few milliseconds a task are then small against the task."""
    try:
        slots = max(sum(client.nthreads().values()), 1)
    except Exception:
        slots = 1
    return max(1, min(64, -(-files // (4 * slots))))


def batch(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    jobs: int | None = None,
    client: Any = None,
    threads: int | None = None,
    files_per_task: int | None = None,
    **settings: Any,
) -> Report:
    """Analyse every trace in folders (manifest or folder names as groups), in parallel as the
    CLI does, and summarise. Extra keywords are batch's flags (`period="1s"`,
    `battery_mah=1200`, `interval=["1s", "10min"]`, ...).

    With a `dask.distributed.Client`, the files are analysed on the cluster's workers (tasks of
    `files_per_task` files, default about four tasks per worker thread and at most 64 files;
    `threads` threads each, default 1) and joined by the same code as `merge`: the
    report is the one a local batch writes, byte for byte. The workers must read the files
    under the same paths (a shared file system). Settings errors raise here, before anything
    is submitted."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [str(p) for p in paths]
    tmp = tempfile.TemporaryDirectory(prefix="shuntscope-")
    out = Path(tmp.name) / "report"
    flags = _flags(settings)
    if client is None:
        argv = ["batch", *paths, "--out", str(out), "-q", "--no-summary", *flags]
        if jobs or threads:
            argv += ["--jobs", str(jobs or threads)]
        _native.run(argv)
        return Report(out, tmp)
    if settings.get("views"):
        raise TypeError("views=True is written by a local batch (without client=)")
    plan = _native.plan(["batch", *paths, "--out", str(out), *flags])
    jobs_json = [json.dumps(j) for j in json.loads(plan)["jobs"]]
    per_task = 1 if threads is None else max(int(threads), 0)
    k = files_per_task or _files_per_task(len(jobs_json), client)
    chunks = [jobs_json[i : i + k] for i in range(0, len(jobs_json), k)]
    futures = client.map(_run_jobs, chunks, [per_task] * len(chunks), pure=False)
    outcomes = [o for chunk in client.gather(futures) for o in chunk]
    _native.write_report(plan, outcomes, str(out), False)
    return Report(out, tmp)
