"""A batch on a Dask cluster (two worker processes, one thread each) writes the report a local
batch writes, byte for byte: on samples/ and on a generated folder of 200 files with 2 bad ones;
with a worker killed during the run; with `threads=` honoured on the workers."""

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import shuntscope
from shuntscope import _native

distributed = pytest.importorskip("distributed", reason="dask[distributed] is in the test extra")

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "samples" / "seed"


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def same_reports(local: shuntscope.Report, remote: shuntscope.Report, tmp: Path) -> None:
    a, b = local.write(tmp / "local"), remote.write(tmp / "cluster")
    fa, fb = folder_bytes(a), folder_bytes(b)
    assert sorted(fa) == sorted(fb)
    for name in fa:
        assert fa[name] == fb[name], f"{name} differs"
    # Every file of the report is there, the tables included.
    assert {"report.json", "summary.csv", "events.parquet", "summary.parquet"} <= set(fa)


@pytest.fixture(scope="module")
def farm(tmp_path_factory) -> Path:
    """200 traces in 4 groups of 50 (10 mA idle, a 5 ms burst of 40 + 2k mA every 0.25 s, at 2 kS/s
    for 3 s), 2 of them bad: one not a trace, one with a broken row."""
    root = tmp_path_factory.mktemp("farm")
    t = np.arange(6000) / 2000.0
    for k in range(200):
        group = root / f"fw{k % 4}"
        group.mkdir(exist_ok=True)
        amp = 40.0 + 2.0 * (k % 4) + 0.01 * k
        i = 10.0 + np.where((t % 0.25) < 0.005, amp, 0.0) + 0.05 * np.sin(7.0 * t + k)
        rows = "\n".join(f"{a:.6f},{b:.5f}" for a, b in zip(t, i))
        (group / f"run{k:03d}.csv").write_text("time_s,current_ma\n" + rows + "\n")
    (root / "fw0" / "run000.csv").write_text("this is not a trace\n")
    lines = (root / "fw1" / "run001.csv").read_text().splitlines()
    lines[300] = "0.15,abc"
    (root / "fw1" / "run001.csv").write_text("\n".join(lines) + "\n")
    return root


def test_samples_on_a_cluster_equal_a_local_batch(client, tmp_path):
    local = shuntscope.batch(SEED, period="1s")
    remote = shuntscope.batch(SEED, period="1s", client=client)
    same_reports(local, remote, tmp_path)


def test_200_files_with_2_bad_on_a_cluster_equal_a_local_batch(client, farm, tmp_path):
    local = shuntscope.batch(farm, period="250ms")
    remote = shuntscope.batch(farm, period="250ms", client=client)
    failed = [f for f in remote.to_dict()["files"] if f["error"]]
    assert len(remote.to_dict()["files"]) == 200 and len(failed) == 2
    assert any("run001.csv:301:" in f["error"] for f in failed), failed
    same_reports(local, remote, tmp_path)


def test_a_worker_killed_during_the_run_changes_nothing(client, farm, tmp_path):
    local = shuntscope.batch(farm, period="250ms")
    result: dict = {}

    def run() -> None:
        result["report"] = shuntscope.batch(farm, period="250ms", client=client)

    before = set(client.scheduler_info()["workers"])
    worker = threading.Thread(target=run)
    worker.start()
    # Once tasks are running, kill the process of one worker (its nanny starts another; the
    # scheduler runs its tasks again).
    deadline = time.monotonic() + 30
    busy: list[str] = []
    while time.monotonic() < deadline and not busy:
        busy = [w for w, tasks in client.processing().items() if tasks]
        time.sleep(0.01)
    assert busy, "no task started"
    try:
        client.run(os._exit, 1, workers=[busy[0]])
    except Exception:
        pass  # the worker died before it could answer: as meant
    killed_at = time.monotonic()
    worker.join(120)
    assert not worker.is_alive()
    assert time.monotonic() > killed_at
    assert busy[0] not in client.scheduler_info()["workers"] or busy[0] not in before
    same_reports(local, result["report"], tmp_path)


def test_threads_are_honoured_on_workers(client):
    plan = _native.plan(["batch", str(SEED), "--out", "unused", "--period", "1s"])
    import json

    job = json.dumps(json.loads(plan)["jobs"][0])
    assert client.submit(shuntscope._default_threads, None).result() == 1
    assert shuntscope._default_threads(None) == 0
    assert shuntscope._default_threads(3) == 3
    for n in (1, 2):
        text, used = client.submit(_native.run_job, job, n, pure=False).result()
        assert used == n and json.loads(text)["result"] is not None
    # A batch's tasks run with threads=2 when asked: the outcome is the same.
    a = shuntscope.batch(SEED, period="1s", client=client, threads=2).to_dict()
    b = shuntscope.batch(SEED, period="1s", client=client).to_dict()
    assert a["files"] == b["files"]


def test_settings_errors_raise_before_anything_is_submitted():
    class NoSubmit:
        def map(self, *a, **k):
            raise AssertionError("submitted")

        gather = map

    with pytest.raises(shuntscope.InputError, match="shunt"):
        shuntscope.batch(SEED, client=NoSubmit(), shunt_ohms=-1.0)
