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


def true_columns(i: list[float], a: float, b: float, n: int) -> list[tuple[float, float] | None]:
    """Min and max of the samples whose time falls in each of n columns of [a, b), by hand."""
    out: list[list[float] | None] = [None] * n
    k0, k1 = max(0, int(a / DT) - 1), min(len(i), int(b / DT) + 2)
    for k in range(k0, k1):
        t = k * DT
        if not (a <= t < b):
            continue
        p = min(n - 1, int((t - a) / (b - a) * n))
        c = out[p]
        if c is None:
            out[p] = [i[k], i[k]]
        else:
            c[0], c[1] = min(c[0], i[k]), max(c[1], i[k])
    return [tuple(c) if c else None for c in out]


def test_contract_api_envelope_select_and_speed(browser, tmp_path):
    """window.shuntscope: ready, view, envelope (the true extremes of the samples under each
    column, at three zooms), select (the CLI's integration), bursts; zoom steps timed."""
    t = tmp_path / "t.csv"
    i = trace(t, 10.0)
    page = view(tmp_path, t)
    t0 = browser.execute_script("return performance.now()")
    browser.get(page.as_uri())
    api = browser.execute_async_script("const done = arguments[0]; window.shuntscope.ready.then(() => done(performance.now()))")
    assert api < 2000, f"ready after {api:.0f} ms"
    del t0
    n = 500
    # Column edges a quarter sample off the samples' times (none falls on an edge).
    q = DT / 4
    for a, b in [(q, 20.0 + q), (14.9 + q, 15.1 + q), (14.999 + q, 15.001 + q)]:
        env = browser.execute_script("return window.shuntscope.envelope(arguments[0], arguments[1], arguments[2])", a, b, n)
        assert len(env["min_ma"]) == n and len(env["max_ma"]) == n
        want = true_columns(i, a, b, n)
        for p in range(n):
            if want[p] is None:
                continue
            lo, hi = env["min_ma"][p], env["max_ma"][p]
            assert lo is not None and hi is not None, (a, b, p)
            # Never less than the column's own extremes; never more than its neighbours' (a
            # bucket of the pyramid may straddle a column edge).
            w = (b - a) / n
            near = [x for x in i[max(0, int((a + (p - 1) * w) / DT)) : int((a + (p + 2) * w) / DT) + 1]]
            assert lo <= want[p][0] + 1e-6 and hi >= want[p][1] - 1e-6, (a, b, p, lo, hi, want[p])
            assert lo >= min(near) - 1e-6 and hi <= max(near) + 1e-6, (a, b, p)
        # The spike, at full height in its column at every zoom.
        assert max(x for x in env["max_ma"] if x is not None) == 50.0, (a, b)
    # select: the trapezoid over samples 49 900 .. 50 200, computed here.
    m = browser.execute_script("return window.shuntscope.select(4.99, 5.02)")
    want = charge_ma_ms(i, 49_900, 50_200)
    assert abs(m["charge_ma_ms"] - want) < 1e-6 * want and m["exact"] is True, m
    assert set(m) >= {"duration_s", "mean_ma", "charge_ma_ms", "energy_mj", "peak_ma", "exact"}
    bursts = browser.execute_script("return window.shuntscope.bursts")
    assert len(bursts) >= 1 and "excess_charge_ma_ms" in bursts[0]
    # view sets the span; each zoom step draws in under 50 ms.
    times = browser.execute_script(
        """const s = window.shuntscope, out = [];
        for (const [a, b] of [[0, 20], [4, 6], [4.9, 5.1], [4.99, 5.02], [14.999, 15.001], [0, 20]]) {
          const t = performance.now(); s.view(a, b); out.push(performance.now() - t);
        }
        return [out, s.visible()];"""
    )
    assert times[1] == [0, 20]
    assert max(times[0]) < 50, times[0]
    # The canvas is drawn: more than 1% of its pixels are not background.
    drawn, total = browser.execute_script(
        """const c = document.getElementById('chart'), x = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let k = 0; k < x.length; k += 4) if (x[k + 3] > 0 && !(x[k] > 240 && x[k + 1] > 240 && x[k + 2] > 240)) n++;
        return [n, c.width * c.height];"""
    )
    assert drawn > 0.01 * total, (drawn, total)
    # The wheel zooms in (a real wheel event from the browser's input pipeline).
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    canvas = browser.find_element(By.ID, "chart")
    ActionChains(browser).scroll_from_origin(ScrollOrigin.from_element(canvas), 0, -200).perform()
    v = browser.execute_script("return window.shuntscope.visible()")
    assert v[1] - v[0] < 20 * 0.9, v
    print("ready", api, "ms; zoom steps (ms):", times[0])


def test_lanes_digital_and_supply(browser, tmp_path):
    """Digital channels as lanes, against the pattern the fixture's generator documents, and
    the measured supply's lane against a CSV written here."""
    page = tmp_path / "gpio.html"
    fixture = ROOT / "tests" / "fixtures" / "native" / "generated_gpio-pattern.ppk2"
    r = subprocess.run([cli(), "view", str(fixture), "-o", str(page), "--force", "-q"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    browser.get(page.as_uri())
    lanes = browser.execute_script("return window.shuntscope.lanes()")
    assert lanes["digital"] == ["D0", "D2"], lanes
    # D3 is undefined throughout (NaN, null in JSON); the others high.
    assert dict(lanes["constant"]) == {"D1": 1, "D3": None, "D4": 1, "D5": 1, "D6": 1, "D7": 1}, lanes
    # One column per sample (10 kS/s), centred on the samples; a sample's state holds until
    # the next sample, so column p shows the states of samples p − 1 and p.
    d0 = browser.execute_script("return window.shuntscope.digital('D0', -0.00005, 0.09995, 1000)")
    state = [{0}] * 1000
    for k in list(range(100, 200)) + list(range(500, 600)):
        state[k] = {1}
    for k in (100, 199, 500, 599, 800):
        state[k] = {0, 1}  # toggled within the sample
    name = {frozenset({0}): "0", frozenset({1}): "1", frozenset({0, 1}): "x"}
    want = [name[frozenset(state[p] | (state[p - 1] if p else set()))] for p in range(1000)]
    assert d0 == want, [(k, d0[k], want[k]) for k in range(1000) if d0[k] != want[k]][:10]
    d2 = browser.execute_script("return window.shuntscope.digital('D2', -0.00005, 0.09995, 1000)")
    assert d2[299] == "0" and d2[301:310] == ["?"] * 9 and d2[311] == "0", d2[295:315]
    # The supply: 3.3 V with a dip to 3.1 V over samples 500..509 of 1000 at 1 kS/s.
    csv = tmp_path / "supply.csv"
    rows = ["time_s,current_ma,supply_v"] + [f"{k / 1000:.3f},{5.0 if 500 <= k < 510 else 1.0},{3.1 if 500 <= k < 510 else 3.3}" for k in range(1000)]
    csv.write_text("\n".join(rows) + "\n")
    page = tmp_path / "supply.html"
    r = subprocess.run([cli(), "view", str(csv), "--supply-col", "supply_v", "-o", str(page), "--force", "-q"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    browser.get(page.as_uri())
    assert browser.execute_script("return window.shuntscope.lanes()")["supply"] is True
    s = browser.execute_script("return window.shuntscope.supply(0, 1, 100)")
    assert min(x for x in s["min_v"] if x is not None) == pytest.approx(3.1, abs=1e-6)
    assert max(x for x in s["max_v"] if x is not None) == pytest.approx(3.3, abs=1e-6)
    assert s["min_v"][10] == pytest.approx(3.3, abs=1e-6)
    png = tmp_path / "lanes.png"
    browser.save_screenshot(str(png))
    assert png.stat().st_size > 5000
