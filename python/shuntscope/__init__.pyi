"""Type stubs of shuntscope: what each burst of current costs, from shunt-resistor and
power-meter traces, with polars DataFrames out.

Keyword arguments are the command line's flags in snake_case; each is typed here, and the
package's tests check that these names are exactly the command line's flags. A list repeats a
flag, True sets a switch. Bad input raises `InputError` (a ValueError) with the command line's
one-line message; an internal fault raises RuntimeError.
"""

import os
from pathlib import Path
from typing import Any, Literal, Sequence, Union

import polars as pl

StrPath = Union[str, "os.PathLike[str]"]

__version__: str
__all__: list[str]

class InputError(ValueError):
    """Bad input or usage: the file, the line and what was expected, as the command line says
    it (exit code 2 there)."""

class Analysis:
    """One trace through the pipeline. `to_dict()` is the command line's JSON (`analyze -f
    json`); `bursts`, `windows` and `events` are DataFrames with the JSON's column names."""

    def __init__(self, data: dict[str, Any]) -> None: ...
    def to_dict(self) -> dict[str, Any]:
        """Exactly the command line's `analyze -f json`."""
    @property
    def bursts(self) -> pl.DataFrame:
        """One row per burst: start_s, end_s, duration_ms, peak_ma, excess_charge_ma_ms,
        charge_ma_ms, energy_mj, ..."""
    @property
    def windows(self) -> pl.DataFrame:
        """One row per phase window (empty without windows)."""
    @property
    def events(self) -> pl.DataFrame:
        """One row per attributed event (connect, message, ...)."""
    @property
    def classes(self) -> pl.DataFrame:
        """One row per class of bursts that recur alike: class, n, period_s, period_jitter_s,
        mean_excess_charge_ma_ms, ci_low, ci_high, mean_energy_mj, peak_ma, charge_share."""
    @property
    def budget(self) -> dict[str, Any] | None:
        """The energy budget: floor_ma, floor_mw, mean_ma, mean_mw, periods (class, period_s,
        energy_per_period_mj, mean_ma, energy_per_day_j, battery_life_h), one_off."""
    @property
    def floor_ma(self) -> float | None:
        """The sleep floor (the lowest level the current dwells at), mA."""
    @property
    def baseline_ma(self) -> float:
        """The idle current the excess charges are measured above, mA."""
    @property
    def noise_ma(self) -> float:
        """The noise of the baseline (robust standard deviation), mA."""
    @property
    def totals(self) -> dict[str, Any]:
        """Whole-trace totals: duration_s, mean_ma, charge_ma_ms, energy_mj, ..."""
    @property
    def warnings(self) -> list[dict[str, Any]]:
        """What the analysis noticed about the measurement: code, message, burst."""

class Report:
    """A batch report: `summary` (summary.csv), `events` (events.parquet), `windows`
    (windows.csv) as DataFrames; `write(folder)` writes the command line's report folder."""

    @property
    def summary(self) -> pl.DataFrame: ...
    @property
    def events(self) -> pl.DataFrame: ...
    @property
    def windows(self) -> pl.DataFrame: ...
    def to_dict(self) -> dict[str, Any]:
        """report.json."""
    def write(self, folder: StrPath, force: bool = False) -> Path:
        """Write the report folder (as `shuntscope batch --out FOLDER`), whole or not at all;
        an existing folder raises InputError unless `force`."""

def analyze(
    path: StrPath,
    *,
    threads: int | None = None,
    input_format: str | None = None,
    sample_interval: str | float | None = None,
    zero_px: float | None = None,
    time_col: str | int | None = None,
    value_col: str | int | None = None,
    unit: str | None = None,
    time_unit: str | None = None,
    supply_col: str | int | None = None,
    no_mmap: bool | None = None,
    mmap_min_bytes: int | str | None = None,
    no_simd: bool | None = None,
    shunt_ohms: float | None = None,
    gain: float | None = None,
    offset_mv: float | None = None,
    baseline_ma: float | None = None,
    threshold_ma: float | None = None,
    min_burst_ms: float | None = None,
    merge_gap_ms: float | None = None,
    supply_v: float | None = None,
    max_gap: str | float | None = None,
    every: str | float | None = None,
    split: bool | None = None,
    survey_full_bytes: int | str | None = None,
    period: str | float | None = None,
    label: str | None = None,
    first_label: str | None = None,
    events: StrPath | None = None,
    events_offset: float | Literal["auto"] | None = None,
    tolerance_ms: float | None = None,
    event_window_ms: float | None = None,
    marker_col: str | int | None = None,
    marker_threshold: float | None = None,
    pcap: StrPath | None = None,
    port: str | Sequence[str] | None = None,
    pcap_offset: float | None = None,
    pcap_tolerance_ms: float | None = None,
    pcap_host: str | Sequence[str] | None = None,
    window_col: str | int | None = None,
    window_threshold: float | None = None,
    window_polarity: Literal["high", "low"] | None = None,
    windows: StrPath | None = None,
    window_labels: str | Sequence[str] | None = None,
    window: str | Sequence[str] | None = None,
    at_period: str | float | Sequence[str | float] | None = None,
    battery_mah: float | None = None,
    battery_v: float | None = None,
) -> Analysis:
    """Run the whole pipeline (ingest, calibrate, detect, attribute, phase windows) on one
    file, with the settings of `shuntscope analyze`."""

def read(
    path: StrPath,
    *,
    shunt_ohms: float | None = None,
    gain: float | None = None,
    offset_mv: float | None = None,
    input_format: str | None = None,
    sample_interval: str | float | None = None,
    zero_px: float | None = None,
    time_col: str | int | None = None,
    value_col: str | int | None = None,
    unit: str | None = None,
    time_unit: str | None = None,
    supply_col: str | int | None = None,
    no_mmap: bool | None = None,
    mmap_min_bytes: int | str | None = None,
    no_simd: bool | None = None,
) -> pl.DataFrame:
    """The trace's samples: `time_s`, then `voltage_v` (or `current_ma` for current traces, or
    with `shunt_ohms`), then any digital channels. Columns arrive as buffers, not element by
    element. The file is read, never memory-mapped: a file that another program shortens
    meanwhile raises InputError."""

def batch(
    paths: StrPath | Sequence[StrPath],
    *,
    jobs: int | None = None,
    client: Any = None,
    threads: int | None = None,
    files_per_task: int | None = None,
    views: bool | None = None,
    manifest: StrPath | None = None,
    shard: str | None = None,
    battery_mah: float | None = None,
    interval: str | float | Sequence[str | float] | None = None,
    messages_per_connection: int | Sequence[int] | None = None,
    input_format: str | None = None,
    sample_interval: str | float | None = None,
    zero_px: float | None = None,
    time_col: str | int | None = None,
    value_col: str | int | None = None,
    unit: str | None = None,
    time_unit: str | None = None,
    supply_col: str | int | None = None,
    no_mmap: bool | None = None,
    mmap_min_bytes: int | str | None = None,
    no_simd: bool | None = None,
    shunt_ohms: float | None = None,
    gain: float | None = None,
    offset_mv: float | None = None,
    baseline_ma: float | None = None,
    threshold_ma: float | None = None,
    min_burst_ms: float | None = None,
    merge_gap_ms: float | None = None,
    supply_v: float | None = None,
    max_gap: str | float | None = None,
    every: str | float | None = None,
    split: bool | None = None,
    survey_full_bytes: int | str | None = None,
    period: str | float | None = None,
    label: str | None = None,
    first_label: str | None = None,
    events: StrPath | None = None,
    events_offset: float | Literal["auto"] | None = None,
    tolerance_ms: float | None = None,
    event_window_ms: float | None = None,
    marker_col: str | int | None = None,
    marker_threshold: float | None = None,
    pcap: StrPath | None = None,
    port: str | Sequence[str] | None = None,
    pcap_offset: float | None = None,
    pcap_tolerance_ms: float | None = None,
    pcap_host: str | Sequence[str] | None = None,
    window_col: str | int | None = None,
    window_threshold: float | None = None,
    window_polarity: Literal["high", "low"] | None = None,
    windows: StrPath | None = None,
    window_labels: str | Sequence[str] | None = None,
    window: str | Sequence[str] | None = None,
    at_period: str | float | Sequence[str | float] | None = None,
    battery_v: float | None = None,
) -> Report:
    """Analyse every trace in folders (a manifest's or the folders' names as groups), in
    parallel as the command line does, and summarise, with the settings of `shuntscope
    batch`."""

def formats() -> list[dict[str, str]]:
    """The input formats shuntscope recognises: name and description."""
