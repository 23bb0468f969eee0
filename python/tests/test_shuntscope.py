"""The Python package against the command line on samples/: the same JSON, the same tables.

Run after `pip install .` (CI: .ci/run). The CLI is the Rust binary at target/release/shuntscope
when it exists (CI builds it first), else the wheel's own `shuntscope` command.
"""

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import shuntscope

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "samples" / "seed"


def cli() -> str:
    built = ROOT / "target" / "release" / "shuntscope"
    return os.environ.get("SHUNTSCOPE_BIN") or (str(built) if built.exists() else shutil.which("shuntscope"))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([cli(), *args], capture_output=True, text=True)


def test_analyze_equals_the_cli_json():
    path = str(SEED / "mqtt.csv")
    a = shuntscope.analyze(path, period="1s", supply_v=3.3)
    out = run_cli("analyze", path, "-f", "json", "-q", "--period", "1s", "--supply-v", "3.3")
    assert out.returncode == 0, out.stderr
    assert a.to_dict() == json.loads(out.stdout)
    want = json.loads(out.stdout)
    assert a.bursts.columns == list(want["bursts"][0].keys())
    assert a.bursts.height == len(want["bursts"])
    assert a.bursts["excess_charge_ma_ms"].to_list() == [b["excess_charge_ma_ms"] for b in want["bursts"]]
    assert a.events["label"].to_list()[:2] == ["connect", "message"]
    assert a.baseline_ma == want["baseline_ma"] and a.noise_ma == want["noise_ma"]
    assert a.totals == want["totals"]
    assert a.warnings == want["warnings"]


def test_classes_and_budget(tmp_path):
    """Repeatable keywords become repeated flags; classes and budget equal the CLI's JSON."""
    path = str(SEED / "mqtt.csv")
    a = shuntscope.analyze(path, at_period=["2s", "10s"], battery_mah=1000.0)
    out = run_cli("analyze", path, "-f", "json", "-q", "--at-period", "2s", "--at-period", "10s",
                  "--battery-mah", "1000")
    assert out.returncode == 0, out.stderr
    want = json.loads(out.stdout)
    assert a.budget == want["budget"]
    assert a.classes["n"].to_list() == [c["n"] for c in want["classes"]]
    given = [p for p in a.budget["periods"] if p["given"]]
    assert [p["period_s"] for p in given] == [2.0, 10.0]
    # The longer the period, the lower the mean current and the longer the battery lasts.
    assert given[0]["mean_ma"] > given[1]["mean_ma"]
    assert given[0]["battery_life_h"] < given[1]["battery_life_h"]
    assert a.bursts["class"].null_count() == 0


def test_windows_frame(tmp_path):
    rows = ["Time (s),Current (mA),GPIO"]
    for k in range(1001):
        on = 200 <= k <= 500
        rows.append(f"{k / 1000:.3f},{50 if on else 5},{int(on)}")
    p = tmp_path / "w.csv"
    p.write_text("\n".join(rows) + "\n")
    a = shuntscope.analyze(p, window_col="GPIO", window_labels="send", supply_v=3)
    w = a.windows
    assert w["label"].to_list() == ["send"]
    # Closed form: 0.3 s × 50 mA plus two half-sample edges at 27.5 mA → 15.03875 mA·s.
    assert w["charge_ma_ms"][0] == pytest.approx(15038.75, rel=1e-12)
    assert w["energy_mj"][0] == pytest.approx(3 * 15.03875, rel=1e-12)


def test_batch_equals_the_cli_report(tmp_path, capfd):
    r = shuntscope.batch(SEED, jobs=2)
    # The report is returned, not printed.
    assert capfd.readouterr().out == ""
    out = tmp_path / "cli"
    done = run_cli("batch", str(SEED), "--out", str(out), "-q")
    assert done.returncode == 0, done.stderr
    want = pl.read_csv(out / "summary.csv")
    assert r.summary.equals(want)
    assert r.events.equals(pl.read_parquet(out / "events.parquet"))
    written = r.write(tmp_path / "py")
    assert (written / "summary.csv").read_text() == (out / "summary.csv").read_text()
    assert (written / "report.html").exists()
    with pytest.raises(shuntscope.InputError):
        r.write(tmp_path / "py")


def test_bad_input_raises_input_error_with_the_cli_message(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,current_ma\n0,1\n0.001,abc\n0.002,3\n")
    with pytest.raises(shuntscope.InputError) as e:
        shuntscope.analyze(bad)
    out = run_cli("analyze", str(bad))
    assert out.returncode == 2
    assert out.stderr.strip() == f"error: {e.value}"
    assert isinstance(e.value, ValueError)
    assert "bad.csv" in str(e.value) and "abc" in str(e.value)
    with pytest.raises(TypeError):
        shuntscope.analyze(bad, no_such_flag=1)


def test_read_returns_the_values_written(tmp_path):
    rng = np.random.default_rng(7)
    t = np.arange(50_000) * 1e-4
    v = np.round(rng.normal(0.08, 0.002, t.size), 6)
    d0 = (np.arange(t.size) % 100 < 10).astype(int)
    p = tmp_path / "trace.csv"
    with p.open("w") as f:
        f.write("Timestamp(ms),Current(uA),D0-D7,D0\n")
        for k in range(t.size):
            f.write(f"{t[k] * 1e3:.1f},{v[k] * 1e6:.0f},{d0[k]},{d0[k]}\n")
    df = shuntscope.read(p)
    assert df.columns[:2] == ["time_s", "current_ma"]
    assert df.height == t.size
    np.testing.assert_allclose(df["time_s"].to_numpy(), t, rtol=0, atol=1e-12)
    np.testing.assert_allclose(df["current_ma"].to_numpy(), np.round(v * 1e6) * 1e-3, rtol=1e-15)
    assert df["D0"].to_list()[:12] == [1.0] * 10 + [0.0] * 2


def test_formats():
    names = [f["name"] for f in shuntscope.formats()]
    assert {"ppk2-session", "sigrok-session", "jls", "table"} <= set(names)


def wheel_command() -> str:
    """The wheel's `shuntscope` console command: beside this interpreter (a venv need not be on
    PATH), else on PATH."""
    here = Path(sys.executable).parent / "shuntscope"
    found = str(here) if here.exists() else shutil.which("shuntscope")
    assert found, "the wheel's shuntscope command is not installed"
    return found


def test_the_wheels_command_is_the_cli():
    exe = wheel_command()
    assert Path(exe).resolve() != (ROOT / "target" / "release" / "shuntscope").resolve()
    out = subprocess.run([exe, "formats"], capture_output=True, text=True)
    assert out.returncode == 0 and "ppk2-session" in out.stdout
    # The same JSON as the Rust binary, and the same exit codes and one-line errors.
    path = str(SEED / "mqtt.csv")
    got = subprocess.run([exe, "analyze", path, "-f", "json", "-q"], capture_output=True, text=True)
    want = run_cli("analyze", path, "-f", "json", "-q")
    assert got.returncode == 0 and json.loads(got.stdout) == json.loads(want.stdout)
    bad = subprocess.run([exe, "analyze", str(ROOT / "no-such-file.csv")], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no-such-file.csv" in bad.stderr
    usage = subprocess.run([exe, "analyze", "--no-such-flag"], capture_output=True, text=True)
    assert usage.returncode == 2
    assert subprocess.run([exe, "--version"], capture_output=True, text=True).returncode == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="watches /proc/self/fd")
def test_a_file_shortened_during_a_read_raises_input_error(tmp_path):
    """The library reads files (no memory map): another program shortening one meanwhile is an
    InputError naming the file, never a dead interpreter. A watcher thread truncates the file as
    soon as the reader has it open (seen in /proc/self/fd)."""
    p = tmp_path / "long.csv"
    with p.open("w") as f:
        f.write("time_s,current_ma\n")
        line = "".join(f"{k * 1e-5:.5f},{170 + (k % 1000 < 30) * 64}\n" for k in range(100_000))
        for _ in range(20):  # 2 M rows, ~40 MB
            f.write(line)
    size = p.stat().st_size
    target = str(p.resolve())
    done = threading.Event()

    def shorten_when_open() -> None:
        while not done.is_set():
            for fd in os.listdir("/proc/self/fd"):
                try:
                    if os.readlink(f"/proc/self/fd/{fd}") == target:
                        os.truncate(target, size // 3)
                        return
                except OSError:
                    pass

    watcher = threading.Thread(target=shorten_when_open)
    watcher.start()
    try:
        with pytest.raises(shuntscope.InputError) as e:
            shuntscope.analyze(p)
    finally:
        done.set()
        watcher.join()
    assert "long.csv" in str(e.value) and "shortened" in str(e.value)
    assert os.path.getsize(p) == size // 3
