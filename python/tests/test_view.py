"""`shuntscope view` in a real browser (Debian's Chromium, driven by Selenium and
chromium-driver): the page makes no network request, shows a one-sample spike at every zoom,
measures a dragged span exactly where full-rate samples are embedded (against the closed form),
zooms and resets from the keyboard, and overlays two traces with their ratio."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

if not (CHROMIUM and DRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("CI needs chromium and chromium-driver (.ci/run installs them)")
    pytest.skip("chromium and chromium-driver are not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


def cli() -> str:
    built = ROOT / "target" / "release" / "shuntscope"
    return os.environ.get("SHUNTSCOPE_BIN") or (str(built) if built.exists() else shutil.which("shuntscope"))


DT = 1e-4  # 10 kS/s
FLOOR = 0.01  # mA


def trace(path: Path, burst_ma: float) -> list[float]:
    """20 s at 10 kS/s: a 10 µA floor with ±2% noise (a fixed pseudo-random sequence), a burst
    of 100 samples at `burst_ma` from sample 50 000 (5 s), and one sample at 50 mA at 15 s.
    Returns the currents, mA, as written (six significant digits)."""
    i, x = [], 12345
    for k in range(200_000):
        x = (1103515245 * x + 12345) % 2**31
        v = FLOOR * (1.0 + 0.04 * (x / 2**31 - 0.5))
        if 50_000 <= k < 50_100:
            v = burst_ma
        if k == 150_000:
            v = 50.0
        i.append(float(f"{v:.6g}"))
    rows = ["time_s,current_ma"] + [f"{k * DT:.4f},{v:.6g}" for k, v in enumerate(i)]
    path.write_text("\n".join(rows) + "\n")
    return i


def charge_ma_ms(i: list[float], k0: int, k1: int) -> float:
    """The trapezoid from sample k0 to sample k1, by hand, mA·ms."""
    return sum(0.5 * (i[k] + i[k + 1]) for k in range(k0, k1)) * DT * 1e3


@pytest.fixture(scope="module")
def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,800", "--disable-dev-shm-usage"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    d = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield d
    d.quit()


def view(tmp: Path, *traces: Path) -> Path:
    out = tmp / "view.html"
    r = subprocess.run([cli(), "view", *map(str, traces), "-o", str(out), "--force", "-q"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def test_one_trace(browser, tmp_path):
    t = tmp_path / "t.csv"
    i = trace(t, 10.0)
    page = view(tmp_path, t)
    html = page.read_text()
    assert "default-src 'none'" in html and "http://" not in html and "https://" not in html
    browser.get(page.as_uri())
    api = "return window.shuntscopeView"
    assert browser.execute_script(api + ".traces()") == 1
    # No request but the page itself, no console errors.
    urls = [
        json.loads(e["message"])["message"]["params"]["request"]["url"]
        for e in browser.get_log("performance")
        if json.loads(e["message"])["message"]["method"] == "Network.requestWillBeSent"
    ]
    assert urls == [page.as_uri()], urls
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    # The one-sample spike: the widest view's columns hold it at full height, and so does a
    # view 10 000 times narrower.
    cols = browser.execute_script(api + ".columns(0, 1000)")
    assert max(c[1] for c in cols if c) == 50.0
    browser.execute_script(api + ".zoom(14.999, 15.001)")
    cols = browser.execute_script(api + ".columns(0, 1000)")
    assert max(c[1] for c in cols if c) == 50.0
    # Measuring around the burst, inside its embedded full-rate samples: exact trapezoid.
    # 4.99 s .. 5.02 s are samples 49 900 and 50 200.
    m = browser.execute_script(api + ".select(4.99, 5.02)")[0]
    want = charge_ma_ms(i, 49_900, 50_200)
    assert abs(m["charge_ma_ms"] - want) < 1e-6 * want, m
    assert m["exact"] and m["peak_ma"] == 10.0 and "full-rate" in m["note"]
    assert abs(m["mean_ma"] - want / 30.0) < 1e-6 * want / 30.0
    assert "charge" in browser.find_element(By.ID, "measure").text
    # Over the whole trace (bucket edges): the total charge of the analysis.
    full = browser.execute_script(api + ".full()")
    m = browser.execute_script(api + ".measure(arguments[0], arguments[1])", full[0], full[1])
    total = charge_ma_ms(i, 0, len(i) - 1)
    assert abs(m["charge_ma_ms"] - total) < 1e-6 * total, (m, total)
    # Keyboard: reset, zoom in, reset again; a drag measures.
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("0")
    assert browser.execute_script(api + ".view()") == full
    body.send_keys("+")
    v = browser.execute_script(api + ".view()")
    assert v[1] - v[0] < full[1] - full[0]
    body.send_keys("0")
    canvas = browser.find_element(By.ID, "chart")
    ActionChains(browser).move_to_element_with_offset(canvas, -200, 0).click_and_hold().move_by_offset(300, 0).release().perform()
    assert "mean" in browser.find_element(By.ID, "measure").text


def test_two_traces_overlaid(browser, tmp_path):
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    io, inew = trace(old, 10.0), trace(new, 12.0)
    page = view(tmp_path, old, new)
    browser.get(page.as_uri())
    api = "return window.shuntscopeView"
    assert browser.execute_script(api + ".traces()") == 2
    # Aligned at the first burst (its start, the last floor sample before it, 4.9999 s, is 0):
    # -0.0099 s .. 0.0201 s are samples 49 900 .. 50 200 of each.
    ms = browser.execute_script(api + ".select(-0.0099, 0.0201)")
    q = [m["charge_ma_ms"] for m in ms]
    want = [charge_ma_ms(x, 49_900, 50_200) for x in (io, inew)]
    for got, w in zip(q, want):
        assert abs(got - w) < 1e-6 * w, (q, want)
    assert "ratio new/old" in browser.find_element(By.ID, "measure").text
