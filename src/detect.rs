//! Detect: the baseline, the noise and the bursts above it, measured as they stream past.
//!
//! Two passes over the trace. [`Survey`] (pass 1) keeps a decimated reservoir of at most
//! [`RESERVOIR`] values and time steps, from which [`estimate_baseline`] gets a robust baseline
//! and noise. [`Detector`] (pass 2) runs a hysteresis state machine sample by sample and
//! integrates each burst by the trapezoid rule on the real time stamps: O(1) memory per burst,
//! so a burst crossing a chunk boundary is measured exactly as if the file were whole.

use serde::Serialize;

/// Values kept for the baseline estimate; beyond it the reservoir is decimated (every 2nd, 4th...).
pub const RESERVOIR: usize = 1 << 18;

/// A uniformly decimated sample of a stream: keeps every `stride`-th value, doubling the stride
/// when full. Memory: at most `cap` values.
#[derive(Debug, Clone)]
pub struct Decimator {
    cap: usize,
    stride: u64,
    seen: u64,
    /// Values to skip before the next one kept.
    countdown: u64,
    pub values: Vec<f64>,
}

impl Decimator {
    pub fn new(cap: usize) -> Self {
        Decimator {
            cap: cap.max(2),
            stride: 1,
            seen: 0,
            countdown: 0,
            values: Vec::new(),
        }
    }

    #[inline]
    pub fn push(&mut self, v: f64) {
        // `seen` is a multiple of `stride` exactly when `countdown` is 0.
        if self.countdown == 0 {
            if self.values.len() == self.cap {
                let mut k = 0;
                for i in (0..self.values.len()).step_by(2) {
                    self.values[k] = self.values[i];
                    k += 1;
                }
                self.values.truncate(k);
                self.stride *= 2;
                if self.seen % self.stride == 0 {
                    self.values.push(v);
                    self.countdown = self.stride;
                } else {
                    self.countdown = self.stride - self.seen % self.stride;
                }
            } else {
                self.values.push(v);
                self.countdown = self.stride;
            }
        }
        self.countdown -= 1;
        self.seen += 1;
    }
}

/// Pass 1: counts, time span and reservoirs for the baseline and the sample interval.
#[derive(Debug, Clone)]
pub struct Survey {
    pub samples: u64,
    pub first_time_s: f64,
    pub last_time_s: f64,
    pub min_ma: f64,
    pub max_ma: f64,
    values: Decimator,
    steps: Decimator,
}

impl Default for Survey {
    fn default() -> Self {
        Survey {
            samples: 0,
            first_time_s: f64::NAN,
            last_time_s: f64::NAN,
            min_ma: f64::INFINITY,
            max_ma: f64::NEG_INFINITY,
            values: Decimator::new(RESERVOIR),
            steps: Decimator::new(RESERVOIR / 4),
        }
    }
}

impl Survey {
    /// Add a chunk of samples (time in s, current in mA).
    pub fn push(&mut self, time_s: &[f64], current_ma: &[f64]) {
        for (&t, &i) in time_s.iter().zip(current_ma) {
            if self.samples == 0 {
                self.first_time_s = t;
            } else {
                self.steps.push(t - self.last_time_s);
            }
            self.last_time_s = t;
            self.min_ma = self.min_ma.min(i);
            self.max_ma = self.max_ma.max(i);
            self.values.push(i);
            self.samples += 1;
        }
    }

    /// Median time step in seconds (0 when fewer than two samples).
    pub fn median_interval_s(&self) -> f64 {
        let mut s: Vec<f64> = self.steps.values.clone();
        if s.is_empty() {
            return 0.0;
        }
        median_in_place(&mut s)
    }

    /// The `q` quantile (0–1) of the time steps, s (0 when fewer than two samples).
    pub fn step_quantile_s(&self, q: f64) -> f64 {
        let mut s: Vec<f64> = self.steps.values.clone();
        if s.is_empty() {
            return 0.0;
        }
        let k = ((s.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
        let (_, v, _) = s.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
        *v
    }

    /// Add another survey's reservoirs (a window of the same file) to this one.
    pub fn absorb(&mut self, other: &Survey) {
        if other.samples == 0 {
            return;
        }
        for &v in &other.values.values {
            self.values.push(v);
        }
        for &d in &other.steps.values {
            self.steps.push(d);
        }
        if self.samples == 0 {
            self.first_time_s = other.first_time_s;
        }
        self.last_time_s = other.last_time_s;
        self.min_ma = self.min_ma.min(other.min_ma);
        self.max_ma = self.max_ma.max(other.max_ma);
        self.samples += other.samples;
    }

    /// The decimated values, for the baseline estimate.
    pub fn reservoir(&self) -> &[f64] {
        &self.values.values
    }
}

fn median_in_place(v: &mut [f64]) -> f64 {
    let n = v.len();
    let mid = n / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if n % 2 == 1 {
        m
    } else {
        let lo = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lo + m)
    }
}

/// Baseline and noise of the quiet part of a trace.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BaselineEstimate {
    /// Centre of the quiet samples: iterated clipped median, refined by the window mean, mA.
    pub baseline_ma: f64,
    /// Robust standard deviation of those samples (1.4826 × MAD), at least the quantisation noise, mA.
    pub noise_ma: f64,
    /// The smallest step between distinct values, when values sit on a grid (ADC or print steps), mA.
    pub quantisation_ma: Option<f64>,
    /// Share of the reservoir that the final estimate used (the rest counted as bursts or outliers).
    pub quiet_share: f64,
}

/// Estimate the baseline robustly: median and MAD, then iterate on the samples within
/// ±4 noise of the median so that bursts do not drag it up, and finally the mean of the samples
/// in that window (off the ADC grid). Cost: O(n) per iteration, ≤ 130 iterations.
pub fn estimate_baseline(values: &[f64]) -> BaselineEstimate {
    let quantisation_ma = quantisation_step(values);
    let q = quantisation_ma.unwrap_or(0.0);
    let mut work: Vec<f64> = values.to_vec();
    let mut kept: Vec<f64> = values.to_vec();
    let mut m = median_in_place(&mut work);
    let mut s = mad_sigma(&kept, m);
    for _ in 0..30 {
        let w = (4.0 * s).max(1.5 * q).max(1e-12 * m.abs());
        kept.clear();
        kept.extend(values.iter().copied().filter(|v| (v - m).abs() <= w));
        if kept.is_empty() {
            break;
        }
        work.clear();
        work.extend_from_slice(&kept);
        let m2 = median_in_place(&mut work);
        let s2 = mad_sigma(&kept, m2);
        let done = m2 == m && s2 == s;
        m = m2;
        s = s2;
        if done {
            break;
        }
    }
    // The median of quantised values sits on the grid, up to half a step off the true level:
    // refine with the mean of the samples within the window (mean shift with a flat kernel).
    let w = (4.0 * s).max(1.5 * q).max(1e-12 * m.abs());
    for _ in 0..100 {
        let (sum, n) = values
            .iter()
            .filter(|v| (*v - m).abs() <= w)
            .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
        if n == 0 {
            break;
        }
        let m2 = sum / n as f64;
        let moved = (m2 - m).abs();
        m = m2;
        if moved <= 1e-9 * w {
            break;
        }
    }
    BaselineEstimate {
        baseline_ma: m,
        noise_ma: s.max(q / 12f64.sqrt()),
        quantisation_ma,
        quiet_share: kept.len() as f64 / values.len().max(1) as f64,
    }
}

fn mad_sigma(values: &[f64], m: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut d: Vec<f64> = values.iter().map(|v| (v - m).abs()).collect();
    1.4826 * median_in_place(&mut d)
}

/// The grid step of quantised values: the smallest gap between distinct values, when distinct
/// values are few (at most a quarter of the samples) but at least three. None otherwise.
pub fn quantisation_step(values: &[f64]) -> Option<f64> {
    if values.len() < 8 {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    v.dedup();
    // Two levels are a burst on a flat line, not a grid; a grid shows at least three.
    if v.len() < 3 || v.len() > values.len() / 4 {
        return None;
    }
    // Gaps smaller than a billionth of the values' own size are float noise of one grid value
    // (relative to the values, not to the span: a trace from 10 µA to 50 mA written with six
    // significant digits has a grid of 10 pA at its floor, not the 10 mA between floor and
    // burst that a span-relative cut left).
    let step = v
        .windows(2)
        .filter(|w| w[1] - w[0] > 1e-9 * w[0].abs().max(w[1].abs()))
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    step.is_finite().then_some(step)
}

/// Settings of the burst detector.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DetectParams {
    pub baseline_ma: f64,
    /// A burst starts when the current rises this far above the baseline, mA.
    pub threshold_ma: f64,
    /// Once started, a burst is in its tail when the current falls below this excess, mA.
    pub release_ma: f64,
    /// Bursts closer than this (end to start) are one burst, s.
    pub merge_gap_s: f64,
    /// Bursts shorter than this are dropped, s.
    pub min_burst_s: f64,
    /// A time step longer than this is a gap, not integrated across, s.
    pub gap_s: f64,
    /// The median time step, s: steps off by more than 1% count as irregular.
    pub interval_s: f64,
    /// Noise of the baseline, mA rms: a burst has ended when the mean of the next
    /// `settle_samples` samples is within half a standard error of the baseline.
    pub noise_ma: f64,
    /// See [`settle_samples`].
    pub settle_samples: u32,
}

/// Running trapezoid integrals from one sample to another. Charges in mA·s.
#[derive(Debug, Clone, Copy)]
struct Accum {
    start_s: f64,
    end_s: f64,
    charge: f64,
    excess: f64,
    /// ∫ V·(I − baseline) dt with the supply V given beside the current, mJ (0 without one).
    energy: f64,
    peak_ma: f64,
    samples: u64,
    /// Time above the trigger level, s.
    above_s: f64,
    cut_start: bool,
    cut_end: bool,
}

impl Accum {
    #[inline]
    fn at(t: f64, i: f64) -> Self {
        Accum {
            start_s: t,
            end_s: t,
            charge: 0.0,
            excess: 0.0,
            energy: 0.0,
            peak_ma: i,
            samples: 1,
            above_s: 0.0,
            cut_start: false,
            cut_end: false,
        }
    }

    #[inline]
    fn segment(
        &mut self,
        (t0, i0, v0): (f64, f64, f64),
        (t1, i1, v1): (f64, f64, f64),
        baseline: f64,
        hi: f64,
    ) {
        let dt = t1 - t0;
        // Time above the trigger level, with linear interpolation at crossings.
        if i0 >= hi && i1 >= hi {
            self.above_s += dt;
        } else if i0 >= hi || i1 >= hi {
            self.above_s += dt * (i0.max(i1) - hi) / (i1 - i0).abs();
        }
        self.charge += 0.5 * (i0 + i1) * dt;
        self.excess += (0.5 * (i0 + i1) - baseline) * dt;
        self.energy += 0.5 * (v0 * (i0 - baseline) + v1 * (i1 - baseline)) * dt;
        self.end_s = t1;
        self.peak_ma = self.peak_ma.max(i1);
        self.samples += 1;
    }

    /// `self` followed by `next`, which starts where `self` ends.
    fn concat(&self, next: &Accum) -> Accum {
        Accum {
            start_s: self.start_s,
            end_s: next.end_s,
            charge: self.charge + next.charge,
            excess: self.excess + next.excess,
            energy: self.energy + next.energy,
            peak_ma: self.peak_ma.max(next.peak_ma),
            samples: self.samples + next.samples - 1,
            above_s: self.above_s + next.above_s,
            cut_start: self.cut_start,
            cut_end: next.cut_end,
        }
    }
}

/// One burst, measured. Charges in mA·ms (= µC).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Burst {
    /// 0-based, in time order.
    pub index: usize,
    /// Time of the last sample at or below the baseline before the burst, s.
    pub start_s: f64,
    /// Time of the first sample back at or below the baseline, s.
    pub end_s: f64,
    pub duration_ms: f64,
    /// Time the current spends above the trigger level, ms: what one reads off a scope as the
    /// burst's length, without the tails that `duration_ms` includes.
    pub width_ms: f64,
    pub peak_ma: f64,
    /// Time-averaged current over the burst, mA.
    pub mean_ma: f64,
    /// ∫(I − baseline) dt, the burst's own cost, mA·ms.
    pub excess_charge_ma_ms: f64,
    /// ∫ I dt, mA·ms.
    pub charge_ma_ms: f64,
    /// Excess charge × supply voltage, mJ (filled in by the caller that knows the supply).
    pub energy_mj: f64,
    /// Samples from start to end, both included.
    pub samples: u64,
    /// The burst was already running when the trace (or a gap) began.
    pub cut_start: bool,
    /// The trace (or a gap) ended before the current returned to the baseline.
    pub cut_end: bool,
    /// The class of bursts that recur alike this one belongs to (`classes[]`); None before
    /// classification.
    #[serde(default)]
    pub class: Option<usize>,
}

/// A stretch of time with no samples (a step longer than `gap_s`).
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
pub struct Gap {
    pub start_s: f64,
    pub end_s: f64,
}

/// How long to watch after a possible burst end: the burst ends there only if the mean of the
/// next samples is within half a standard error (0.5 σ/√n) of the baseline. Without this, noise
/// ends bursts early, in their tails (a bias of about 2 σ × the fall time constant); with it,
/// much less. The window is 0.5 ms long, and 8 to 512 samples.
pub fn settle_samples(interval_s: f64) -> u32 {
    ((0.5e-3 / interval_s).round() as u32).clamp(8, 512)
}

/// A possible end of a burst, and what has happened since.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    /// The burst as it would be if it ended at the candidate.
    burst: Accum,
    /// From the candidate on (for merging).
    between: Accum,
    /// From the last sample at or below the baseline (the idle run if the burst ends).
    since_anchor: Accum,
    /// Sum of (I − baseline) over the samples after the candidate, mA.
    excess_sum: f64,
    n: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Idle,
    Burst,
    Tail,
}

/// Pass 2: the burst state machine and the whole-trace integrals.
pub struct Detector {
    p: DetectParams,
    /// Largest sum of excess over the settling window that still counts as back at baseline, mA.
    settle_sum_ma: f64,
    hi: f64,
    lo: f64,
    /// The previous sample: time s, current mA, supply V (0 without one).
    prev: Option<(f64, f64, f64)>,
    state: State,
    run: Accum,
    pending: Option<Accum>,
    between: Accum,
    candidate: Option<Candidate>,
    pub bursts: Vec<Burst>,
    pub gaps: Vec<Gap>,
    /// ∫ I dt over the whole trace except gaps, mA·s.
    pub charge_mas: f64,
    /// Time covered by samples (span minus gaps), s.
    pub covered_s: f64,
    /// Steps off the median interval by more than 1% (gaps excluded).
    pub irregular_steps: u64,
    /// Steps of zero length (repeated time stamps).
    pub repeated_times: u64,
    /// Bursts dropped for being shorter than the minimum.
    pub dropped_short: u64,
    /// Bursts dropped because their excess charge was not positive (a range-switch glitch's
    /// swing below the baseline as large as the one above): no burst reports a negative cost.
    pub dropped_nonpositive: u64,
    /// First and last time stamps seen, s.
    pub first_time_s: f64,
    pub last_time_s: f64,
}

impl Detector {
    /// A step longer than this is a gap, s.
    pub fn gap_s(&self) -> f64 {
        self.p.gap_s
    }

    pub fn new(p: DetectParams) -> Self {
        Detector {
            settle_sum_ma: 0.5 * p.noise_ma * (p.settle_samples as f64).sqrt(),
            hi: p.baseline_ma + p.threshold_ma,
            lo: p.baseline_ma + p.release_ma,
            p,
            prev: None,
            state: State::Idle,
            run: Accum::at(0.0, 0.0),
            pending: None,
            between: Accum::at(0.0, 0.0),
            candidate: None,
            bursts: Vec::new(),
            gaps: Vec::new(),
            charge_mas: 0.0,
            covered_s: 0.0,
            irregular_steps: 0,
            repeated_times: 0,
            dropped_short: 0,
            dropped_nonpositive: 0,
            first_time_s: f64::NAN,
            last_time_s: f64::NAN,
        }
    }

    /// Feed a chunk: time in s, current in mA. Cost: a few comparisons and adds per sample.
    pub fn push(&mut self, time_s: &[f64], current_ma: &[f64]) {
        self.push_supplied(time_s, current_ma, &[]);
    }

    /// [`Detector::push`] with the supply voltage beside each sample (V; empty: none): each
    /// burst's `energy_mj` is then ∫ V·(I − baseline) dt over the same steps as its charge.
    pub fn push_supplied(&mut self, time_s: &[f64], current_ma: &[f64], supply_v: &[f64]) {
        let n = time_s.len().min(current_ma.len());
        let v = |k: usize| supply_v.get(k).copied().unwrap_or(0.0);
        let mut k = 0;
        while k < n {
            k = self.idle_run(time_s, current_ma, supply_v, k);
            if k < n {
                self.step(time_s[k], current_ma[k], v(k));
                k += 1;
            }
        }
    }

    /// The common case in a tight loop: idle, nothing pending, the current below the trigger
    /// level, regular steps. Exactly what [`Detector::step`] does for such samples, in the same
    /// order of additions; returns where it stopped. The loop has no data-dependent branch
    /// (noise crosses the baseline every other sample): it only notes the last sample at or
    /// below the baseline, and the idle run from there is rebuilt once at the end.
    #[inline]
    fn idle_run(
        &mut self,
        time_s: &[f64],
        current_ma: &[f64],
        supply_v: &[f64],
        mut k: usize,
    ) -> usize {
        if self.state != State::Idle || self.pending.is_some() || self.candidate.is_some() {
            return k;
        }
        let Some((t_start, i_start, v_start)) = self.prev else {
            return k;
        };
        let v = |k: usize| supply_v.get(k).copied().unwrap_or(0.0);
        let (b, hi, gap, iv) = (self.p.baseline_ma, self.hi, self.p.gap_s, self.p.interval_s);
        let n = time_s.len().min(current_ma.len());
        let (time_s, current_ma) = (&time_s[..n], &current_ma[..n]);
        let start = k;
        let (mut tp, mut ip) = (t_start, i_start);
        let (mut charge, mut covered) = (self.charge_mas, self.covered_s);
        let mut irregular = 0u64;
        let mut anchor = usize::MAX;
        while k < n {
            let (t, i) = (time_s[k], current_ma[k]);
            let dt = t - tp;
            if dt > gap || dt == 0.0 || i >= hi {
                break;
            }
            irregular += ((dt - iv).abs() > 0.01 * iv) as u64;
            charge += 0.5 * (i + ip) * dt;
            covered += dt;
            anchor = if i <= b { k } else { anchor };
            tp = t;
            ip = i;
            k += 1;
        }
        if k == start {
            return k;
        }
        self.charge_mas = charge;
        self.covered_s = covered;
        self.irregular_steps += irregular;
        // The run since the last sample at or below the baseline, as `step` builds it.
        let (mut s0, from) = if anchor == usize::MAX {
            ((t_start, i_start, v_start), start)
        } else {
            self.run = Accum::at(time_s[anchor], current_ma[anchor]);
            ((time_s[anchor], current_ma[anchor], v(anchor)), anchor + 1)
        };
        for j in from..k {
            let s1 = (time_s[j], current_ma[j], v(j));
            self.run.segment(s0, s1, b, hi);
            s0 = s1;
        }
        self.prev = Some((tp, ip, v(k - 1)));
        self.last_time_s = tp;
        k
    }

    #[inline]
    fn step(&mut self, t: f64, i: f64, v: f64) {
        let (b, hi) = (self.p.baseline_ma, self.hi);
        self.last_time_s = t;
        let Some((tp, ip, vp)) = self.prev else {
            self.first_time_s = t;
            self.restart(t, i);
            self.prev = Some((t, i, v));
            return;
        };
        self.prev = Some((t, i, v));
        let (s0, s1) = ((tp, ip, vp), (t, i, v));
        let dt = t - tp;
        if dt > self.p.gap_s {
            self.gaps.push(Gap {
                start_s: tp,
                end_s: t,
            });
            if let Some(c) = self.candidate.take() {
                self.finish_candidate(c);
            }
            if self.state != State::Idle {
                self.run.cut_end = true;
                let run = self.run;
                self.emit(run);
            }
            if let Some(p) = self.pending.take() {
                self.emit(p);
            }
            self.restart(t, i);
            return;
        }
        if dt == 0.0 {
            self.repeated_times += 1;
        }
        if (dt - self.p.interval_s).abs() > 0.01 * self.p.interval_s {
            self.irregular_steps += 1;
        }
        self.charge_mas += 0.5 * (i + ip) * dt;
        self.covered_s += dt;
        match self.state {
            State::Idle => {
                if self.pending.is_some() {
                    self.between.segment(s0, s1, b, hi);
                }
                if i <= b {
                    self.run = Accum::at(t, i);
                } else {
                    self.run.segment(s0, s1, b, hi);
                    if i >= self.hi {
                        self.trigger();
                        return;
                    }
                }
                if let Some(p) = self.pending {
                    if self.run.start_s - p.end_s > self.p.merge_gap_s {
                        self.pending = None;
                        self.emit(p);
                    }
                }
            }
            State::Burst | State::Tail => {
                self.run.segment(s0, s1, b, hi);
                if let Some(c) = &mut self.candidate {
                    // Watching the samples after a possible end.
                    let mean_before = if c.n > 0 {
                        c.excess_sum / c.n as f64
                    } else {
                        0.0
                    };
                    c.between.segment(s0, s1, b, hi);
                    if i <= b {
                        c.since_anchor = Accum::at(t, i);
                    } else {
                        c.since_anchor.segment(s0, s1, b, hi);
                    }
                    if i >= self.hi {
                        if mean_before <= 0.0 && c.n > 0 {
                            // Back at the baseline, then a new rise: a new burst.
                            let c = self.candidate.take().expect("candidate");
                            self.finish_candidate(c);
                            self.trigger();
                        } else {
                            // The tail had not settled: the same burst goes on.
                            self.candidate = None;
                            self.state = State::Burst;
                        }
                        return;
                    }
                    c.excess_sum += i - b;
                    c.n += 1;
                    if c.n >= self.p.settle_samples {
                        let c = self.candidate.take().expect("candidate");
                        if c.excess_sum <= self.settle_sum_ma {
                            self.finish_candidate(c);
                        } else if i <= b {
                            self.new_candidate(t, i);
                        }
                    }
                } else if i <= b {
                    self.state = State::Tail;
                    self.new_candidate(t, i);
                } else if i >= self.hi {
                    self.state = State::Burst;
                } else if i < self.lo {
                    self.state = State::Tail;
                }
            }
        }
    }

    /// The current is at the baseline: the burst may end here, if the next samples agree.
    fn new_candidate(&mut self, t: f64, i: f64) {
        self.candidate = Some(Candidate {
            burst: self.run,
            between: Accum::at(t, i),
            since_anchor: Accum::at(t, i),
            excess_sum: 0.0,
            n: 0,
        });
    }

    /// The burst ended at the candidate; the samples since then become the idle run.
    fn finish_candidate(&mut self, c: Candidate) {
        if self.p.merge_gap_s > 0.0 {
            self.pending = Some(c.burst);
            self.between = c.between;
        } else {
            self.emit(c.burst);
        }
        self.state = State::Idle;
        self.run = c.since_anchor;
    }

    /// The current crossed the trigger level: start a burst at the run's anchor, or continue a
    /// pending one if it ended less than the merge gap ago.
    fn trigger(&mut self) {
        if let Some(p) = self.pending.take() {
            if self.run.start_s - p.end_s <= self.p.merge_gap_s {
                self.run = p.concat(&self.between);
            } else {
                self.emit(p);
            }
        }
        self.state = State::Burst;
    }

    fn restart(&mut self, t: f64, i: f64) {
        self.run = Accum::at(t, i);
        if i >= self.hi {
            self.run.cut_start = true;
            self.state = State::Burst;
        } else {
            self.state = State::Idle;
        }
    }

    fn emit(&mut self, a: Accum) {
        let duration_s = a.end_s - a.start_s;
        if duration_s < self.p.min_burst_s {
            self.dropped_short += 1;
            return;
        }
        if a.excess <= 0.0 {
            self.dropped_nonpositive += 1;
            return;
        }
        self.bursts.push(Burst {
            index: self.bursts.len(),
            start_s: a.start_s,
            end_s: a.end_s,
            duration_ms: duration_s * 1e3,
            width_ms: a.above_s * 1e3,
            peak_ma: a.peak_ma,
            mean_ma: if duration_s > 0.0 {
                a.charge / duration_s
            } else {
                a.peak_ma
            },
            excess_charge_ma_ms: a.excess * 1e3,
            charge_ma_ms: a.charge * 1e3,
            energy_mj: a.energy,
            samples: a.samples,
            cut_start: a.cut_start,
            cut_end: a.cut_end,
            class: None,
        });
    }

    /// Close a burst still open at the end of the trace.
    pub fn finish(mut self) -> Detector {
        if let Some(c) = self.candidate.take() {
            self.finish_candidate(c);
        }
        if self.state != State::Idle {
            self.run.cut_end = true;
            let run = self.run;
            self.emit(run);
            self.state = State::Idle;
        }
        if let Some(p) = self.pending.take() {
            self.emit(p);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(b: f64, thr: f64) -> DetectParams {
        DetectParams {
            baseline_ma: b,
            threshold_ma: thr,
            release_ma: thr * 0.4,
            merge_gap_s: 0.0,
            min_burst_s: 0.0,
            gap_s: 3.0,
            interval_s: 1.0,
            noise_ma: 0.0,
            settle_samples: 8,
        }
    }

    #[test]
    fn rectangle_by_hand() {
        // Baseline 10 mA, one burst 10 → 30 → 30 → 10 at 1 s steps.
        let t = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let i = [10.0, 10.0, 30.0, 30.0, 10.0, 10.0];
        let mut d = Detector::new(params(10.0, 5.0));
        d.push(&t, &i);
        let d = d.finish();
        assert_eq!(d.bursts.len(), 1);
        let b = &d.bursts[0];
        assert_eq!((b.start_s, b.end_s), (1.0, 4.0));
        // Excess: triangles 10 + 10, rectangle 20 → 40 mA·s = 40000 mA·ms.
        assert!((b.excess_charge_ma_ms - 40_000.0).abs() < 1e-9);
        assert!((b.charge_ma_ms - 70_000.0).abs() < 1e-9);
        assert_eq!(b.peak_ma, 30.0);
        assert!((d.charge_mas - 90.0).abs() < 1e-12);
    }

    #[test]
    fn chunking_does_not_matter() {
        let t: Vec<f64> = (0..1000).map(|k| k as f64).collect();
        let i: Vec<f64> = (0..1000)
            .map(|k| {
                if (k / 50) % 3 == 1 {
                    40.0 + (k % 7) as f64
                } else {
                    10.0 + (k % 3) as f64 * 0.1
                }
            })
            .collect();
        let mut whole = Detector::new(params(10.1, 5.0));
        whole.push(&t, &i);
        let whole = whole.finish();
        for size in [1, 7, 49, 50, 51, 333] {
            let mut d = Detector::new(params(10.1, 5.0));
            for (tc, ic) in t.chunks(size).zip(i.chunks(size)) {
                d.push(tc, ic);
            }
            let d = d.finish();
            assert_eq!(d.bursts.len(), whole.bursts.len());
            for (a, b) in d.bursts.iter().zip(&whole.bursts) {
                assert_eq!(a.excess_charge_ma_ms, b.excess_charge_ma_ms);
            }
        }
    }

    #[test]
    fn merge_and_gap() {
        let t = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let i = [0.0, 0.0, 20.0, 0.0, 0.0, 20.0, 0.0, 0.0, 0.0];
        let mut p = params(0.0, 5.0);
        p.merge_gap_s = 2.5;
        let mut d = Detector::new(p);
        d.push(&t, &i);
        let d = d.finish();
        assert_eq!(d.bursts.len(), 1, "{:?}", d.bursts);
        assert!((d.bursts[0].excess_charge_ma_ms - 40_000.0).abs() < 1e-9);

        // A gap (step of 10 s > 3 s) inside a burst cuts it and is not integrated.
        let t = [0.0, 1.0, 2.0, 12.0, 13.0, 14.0];
        let i = [0.0, 0.0, 20.0, 20.0, 0.0, 0.0];
        let mut d = Detector::new(params(0.0, 5.0));
        d.push(&t, &i);
        let d = d.finish();
        assert_eq!(d.gaps.len(), 1);
        assert_eq!(d.bursts.len(), 2);
        assert!(d.bursts[0].cut_end && d.bursts[1].cut_start);
        assert!((d.charge_mas - 20.0).abs() < 1e-12);
    }

    #[test]
    fn baseline_ignores_bursts() {
        let mut v: Vec<f64> = (0..10_000)
            .map(|k| 170.0 + ((k * 7919) % 13) as f64 * 0.1 - 0.6)
            .collect();
        for x in v.iter_mut().step_by(10) {
            *x += 64.0;
        }
        let e = estimate_baseline(&v);
        assert!((e.baseline_ma - 170.0).abs() < 0.15, "{e:?}");
        assert!(e.noise_ma < 1.0);
    }

    #[test]
    fn decimator_is_bounded_and_uniform() {
        let mut d = Decimator::new(100);
        for k in 0..10_000 {
            d.push(k as f64);
        }
        assert!(d.values.len() <= 100);
        let step = d.values[1] - d.values[0];
        assert!(d.values.windows(2).all(|w| w[1] - w[0] == step));
    }
}
