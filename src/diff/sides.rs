//! Each side of a diff: the groups paired across old and new, classes matched by kind, and
//! per group and label the sample a row compares (events pooled, or one value a file with its
//! own uncertainty).

use super::{Kind, Metric};
use crate::pipeline::FileOutcome;
use crate::stats::Summary;
use std::collections::BTreeMap;

/// A row's identity: its kind, group and label.
pub(super) type Key = (Kind, String, String);

/// One side of a row: per-event values pooled over the files (events, windows), or one
/// observation per file (the floor, the mean, classes, the budget), each with its own
/// within-file uncertainty as a summary (n, sd) when the file gives one.
enum Sample {
    Pooled(Vec<f64>),
    PerFile(Vec<(f64, Option<Summary>)>),
}

/// What a row's side says, with the unit and the basis of its CI for one file.
pub(super) struct Entry {
    sample: Sample,
    pub(super) unit: &'static str,
    /// The basis of a one-file CI.
    one_file: &'static str,
}

/// Batches of the floor's batch-means standard error (its degrees of freedom + 1).
const FLOOR_BATCHES: usize = crate::analysis::SE_BATCHES;

/// A summary of one value with standard error `se` on `n` − 1 degrees of freedom.
fn with_se(value: f64, se: Option<f64>, n: usize) -> Summary {
    let mut s = Summary::of(&[value]);
    if let Some(se) = se.filter(|se| se.is_finite()) {
        let n = n.max(2);
        let half = crate::stats::t_quantile(0.975, (n - 1) as f64) * se;
        s.n = n;
        s.sd = Some(se * (n as f64).sqrt());
        s.ci95_low = Some(value - half);
        s.ci95_high = Some(value + half);
    }
    s
}

/// Standard error of a class's mean excess charge, from its 95% CI.
fn class_se(c: &crate::analysis::Class) -> Option<f64> {
    let hi = c.ci_high?;
    (c.n >= 2).then(|| {
        (hi - c.mean_excess_charge_ma_ms) / crate::stats::t_quantile(0.975, (c.n - 1) as f64)
    })
}

/// One file's value for a row: its kind and label, the value, its within-file uncertainty, the
/// unit and the basis of a one-file CI.
struct FileRow {
    kind: Kind,
    label: String,
    value: f64,
    within: Option<Summary>,
    unit: &'static str,
    basis: &'static str,
}

impl FileRow {
    fn new(
        kind: Kind,
        label: String,
        value: f64,
        within: Option<Summary>,
        unit: &'static str,
        basis: &'static str,
    ) -> FileRow {
        FileRow {
            kind,
            label,
            value,
            within,
            unit,
            basis,
        }
    }
}

/// The per-file rows of one analysis: floor, mean current and power, classes (by kind label),
/// budget rows.
fn per_file(
    a: &crate::analysis::Analysis,
    metric: Metric,
    label_of: &dyn Fn(&crate::analysis::Class) -> String,
) -> Vec<FileRow> {
    let d = &a.detection;
    let mut v = Vec::new();
    if let Some(f) = d.floor_ma {
        v.push(FileRow::new(Kind::Floor, "floor".into(), f, Some(with_se(f, d.floor_se_ma, FLOOR_BATCHES)), "mA", "the sleep samples, by batch means over 20 stretches (allows for their autocorrelation)"));
    }
    let t = &d.totals;
    let se_ma = d.noise_ma / (a.ingest.samples.max(1) as f64).sqrt();
    let n = a.ingest.samples as usize;
    let mean_basis = "one capture a side: its noise only (the capture's mean is measured, not sampled; give several files a side for the spread between captures)";
    v.push(FileRow::new(
        Kind::Mean,
        "mean_ma".into(),
        t.mean_ma,
        Some(with_se(t.mean_ma, Some(se_ma), n)),
        "mA",
        mean_basis,
    ));
    let v_eff = if t.mean_ma != 0.0 {
        t.mean_mw / t.mean_ma
    } else {
        d.supply_v
    };
    v.push(FileRow::new(
        Kind::Mean,
        "mean_mw".into(),
        t.mean_mw,
        Some(with_se(t.mean_mw, Some(se_ma * v_eff), n)),
        "mW",
        mean_basis,
    ));
    for c in d.classes.iter().filter(|c| c.recurs()) {
        let name = label_of(c);
        let (value, se, unit) = match metric {
            Metric::Charge => (c.mean_excess_charge_ma_ms, class_se(c), "mA·ms"),
            Metric::Energy => (
                c.mean_energy_mj,
                class_se(c).map(|q| q * c.mean_energy_mj / c.mean_excess_charge_ma_ms),
                "mJ",
            ),
            Metric::Duration => (c.mean_duration_ms, None, "ms"),
        };
        v.push(FileRow::new(
            Kind::Class,
            name.clone(),
            value,
            Some(with_se(value, se, c.n)),
            unit,
            "the class's events' spread",
        ));
        if let (Some(p), Some(j)) = (c.period_s, c.period_jitter_s) {
            let se = j / ((c.n - 1) as f64).sqrt();
            v.push(FileRow::new(
                Kind::Class,
                format!("{name} period_s"),
                p,
                Some(with_se(p, Some(se), c.n - 1)),
                "s",
                "the intervals' spread",
            ));
        }
    }
    if let Some(b) = &a.budget {
        // Standard errors of each part, propagated: the floor's, and each class's charge over
        // its period.
        let part = |s: &crate::analysis::PowerShare| -> f64 {
            let c = s.class.and_then(|k| d.classes.get(k));
            match (c.and_then(class_se), s.period_s) {
                (Some(q), Some(p)) => (q / (p * 1e3)).powi(2),
                _ => 0.0,
            }
        };
        let var: f64 =
            d.floor_se_ma.unwrap_or(0.0).powi(2) + b.shares.iter().map(part).sum::<f64>();
        // Every class at its own period gives one mean, whichever class's row: one row.
        let own = b.periods.iter().find(|p| !p.given);
        for p in own.into_iter().chain(b.periods.iter().filter(|p| p.given)) {
            let Some(c) = d.classes.get(p.class) else {
                continue;
            };
            let label = if p.given {
                format!(
                    "budget: {} every {}",
                    label_of(c),
                    crate::units::fmt_duration(p.period_s)
                )
            } else {
                "budget: every class at its own period".to_string()
            };
            v.push(FileRow::new(
                Kind::Budget,
                label,
                p.mean_ma,
                Some(with_se(p.mean_ma, Some(var.sqrt()), FLOOR_BATCHES)),
                "mA",
                "the floor's and the classes' standard errors, propagated",
            ));
        }
    }
    v
}

/// Each group and label's sample on one side: events and uncut phase windows pooled over the
/// files (unlabelled bursts only when the file has no classes: classes replace them), and the
/// per-file rows.
pub(super) fn values(
    files: &[FileOutcome],
    groups: &[String],
    metric: Metric,
    kinds: &ClassKinds,
) -> BTreeMap<Key, Entry> {
    let mut m: BTreeMap<Key, Entry> = BTreeMap::new();
    let pooled = |m: &mut BTreeMap<Key, Entry>, key: Key, v: f64| {
        let e = m.entry(key).or_insert_with(|| Entry {
            sample: Sample::Pooled(Vec::new()),
            unit: metric.unit(),
            one_file: "the events' spread",
        });
        if let Sample::Pooled(p) = &mut e.sample {
            p.push(v);
        }
    };
    for (f, g) in files.iter().zip(groups) {
        let Some(r) = &f.result else { continue };
        let classes = !r.detection.classes.is_empty();
        for e in r
            .attribution
            .events
            .iter()
            .filter(|e| !(classes && e.label == "burst"))
        {
            pooled(
                &mut m,
                (Kind::Event, g.clone(), e.label.clone()),
                metric.of(e),
            );
        }
        for w in r.windows.iter().filter(|w| !w.cut) {
            pooled(
                &mut m,
                (Kind::Window, g.clone(), w.label.clone()),
                metric.of_window(w),
            );
        }
        let label_of = |c: &crate::analysis::Class| kinds.label(g, r, c);
        for x in per_file(r, metric, &label_of) {
            let e = m
                .entry((x.kind, g.clone(), x.label))
                .or_insert_with(|| Entry {
                    sample: Sample::PerFile(Vec::new()),
                    unit: x.unit,
                    one_file: x.basis,
                });
            if let Sample::PerFile(p) = &mut e.sample {
                p.push((x.value, x.within));
            }
        }
    }
    m
}

/// A side's summary and the basis of its CI.
pub(super) fn summarise(e: Option<&Entry>) -> (Summary, String) {
    match e.map(|e| (&e.sample, e.one_file)) {
        None => (Summary::of(&[]), String::new()),
        Some((Sample::Pooled(v), basis)) => (Summary::of(v), basis.to_string()),
        Some((Sample::PerFile(v), _)) if v.len() >= 2 => {
            let x: Vec<f64> = v.iter().map(|o| o.0).collect();
            (
                Summary::of(&x),
                format!("the spread between {} files", v.len()),
            )
        }
        Some((Sample::PerFile(v), basis)) => match v.first() {
            Some((x, within)) => (
                within.unwrap_or_else(|| Summary::of(&[*x])),
                basis.to_string(),
            ),
            None => (Summary::of(&[]), String::new()),
        },
    }
}

/// Classes matched across old and new by kind: recurring classes whose peak above the
/// baseline, mean duration and mean excess charge are each within a factor of two (0.3
/// decade) of a kind's first member are that kind. Kinds are found from the old side first,
/// largest charge first, and are labelled by their first member (`class 8.07 mA, 7.85 ms`).
#[derive(Default)]
pub(crate) struct ClassKinds {
    /// Per group: (signature, label) of each kind.
    kinds: BTreeMap<String, Vec<([f64; 3], String)>>,
}

const KIND_DECADES: f64 = 0.3;

fn signature(a: &crate::analysis::Analysis, c: &crate::analysis::Class) -> [f64; 3] {
    let l = |v: f64| v.max(1e-12).log10();
    [
        l(c.peak_ma - a.detection.baseline_ma),
        l(c.mean_duration_ms),
        l(c.mean_excess_charge_ma_ms),
    ]
}

impl ClassKinds {
    fn find(&self, group: &str, sig: &[f64; 3]) -> Option<&String> {
        self.kinds.get(group)?.iter().find_map(|(k, label)| {
            k.iter()
                .zip(sig)
                .all(|(a, b)| (a - b).abs() <= KIND_DECADES)
                .then_some(label)
        })
    }

    pub(super) fn learn(&mut self, files: &[FileOutcome], groups: &[String]) {
        for (f, g) in files.iter().zip(groups) {
            let Some(a) = &f.result else { continue };
            for c in a.detection.classes.iter().filter(|c| c.recurs()) {
                let sig = signature(a, c);
                if self.find(g, &sig).is_none() {
                    let list = self.kinds.entry(g.clone()).or_default();
                    let mut label = format!(
                        "class {} peak, {}",
                        crate::units::fmt_current(c.peak_ma),
                        crate::units::fmt_duration(c.mean_duration_ms / 1e3)
                    );
                    if list.iter().any(|(_, l)| *l == label) {
                        label = format!("{label} #{}", list.len() + 1);
                    }
                    list.push((sig, label));
                }
            }
        }
    }

    fn label(
        &self,
        group: &str,
        a: &crate::analysis::Analysis,
        c: &crate::analysis::Class,
    ) -> String {
        self.find(group, &signature(a, c))
            .cloned()
            .unwrap_or_else(|| format!("class {}", c.class))
    }
}

/// Each file's group for pairing: the groups as they are when some pair; otherwise, when a
/// side's groups are its folders' names (no manifest), the folder's path relative to the
/// side's common folder (`.` for a flat folder), so that `before/` and `after/` pair. When each
/// side then has one group of different names, they pair as `old → new`.
pub(super) fn pairing(old: &[FileOutcome], new: &[FileOutcome]) -> (Vec<String>, Vec<String>) {
    let side = |files: &[FileOutcome]| -> Vec<String> {
        use std::path::Path;
        let parent = |f: &FileOutcome| {
            Path::new(&f.file)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        };
        let by_folder = files.iter().all(|f| {
            parent(f)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(".")
                == f.group
        });
        if !by_folder || files.is_empty() {
            return files.iter().map(|f| f.group.clone()).collect();
        }
        let mut root = parent(&files[0]);
        for f in files {
            while !parent(f).starts_with(&root) {
                if !root.pop() {
                    break;
                }
            }
        }
        files
            .iter()
            .map(|f| {
                let rel = parent(f)
                    .strip_prefix(&root)
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                if rel.is_empty() {
                    ".".to_string()
                } else {
                    rel
                }
            })
            .collect()
    };
    let set = |v: &[String]| -> std::collections::BTreeSet<String> { v.iter().cloned().collect() };
    let original =
        |files: &[FileOutcome]| files.iter().map(|f| f.group.clone()).collect::<Vec<_>>();
    let (mut a, mut b) = (original(old), original(new));
    // Groups that already pair stay as they are.
    if !set(&a).is_disjoint(&set(&b)) {
        return (a, b);
    }
    (a, b) = (side(old), side(new));
    let (sa, sb) = (set(&a), set(&b));
    if sa.is_disjoint(&sb) && sa.len() == 1 && sb.len() == 1 {
        let name = format!("{} → {}", a[0], b[0]);
        a.iter_mut().for_each(|g| *g = name.clone());
        b.iter_mut().for_each(|g| *g = name.clone());
    }
    (a, b)
}
