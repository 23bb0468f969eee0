//! The levels where the current dwells (JSON `states[]`) and the sleep floor, from the survey's
//! reservoir (a time-ordered, decimated sample of the whole trace), over any range from nA to A.
//!
//! The states are the modes of a histogram of log₁₀(current) in bins of 0.05 decade from
//! 0.1 nA to 100 A (values at or below 0.1 nA share the lowest bin), smoothed over five bins and
//! split at its valleys; two modes whose valley is more than half the lower peak are one state.
//! A state holds at least 2% of the samples within ±0.25 decade of its mode (it dwells there,
//! not passes through); its level is the median of its basin's samples, its spread their
//! robust standard deviation (1.4826 × MAD). The time share is its share of the samples (the
//! reservoir is uniform in sample index, so this is the time share for regular sampling), the
//! charge share its share of the sum of positive currents.
//!
//! The floor is the lowest state above zero holding at least 5% of the time. The device sleeps when
//! another state dwells at least ten times higher: then the floor is the default baseline.
//!
//! Cost: two passes over at most 2^16 values spread evenly over the reservoir, a selection per
//! range of bins (about 3% of analyze on a 1 M-row trace, in instructions).

use serde::{Deserialize, Serialize};

/// A level where the current dwells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub level_ma: f64,
    pub sd_ma: f64,
    /// Share of the time (0–1).
    pub time_share: f64,
    /// Share of the charge (0–1).
    pub charge_share: f64,
}

/// The lowest level, decades: 0.1 nA in mA.
const LOW: f64 = -7.0;
const BIN: f64 = 0.05;
const BINS: usize = 240;
const MIN_SHARE: f64 = 0.02;
/// A state's samples must gather within this many bins (±0.25 decade) of its mode.
const DWELL_BINS: usize = 5;
const FLOOR_SHARE: f64 = 0.05;
const SLEEP_RATIO: f64 = 10.0;

fn bin_of(v: f64) -> usize {
    if v <= 1e-7 || !v.is_finite() {
        return 0;
    }
    (((v.log10() - LOW) / BIN).floor().max(0.0) as usize).min(BINS - 1)
}

fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    let (_, hi, _) = v.select_nth_unstable_by(n / 2, |a, b| a.total_cmp(b));
    let hi = *hi;
    if n % 2 == 1 {
        hi
    } else {
        let lo = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lo + hi)
    }
}

/// Values the states are found from: evenly spaced over the reservoir (shares to ±0.2%).
const STATE_VALUES: usize = 1 << 16;

/// The states of `values` (mA, time-ordered), lowest first.
pub fn states(values: &[f64]) -> Vec<State> {
    let step = values.len().div_ceil(STATE_VALUES).max(1);
    let values: Vec<f64> = values.iter().step_by(step).copied().collect();
    let values = values.as_slice();
    let n = values.len();
    if n < 10 {
        return Vec::new();
    }
    // The samples of each bin, once: counts, and a range's samples are its bins'.
    let mut by_bin: Vec<Vec<f64>> = vec![Vec::new(); BINS];
    for &v in values {
        by_bin[bin_of(v)].push(v);
    }
    let counts: Vec<f64> = by_bin.iter().map(|b| b.len() as f64).collect();
    let smooth: Vec<f64> = (0..BINS)
        .map(|i| {
            [(-2i64, 1.0), (-1, 2.0), (0, 3.0), (1, 2.0), (2, 1.0)]
                .iter()
                .filter_map(|&(d, w)| {
                    let j = i as i64 + d;
                    (0..BINS as i64)
                        .contains(&j)
                        .then(|| w * counts[j as usize])
                })
                .sum::<f64>()
                / 9.0
        })
        .collect();
    // Peaks, then the valley between each pair; merge shallow valleys.
    let peaks: Vec<usize> = (0..BINS)
        .filter(|&i| {
            smooth[i] > 0.0
                && (i == 0 || smooth[i] > smooth[i - 1])
                && (i + 1 == BINS || smooth[i] >= smooth[i + 1])
        })
        .collect();
    let mut cuts = Vec::new();
    let mut last_peak = match peaks.first() {
        Some(&p) => p,
        None => return Vec::new(),
    };
    for &p in &peaks[1..] {
        let valley = (last_peak..=p)
            .min_by(|a, b| smooth[*a].total_cmp(&smooth[*b]))
            .unwrap_or(p);
        if smooth[valley] <= 0.5 * smooth[last_peak].min(smooth[p]) {
            cuts.push(valley);
            last_peak = p;
        } else if smooth[p] > smooth[last_peak] {
            last_peak = p;
        }
    }
    let mut bounds = vec![0];
    bounds.extend(cuts.iter().map(|c| c + 1));
    bounds.push(BINS);
    let mut ranges: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
    let stats_of = |r: (usize, usize)| stats(&by_bin[r.0..r.1], n);
    let mut cached: Vec<Option<State>> = ranges.iter().map(|&r| stats_of(r)).collect();
    // A noisy low level spreads over several decades in log space (and its negative samples
    // share the lowest bin): neighbours whose levels lie within 2σ of each other, and within a
    // decade of the lower one's scale (its level or σ), are one state.
    while let Some(k) = (1..ranges.len()).find(|&k| match (&cached[k - 1], &cached[k]) {
        (Some(a), Some(b)) => {
            (b.level_ma - a.level_ma).abs() < 2.0 * a.sd_ma.max(b.sd_ma)
                && b.level_ma <= 10.0 * a.level_ma.abs().max(a.sd_ma)
        }
        _ => false,
    }) {
        ranges[k - 1].1 = ranges[k].1;
        ranges.remove(k);
        cached.remove(k);
        cached[k - 1] = stats_of(ranges[k - 1]);
    }
    let total_charge: f64 = values.iter().map(|v| v.max(0.0)).sum();
    ranges
        .into_iter()
        .zip(cached)
        .filter_map(|(r, st)| {
            let st = st?;
            let share = st.time_share;
            // Dwelling, not passing through: the share near the range's mode counts.
            let mode = (r.0..r.1).max_by(|a, b| smooth[*a].total_cmp(&smooth[*b]))?;
            let near = (mode.saturating_sub(DWELL_BINS)..(mode + DWELL_BINS + 1).min(BINS))
                .filter(|b| (r.0..r.1).contains(b))
                .map(|b| counts[b])
                .sum::<f64>();
            if share < MIN_SHARE || near < MIN_SHARE * n as f64 {
                return None;
            }
            Some(State {
                charge_share: if total_charge > 0.0 {
                    st.charge_share / total_charge
                } else {
                    0.0
                },
                ..st
            })
        })
        .collect()
}

/// Level, spread, time share and (unnormalised) positive charge of the samples in a range of
/// bins (given as the bins' samples), of `n` in all; None when it holds none.
fn stats(bins: &[Vec<f64>], n: usize) -> Option<State> {
    let mut inside: Vec<f64> = bins.iter().flatten().copied().collect();
    if inside.is_empty() {
        return None;
    }
    let share = inside.len() as f64 / n as f64;
    let charge: f64 = inside.iter().map(|v| v.max(0.0)).sum();
    let level = median(&mut inside);
    let mut dev: Vec<f64> = inside.iter().map(|v| (v - level).abs()).collect();
    Some(State {
        level_ma: level,
        sd_ma: 1.4826 * median(&mut dev),
        time_share: share,
        charge_share: charge,
    })
}

/// The floor: the lowest state with at least 5% of the time. With `sleeps` when a state dwells
/// at least ten times higher.
pub fn floor(states: &[State]) -> Option<(&State, bool)> {
    // Noise below zero (an instrument's offset at µA) is never the floor.
    let f = states
        .iter()
        .find(|s| s.time_share >= FLOOR_SHARE && s.level_ma > 0.0)?;
    let sleeps = f.level_ma > 0.0
        && states
            .iter()
            .any(|s| s.time_share >= MIN_SHARE && s.level_ma >= SLEEP_RATIO * f.level_ma);
    Some((f, sleeps))
}

/// The values that belong to the floor's state (for a refined level and noise).
pub fn floor_samples(values: &[f64], floor: &State, states: &[State]) -> Vec<f64> {
    // Halfway (in decades) to the next state up, or a decade above the floor.
    let next = states
        .iter()
        .map(|s| s.level_ma)
        .filter(|&l| l > floor.level_ma)
        .fold(f64::INFINITY, f64::min);
    let top = if next.is_finite() && floor.level_ma > 0.0 {
        (floor.level_ma * next).sqrt()
    } else {
        floor.level_ma.abs() * 10.0
    };
    values.iter().copied().filter(|&v| v <= top).collect()
}

/// Batches of [`batch_se`].
pub const SE_BATCHES: usize = 20;

/// The standard error of the level of time-ordered, autocorrelated `values` by batch means:
/// the robust spread of the means of [`SE_BATCHES`] contiguous batches over √batches (batches
/// much longer than the correlation time are nearly independent, so the estimate allows for
/// it). None with fewer than two values a batch.
pub fn batch_se(values: &[f64]) -> Option<f64> {
    let per = values.len() / SE_BATCHES;
    if per < 2 {
        return None;
    }
    let means: Vec<f64> = values
        .chunks_exact(per)
        .take(SE_BATCHES)
        .map(|c| c.iter().sum::<f64>() / per as f64)
        .collect();
    // The robust spread of the batch means (1.4826 × MAD), as the floor itself is a robust
    // estimate: a stretch at another level (a first second at a lower sleep current) does not
    // widen it.
    let k = means.len() as f64;
    let mut m = means.clone();
    let centre = median(&mut m);
    let mut dev: Vec<f64> = means.iter().map(|x| (x - centre).abs()).collect();
    Some(1.4826 * median(&mut dev) / k.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 80% at 1 µA (±2%), 15% at 20 mA (±1%), 5% spikes spread between: two states; the floor
    /// sleeps.
    #[test]
    fn a_sleeping_device() {
        let mut v = Vec::new();
        for k in 0..10_000 {
            let wobble = ((k * 7919) % 101) as f64 / 100.0 - 0.5;
            v.push(match k % 20 {
                0..=15 => 1e-3 * (1.0 + 0.04 * wobble),
                16..=18 => 20.0 * (1.0 + 0.02 * wobble),
                _ => 10f64.powf(-2.5 + 3.0 * ((k * 31) % 97) as f64 / 97.0),
            });
        }
        let s = states(&v);
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(
            (s[0].level_ma - 1e-3).abs() < 5e-5 && (s[0].time_share - 0.8).abs() < 0.01,
            "{s:?}"
        );
        assert!((s[1].level_ma - 20.0).abs() < 0.2 && (s[1].time_share - 0.15).abs() < 0.01);
        let (f, sleeps) = floor(&s).unwrap();
        assert!(sleeps && f.level_ma < 2e-3);
    }

    /// Independent values: the batch-means SE is σ/√n within its own sampling error; a slow
    /// drift (autocorrelation) makes it larger than the naive σ/√n.
    #[test]
    fn batch_means_allow_for_autocorrelation() {
        // A deterministic, well-spread ±1 sequence: σ = 1, n = 20 000, σ/√n = 0.00707.
        let white: Vec<f64> = (0..20_000u64)
            .map(|k| {
                if (k.wrapping_mul(2654435761) >> 7) % 2 == 0 {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect();
        let se = batch_se(&white).unwrap();
        assert!(se < 3.0 * 0.00707, "{se}");
        // The same values plus a slow ramp of ±1: the batch means follow it.
        let drift: Vec<f64> = white
            .iter()
            .enumerate()
            .map(|(k, v)| v + 2.0 * k as f64 / 20_000.0 - 1.0)
            .collect();
        assert!(batch_se(&drift).unwrap() > 10.0 * 0.00707);
        assert_eq!(batch_se(&[1.0; 30]), None);
    }

    /// The seed's board never sleeps: 170 mA with bursts to 234 mA.
    #[test]
    fn an_awake_device_does_not_sleep() {
        let v: Vec<f64> = (0..5000)
            .map(|k| {
                if k % 100 < 6 {
                    234.0
                } else {
                    170.0 + (k % 7) as f64 * 0.3
                }
            })
            .collect();
        let s = states(&v);
        let (f, sleeps) = floor(&s).unwrap();
        assert!(!sleeps && (f.level_ma - 171.0).abs() < 1.5, "{s:?}");
    }
}
