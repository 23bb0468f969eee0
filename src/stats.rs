//! Statistics over repetitions: summaries with Student-t confidence intervals, Welch's t-test,
//! ratios of means with a confidence interval. Distribution functions from statrs.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// Above this many degrees of freedom the t quantile is the normal one (statrs 0.19's
/// `StudentsT::inverse_cdf` drifts beyond ~2e4 and does not return at 2e7).
const NORMAL_ABOVE_DF: f64 = 1e4;

/// The two-sided (1 − alpha) quantile of Student's t with `df` degrees of freedom.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if !(df.is_finite() && df > 0.0) {
        return f64::NAN;
    }
    if df > NORMAL_ABOVE_DF {
        return Normal::new(0.0, 1.0)
            .map(|n| n.inverse_cdf(p))
            .unwrap_or(f64::NAN);
    }
    StudentsT::new(0.0, 1.0, df)
        .map(|t| t.inverse_cdf(p))
        .unwrap_or(f64::NAN)
}

/// P(|T| ≥ |t|) for Student's t with `df` degrees of freedom.
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if !(df.is_finite() && df > 0.0 && t.is_finite()) {
        return f64::NAN;
    }
    let upper = if df > NORMAL_ABOVE_DF {
        Normal::new(0.0, 1.0).ok().map(|n| n.sf(t.abs()))
    } else {
        StudentsT::new(0.0, 1.0, df).ok().map(|d| d.sf(t.abs()))
    };
    upper.map(|u| (2.0 * u).min(1.0)).unwrap_or(f64::NAN)
}

/// n, mean, standard deviation, median, extremes and the 95% CI of the mean of a sample.
/// Fields that need more values than there are (sd and CI with n < 2) are None.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    pub sd: Option<f64>,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
}

impl Summary {
    /// Summarise `values` (NaNs are ignored). Cost: one sort.
    pub fn of(values: &[f64]) -> Summary {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        let n = v.len();
        if n == 0 {
            return Summary {
                n: 0,
                mean: f64::NAN,
                median: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
                ..Summary::default()
            };
        }
        v.sort_by(f64::total_cmp);
        let mean = v.iter().sum::<f64>() / n as f64;
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        };
        let (sd, ci95_low, ci95_high) = if n >= 2 {
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let sd = var.sqrt();
            let half = t_quantile(0.975, (n - 1) as f64) * sd / (n as f64).sqrt();
            (Some(sd), Some(mean - half), Some(mean + half))
        } else {
            (None, None, None)
        };
        Summary {
            n,
            mean,
            sd,
            median,
            min: v[0],
            max: v[n - 1],
            ci95_low,
            ci95_high,
        }
    }

    /// Standard error of the mean, when defined.
    pub fn sem(&self) -> Option<f64> {
        self.sd.map(|s| s / (self.n as f64).sqrt())
    }
}

/// Welch's unequal-variance t-test of two summaries.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Welch {
    pub t: f64,
    pub df: f64,
    pub p_value: f64,
}

pub fn welch(a: &Summary, b: &Summary) -> Option<Welch> {
    let (sa, sb) = (a.sd?, b.sd?);
    let (va, vb) = (sa * sa / a.n as f64, sb * sb / b.n as f64);
    if va + vb == 0.0 {
        return None;
    }
    let t = (a.mean - b.mean) / (va + vb).sqrt();
    let df = (va + vb).powi(2) / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
    Some(Welch {
        t,
        df,
        p_value: t_two_sided_p(t, df),
    })
}

/// The ratio of two means with a 95% CI (delta method on the log ratio, Welch–Satterthwaite
/// degrees of freedom). None unless both means are positive and both sds are known.
pub fn ratio_ci(a: &Summary, b: &Summary) -> Option<(f64, f64, f64)> {
    if !(a.mean > 0.0 && b.mean > 0.0) {
        return None;
    }
    let (sa, sb) = (a.sd?, b.sd?);
    let va = sa * sa / (a.n as f64 * a.mean * a.mean);
    let vb = sb * sb / (b.n as f64 * b.mean * b.mean);
    let ratio = a.mean / b.mean;
    if va + vb == 0.0 {
        return Some((ratio, ratio, ratio));
    }
    let df = (va + vb).powi(2) / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
    let half = t_quantile(0.975, df) * (va + vb).sqrt();
    Some((ratio, ratio * (-half).exp(), ratio * half.exp()))
}

/// Repetitions per group needed to tell two means apart (two-sided 5%, power 80%), from the
/// pooled spread: n ≈ 2 (z₀.₉₇₅ + z₀.₈)² σ² / δ².
pub fn n_to_resolve(a: &Summary, b: &Summary) -> Option<usize> {
    let (sa, sb) = (a.sd?, b.sd?);
    let delta = (a.mean - b.mean).abs();
    if delta == 0.0 {
        return None;
    }
    let var = 0.5 * (sa * sa + sb * sb);
    let z = 1.959_963_984_540_054 + 0.841_621_233_572_914_3;
    Some((2.0 * z * z * var / (delta * delta)).ceil().max(2.0) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_by_hand() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample sd sqrt(32/7) = 2.13809, median 4.5.
        let s = Summary::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.n, 8);
        assert_eq!(s.mean, 5.0);
        assert!((s.sd.unwrap() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.median, 4.5);
        // t(0.975, 7) = 2.364624 (tables): half-width 2.364624 × 2.138090 / sqrt(8) = 1.787488.
        assert!((s.ci95_high.unwrap() - 6.787488).abs() < 1e-5, "{s:?}");
        assert!(Summary::of(&[3.0]).sd.is_none());
    }

    #[test]
    fn quantiles_and_p_values() {
        // Tables: t(0.975, 1) = 12.7062, t(0.975, 10) = 2.2281, z(0.975) = 1.95996.
        assert!((t_quantile(0.975, 1.0) - 12.7062).abs() < 1e-3);
        assert!((t_quantile(0.975, 10.0) - 2.2281).abs() < 1e-4);
        assert!((t_quantile(0.975, 1e7) - 1.95996).abs() < 1e-4);
        assert!((t_two_sided_p(2.2281, 10.0) - 0.05).abs() < 1e-4);
    }

    #[test]
    fn welch_by_hand() {
        // a: 1..=5 (mean 3, var 2.5), b: 2,4,6,8,10 (mean 6, var 10):
        // t = -3 / sqrt(0.5 + 2) = -1.897367, df = 6.25 / (0.0625 + 1) = 5.882353.
        let a = Summary::of(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let b = Summary::of(&[2.0, 4.0, 6.0, 8.0, 10.0]);
        let w = welch(&a, &b).unwrap();
        assert!((w.t + 1.897367).abs() < 1e-6);
        assert!((w.df - 5.882353).abs() < 1e-6);
        // Two-sided p for t = 1.897367 at 5.882353 df: 0.107531 (numerical integration of the
        // t density, done outside this program).
        assert!((w.p_value - 0.107531).abs() < 1e-5, "{w:?}");
        let (r, lo, hi) = ratio_ci(&b, &a).unwrap();
        assert!((r - 2.0).abs() < 1e-12 && lo < 2.0 && hi > 2.0);
    }
}
