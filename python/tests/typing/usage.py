"""How a user's code calls shuntscope: checked by mypy --strict against the package's stubs
(python/tests/test_typing.py). Not run."""

from pathlib import Path

import polars as pl

import shuntscope


def cost_per_message(trace: Path) -> float:
    a = shuntscope.analyze(trace, shunt_ohms=0.47, period="1s", supply_v=3.3, port=["mqtt=1884"])
    bursts: pl.DataFrame = a.bursts
    charge: float = a.totals["burst_excess_charge_ma_ms"]
    return charge / max(bursts.height, 1)


def phases(trace: str) -> pl.DataFrame:
    a = shuntscope.analyze(
        trace, value_col="CH1-CH2", supply_col="CH1", window_col=3, window_polarity="low"
    )
    return a.windows


def samples(trace: str) -> pl.DataFrame:
    return shuntscope.read(trace, shunt_ohms=1.0, time_col="Time", no_simd=True)


def report(folder: str) -> Path:
    r = shuntscope.batch([folder, Path(folder)], jobs=2, battery_mah=1200, interval=["1s", 600])
    try:
        return r.write(Path(folder) / "report", force=True)
    except shuntscope.InputError as e:
        raise SystemExit(str(e))
