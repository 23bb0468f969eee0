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
    """Keyword arguments as command-line words: `shunt_ohms=1.0` → `--shunt-ohms 1.0`."""
    words: list[str] = []
    for key, value in settings.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            words.append(flag)
        elif isinstance(value, (list, tuple)):
            for v in value:
                words += [flag, str(v)]
        else:
            words += [flag, str(value)]
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


def analyze(path: str | os.PathLike, **settings: Any) -> Analysis:
    """Run the whole pipeline (ingest, calibrate, detect, attribute) on one file."""
    return Analysis(json.loads(_native.analyze(str(path), _flags(settings))))


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


def batch(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    jobs: int | None = None,
    **settings: Any,
) -> Report:
    """Analyse every trace in folders (manifest or folder names as groups), in parallel as the
    CLI does, and summarise. Extra keywords are batch's flags (`period="1s"`,
    `battery_mah=1200`, `interval=["1s", "10min"]`, ...)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    tmp = tempfile.TemporaryDirectory(prefix="shuntscope-")
    out = Path(tmp.name) / "report"
    argv = ["batch", *map(str, paths), "--out", str(out), "-q", "--no-summary", *_flags(settings)]
    if jobs:
        argv += ["--jobs", str(jobs)]
    _native.run(argv)
    return Report(out, tmp)
