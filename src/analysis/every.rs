//! Averages over fixed windows (`--every 10s`): the mean current, charge and energy of
//! consecutive windows from the first sample, measured in the detection pass. Each step between
//! samples is integrated by the trapezoid rule and split exactly where a window edge falls
//! inside it (the current is linear between samples); a step longer than the gap limit is
//! never integrated, so a window's mean is over the time its samples cover.
//!
//! Cost: a few operations a sample; memory one small record a window.

use serde::{Deserialize, Serialize};

/// One window of `--every` (JSON `every[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EveryWindow {
    /// Window start and end on the trace's clock, s (the end of a partial window is the
    /// trace's last sample).
    pub start_s: f64,
    pub end_s: f64,
    /// Mean current over the time the window's samples cover (gaps left out), mA; null when
    /// the window has none.
    pub mean_ma: Option<f64>,
    /// ∫ I dt over the window, mA·ms.
    pub charge_ma_ms: f64,
    /// ∫ V·I dt over the window, mJ: V measured, else the constant supply.
    pub energy_mj: f64,
    /// The trace ends before the window does.
    pub partial: bool,
    /// Time the samples cover in the window, s (the window less its gaps).
    pub covered_s: f64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    /// mA·s, mW·s (= mJ), s.
    charge: f64,
    energy: f64,
    covered: f64,
}

/// The windows' accumulator, fed chunk by chunk.
#[derive(Debug, Clone)]
pub struct Every {
    width_s: f64,
    gap_s: f64,
    start_s: Option<f64>,
    /// The previous sample: time s, current mA, power mW (NaN without a measured supply).
    last: Option<(f64, f64, f64)>,
    acc: Vec<Acc>,
}

impl Every {
    /// Windows `width_s` long; steps over `gap_s` are gaps.
    pub fn new(width_s: f64, gap_s: f64) -> Every {
        Every {
            width_s,
            gap_s,
            start_s: None,
            last: None,
            acc: Vec::new(),
        }
    }

    /// Samples (time s, current mA) and, when the supply is measured, volts per sample
    /// (`supply` empty otherwise).
    pub fn push(&mut self, time_s: &[f64], current_ma: &[f64], supply: &[f64]) {
        for (k, (&t, &i)) in time_s.iter().zip(current_ma).enumerate() {
            let p = supply.get(k).map_or(f64::NAN, |v| v * i);
            let start = *self.start_s.get_or_insert(t);
            if let Some((t0, i0, p0)) = self.last {
                if t - t0 <= self.gap_s && t > t0 {
                    self.segment(start, (t0, i0, p0), (t, i, p));
                }
            }
            self.last = Some((t, i, p));
        }
    }

    /// Integrate the linear piece from `a` to `b`, split at the window edges inside it.
    fn segment(&mut self, start: f64, a: (f64, f64, f64), b: (f64, f64, f64)) {
        let w = self.width_s;
        let k0 = ((a.0 - start) / w).floor().max(0.0) as usize;
        let k1 = ((b.0 - start) / w).floor().max(0.0) as usize;
        if self.acc.len() <= k1 {
            self.acc.resize(k1 + 1, Acc::default());
        }
        let at = |t: f64, x0: f64, x1: f64| x0 + (x1 - x0) * (t - a.0) / (b.0 - a.0);
        for k in k0..=k1 {
            let lo = a.0.max(start + k as f64 * w);
            let hi = b.0.min(start + (k + 1) as f64 * w);
            if hi <= lo {
                continue;
            }
            let (i_lo, i_hi) = (at(lo, a.1, b.1), at(hi, a.1, b.1));
            let acc = &mut self.acc[k];
            acc.charge += 0.5 * (i_lo + i_hi) * (hi - lo);
            acc.energy += 0.5 * (at(lo, a.2, b.2) + at(hi, a.2, b.2)) * (hi - lo);
            acc.covered += hi - lo;
        }
    }

    /// The windows, from the first sample to the last; energies from the measured supply, or
    /// from `supply_v` when `measured` is false.
    pub fn finish(self, measured: bool, supply_v: f64) -> Vec<EveryWindow> {
        let (Some(start), Some((end, _, _))) = (self.start_s, self.last) else {
            return Vec::new();
        };
        let w = self.width_s;
        let span = ((end - start) / w - 1e-9).ceil().max(1.0) as usize;
        let mut acc = self.acc;
        acc.resize(span.max(acc.len()), Acc::default());
        acc.truncate(span);
        acc.into_iter()
            .enumerate()
            .map(|(k, a)| {
                let s = start + k as f64 * w;
                let nominal = start + (k + 1) as f64 * w;
                let partial = nominal > end + 1e-9 * w;
                EveryWindow {
                    start_s: s,
                    end_s: if partial { end } else { nominal },
                    mean_ma: (a.covered > 0.0).then(|| a.charge / a.covered),
                    charge_ma_ms: a.charge * 1e3,
                    energy_mj: if measured {
                        a.energy
                    } else {
                        a.charge * supply_v
                    },
                    partial,
                    covered_s: a.covered,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ramp I = t mA sampled every 0.3 s over [0, 2.1] in windows of 1 s: the edges at 1 s and
    /// 2 s fall inside steps. ∫ t dt over [0, 1] = 0.5, [1, 2] = 1.5, [2, 2.1] = 0.205 mA·s.
    #[test]
    fn windows_split_steps_exactly() {
        let t: Vec<f64> = (0..=7).map(|k| k as f64 * 0.3).collect();
        let mut e = Every::new(1.0, 1.0);
        e.push(&t[..4], &t[..4], &[]);
        e.push(&t[4..], &t[4..], &[]);
        let w = e.finish(false, 2.0);
        assert_eq!(w.len(), 3);
        for (x, want) in w.iter().zip([0.5, 1.5, 0.205]) {
            assert!((x.charge_ma_ms - want * 1e3).abs() < 1e-9, "{x:?}");
            assert!((x.energy_mj - 2.0 * want).abs() < 1e-9);
        }
        assert!(!w[0].partial && !w[1].partial && w[2].partial);
        assert!((w[2].end_s - 2.1).abs() < 1e-12);
        assert!((w[1].mean_ma.unwrap() - 1.5).abs() < 1e-12);
    }

    /// A step longer than the gap limit is never integrated: the window's mean is over the
    /// covered time only.
    #[test]
    fn gaps_are_left_out() {
        let mut e = Every::new(10.0, 0.5);
        e.push(&[0.0, 1.0, 5.0, 6.0], &[4.0, 4.0, 8.0, 8.0], &[]);
        let w = e.finish(false, 1.0);
        assert_eq!(w.len(), 1);
        assert!((w[0].covered_s - 0.0).abs() < 1e-12, "{w:?}");
        let mut e = Every::new(10.0, 1.5);
        e.push(&[0.0, 1.0, 5.0, 6.0], &[4.0, 4.0, 8.0, 8.0], &[]);
        let w = e.finish(false, 1.0);
        assert!((w[0].charge_ma_ms - 12_000.0).abs() < 1e-9);
        assert!((w[0].mean_ma.unwrap() - 6.0).abs() < 1e-12);
        assert!(w[0].partial);
    }
}
