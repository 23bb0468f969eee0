// shuntscope view: a zoomable trace from a min/max pyramid, raw samples where embedded, and what
// the analysis found. No network, no library: canvas drawing. window.shuntscopeView is the
// page's API (used by the browser test and by a user's console).
(function () {
  "use strict";
  const DATA = JSON.parse(document.getElementById("data").textContent);
  const COLORS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7"];
  const CLASS = ["#e69f00", "#cc79a7", "#56b4e9", "#f0e442", "#009e73"];
  const canvas = document.getElementById("chart");
  const ctx = canvas.getContext("2d");
  const M = { l: 78, r: 12, t: 26, b: 34 };

  // ---- data: levels of the pyramid (base, then pairwise merges), shifted raw spans ----
  // Arrays arrive as base64 of little-endian f64 or f32.
  function bytes(b64) { const s = atob(b64), u = new Uint8Array(s.length); for (let k = 0; k < s.length; k++) u[k] = s.charCodeAt(k); return u.buffer; }
  const f64 = (b) => new Float64Array(bytes(b));
  const f32 = (b) => new Float32Array(bytes(b));
  function prep(tr) {
    const p0 = tr.pyramid, off = tr.offset_s;
    const p = { per: p0.per, t0: f64(p0.t0), t1: f64(p0.t1), lo: f32(p0.lo), hi: f32(p0.hi), n: f64(p0.n), q: f64(p0.q) };
    const base = { t0: p.t0.map((x) => x - off), t1: p.t1.map((x) => x - off), lo: p.lo, hi: p.hi, q: p.q, n: p.n };
    const levels = [base];
    let cur = base;
    while (cur.t0.length > 64) {
      const m = Math.ceil(cur.t0.length / 2), nx = { t0: [], t1: [], lo: [], hi: [], q: [], n: [] };
      for (let k = 0; k < m; k++) {
        const a = 2 * k, b = Math.min(2 * k + 1, cur.t0.length - 1);
        nx.t0.push(cur.t0[a]); nx.t1.push(cur.t1[b]);
        nx.lo.push(Math.min(cur.lo[a], cur.lo[b])); nx.hi.push(Math.max(cur.hi[a], cur.hi[b]));
        nx.q.push(a === b ? cur.q[a] : cur.q[a] + cur.q[b]); nx.n.push(a === b ? cur.n[a] : cur.n[a] + cur.n[b]);
      }
      levels.push(nx); cur = nx;
    }
    const raw = tr.raw.map((r) => ({ t: f64(r.t).map((x) => x - off), i: f32(r.i) }));
    const a = tr.analysis;
    const L = tr.lanes || { digital: [], constant: [], supply: null };
    const digital = L.digital.map((d) => ({ name: d.name, t: f64(d.t).map((x) => x - off), s: f32(d.s), cut: d.truncated_at_s == null ? null : d.truncated_at_s - off }));
    let supplyLevels = null;
    if (L.supply) {
      const q = L.supply, b0 = { t0: f64(q.t0).map((x) => x - off), t1: f64(q.t1).map((x) => x - off), lo: f32(q.lo), hi: f32(q.hi), q: f64(q.q), n: f64(q.n) };
      supplyLevels = [b0];
      let c = b0;
      while (c.t0.length > 64) {
        const m = Math.ceil(c.t0.length / 2), nx = { t0: [], t1: [], lo: [], hi: [], q: [], n: [] };
        for (let k = 0; k < m; k++) { const x = 2 * k, y = Math.min(2 * k + 1, c.t0.length - 1); nx.t0.push(c.t0[x]); nx.t1.push(c.t1[y]); nx.lo.push(Math.min(c.lo[x], c.lo[y])); nx.hi.push(Math.max(c.hi[x], c.hi[y])); nx.q.push(0); nx.n.push(0); }
        supplyLevels.push(nx); c = nx;
      }
    }
    return { name: tr.name, off, levels, raw, a, supply: tr.supply_v, per: p.per, digital, constant: L.constant, supplyLevels,
      gaps: a.gaps.map((g) => [g.start_s - off, g.end_s - off]) };
  }
  const T = DATA.map(prep);
  const FULL = [Math.min(...T.map((t) => t.levels[0].t0[0])), Math.max(...T.map((t) => { const l = t.levels[0]; return l.t1[l.t1.length - 1]; }))];
  let view = FULL.slice();
  const floor0 = T[0].a.floor_ma > 0 ? T[0].a.floor_ma : (T[0].a.baseline_ma > 0 ? T[0].a.baseline_ma : 0);
  const top0 = Math.max(...T.map((t) => Math.max(...t.levels[t.levels.length - 1].hi)));
  let logY = floor0 > 0 && top0 > 100 * floor0;
  let sel = null, drag = null, hoverBurst = null;

  // ---- lookups ----
  function lowerBound(arr, x) { let lo = 0, hi = arr.length; while (lo < hi) { const m = (lo + hi) >> 1; if (arr[m] < x) lo = m + 1; else hi = m; } return lo; }
  function range(l, a, b) { // buckets intersecting [a, b]
    const i0 = Math.max(0, lowerBound(l.t1, a)), i1 = Math.min(l.t0.length, lowerBound(l.t0, b + 1e-15 * Math.abs(b)) + 1);
    return [i0, Math.max(i0, Math.min(i1, l.t0.length))];
  }
  function rawIn(tr, a, b) { // a raw span covering [a, b], and the indexes inside
    for (const r of tr.raw) {
      if (r.t.length > 1 && r.t[0] <= a && r.t[r.t.length - 1] >= b) {
        const i0 = lowerBound(r.t, a), i1 = lowerBound(r.t, b);
        return { r, i0, i1 };
      }
    }
    return null;
  }
  // Per pixel column: [lo, hi] of every sample under it, from the finest level with at most
  // 3 buckets a column (exact min/max of the buckets' samples), or null.
  function columns(tr, a, b, W) {
    let l = tr.levels[tr.levels.length - 1];
    for (const lv of tr.levels) { const [i0, i1] = range(lv, a, b); if (i1 - i0 <= 3 * W) { l = lv; break; } }
    const [i0, i1] = range(l, a, b), cols = new Array(W).fill(null), k = W / (b - a);
    for (let j = i0; j < i1; j++) {
      let p0 = Math.floor((l.t0[j] - a) * k), p1 = Math.floor((l.t1[j] - a) * k);
      if (p1 < 0 || p0 >= W) continue;
      p0 = Math.max(0, p0); p1 = Math.min(W - 1, p1);
      for (let p = p0; p <= p1; p++) {
        const c = cols[p];
        if (c === null) cols[p] = [l.lo[j], l.hi[j]]; else { if (l.lo[j] < c[0]) c[0] = l.lo[j]; if (l.hi[j] > c[1]) c[1] = l.hi[j]; }
      }
    }
    return cols;
  }

  // ---- measuring a span [a, b] of one trace ----
  function gapInside(tr, a, b) { let g = 0; for (const [s, e] of tr.gaps) g += Math.max(0, Math.min(b, e) - Math.max(a, s)); return g; }
  function measure(tr, a, b) {
    const raw = rawIn(tr, a, b);
    let q = 0, peak = -Infinity, exact = true, note = "";
    if (raw) {
      const { r, i0, i1 } = raw, ts = [a], is = [];
      // Values at a and b by linear interpolation; the samples between as they are.
      const at = (x) => { const k = Math.max(1, Math.min(r.t.length - 1, lowerBound(r.t, x))); const t0 = r.t[k - 1], t1 = r.t[k]; return r.i[k - 1] + (r.i[k] - r.i[k - 1]) * (t1 > t0 ? (x - t0) / (t1 - t0) : 0); };
      is.push(at(a));
      for (let k = i0; k < i1; k++) { ts.push(r.t[k]); is.push(r.i[k]); }
      ts.push(b); is.push(at(b));
      for (let k = 1; k < ts.length; k++) { q += 0.5 * (is[k] + is[k - 1]) * (ts[k] - ts[k - 1]); }
      for (const v of is) peak = Math.max(peak, v);
      note = "exact: full-rate samples";
    } else {
      const l = tr.levels[0], [i0, i1] = range(l, a, b);
      for (let j = i0; j < i1; j++) {
        const s = l.t0[j], e = j + 1 < l.t0.length ? l.t0[j + 1] : l.t1[j];
        const over = Math.max(0, Math.min(b, e) - Math.max(a, s));
        if (e <= s) continue;
        const f = over / (e - s);
        if (f > 0 && f < 1 - 1e-12) exact = false;
        q += f * l.q[j];
        peak = Math.max(peak, l.hi[j]);
      }
      note = exact ? "exact: the span's edges are bucket edges" : "within one bucket (" + tr.per + " samples) at each end";
    }
    const covered = (b - a) - gapInside(tr, a, b);
    const charge = q * 1e3; // mA·ms
    return { duration_s: b - a, covered_s: covered, charge_ma_ms: charge, mean_ma: covered > 0 ? q / covered : NaN,
      energy_mj: q * tr.supply, peak_ma: peak, exact, note };
  }

  // ---- formatting ----
  function fmtI(ma) { const a = Math.abs(ma); if (a >= 1e3) return (ma / 1e3).toPrecision(4) + " A"; if (a >= 1 || a === 0) return ma.toPrecision(4) + " mA"; if (a >= 1e-3) return (ma * 1e3).toPrecision(4) + " µA"; return (ma * 1e6).toPrecision(4) + " nA"; }
  function fmtT(s) { const a = Math.abs(s); if (a === 0) return "0"; if (a < 1e-3) return (s * 1e6).toPrecision(4) + " µs"; if (a < 1) return (s * 1e3).toPrecision(4) + " ms"; return Number(s.toPrecision(6)) + " s"; }
  function fmtQ(q) { const a = Math.abs(q); if (a >= 1 || a === 0) return q.toPrecision(5) + " mA·ms"; if (a >= 1e-3) return (q * 1e3).toPrecision(5) + " µA·ms"; return (q * 1e6).toPrecision(5) + " nA·ms"; }

  // ---- lanes: digital channels (edges), the measured supply (min/max) ----
  const LANE = 16, SUPPLY_LANE = 64;
  const laneList = [];
  T.forEach((tr, k) => {
    if (tr.supplyLevels) laneList.push({ kind: "supply", tr, k, h: SUPPLY_LANE });
    for (const d of tr.digital) laneList.push({ kind: "digital", tr, k, d, h: LANE });
  });
  const laneH = laneList.reduce((s, l) => s + l.h + 4, 0);
  // Per pixel column of [a, b]: which states a channel took (bit 1 low, 2 high, 4 unknown).
  function digitalColumns(d, a, b, n) {
    const out = new Uint8Array(n), f = n / (b - a);
    let j = Math.max(0, lowerBound(d.t, a) - 1);
    for (; j < d.t.length && d.t[j] <= b; j++) {
      const s = d.t[j], e = j + 1 < d.t.length ? d.t[j + 1] : (d.cut != null ? d.cut : b);
      if (e < a) continue;
      const v = d.s[j], bit = v === 0 ? 1 : v === 1 ? 2 : v === 0.5 ? 3 : 4;
      const p0 = Math.max(0, Math.floor((s - a) * f)), p1 = Math.min(n - 1, Math.floor((Math.min(e, b) - a) * f - 1e-9));
      for (let p = p0; p <= Math.max(p0, p1) && p < n; p++) out[p] |= bit;
    }
    return out;
  }
  function drawLanes(top) {
    const PW = Math.max(1, Math.round(W - M.l - M.r));
    let y = top;
    ctx.font = "10px sans-serif";
    for (const L of laneList) {
      y += 4;
      const col = COLORS[L.k % COLORS.length];
      ctx.fillStyle = "#f6f6f6"; ctx.fillRect(M.l, y, PW, L.h);
      if (L.kind === "digital") {
        const c = digitalColumns(L.d, view[0], view[1], PW);
        ctx.fillStyle = col;
        for (let p = 0; p < PW; p++) {
          const v = c[p], x = M.l + p;
          if ((v & 3) === 3) ctx.fillRect(x, y + 2, 1, L.h - 4);
          else if (v & 2) ctx.fillRect(x, y + 2, 1, 2);
          else if (v & 1) ctx.fillRect(x, y + L.h - 4, 1, 2);
        }
        ctx.fillStyle = "#333"; ctx.fillText(L.d.name, 4, y + L.h - 4);
      } else {
        const cols = columns({ levels: L.tr.supplyLevels }, view[0], view[1], PW);
        let lo = Infinity, hi = -Infinity;
        for (const c of cols) if (c) { lo = Math.min(lo, c[0]); hi = Math.max(hi, c[1]); }
        if (isFinite(lo)) {
          const pad = (hi - lo) * 0.1 || Math.max(1e-3, Math.abs(hi) * 1e-3), y0 = lo - pad, y1 = hi + pad;
          const Ys = (v) => y + L.h - 2 - (v - y0) / (y1 - y0) * (L.h - 4);
          ctx.strokeStyle = col; ctx.beginPath();
          cols.forEach((c, p) => { if (c) { const x = M.l + p + 0.5; ctx.moveTo(x, Ys(c[0])); ctx.lineTo(x, Ys(c[1]) - 0.5); } });
          ctx.stroke();
          ctx.fillStyle = "#333";
          ctx.fillText("supply", 4, y + 12); ctx.fillText(hi.toPrecision(4) + " V", 4, y + 26); ctx.fillText(lo.toPrecision(4) + " V", 4, y + L.h - 3);
        }
      }
      y += L.h;
    }
    const consts = T.flatMap((tr) => tr.constant.map(([n, v]) => n + (v === 1 ? " high" : v === 0 ? " low" : v === 0.5 ? " toggling" : " unknown")));
    if (consts.length) { ctx.fillStyle = "#777"; ctx.fillText("constant: " + consts.join(", "), M.l + 4, H - 2); }
  }

  // ---- drawing ----
  let W = 0, H = 0, yr = [0, 1];
  const X = (t) => M.l + (t - view[0]) / (view[1] - view[0]) * (W - M.l - M.r);
  const tOf = (x) => view[0] + (x - M.l) / (W - M.l - M.r) * (view[1] - view[0]);
  const ymin = () => (floor0 > 0 ? floor0 / 3 : 1e-6);
  const fy = (v) => (logY ? Math.log10(Math.max(v, ymin())) : v);
  const PB = () => H - M.b - laneH;
  const Y = (v) => PB() - (fy(v) - yr[0]) / (yr[1] - yr[0]) * (PB() - M.t);
  let draw = function () {
    const dpr = window.devicePixelRatio || 1;
    W = canvas.clientWidth; H = canvas.clientHeight;
    canvas.width = W * dpr; canvas.height = H * dpr; ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const PW = Math.max(1, Math.round(W - M.l - M.r));
    const all = T.map((tr) => ({ tr, cols: columns(tr, view[0], view[1], PW), raw: rawIn(tr, view[0], view[1]) }));
    let lo = Infinity, hi = -Infinity;
    for (const d of all) for (const c of d.cols) if (c) { lo = Math.min(lo, fy(c[0])); hi = Math.max(hi, fy(c[1])); }
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    const pad = (hi - lo) * 0.06 || 1e-9; yr = [lo - pad, hi + pad];
    // Bursts of the first trace, shaded by class; windows; events.
    const a0 = T[0].a;
    for (const b of a0.bursts) {
      const s = b.start_s - T[0].off, e = b.end_s - T[0].off;
      if (e < view[0] || s > view[1]) continue;
      ctx.fillStyle = CLASS[(b.class || 0) % CLASS.length] + "40";
      ctx.fillRect(X(s), M.t, Math.max(1, X(e) - X(s)), PB() - M.t);
    }
    for (const w of a0.windows || []) {
      const s = w.start_s - T[0].off, e = w.end_s - T[0].off;
      if (e < view[0] || s > view[1]) continue;
      ctx.fillStyle = "#cc79a720"; ctx.fillRect(X(s), M.t, X(e) - X(s), PB() - M.t);
      ctx.fillStyle = "#7a3d63"; ctx.fillText(w.label + ": " + w.energy_mj.toPrecision(4) + " mJ", X(Math.max(s, view[0])) + 3, M.t + 24);
    }
    ctx.font = "11px sans-serif";
    const evs = ((a0.attribution && a0.attribution.events) || []).filter((ev) => ev.start_s - T[0].off >= view[0] && ev.start_s - T[0].off <= view[1]);
    // Labels only where they can be read (at most one per 40 px).
    for (const ev of evs.length * 40 <= W ? evs : []) {
      const s = ev.start_s - T[0].off;
      ctx.fillStyle = "#333"; ctx.fillText(ev.label, X(s) + 2, M.t + 11);
    }
    // Each trace: raw samples where embedded and few enough, else the min/max columns.
    all.forEach((d, k) => {
      ctx.strokeStyle = COLORS[k % COLORS.length]; ctx.lineWidth = 1; ctx.beginPath();
      if (d.raw && d.raw.i1 - d.raw.i0 <= 4 * PW) {
        const { r, i0, i1 } = d.raw;
        for (let j = Math.max(0, i0 - 1); j < Math.min(r.t.length, i1 + 1); j++) { const x = X(r.t[j]), y = Y(r.i[j]); if (j === Math.max(0, i0 - 1)) ctx.moveTo(x, y); else ctx.lineTo(x, y); }
        ctx.stroke();
        if (i1 - i0 < PW / 6) { ctx.fillStyle = ctx.strokeStyle; for (let j = i0; j < i1; j++) ctx.fillRect(X(r.t[j]) - 1.5, Y(r.i[j]) - 1.5, 3, 3); }
      } else {
        let prev = null;
        d.cols.forEach((c, p) => { if (!c) { prev = null; return; } const x = M.l + p + 0.5; ctx.moveTo(x, Y(c[0])); ctx.lineTo(x, Y(c[1]) - 0.5); if (prev) { ctx.moveTo(x - 1, Y((prev[0] + prev[1]) / 2)); ctx.lineTo(x, Y((c[0] + c[1]) / 2)); } prev = c; });
        ctx.stroke();
      }
    });
    // Floor or baseline, trigger.
    const base = a0.baseline_ma, trig = base + a0.threshold_ma;
    ctx.setLineDash([]); ctx.strokeStyle = "#009e73"; ctx.lineWidth = 1.5; ctx.beginPath(); ctx.moveTo(M.l, Y(base)); ctx.lineTo(W - M.r, Y(base)); ctx.stroke();
    ctx.setLineDash([6, 4]); ctx.strokeStyle = "#d55e00"; ctx.beginPath(); ctx.moveTo(M.l, Y(trig)); ctx.lineTo(W - M.r, Y(trig)); ctx.stroke(); ctx.setLineDash([]);
    // Selection.
    drawLanes(PB());
    if (sel) { ctx.fillStyle = "#0072b230"; ctx.fillRect(X(sel[0]), M.t, X(sel[1]) - X(sel[0]), H - M.b - M.t); }
    axes();
    const lg = T.map((t, k) => t.name).join("  ·  ");
    ctx.fillStyle = "#222"; ctx.font = "12px sans-serif";
    T.forEach((t, k) => { ctx.fillStyle = COLORS[k % COLORS.length]; ctx.fillText("■ " + t.name + (T.length > 1 ? " (0 s = " + fmtT(t.off) + ")" : ""), M.l + 6 + k * 320, 14); });
    ctx.fillStyle = "#555";
    ctx.fillText((a0.baseline_source === "floor" ? "sleep floor " : "idle ") + fmtI(base) + ", trigger +" + fmtI(a0.threshold_ma) + (logY ? ", log scale" : ""), W - M.r - 330, 14);
    void lg;
  };
  function niceStep(span, n) { const r = span / n, p = Math.pow(10, Math.floor(Math.log10(r))), m = r / p; return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p; }
  function axes() {
    ctx.strokeStyle = "#888"; ctx.fillStyle = "#333"; ctx.font = "11px sans-serif"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(M.l, M.t); ctx.lineTo(M.l, PB()); ctx.moveTo(M.l, H - M.b); ctx.lineTo(W - M.r, H - M.b); ctx.stroke();
    const st = niceStep(view[1] - view[0], Math.max(2, W / 120));
    for (let t = Math.ceil(view[0] / st) * st; t <= view[1]; t += st) { const x = X(t); ctx.fillRect(x, H - M.b, 1, 4); ctx.fillText(fmtT(t), x - 18, H - M.b + 16); }
    if (logY) {
      for (let d = Math.ceil(yr[0]); d <= yr[1]; d++) { const y = Y(Math.pow(10, d)); ctx.fillRect(M.l - 4, y, 4, 1); ctx.fillText(fmtI(Math.pow(10, d)), 4, y + 4); }
    } else {
      const s = niceStep(yr[1] - yr[0], Math.max(2, H / 60));
      for (let v = Math.ceil(yr[0] / s) * s; v <= yr[1]; v += s) { const y = Y(v); ctx.fillRect(M.l - 4, y, 4, 1); ctx.fillText(fmtI(v), 4, y + 4); }
    }
    ctx.fillText("time (s)", W / 2, H - 4);
  }

  // ---- panel: measurement, what was found, the list ----
  const measureBox = document.getElementById("measure");
  function showMeasure() {
    if (!sel) { measureBox.textContent = "Drag across the trace to measure."; return; }
    const ms = T.map((t) => measure(t, sel[0], sel[1]));
    let s = "span " + fmtT(sel[0]) + " … " + fmtT(sel[1]) + "\n";
    ms.forEach((m, k) => {
      s += (T.length > 1 ? T[k].name + "\n" : "") + "duration " + fmtT(m.duration_s) + "\nmean     " + fmtI(m.mean_ma) + "\ncharge   " + fmtQ(m.charge_ma_ms) +
        "\nenergy   " + m.energy_mj.toPrecision(5) + " mJ\npeak     " + fmtI(m.peak_ma) + "\n(" + m.note + ")\n";
    });
    if (ms.length === 2) s += "ratio new/old: charge " + (ms[1].charge_ma_ms / ms[0].charge_ma_ms).toPrecision(4) + ", mean " + (ms[1].mean_ma / ms[0].mean_ma).toPrecision(4) + "\n";
    measureBox.textContent = s;
    measureBox.dataset.charge = ms.map((m) => m.charge_ma_ms).join(",");
  }
  function found() {
    const a = T[0].a, t = a.totals;
    let s = a.bursts.length + " bursts, mean " + fmtI(t.mean_ma) + "\n";
    for (const c of a.classes || []) s += "class " + c.class + ": n " + c.n + (c.period_s ? ", every " + fmtT(c.period_s) : "") + ", " + fmtQ(c.mean_excess_charge_ma_ms) + "\n";
    document.getElementById("found").textContent = s;
    const list = document.getElementById("list");
    const off = T[0].off;
    // Labelled events first (each jumps to its span), then the bursts.
    for (const ev of ((a.attribution && a.attribution.events) || []).slice(0, 5000)) {
      const li = document.createElement("li");
      li.className = "event";
      li.textContent = ev.label + "  " + fmtT(ev.start_s - off) + "  " + fmtQ(ev.excess_charge_ma_ms);
      li.onclick = () => { const s = ev.start_s - off, e = ev.end_s - off, p = Math.max((e - s) * 0.3, 1e-3); zoom(s - p, e + p); };
      list.appendChild(li);
    }
    a.bursts.slice(0, 5000).forEach((b) => {
      const li = document.createElement("li");
      li.textContent = "#" + b.index + "  " + fmtT(b.start_s - off) + "  " + fmtQ(b.excess_charge_ma_ms) + (b.class != null ? "  c" + b.class : "");
      li.onclick = () => { const s = b.start_s - off, e = b.end_s - off, p = Math.max((e - s) * 0.3, 1e-3); zoom(s - p, e + p); };
      list.appendChild(li);
    });
  }

  // ---- interaction ----
  function zoom(a, b) { if (!(b > a)) return; view = [a, b]; draw(); }
  function zoomAt(t, f) { const a = t - (t - view[0]) * f, b = t + (view[1] - t) * f; zoom(a, b); }
  canvas.addEventListener("wheel", (e) => { e.preventDefault(); zoomAt(tOf(e.offsetX), e.deltaY > 0 ? 1.25 : 0.8); }, { passive: false });
  canvas.addEventListener("mousedown", (e) => { drag = { x: e.offsetX, t: tOf(e.offsetX), view: view.slice(), pan: e.shiftKey || e.button === 1 }; });
  window.addEventListener("mouseup", (e) => {
    if (!drag) return;
    if (!drag.pan && Math.abs(e.offsetX - drag.x) > 3) { const t = tOf(e.offsetX); sel = [Math.min(drag.t, t), Math.max(drag.t, t)]; showMeasure(); draw(); }
    drag = null;
  });
  canvas.addEventListener("mousemove", (e) => {
    if (drag && drag.pan) { const dt = (e.offsetX - drag.x) / (W - M.l - M.r) * (drag.view[1] - drag.view[0]); view = [drag.view[0] - dt, drag.view[1] - dt]; draw(); return; }
    if (drag) { const t = tOf(e.offsetX); sel = [Math.min(drag.t, t), Math.max(drag.t, t)]; draw(); return; }
    const t = tOf(e.offsetX), off = T[0].off, tip = document.getElementById("tip");
    const b = T[0].a.bursts.find((b) => t >= b.start_s - off && t <= b.end_s - off);
    if (b) {
      tip.hidden = false; tip.style.left = (e.offsetX + 12) + "px"; tip.style.top = (e.offsetY + 12) + "px";
      tip.textContent = "burst " + b.index + (b.class != null ? " (class " + b.class + ")" : "") + "\nstart " + fmtT(b.start_s - off) + "\nduration " + fmtT(b.duration_ms / 1e3) + "\npeak " + fmtI(b.peak_ma) + "\nexcess " + fmtQ(b.excess_charge_ma_ms) + "\nenergy " + b.energy_mj.toPrecision(4) + " mJ";
    } else tip.hidden = true;
  });
  window.addEventListener("keydown", (e) => {
    const c = (view[0] + view[1]) / 2, w = view[1] - view[0];
    if (e.key === "+" || e.key === "=") zoomAt(c, 0.8);
    else if (e.key === "-") zoomAt(c, 1.25);
    else if (e.key === "ArrowLeft") zoom(view[0] - 0.1 * w, view[1] - 0.1 * w);
    else if (e.key === "ArrowRight") zoom(view[0] + 0.1 * w, view[1] + 0.1 * w);
    else if (e.key === "0") zoom(FULL[0], FULL[1]);
    else if (e.key === "l" || e.key === "L") { logY = !logY; draw(); }
  });
  window.addEventListener("resize", draw);

  window.shuntscopeView = {
    full: () => FULL.slice(), view: () => view.slice(), zoom, reset: () => zoom(FULL[0], FULL[1]),
    measure: (a, b, k) => measure(T[k || 0], a, b),
    select: (a, b) => { sel = [a, b]; showMeasure(); draw(); return T.map((t) => measure(t, a, b)); },
    columns: (k, width) => columns(T[k || 0], view[0], view[1], width || Math.round(W - M.l - M.r)),
    log: () => logY, traces: () => T.length,
    bucketEdges: (k) => T[k || 0].levels[0].t0,
  };
  // The documented API (README, "Looking at a recording"): a contract for tests and
  // automation. Times in s on the page's axis; a trailing trace index picks a compared trace.
  function envelope(a, b, n, k) {
    const tr = T[k || 0], min_ma = new Array(n).fill(null), max_ma = new Array(n).fill(null);
    const raw = rawIn(tr, a, b);
    if (raw && raw.i1 - raw.i0 <= 4 * n) {
      const { r, i0, i1 } = raw, f = n / (b - a);
      for (let j = i0; j < i1; j++) {
        const p = Math.min(n - 1, Math.floor((r.t[j] - a) * f)), v = r.i[j];
        if (min_ma[p] === null || v < min_ma[p]) min_ma[p] = v;
        if (max_ma[p] === null || v > max_ma[p]) max_ma[p] = v;
      }
    } else {
      columns(tr, a, b, n).forEach((c, p) => { if (c) { min_ma[p] = c[0]; max_ma[p] = c[1]; } });
    }
    return { min_ma, max_ma };
  }
  function selectOne(a, b, k) {
    sel = [a, b]; showMeasure(); draw();
    const m = measure(T[k || 0], a, b);
    return { duration_s: m.duration_s, mean_ma: m.mean_ma, charge_ma_ms: m.charge_ma_ms, energy_mj: m.energy_mj, peak_ma: m.peak_ma, exact: m.exact, note: m.note };
  }
  let lastDrawMs = 0;
  const draw0 = draw;
  draw = function () { const t = performance.now(); draw0(); lastDrawMs = performance.now() - t; };
  let ready;
  window.shuntscope = {
    ready: new Promise((res) => { ready = res; }),
    view: (a, b) => { zoom(a, b); return view.slice(); },
    visible: () => view.slice(),
    full: () => FULL.slice(),
    envelope, select: selectOne,
    bursts: T[0].a.bursts,
    traces: T.map((t) => ({ name: t.name, offset_s: t.off, bursts: t.a.bursts })),
    lastDrawMs: () => lastDrawMs,
    // Lanes: names of the digital channels that change, and of those that never do.
    lanes: (k) => ({ digital: T[k || 0].digital.map((d) => d.name), constant: T[k || 0].constant, supply: !!T[k || 0].supplyLevels }),
    // Per column: "0" low, "1" high, "x" both (an edge in the column), "?" unknown, null none.
    digital: (name, a, b, n, k) => {
      const d = T[k || 0].digital.find((x) => x.name === name);
      if (!d) return null;
      return Array.from(digitalColumns(d, a, b, n), (v) => (v === 0 ? null : (v & 3) === 3 ? "x" : v & 2 ? "1" : v & 1 ? "0" : "?"));
    },
    supply: (a, b, n, k) => {
      const lv = T[k || 0].supplyLevels;
      if (!lv) return null;
      const cols = columns({ levels: lv }, a, b, n);
      return { min_v: cols.map((c) => (c ? c[0] : null)), max_v: cols.map((c) => (c ? c[1] : null)) };
    },
  };
  found();
  draw();
  ready(window.shuntscope);
})();
