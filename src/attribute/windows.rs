//! Phase windows: charge and energy between markers (a GPIO line high), in listed intervals
//! (`--windows FILE`) or given times (`--window 1.2s..3.4s`), whatever the bursts.
//!
//! Definition (a contract): a window from a marker column starts where the column crosses the
//! level going up and ends where it crosses going down (for `--window-polarity low`, down then
//! up), each crossing interpolated linearly between the two samples around it. Integrals use
//! the trapezoid rule over the samples inside the window plus the values interpolated at both
//! ends; never across a gap. A window cut by the start or end of the trace is `cut` and left out
//! of statistics. Cost: a few operations per sample and open window, in the detection pass.

use serde::{Deserialize, Serialize};

/// One window, measured. Field names are a contract.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Window {
    pub index: usize,
    pub label: String,
    /// Trace clock, s.
    pub start_s: f64,
    pub end_s: f64,
    pub duration_ms: f64,
    /// ∫ I dt, mA·ms.
    pub charge_ma_ms: f64,
    /// ∫ (I − baseline) dt, mA·ms.
    pub excess_charge_ma_ms: f64,
    /// ∫ V·I dt with a supply column, else charge × supply voltage, mJ.
    pub energy_mj: f64,
    pub mean_ma: f64,
    pub peak_ma: f64,
    pub mean_mw: f64,
    /// Samples inside the window.
    pub samples: u64,
    /// Cut by the start or end of the trace (left out of statistics).
    pub cut: bool,
    /// Indices of the bursts that overlap it.
    pub bursts: Vec<usize>,
    /// Time inside the window not covered by samples (gaps), s.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub gap_s: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// Which side of the level is "in a window".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    /// At or above the level.
    #[default]
    High,
    /// At or below the level (an active-low line).
    Low,
}

/// Running integrals of one window.
#[derive(Debug, Clone)]
struct Acc {
    start_s: f64,
    /// Known end (given windows), or open (marker windows until the line falls).
    end_s: Option<f64>,
    label: Option<String>,
    charge_mas: f64,
    /// ∫ P dt with P in mW (mA × V), i.e. mJ.
    energy_mj: f64,
    covered_s: f64,
    gap_s: f64,
    peak_ma: f64,
    samples: u64,
    cut: bool,
    /// Integrals have started (the window's start has been passed).
    begun: bool,
}

impl Acc {
    fn new(start_s: f64, end_s: Option<f64>, label: Option<String>, cut: bool) -> Acc {
        Acc {
            start_s,
            end_s,
            label,
            charge_mas: 0.0,
            energy_mj: 0.0,
            covered_s: 0.0,
            gap_s: 0.0,
            peak_ma: f64::NEG_INFINITY,
            samples: 0,
            cut,
            begun: false,
        }
    }

    /// Add the part of the step from (t0, i0, p0) to (t1, i1, p1) that lies in the window:
    /// the trapezoid of the linear interpolation over [max(start, t0), min(end, t1)].
    fn step(&mut self, t0: f64, i0: f64, p0: f64, t1: f64, i1: f64, p1: f64) {
        let a = self.start_s.max(t0);
        let b = self.end_s.unwrap_or(f64::INFINITY).min(t1);
        if b < a {
            return;
        }
        let lerp = |x0: f64, x1: f64, t: f64| {
            if t1 > t0 {
                x0 + (x1 - x0) * (t - t0) / (t1 - t0)
            } else {
                x1
            }
        };
        let (ia, ib) = (lerp(i0, i1, a), lerp(i0, i1, b));
        let (pa, pb) = (lerp(p0, p1, a), lerp(p0, p1, b));
        self.charge_mas += 0.5 * (ia + ib) * (b - a);
        self.energy_mj += 0.5 * (pa + pb) * (b - a);
        self.covered_s += b - a;
        self.peak_ma = self.peak_ma.max(ia).max(ib);
        self.begun = true;
        if t1 <= b && t1 >= a {
            self.samples += 1;
        }
    }
}

/// Finds and measures windows as samples stream past.
#[derive(Debug, Clone)]
pub struct Tracker {
    /// From a marker column: the level and which side is in.
    marker: Option<(f64, Polarity)>,
    /// Given windows not yet begun, by start time.
    pending: Vec<Acc>,
    open: Vec<Acc>,
    done: Vec<Acc>,
    gap_s: f64,
    /// The previous sample: time, current, power, in-window state.
    prev: Option<(f64, f64, f64, Option<f64>)>,
    first_s: Option<f64>,
}

/// Given windows: (start s, end s, label).
pub type Spans = Vec<(f64, f64, Option<String>)>;

impl Tracker {
    /// `marker`: windows from the window column (level, polarity); `spans`: given windows.
    /// Steps longer than `gap_s` are gaps, not integrated.
    pub fn new(marker: Option<(f64, Polarity)>, spans: &Spans, gap_s: f64) -> Tracker {
        let mut pending: Vec<Acc> = spans
            .iter()
            .map(|(a, b, l)| Acc::new(*a, Some(*b), l.clone(), false))
            .collect();
        pending.sort_by(|x, y| y.start_s.total_cmp(&x.start_s));
        Tracker {
            marker,
            pending,
            open: Vec::new(),
            done: Vec::new(),
            gap_s,
            prev: None,
            first_s: None,
        }
    }

    /// Whether there is anything to track.
    pub fn active(&self) -> bool {
        self.marker.is_some() || !self.pending.is_empty()
    }

    fn inside(&self, w: f64) -> bool {
        match self.marker {
            Some((level, Polarity::High)) => w >= level,
            Some((level, Polarity::Low)) => w <= level,
            None => false,
        }
    }

    /// Feed samples: time s, current mA, power mW (current × supply), window column.
    pub fn push(&mut self, t: &[f64], i: &[f64], p: &[f64], w: &[f64]) {
        for k in 0..t.len() {
            let wk = w.get(k).copied();
            self.sample(t[k], i[k], p[k], wk);
        }
    }

    fn sample(&mut self, t1: f64, i1: f64, p1: f64, w1: Option<f64>) {
        // An undefined marker state (NaN: a PPK2 channel's `00`) keeps the state before it.
        let w1 = match (w1, self.prev) {
            (Some(x), Some(p)) if x.is_nan() => p.3,
            _ => w1,
        };
        let Some((t0, i0, p0, w0)) = self.prev else {
            self.first_s = Some(t1);
            // A marker already in at the first sample: a window cut by the trace's start.
            if let Some(w) = w1.filter(|&w| self.inside(w)) {
                let _ = w;
                let mut a = Acc::new(t1, None, None, true);
                a.samples = 1;
                a.peak_ma = i1;
                a.begun = true;
                self.open.push(a);
            }
            self.start_given(t1, i1);
            self.prev = Some((t1, i1, p1, w1));
            return;
        };
        let gap = t1 - t0 > self.gap_s;
        // Given windows that start within this step (or before it, if the trace starts late).
        while self.pending.last().is_some_and(|a| a.start_s <= t1) {
            if let Some(mut a) = self.pending.pop() {
                if a.start_s < t0 && !a.begun {
                    // Started before these samples: the trace's start or a gap cuts it.
                    a.cut |= self.first_s.is_some_and(|f| a.start_s < f);
                }
                self.open.push(a);
            }
        }
        // Marker crossings within the step, interpolated.
        let crossing = match (self.marker, w0, w1) {
            (Some((level, _)), Some(a), Some(b)) if !gap && self.inside(a) != self.inside(b) => {
                let tc = if b != a {
                    t0 + (level - a) / (b - a) * (t1 - t0)
                } else {
                    t1
                };
                Some((tc.clamp(t0, t1), self.inside(b)))
            }
            (Some(_), Some(a), Some(b)) if gap && self.inside(a) != self.inside(b) => {
                Some((t1, self.inside(b)))
            }
            _ => None,
        };
        if let Some((tc, false)) = crossing {
            // The open marker window ends at tc.
            for a in self.open.iter_mut().filter(|a| a.end_s.is_none()) {
                a.end_s = Some(tc);
            }
        }
        if let Some((tc, true)) = crossing {
            self.open.push(Acc::new(tc, None, None, false));
        }
        for a in &mut self.open {
            if gap {
                let from = a.start_s.max(t0);
                let to = a.end_s.unwrap_or(t1).min(t1);
                if to > from {
                    a.gap_s += to - from;
                }
            } else {
                a.step(t0, i0, p0, t1, i1, p1);
            }
        }
        // Windows that ended by t1 are done.
        let (ended, still): (Vec<Acc>, Vec<Acc>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|a| a.end_s.is_some_and(|e| e <= t1));
        self.open = still;
        self.done.extend(ended);
        self.prev = Some((t1, i1, p1, w1));
    }

    /// Given windows that start at or before the first sample.
    fn start_given(&mut self, t: f64, i: f64) {
        while self.pending.last().is_some_and(|a| a.start_s <= t) {
            if let Some(mut a) = self.pending.pop() {
                a.cut = a.start_s < t;
                a.samples = 1;
                a.peak_ma = i;
                a.begun = true;
                self.open.push(a);
            }
        }
    }

    /// The windows, in time order: open ones are cut by the trace's end; given windows after the
    /// trace are left out. `baseline_ma` gives the excess charge; `supply_v` the energy when
    /// there is no measured supply (`measured` false); `labels` name windows from a marker.
    /// Returns the windows and how many came from the marker.
    pub fn finish(
        mut self,
        baseline_ma: f64,
        measured: bool,
        supply_v: f64,
        labels: &[String],
        bursts: &[crate::detect::Burst],
    ) -> (Vec<Window>, usize) {
        let last = self.prev.map(|p| p.0).unwrap_or(0.0);
        for mut a in std::mem::take(&mut self.open) {
            if a.end_s.map_or(true, |e| e > last) {
                a.cut = true;
                a.end_s = Some(last);
            }
            self.done.push(a);
        }
        let mut done = self.done;
        done.sort_by(|x, y| x.start_s.total_cmp(&y.start_s));
        let mut marker_k = 0usize;
        let ws = done
            .into_iter()
            .enumerate()
            .map(|(index, a)| {
                let end_s = a.end_s.unwrap_or(a.start_s);
                let label = a.label.clone().unwrap_or_else(|| {
                    let l = labels
                        .get(marker_k)
                        .cloned()
                        .unwrap_or_else(|| "window".into());
                    marker_k += 1;
                    l
                });
                let charge_ma_ms = a.charge_mas * 1e3;
                let energy_mj = if measured {
                    a.energy_mj
                } else {
                    charge_ma_ms * supply_v / 1e3
                };
                let covered = a.covered_s.max(f64::MIN_POSITIVE);
                Window {
                    index,
                    label,
                    start_s: a.start_s,
                    end_s,
                    duration_ms: (end_s - a.start_s) * 1e3,
                    charge_ma_ms,
                    excess_charge_ma_ms: (a.charge_mas - baseline_ma * a.covered_s) * 1e3,
                    energy_mj,
                    mean_ma: a.charge_mas / covered,
                    peak_ma: a.peak_ma,
                    mean_mw: energy_mj / covered,
                    samples: a.samples,
                    cut: a.cut,
                    bursts: bursts
                        .iter()
                        .filter(|b| b.start_s < end_s && b.end_s > a.start_s)
                        .map(|b| b.index)
                        .collect(),
                    gap_s: a.gap_s,
                }
            })
            .collect();
        (ws, marker_k)
    }
}

/// Read a windows file: `start_s,end_s,label` rows (a header naming them, or none), times on
/// the trace's clock plus `offset_s`. Errors name the file and line.
pub fn read(path: &str, offset_s: f64) -> crate::error::Result<Spans> {
    use crate::error::Error;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(path)
        .map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
    let mut out = Vec::new();
    for (k, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| Error::input(path, format!("not CSV: {e}")))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(k as u64 + 1);
        let cell = |j: usize| rec.get(j).unwrap_or("").trim();
        if k == 0 && cell(0).eq_ignore_ascii_case("start_s") {
            continue;
        }
        let num = |j: usize, what: &str| -> crate::error::Result<f64> {
            cell(j)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    Error::input(
                        path,
                        format!(
                            "expected {what} in seconds in column {}, found \"{}\"",
                            j + 1,
                            cell(j)
                        ),
                    )
                    .at_line(line)
                })
        };
        let (a, b) = (num(0, "start_s")?, num(1, "end_s")?);
        if b <= a {
            return Err(Error::input(
                path,
                format!("the window ends ({b} s) before it starts ({a} s)"),
            )
            .at_line(line));
        }
        let label = Some(cell(2).to_string()).filter(|l| !l.is_empty());
        out.push((a + offset_s, b + offset_s, label.or(Some("window".into()))));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rectangular current of 10 mA from 0.3 to 0.7 s on 1 mA idle, sampled every 0.1 s,
    /// under a marker high over the same span; constant supply 2 V.
    #[test]
    fn marker_window_between_samples_by_hand() {
        let t: Vec<f64> = (0..=10).map(|k| k as f64 * 0.1).collect();
        let on = |k: usize| (3..=7).contains(&k);
        let i: Vec<f64> = (0..=10).map(|k| if on(k) { 10.0 } else { 1.0 }).collect();
        // Marker ramps: 0 at 0.2, 1 at 0.3 → crosses 0.5 at 0.25; 1 at 0.7, 0 at 0.8 → 0.75.
        let w: Vec<f64> = (0..=10).map(|k| if on(k) { 1.0 } else { 0.0 }).collect();
        let p: Vec<f64> = i.iter().map(|x| x * 2.0).collect();
        let mut tr = Tracker::new(Some((0.5, Polarity::High)), &Vec::new(), 1.0);
        tr.push(&t, &i, &p, &w);
        let (ws, _) = tr.finish(1.0, true, 2.0, &["send".into()], &[]);
        assert_eq!(ws.len(), 1);
        let x = &ws[0];
        assert!(
            (x.start_s - 0.25).abs() < 1e-12 && (x.end_s - 0.75).abs() < 1e-12,
            "{x:?}"
        );
        // I is 5.5 at 0.25 (halfway 1 → 10), 10 from 0.3 to 0.7, 5.5 at 0.75:
        // 0.05 × (5.5 + 10)/2 × 2 + 0.4 × 10 = 0.775 + 4 = 4.775 mA·s.
        assert!((x.charge_ma_ms - 4775.0).abs() < 1e-9, "{}", x.charge_ma_ms);
        assert!((x.excess_charge_ma_ms - (4775.0 - 500.0)).abs() < 1e-9);
        assert!((x.energy_mj - 2.0 * 4.775).abs() < 1e-12);
        assert_eq!(x.samples, 5);
        assert_eq!(x.label, "send");
        assert!(!x.cut);
    }

    #[test]
    fn marker_high_at_both_ends_is_cut() {
        let t: Vec<f64> = (0..=10).map(|k| k as f64).collect();
        let i = vec![1.0; 11];
        let w: Vec<f64> = (0..=10)
            .map(|k| if k <= 2 || k >= 8 { 1.0 } else { 0.0 })
            .collect();
        let mut tr = Tracker::new(Some((0.5, Polarity::High)), &Vec::new(), 5.0);
        tr.push(&t, &i, &i, &w);
        let (ws, n) = tr.finish(0.0, false, 5.0, &[], &[]);
        assert_eq!(n, 2);
        assert_eq!(ws.len(), 2);
        assert!(ws[0].cut && ws[1].cut);
        assert_eq!((ws[0].start_s, ws[0].end_s), (0.0, 2.5));
        assert_eq!((ws[1].start_s, ws[1].end_s), (7.5, 10.0));
        assert!((ws[0].charge_ma_ms - 2500.0).abs() < 1e-9);
    }

    #[test]
    fn given_windows_clip_steps() {
        let t: Vec<f64> = (0..=10).map(|k| k as f64).collect();
        let i: Vec<f64> = t.clone(); // I = t
        let spans = vec![(2.5, 4.25, Some("a".to_string())), (9.5, 12.0, None)];
        let mut tr = Tracker::new(None, &spans, 5.0);
        tr.push(&t, &i, &i, &[]);
        let (ws, _) = tr.finish(0.0, true, 5.0, &[], &[]);
        // ∫ t dt from 2.5 to 4.25 = (4.25² − 2.5²)/2 = 5.90625.
        assert!((ws[0].charge_ma_ms - 5906.25).abs() < 1e-9, "{ws:?}");
        assert_eq!(ws[0].samples, 2);
        assert!(!ws[0].cut && ws[1].cut && ws[1].end_s == 10.0);
    }
}
