//! Diff: two batch reports (last week's firmware against today's), group by group and label
//! by label, with a verdict per row for a CI gate: `regression`, `improvement`, `same`,
//! `unresolved` (with the repetitions that would resolve it), `new` or `gone`.
//!
//! The ratio is new mean / old mean with a 95% CI by the delta method on the log ratio
//! (Welch–Satterthwaite degrees of freedom), as batch's comparisons; p is Welch's.

use crate::error::{Error, Result};
use crate::pipeline::FileOutcome;
use crate::settings::Settings;
use crate::stats::{ratio_ci, welch, Summary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What is compared per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Excess charge ∫(I − idle) dt, mA·ms.
    Charge,
    /// Energy, mJ.
    Energy,
    /// Duration, ms.
    Duration,
}

impl Metric {
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Charge => "mA·ms",
            Metric::Energy => "mJ",
            Metric::Duration => "ms",
        }
    }

    fn of(self, e: &crate::attribute::Event) -> f64 {
        match self {
            Metric::Charge => e.excess_charge_ma_ms,
            Metric::Energy => e.energy_mj,
            Metric::Duration => e.duration_ms,
        }
    }

    /// A phase window's value: its charge ∫ I dt for `charge` (a phase has no idle to
    /// subtract), its energy or its duration.
    fn of_window(self, w: &crate::attribute::windows::Window) -> f64 {
        match self {
            Metric::Charge => w.charge_ma_ms,
            Metric::Energy => w.energy_mj,
            Metric::Duration => w.duration_ms,
        }
    }
}

/// What a row compares: labelled events (bursts) or phase windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Event,
    Window,
}

/// A row's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The ratio is above 1 + limit and its CI wholly above 1.
    Regression,
    /// The ratio is below 1 − limit and its CI wholly below 1.
    Improvement,
    /// The CI lies within 1 ± limit.
    Same,
    /// None of the above: more repetitions needed.
    Unresolved,
    /// Only in the new report.
    New,
    /// Only in the old report.
    Gone,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Verdict::Regression => "regression",
            Verdict::Improvement => "improvement",
            Verdict::Same => "same",
            Verdict::Unresolved => "unresolved",
            Verdict::New => "new",
            Verdict::Gone => "gone",
        })
    }
}

/// One group and label in either report. Field names are a contract.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub group: String,
    pub label: String,
    /// `event` or `window` (a phase window).
    pub kind: Kind,
    pub old_n: usize,
    pub new_n: usize,
    pub old_mean: Option<f64>,
    pub new_mean: Option<f64>,
    pub old_ci_low: Option<f64>,
    pub old_ci_high: Option<f64>,
    pub new_ci_low: Option<f64>,
    pub new_ci_high: Option<f64>,
    /// New mean / old mean.
    pub ratio: Option<f64>,
    pub ratio_ci_low: Option<f64>,
    pub ratio_ci_high: Option<f64>,
    /// Welch's two-sided p.
    pub p_value: Option<f64>,
    pub verdict: Verdict,
    /// For `unresolved`: repetitions per side that would resolve it at the spread seen.
    pub repetitions_to_resolve: Option<usize>,
}

/// The comparison of two reports. Field names are a contract.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Diff {
    pub old: String,
    pub new: String,
    pub metric: Metric,
    /// The limit as a fraction (0.05 for 5%).
    pub limit: f64,
    pub rows: Vec<Row>,
    pub regressions: usize,
    pub improvements: usize,
    pub unresolved: usize,
}

type Key = (Kind, String, String);

/// Each group and label's values of the metric, over every file that was analysed: events,
/// and phase windows that no trace edge cut.
fn values(files: &[FileOutcome], metric: Metric) -> BTreeMap<Key, Vec<f64>> {
    let mut m: BTreeMap<Key, Vec<f64>> = BTreeMap::new();
    for f in files {
        let Some(r) = &f.result else { continue };
        for e in &r.attribution.events {
            m.entry((Kind::Event, f.group.clone(), e.label.clone()))
                .or_default()
                .push(metric.of(e));
        }
        for w in r.windows.iter().filter(|w| !w.cut) {
            m.entry((Kind::Window, f.group.clone(), w.label.clone()))
                .or_default()
                .push(metric.of_window(w));
        }
    }
    m
}

/// Repetitions per side for the ratio's 95% CI to clear the band or 1, at the spread seen:
/// the CI half-width on the log ratio must shrink to the distance from ln(ratio) to the
/// nearest edge that decides it.
fn repetitions(a: &Summary, b: &Summary, ratio: f64, limit: f64) -> Option<usize> {
    let (sa, sb) = (a.sd?, b.sd?);
    let cv2 = (sa / a.mean).powi(2) + (sb / b.mean).powi(2);
    let l = ratio.ln();
    let (up, down) = ((1.0 + limit).ln(), (1.0 - limit).ln());
    let room = if l > up || l < down {
        l.abs()
    } else {
        (up - l).min(l - down)
    };
    if room.is_nan() || room <= 0.0 || !cv2.is_finite() {
        return None;
    }
    let z = 1.959_963_984_540_054;
    Some(((z * z * cv2) / (room * room)).ceil().max(2.0) as usize)
}

/// One row's verdict from the ratio and its CI.
fn verdict(r: f64, lo: f64, hi: f64, limit: f64) -> Verdict {
    if r > 1.0 + limit && lo > 1.0 {
        Verdict::Regression
    } else if r < 1.0 - limit && hi < 1.0 {
        Verdict::Improvement
    } else if lo >= 1.0 - limit && hi <= 1.0 + limit {
        Verdict::Same
    } else {
        Verdict::Unresolved
    }
}

/// The files of a report folder (its report.json), or of a folder of traces run through
/// [`crate::batch()`] with `settings` on `threads` threads (0: one per core). Failed files are
/// outcomes with their error.
pub fn outcomes(input: &str, settings: &Settings, threads: usize) -> Result<Vec<FileOutcome>> {
    let p = std::path::Path::new(input);
    if p.join("report.json").is_file() {
        return Ok(crate::batch::read_report(input)?.files);
    }
    if !p.exists() {
        return Err(Error::input(
            input,
            "no such report folder or folder of traces",
        ));
    }
    settings.validate()?;
    let jobs = crate::batch::plan(&[input.to_string()], None, settings)?;
    if jobs.is_empty() {
        return Err(Error::input(
            input,
            "neither a report folder (no report.json) nor a folder with trace files",
        ));
    }
    crate::batch::run(&jobs, threads, &|| {})
}

/// Compare two reports' files.
pub fn diff(
    old_name: &str,
    old: &[FileOutcome],
    new_name: &str,
    new: &[FileOutcome],
    metric: Metric,
    limit: f64,
) -> Diff {
    let (vo, vn) = (values(old, metric), values(new, metric));
    let mut keys: Vec<&Key> = vo.keys().chain(vn.keys()).collect();
    keys.sort();
    keys.dedup();
    let empty = Vec::new();
    let rows: Vec<Row> = keys
        .into_iter()
        .map(|k| {
            let (a, b) = (
                Summary::of(vo.get(k).unwrap_or(&empty)),
                Summary::of(vn.get(k).unwrap_or(&empty)),
            );
            let mean = |s: &Summary| (s.n > 0).then_some(s.mean);
            let rc = ratio_ci(&b, &a);
            let ratio = (a.n > 0 && b.n > 0 && a.mean != 0.0).then(|| b.mean / a.mean);
            let (verdict, reps) = match (a.n, b.n, rc) {
                (0, _, _) => (Verdict::New, None),
                (_, 0, _) => (Verdict::Gone, None),
                (_, _, Some((r, lo, hi))) => {
                    let v = verdict(r, lo, hi, limit);
                    let reps = (v == Verdict::Unresolved)
                        .then(|| repetitions(&b, &a, r, limit))
                        .flatten();
                    (v, reps)
                }
                _ => (Verdict::Unresolved, None),
            };
            Row {
                kind: k.0,
                group: k.1.clone(),
                label: k.2.clone(),
                old_n: a.n,
                new_n: b.n,
                old_mean: mean(&a),
                new_mean: mean(&b),
                old_ci_low: a.ci95_low,
                old_ci_high: a.ci95_high,
                new_ci_low: b.ci95_low,
                new_ci_high: b.ci95_high,
                ratio: rc.map(|x| x.0).or(ratio),
                ratio_ci_low: rc.map(|x| x.1),
                ratio_ci_high: rc.map(|x| x.2),
                p_value: welch(&b, &a).map(|w| w.p_value),
                verdict,
                repetitions_to_resolve: reps,
            }
        })
        .collect();
    let count = |v: Verdict| rows.iter().filter(|r| r.verdict == v).count();
    Diff {
        old: old_name.to_string(),
        new: new_name.to_string(),
        metric,
        limit,
        regressions: count(Verdict::Regression),
        improvements: count(Verdict::Improvement),
        unresolved: count(Verdict::Unresolved),
        rows,
    }
}

/// `5%`, `0.05`: a limit as a fraction.
pub fn parse_limit(s: &str) -> std::result::Result<f64, String> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|x| x / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("expected a limit such as 5% or 0.05, found \"{s}\""))?;
    if !(0.0..1.0).contains(&v) {
        return Err(format!(
            "the limit must be from 0% to under 100%, found \"{s}\""
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_by_the_rules() {
        assert_eq!(verdict(1.12, 1.08, 1.16, 0.05), Verdict::Regression);
        assert_eq!(verdict(1.12, 0.98, 1.26, 0.05), Verdict::Unresolved);
        assert_eq!(verdict(0.90, 0.85, 0.94, 0.05), Verdict::Improvement);
        assert_eq!(verdict(1.01, 0.97, 1.04, 0.05), Verdict::Same);
        // Above 1 + limit is not enough: the CI must clear 1.
        assert_eq!(verdict(1.06, 0.99, 1.13, 0.05), Verdict::Unresolved);
        assert_eq!(parse_limit("5%"), Ok(0.05));
        assert_eq!(parse_limit("0.1"), Ok(0.1));
        assert!(parse_limit("150%").is_err());
    }

    #[test]
    fn repetitions_shrink_the_ci_to_the_band() {
        // cv 10% on each side, ratio 1.12 with limit 5%: the CI must clear 1, so the half-width
        // on the log ratio must fall to ln 1.12: n = 1.96² × 0.02 / ln(1.12)² = 5.99 → 6.
        let a = Summary::of(&[0.9, 1.0, 1.1]);
        let b = Summary::of(&[0.9 * 1.12, 1.12, 1.1 * 1.12]);
        let n = repetitions(&b, &a, 1.12, 0.05).unwrap();
        let cv2 = 2.0 * (0.1f64).powi(2);
        let want = (1.959963984540054f64.powi(2) * cv2 / 1.12f64.ln().powi(2)).ceil() as usize;
        assert_eq!(n, want);
    }
}
