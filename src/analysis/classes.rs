//! Classes of bursts that recur alike (JSON `classes[]`, and `class` on each burst), and their
//! periods.
//!
//! Two bursts are alike when their peak above the baseline, duration and excess charge each lie
//! within a factor of 10^[`CELL_DECADES`] of each other, through a chain of alike bursts: the
//! bursts are placed on a grid of cells [`CELL_DECADES`] wide in log₁₀ of those three, and a
//! class is a connected group of occupied cells (each cell touching its 26 neighbours). This is
//! single-linkage clustering at a grid's resolution: independent of the bursts' order, O(n).
//! Classes are numbered by the charge they hold, largest first.
//!
//! A class recurs when it has at least [`MIN_RECURRING`] bursts; its period is the median of
//! the intervals between its bursts' starts, its jitter their robust spread (1.4826 × MAD). A
//! class of fewer bursts has no period (a start-up, a one-off).
//!
//! Cost: a hash map of cells and a sort of each class's start times.

use crate::detect::Burst;
use crate::stats::Summary;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Width of a grid cell, decades (a factor of 1.58).
pub const CELL_DECADES: f64 = 0.2;
/// A class recurs from this many bursts on (two give one interval, which shows no recurrence).
pub const MIN_RECURRING: usize = 3;

/// Bursts that recur alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Class {
    /// 0-based, by the excess charge the class holds, largest first.
    pub class: usize,
    pub n: usize,
    /// Median interval between the bursts' starts, s; None when the class does not recur.
    pub period_s: Option<f64>,
    /// Robust spread of those intervals (1.4826 × median absolute deviation), s.
    pub period_jitter_s: Option<f64>,
    pub mean_excess_charge_ma_ms: f64,
    /// 95% CI of the mean excess charge (Student's t over the class's bursts), mA·ms; None with
    /// one burst.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub mean_energy_mj: f64,
    /// The highest current of the class's bursts, mA.
    pub peak_ma: f64,
    /// The class's excess charge over all the trace's charge (0–1).
    pub charge_share: f64,
    /// Mean duration of the class's bursts, ms.
    pub mean_duration_ms: f64,
    /// Sum of the class's excess charges, mA·ms.
    pub excess_charge_ma_ms: f64,
    /// Sum of the class's energies, mJ.
    pub energy_mj: f64,
    /// Start of the class's first and last bursts, s.
    pub first_start_s: f64,
    pub last_start_s: f64,
}

impl Class {
    /// The class recurs (has a period).
    pub fn recurs(&self) -> bool {
        self.period_s.is_some()
    }
}

/// A burst's cell on the grid.
fn cell(b: &Burst, baseline_ma: f64) -> [i64; 3] {
    let tiny = 1e-12;
    let f = |v: f64| (v.max(tiny).log10() / CELL_DECADES).floor() as i64;
    [
        f(b.peak_ma - baseline_ma),
        f(b.duration_ms),
        f(b.excess_charge_ma_ms),
    ]
}

/// Union–find root with path halving.
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Group `bursts` into classes, set each burst's `class`, and return the classes, numbered by
/// charge. `total_charge_ma_ms` is the whole trace's charge (for the shares).
pub fn classify(bursts: &mut [Burst], baseline_ma: f64, total_charge_ma_ms: f64) -> Vec<Class> {
    if bursts.is_empty() {
        return Vec::new();
    }
    // Occupied cells, and each burst's cell index.
    let mut cells: HashMap<[i64; 3], usize> = HashMap::new();
    let of: Vec<usize> = bursts
        .iter()
        .map(|b| {
            let next = cells.len();
            *cells.entry(cell(b, baseline_ma)).or_insert(next)
        })
        .collect();
    let mut parent: Vec<usize> = (0..cells.len()).collect();
    for (&c, &i) in &cells {
        for d in 0..27i64 {
            let n = [c[0] + d % 3 - 1, c[1] + (d / 3) % 3 - 1, c[2] + d / 9 - 1];
            if let Some(&j) = cells.get(&n) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                if a != b {
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
    }
    // Members of each group, in time order.
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for (k, &c) in of.iter().enumerate() {
        groups.entry(root(&mut parent, c)).or_default().push(k);
    }
    let mut members: Vec<Vec<usize>> = groups.into_values().collect();
    let charge = |m: &Vec<usize>| -> f64 { m.iter().map(|&k| bursts[k].excess_charge_ma_ms).sum() };
    // Largest charge first; ties by the first burst (deterministic).
    members.sort_by(|a, b| charge(b).total_cmp(&charge(a)).then(a[0].cmp(&b[0])));
    members
        .iter()
        .enumerate()
        .map(|(id, m)| {
            for &k in m {
                bursts[k].class = Some(id);
            }
            describe(id, m.iter().map(|&k| &bursts[k]), total_charge_ma_ms)
        })
        .collect()
}

/// Median and robust spread (1.4826 × MAD) of `v`; v must not be empty.
fn median_spread(v: &[f64]) -> (f64, f64) {
    let s = Summary::of(v);
    let dev: Vec<f64> = v.iter().map(|x| (x - s.median).abs()).collect();
    (s.median, 1.4826 * Summary::of(&dev).median)
}

/// One class's figures from its bursts (in time order).
fn describe<'a>(id: usize, bursts: impl Iterator<Item = &'a Burst>, total: f64) -> Class {
    let bursts: Vec<&Burst> = bursts.collect();
    let n = bursts.len();
    let q: Vec<f64> = bursts.iter().map(|b| b.excess_charge_ma_ms).collect();
    let s = Summary::of(&q);
    let mut starts: Vec<f64> = bursts.iter().map(|b| b.start_s).collect();
    starts.sort_by(f64::total_cmp);
    let (period_s, period_jitter_s) = if n >= MIN_RECURRING {
        let gaps: Vec<f64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
        let (p, j) = median_spread(&gaps);
        (Some(p), Some(j))
    } else {
        (None, None)
    };
    let sum_q: f64 = q.iter().sum();
    let sum_e: f64 = bursts.iter().map(|b| b.energy_mj).sum();
    Class {
        class: id,
        n,
        period_s,
        period_jitter_s,
        mean_excess_charge_ma_ms: s.mean,
        ci_low: s.ci95_low,
        ci_high: s.ci95_high,
        mean_energy_mj: sum_e / n as f64,
        peak_ma: bursts
            .iter()
            .map(|b| b.peak_ma)
            .fold(f64::NEG_INFINITY, f64::max),
        charge_share: if total > 0.0 { sum_q / total } else { 0.0 },
        mean_duration_ms: bursts.iter().map(|b| b.duration_ms).sum::<f64>() / n as f64,
        excess_charge_ma_ms: sum_q,
        energy_mj: sum_e,
        first_start_s: starts[0],
        last_start_s: starts[n - 1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn burst(start_s: f64, peak_ma: f64, duration_ms: f64, q: f64) -> Burst {
        Burst {
            index: 0,
            start_s,
            end_s: start_s + duration_ms / 1e3,
            duration_ms,
            width_ms: duration_ms,
            peak_ma,
            mean_ma: q / duration_ms,
            excess_charge_ma_ms: q,
            charge_ma_ms: q,
            energy_mj: q * 3e-3,
            samples: 10,
            cut_start: false,
            cut_end: false,
            class: None,
        }
    }

    /// Advertising events (8 mA, 3 ms, 10 mA·ms ±10%) every 1 s, sensor reads (0.3 mA, 1 s,
    /// 280 mA·ms) every 4 s, and one start-up: three classes, numbered by charge.
    #[test]
    fn two_recurring_classes_and_a_one_off() {
        let mut b = vec![burst(0.05, 50.0, 200.0, 5000.0)];
        for k in 0..20 {
            let wobble = 1.0 + 0.1 * ((k * 7 % 5) as f64 - 2.0) / 2.0;
            b.push(burst(1.0 + k as f64, 8.0 * wobble, 3.0, 10.0 * wobble));
        }
        for k in 0..5 {
            b.push(burst(1.5 + 4.0 * k as f64, 0.3, 1000.0, 280.0));
        }
        b.sort_by(|x, y| x.start_s.total_cmp(&y.start_s));
        let total = 10_000.0;
        let c = classify(&mut b, 0.001, total);
        assert_eq!(c.len(), 3, "{c:?}");
        // By charge: the start-up (5000), the sensor (1400), advertising (200).
        assert_eq!((c[0].n, c[1].n, c[2].n), (1, 5, 20));
        assert_eq!(c[0].period_s, None);
        assert!((c[1].period_s.unwrap() - 4.0).abs() < 1e-9);
        assert!((c[2].period_s.unwrap() - 1.0).abs() < 1e-9 && c[2].period_jitter_s == Some(0.0));
        assert!((c[1].charge_share - 0.14).abs() < 1e-12);
        assert!((c[2].mean_excess_charge_ma_ms - 10.0).abs() < 0.2);
        assert!(c[2].ci_low.unwrap() < 10.0 && c[2].ci_high.unwrap() > 9.8);
        assert!(b.iter().all(|x| x.class.is_some()));
        assert_eq!(b[0].class, Some(0));
    }
}
