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

mod sides;
use sides::{pairing, summarise, values, ClassKinds, Entry, Key};

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

/// What a row compares. Serialised lowercase; the names are a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Labelled events (bursts), the metric per event.
    Event,
    /// Phase windows, the metric per window.
    Window,
    /// The sleep floor, mA (label `floor`).
    Floor,
    /// The mean current (label `mean_ma`) and power (`mean_mw`) over each file.
    Mean,
    /// A class of recurring bursts, matched across old and new by peak, duration and charge:
    /// its metric per event, and its period.
    Class,
    /// The energy budget's mean current with a class at a period (label: the class and the
    /// period).
    Budget,
}

impl Kind {
    /// Every kind, as `--metric` names them.
    pub const ALL: [Kind; 6] = [
        Kind::Event,
        Kind::Window,
        Kind::Floor,
        Kind::Mean,
        Kind::Class,
        Kind::Budget,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Event => "event",
            Kind::Window => "window",
            Kind::Floor => "floor",
            Kind::Mean => "mean",
            Kind::Class => "class",
            Kind::Budget => "budget",
        }
    }
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
    /// `event`, `window`, `floor`, `mean`, `class` or `budget`.
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
    /// The unit of the means (`mA·ms`, `mA`, `s`, ...).
    #[serde(default)]
    pub unit: String,
    /// What the CI is based on (`spread between 3 files`, `the events' spread`, ...).
    #[serde(default)]
    pub basis: String,
    /// Its regression fails the gate (its kind is one `--metric` gates on).
    #[serde(default)]
    pub gates: bool,
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
    /// Regressions in the rows that gate.
    pub regressions: usize,
    pub improvements: usize,
    pub unresolved: usize,
    /// The kinds whose regressions fail the gate.
    #[serde(default)]
    pub gate: Vec<Kind>,
    /// The answer in one sentence: the mean current and the floor, old → new, and the verdict.
    #[serde(default)]
    pub summary: String,
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

/// The kinds that gate by default: the floor, the mean current and the budget decide battery
/// life; labelled events and phase windows are what the user named.
pub const DEFAULT_GATE: [Kind; 5] = [
    Kind::Floor,
    Kind::Mean,
    Kind::Budget,
    Kind::Event,
    Kind::Window,
];

/// Compare two reports' files, gating on [`DEFAULT_GATE`].
pub fn diff(
    old_name: &str,
    old: &[FileOutcome],
    new_name: &str,
    new: &[FileOutcome],
    metric: Metric,
    limit: f64,
) -> Diff {
    diff_gated(old_name, old, new_name, new, metric, limit, &DEFAULT_GATE)
}

/// Compare two reports' files; regressions of the `gate` kinds count.
pub fn diff_gated(
    old_name: &str,
    old: &[FileOutcome],
    new_name: &str,
    new: &[FileOutcome],
    metric: Metric,
    limit: f64,
    gate: &[Kind],
) -> Diff {
    let (go, gn) = pairing(old, new);
    let mut kinds = ClassKinds::default();
    kinds.learn(old, &go);
    kinds.learn(new, &gn);
    let (vo, vn) = (
        values(old, &go, metric, &kinds),
        values(new, &gn, metric, &kinds),
    );
    let mut keys: Vec<&Key> = vo.keys().chain(vn.keys()).collect();
    keys.sort();
    keys.dedup();
    let rows: Vec<Row> = keys
        .into_iter()
        .map(|k| row(k, vo.get(k), vn.get(k), limit, gate.contains(&k.0)))
        .collect();
    let count = |v: Verdict| rows.iter().filter(|r| r.gates && r.verdict == v).count();
    let mut d = Diff {
        old: old_name.to_string(),
        new: new_name.to_string(),
        metric,
        limit,
        regressions: count(Verdict::Regression),
        improvements: rows
            .iter()
            .filter(|r| r.verdict == Verdict::Improvement)
            .count(),
        unresolved: rows
            .iter()
            .filter(|r| r.verdict == Verdict::Unresolved)
            .count(),
        gate: gate.to_vec(),
        summary: String::new(),
        rows,
    };
    d.summary = sentence(&d);
    d
}

/// One row from its two sides.
fn row(k: &Key, old: Option<&Entry>, new: Option<&Entry>, limit: f64, gates: bool) -> Row {
    let ((a, basis_a), (b, basis_b)) = (summarise(old), summarise(new));
    let mean = |s: &Summary| (s.n > 0).then_some(s.mean);
    let rc = ratio_ci(&b, &a);
    let ratio = (a.n > 0 && b.n > 0 && a.mean != 0.0).then(|| b.mean / a.mean);
    // Two exact values (no spread on either side): the ratio decides alone.
    let rc = rc.or_else(|| {
        let exact = a.sd.is_none() && b.sd.is_none() && a.n == 1 && b.n == 1;
        ratio
            .filter(|_| exact && k.0 != Kind::Event && k.0 != Kind::Window)
            .map(|r| (r, r, r))
    });
    let (verdict, reps) = match (a.n, b.n, rc) {
        (0, _, _) => (Verdict::New, None),
        (_, 0, _) => (Verdict::Gone, None),
        (_, _, Some((r, lo, hi))) => {
            let mut v = verdict(r, lo, hi, limit);
            // A period that shortens means the event comes more often: it costs more.
            if k.2.ends_with("period_s") {
                v = match v {
                    Verdict::Regression => Verdict::Improvement,
                    Verdict::Improvement => Verdict::Regression,
                    v => v,
                };
            }
            let reps = (v == Verdict::Unresolved)
                .then(|| repetitions(&b, &a, r, limit))
                .flatten();
            (v, reps)
        }
        _ => (Verdict::Unresolved, None),
    };
    let basis = if basis_a == basis_b || basis_b.is_empty() {
        basis_a
    } else if basis_a.is_empty() {
        basis_b
    } else {
        format!("old: {basis_a}; new: {basis_b}")
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
        unit: old.or(new).map_or("", |e| e.unit).to_string(),
        basis,
        gates,
    }
}

/// "mean current 31.94 → 31.04 mA (−2.8%, 95% CI …); floor 3.87 mA → 74 µA (−98%): an
/// improvement", for the first group with a mean row (every group's verdicts count).
fn sentence(d: &Diff) -> String {
    use crate::units::fmt_current;
    let find = |label: &str, kind: Kind| {
        d.rows.iter().find(|r| {
            r.kind == kind && r.label == label && r.old_mean.is_some() && r.new_mean.is_some()
        })
    };
    let change = |r: &Row| -> String {
        let pct = |x: f64| format!("{:+.1}%", 100.0 * (x - 1.0)).replace('-', "−");
        let ci = match (r.ratio_ci_low, r.ratio_ci_high) {
            (Some(lo), Some(hi)) if lo < hi => format!(", 95% CI {} to {}", pct(lo), pct(hi)),
            _ => String::new(),
        };
        format!(
            "{} → {} ({}{ci})",
            fmt_current(r.old_mean.unwrap_or(f64::NAN)),
            fmt_current(r.new_mean.unwrap_or(f64::NAN)),
            r.ratio.map_or("–".into(), pct)
        )
    };
    let mut parts = Vec::new();
    if let Some(r) = find("mean_ma", Kind::Mean) {
        let group = if d.rows.iter().any(|x| x.group != r.group) {
            format!("{}: ", r.group)
        } else {
            String::new()
        };
        parts.push(format!("{group}mean current {}", change(r)));
        if let Some(f) = d.rows.iter().find(|x| {
            x.kind == Kind::Floor
                && x.group == r.group
                && x.old_mean.is_some()
                && x.new_mean.is_some()
        }) {
            parts.push(format!("floor {}", change(f)));
        }
    }
    let gated = |v: Verdict| d.rows.iter().any(|r| r.gates && r.verdict == v);
    let verdict = if gated(Verdict::Regression) {
        "a regression"
    } else if gated(Verdict::Improvement) {
        "an improvement"
    } else if gated(Verdict::Unresolved) {
        "unresolved: more captures needed"
    } else {
        "no change beyond the limit"
    };
    if parts.is_empty() {
        return verdict.to_string();
    }
    format!("{}: {verdict}", parts.join("; "))
}

/// One `--metric` word: a quantity to compare, or a kind of row to gate on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricArg {
    Quantity(Metric),
    Gate(Kind),
    All,
}

/// `charge`, `energy`, `duration`, a row kind (`floor`, `mean`, `class`, `budget`, `event`,
/// `window`) or `all`.
pub fn parse_metric(s: &str) -> std::result::Result<MetricArg, String> {
    let t = s.trim();
    Ok(match t {
        "charge" => MetricArg::Quantity(Metric::Charge),
        "energy" => MetricArg::Quantity(Metric::Energy),
        "duration" => MetricArg::Quantity(Metric::Duration),
        "all" => MetricArg::All,
        _ => MetricArg::Gate(
            Kind::ALL
                .into_iter()
                .find(|k| k.name() == t)
                .ok_or_else(|| {
                    format!(
                "expected charge, energy, duration, floor, mean, class, budget, event, window or \
                 all, found \"{s}\""
            )
                })?,
        ),
    })
}

/// The quantity and the gating kinds of `--metric` words (defaults: charge, [`DEFAULT_GATE`]).
pub fn metric_and_gate(words: &[MetricArg]) -> (Metric, Vec<Kind>) {
    let metric = words
        .iter()
        .rev()
        .find_map(|w| match w {
            MetricArg::Quantity(m) => Some(*m),
            _ => None,
        })
        .unwrap_or(Metric::Charge);
    let mut gate: Vec<Kind> = Vec::new();
    for w in words {
        match w {
            MetricArg::Gate(k) if !gate.contains(k) => gate.push(*k),
            MetricArg::All => gate = Kind::ALL.to_vec(),
            _ => {}
        }
    }
    if gate.is_empty() {
        gate = DEFAULT_GATE.to_vec();
    }
    (metric, gate)
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
