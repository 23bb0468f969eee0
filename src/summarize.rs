//! Summarize: statistics per group and label, comparisons between groups, amortised cost per
//! message, battery-life projections and the seed's lesson in numbers.

use crate::pipeline::FileOutcome;
use crate::stats::{n_to_resolve, ratio_ci, welch, Summary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Settings of the summary (from the command line).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SummarySettings {
    pub battery_mah: f64,
    pub intervals_s: Vec<f64>,
    pub messages_per_connection: Vec<u32>,
    /// The label of the connection set-up and of the steady messages.
    pub first_label: String,
    pub label: String,
}

/// The default message intervals of the battery projection, s.
pub const DEFAULT_INTERVALS_S: &[f64] = &[1.0, 10.0, 60.0, 600.0, 3600.0];
/// The default connection lengths of the amortised cost.
pub const DEFAULT_MESSAGES_PER_CONNECTION: &[u32] = &[1, 10, 100];
/// The default battery of the projection, mAh.
pub const DEFAULT_BATTERY_MAH: f64 = 2000.0;

impl SummarySettings {
    /// The defaults, with the labels of the connection set-up and the steady messages.
    pub fn new(labels: &crate::settings::LabelSettings) -> SummarySettings {
        SummarySettings {
            battery_mah: DEFAULT_BATTERY_MAH,
            intervals_s: DEFAULT_INTERVALS_S.to_vec(),
            messages_per_connection: DEFAULT_MESSAGES_PER_CONNECTION.to_vec(),
            first_label: labels.first_label.clone(),
            label: labels.label.clone(),
        }
    }

    /// A positive, finite battery capacity.
    pub fn validate(&self) -> crate::error::Result<()> {
        if !(self.battery_mah > 0.0 && self.battery_mah.is_finite()) {
            return Err(crate::error::Error::usage("--battery-mah must be positive"));
        }
        Ok(())
    }
}

/// One row of summary.csv: a group and label, summarised over all its events.
#[derive(Debug, Clone, Serialize)]
pub struct LabelStats {
    pub group: String,
    pub label: String,
    pub n: usize,
    pub excess_charge_ma_ms: Summary,
    pub duration_ms: Summary,
    pub width_ms: Summary,
    pub energy_mj: Summary,
}

/// One message interval's battery projection for a group.
#[derive(Debug, Clone, Serialize)]
pub struct BatteryPoint {
    pub interval_s: f64,
    /// Baseline plus the message charge spread over the interval, mA.
    pub average_ma: f64,
    pub life_h: f64,
    /// Share of the charge spent on messages (0–1).
    pub message_share: f64,
}

/// The cost per message when one connection carries N messages.
#[derive(Debug, Clone, Serialize)]
pub struct Amortised {
    pub messages: u32,
    pub excess_charge_ma_ms: f64,
    pub energy_mj: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupSummary {
    pub group: String,
    pub files: usize,
    pub baseline_ma: f64,
    pub supply_v: f64,
    pub bytes_per_message: Option<f64>,
    pub connect_excess_charge_ma_ms: Option<f64>,
    pub message_excess_charge_ma_ms: Option<f64>,
    pub message_energy_mj: Option<f64>,
    /// µJ per byte on the wire, when the manifest gives bytes per message.
    pub message_uj_per_byte: Option<f64>,
    pub amortised: Vec<Amortised>,
    pub battery: Vec<BatteryPoint>,
}

/// Group `a` against group `b` on the steady message cost.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    pub label: String,
    pub ratio: Option<f64>,
    pub ratio_ci95_low: Option<f64>,
    pub ratio_ci95_high: Option<f64>,
    pub welch_t: Option<f64>,
    pub welch_df: Option<f64>,
    pub p_value: Option<f64>,
    /// The difference is significant at 5%.
    pub resolved: bool,
    /// Repetitions per group that would resolve the observed difference (80% power).
    pub n_needed: Option<usize>,
    pub note: String,
}

/// The seed's lesson: how much the protocol matters for battery life, in numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Lesson {
    /// For each interval: the spread of battery life across groups ((max − min) / max).
    pub life_spread: Vec<(f64, f64)>,
    /// Messages more often than this make the protocol change battery life by more than 10%.
    pub crossover_interval_s: Option<f64>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summaries {
    pub label_stats: Vec<LabelStats>,
    pub groups: Vec<GroupSummary>,
    pub comparisons: Vec<Comparison>,
    pub lesson: Option<Lesson>,
    /// Phase windows per group and label (cut windows left out).
    pub window_stats: Vec<WindowStats>,
    /// Groups compared phase by phase, on energy.
    pub window_comparisons: Vec<Comparison>,
}

/// The phase windows of one group and label, over every file (cut windows left out).
#[derive(Debug, Clone, Serialize)]
pub struct WindowStats {
    pub group: String,
    pub label: String,
    pub n: usize,
    /// Windows cut by a trace's start or end, not counted.
    pub cut: usize,
    pub energy_mj: Summary,
    pub charge_ma_ms: Summary,
    pub duration_ms: Summary,
    pub mean_mw: Summary,
}

/// Per group and label, the phase windows' summaries; then the groups compared label by
/// label on energy (larger mean first).
fn window_summaries(files: &[FileOutcome]) -> (Vec<WindowStats>, Vec<Comparison>) {
    // (group, label) → (energy, charge, duration, power) of uncut windows, and the cut ones.
    type Columns = ([Vec<f64>; 4], usize);
    let mut cols: BTreeMap<(String, String), Columns> = BTreeMap::new();
    for f in files {
        let Some(r) = &f.result else { continue };
        for w in &r.windows {
            let c = cols.entry((f.group.clone(), w.label.clone())).or_default();
            if w.cut {
                c.1 += 1;
                continue;
            }
            for (v, x) in
                c.0.iter_mut()
                    .zip([w.energy_mj, w.charge_ma_ms, w.duration_ms, w.mean_mw])
            {
                v.push(x);
            }
        }
    }
    let stats: Vec<WindowStats> = cols
        .into_iter()
        .map(|((group, label), (c, cut))| WindowStats {
            n: c[0].len(),
            cut,
            energy_mj: Summary::of(&c[0]),
            charge_ma_ms: Summary::of(&c[1]),
            duration_ms: Summary::of(&c[2]),
            mean_mw: Summary::of(&c[3]),
            group,
            label,
        })
        .collect();
    let mut comparisons = Vec::new();
    for (i, a) in stats.iter().enumerate() {
        for b in &stats[i + 1..] {
            if a.label != b.label || a.n == 0 || b.n == 0 {
                continue;
            }
            let (a, b) = if a.energy_mj.mean >= b.energy_mj.mean {
                (a, b)
            } else {
                (b, a)
            };
            comparisons.push(comparison(
                &a.group,
                &a.energy_mj,
                &b.group,
                &b.energy_mj,
                &a.label,
                "phase",
            ));
        }
    }
    (stats, comparisons)
}

/// Group `an` (summary `sa`, the larger mean) against `bn` on one label: ratio with CI, Welch.
fn comparison(
    an: &str,
    sa: &Summary,
    bn: &str,
    sb: &Summary,
    label: &str,
    what: &str,
) -> Comparison {
    let r = ratio_ci(sa, sb);
    let w = welch(sa, sb);
    let resolved = w.map(|w| w.p_value < 0.05).unwrap_or(false);
    let n_needed = n_to_resolve(sa, sb);
    let note = match (w, resolved) {
        (None, _) => "not enough repetitions for a test (need at least 2 per group)".to_string(),
        (Some(_), true) => {
            let per = if what.is_empty() {
                label.to_string()
            } else {
                format!("{label} {what}")
            };
            format!("{an} costs more per {per} than {bn}")
        }
        (Some(w), false) => format!(
            "not resolved at n = {} and {} (p = {:.2}); about {} per group would resolve this difference",
            sa.n,
            sb.n,
            w.p_value,
            n_needed.map(|n| n.to_string()).unwrap_or_else(|| "?".into())
        ),
    };
    Comparison {
        a: an.to_string(),
        b: bn.to_string(),
        label: label.to_string(),
        ratio: r.map(|x| x.0),
        ratio_ci95_low: r.map(|x| x.1),
        ratio_ci95_high: r.map(|x| x.2),
        welch_t: w.map(|w| w.t),
        welch_df: w.map(|w| w.df),
        p_value: w.map(|w| w.p_value),
        resolved,
        n_needed,
        note,
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Battery life for a group at an interval, h.
fn life_h(
    settings: &SummarySettings,
    baseline_ma: f64,
    msg_ma_ms: f64,
    interval_s: f64,
) -> (f64, f64) {
    let msg_ma = msg_ma_ms / (interval_s * 1e3);
    let avg = baseline_ma + msg_ma;
    (settings.battery_mah / avg, msg_ma / avg)
}

pub fn summarize(files: &[FileOutcome], s: &SummarySettings) -> Summaries {
    // (group, label) → columns.
    let mut cols: BTreeMap<(String, String), [Vec<f64>; 4]> = BTreeMap::new();
    let mut groups: BTreeMap<String, Vec<&FileOutcome>> = BTreeMap::new();
    for f in files {
        let Some(r) = &f.result else { continue };
        groups.entry(f.group.clone()).or_default().push(f);
        for e in &r.attribution.events {
            let c = cols.entry((f.group.clone(), e.label.clone())).or_default();
            c[0].push(e.excess_charge_ma_ms);
            c[1].push(e.duration_ms);
            c[2].push(e.width_ms);
            c[3].push(e.energy_mj);
        }
    }
    let label_stats: Vec<LabelStats> = cols
        .iter()
        .map(|((g, l), c)| LabelStats {
            group: g.clone(),
            label: l.clone(),
            n: c[0].len(),
            excess_charge_ma_ms: Summary::of(&c[0]),
            duration_ms: Summary::of(&c[1]),
            width_ms: Summary::of(&c[2]),
            energy_mj: Summary::of(&c[3]),
        })
        .collect();
    let find = |g: &str, l: &str| label_stats.iter().find(|x| x.group == g && x.label == l);

    let mut out_groups = Vec::new();
    for (g, fs) in &groups {
        let baseline_ma = mean(
            &fs.iter()
                .filter_map(|f| f.result.as_ref().map(|r| r.detection.baseline_ma))
                .collect::<Vec<_>>(),
        );
        let supply_v = mean(
            &fs.iter()
                .filter_map(|f| f.result.as_ref().map(|r| r.detection.supply_v))
                .collect::<Vec<_>>(),
        );
        let bytes: Vec<f64> = fs.iter().filter_map(|f| f.bytes_per_message).collect();
        let connect = find(g, &s.first_label).map(|x| x.excess_charge_ma_ms.mean);
        let message = find(g, &s.label).map(|x| x.excess_charge_ma_ms);
        let msg = message.map(|m| m.mean);
        let amortised = match (connect, msg) {
            (Some(c), Some(m)) => s
                .messages_per_connection
                .iter()
                .map(|&n| {
                    let q = (c + (n as f64 - 1.0) * m) / n as f64;
                    Amortised {
                        messages: n,
                        excess_charge_ma_ms: q,
                        energy_mj: q * supply_v / 1e3,
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        let battery = match msg {
            Some(m) => s
                .intervals_s
                .iter()
                .map(|&t| {
                    let (life, share) = life_h(s, baseline_ma, m, t);
                    BatteryPoint {
                        interval_s: t,
                        average_ma: baseline_ma + m / (t * 1e3),
                        life_h: life,
                        message_share: share,
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        let energy = msg.map(|m| m * supply_v / 1e3);
        out_groups.push(GroupSummary {
            group: g.clone(),
            files: fs.len(),
            baseline_ma,
            supply_v,
            bytes_per_message: (!bytes.is_empty()).then(|| mean(&bytes)),
            connect_excess_charge_ma_ms: connect,
            message_excess_charge_ma_ms: msg,
            message_energy_mj: energy,
            message_uj_per_byte: match (energy, bytes.is_empty()) {
                (Some(e), false) => Some(e * 1e3 / mean(&bytes)),
                _ => None,
            },
            amortised,
            battery,
        });
    }

    // Pairwise comparisons of the steady message cost, larger mean first.
    let mut comparisons = Vec::new();
    let names: Vec<&String> = groups.keys().collect();
    for (i, ga) in names.iter().enumerate() {
        for gb in &names[i + 1..] {
            let (Some(a), Some(b)) = (find(ga, &s.label), find(gb, &s.label)) else {
                continue;
            };
            let (a, b, an, bn) = if a.excess_charge_ma_ms.mean >= b.excess_charge_ma_ms.mean {
                (a, b, ga, gb)
            } else {
                (b, a, gb, ga)
            };
            let (sa, sb) = (&a.excess_charge_ma_ms, &b.excess_charge_ma_ms);
            comparisons.push(comparison(an, sa, bn, sb, &s.label, ""));
        }
    }
    let lesson = lesson(&out_groups, s);
    let (window_stats, window_comparisons) = window_summaries(files);
    Summaries {
        label_stats,
        groups: out_groups,
        comparisons,
        lesson,
        window_stats,
        window_comparisons,
    }
}

/// Spread of battery life across groups at interval `t`: (max − min) / max.
/// How much the choice of group changes battery life at one message every `t` s: the spread
/// (max − min) / max of the groups' lives. With `idle_ma`, every group gets that idle current,
/// so only the message cost differs (the protocol's part); without, each its own.
fn spread(groups: &[&GroupSummary], s: &SummarySettings, t: f64, idle_ma: Option<f64>) -> f64 {
    let lives: Vec<f64> = groups
        .iter()
        .map(|g| {
            life_h(
                s,
                idle_ma.unwrap_or(g.baseline_ma),
                g.message_excess_charge_ma_ms.unwrap_or(0.0),
                t,
            )
            .0
        })
        .collect();
    let max = lives.iter().copied().fold(f64::MIN, f64::max);
    let min = lives.iter().copied().fold(f64::MAX, f64::min);
    (max - min) / max
}

/// The report's lesson, with one definition throughout: the protocol's effect on battery life
/// is its message cost at a common idle current (the groups' mean); a difference in the groups'
/// own idle currents is named as such, with its own share.
fn lesson(groups: &[GroupSummary], s: &SummarySettings) -> Option<Lesson> {
    let gs: Vec<&GroupSummary> = groups
        .iter()
        .filter(|g| g.message_excess_charge_ma_ms.is_some())
        .collect();
    if gs.len() < 2 {
        return None;
    }
    let baseline = mean(&gs.iter().map(|g| g.baseline_ma).collect::<Vec<_>>());
    let common = Some(baseline);
    let life_spread: Vec<(f64, f64)> = s
        .intervals_s
        .iter()
        .map(|&t| (t, spread(&gs, s, t, common)))
        .collect();
    // The spread falls as the interval grows: bisect on log(interval) for 10%.
    let (mut lo, mut hi) = (1e-4f64, 1e7f64);
    let crossover = if spread(&gs, s, lo, common) <= 0.1 {
        None
    } else if spread(&gs, s, hi, common) > 0.1 {
        Some(hi)
    } else {
        for _ in 0..200 {
            let mid = (lo * hi).sqrt();
            if spread(&gs, s, mid, common) > 0.1 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(hi)
    };
    let by_cost = |a: &&&GroupSummary, b: &&&GroupSummary| {
        a.message_excess_charge_ma_ms
            .partial_cmp(&b.message_excess_charge_ma_ms)
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    let cheapest = gs.iter().min_by(by_cost)?;
    let dearest = gs.iter().max_by(by_cost)?;
    let cost = |g: &GroupSummary| g.message_excess_charge_ma_ms.unwrap_or(0.0);
    let mut text = format!(
        "{} costs the most per {} ({:.1} mA·ms) and {} the least ({:.1} mA·ms), {:.1}× apart. ",
        dearest.group,
        s.label,
        cost(dearest),
        cheapest.group,
        cost(cheapest),
        cost(dearest) / cost(cheapest).max(1e-12),
    );
    let idle_lo = gs.iter().map(|g| g.baseline_ma).fold(f64::MAX, f64::min);
    let idle_hi = gs.iter().map(|g| g.baseline_ma).fold(f64::MIN, f64::max);
    if let Some(&(t, sp)) = life_spread.first() {
        text.push_str(&format!(
            "But with a {baseline:.1} mA idle current, at one {} every {} the choice changes battery life by only {:.1}%. ",
            s.label,
            crate::units::fmt_duration(t),
            100.0 * sp
        ));
        // Idle currents that differ between the groups change battery life on their own.
        let idle_sp = (idle_hi - idle_lo) / idle_hi;
        if idle_sp > 0.005 {
            let all = spread(&gs, s, t, None);
            text.push_str(&format!(
                "The groups' idle currents differ ({idle_lo:.1} to {idle_hi:.1} mA): with each group's own, battery life differs by {:.1}% at that interval, {} — the idle current, not the {}, makes {} of the difference. ",
                100.0 * all,
                format_args!("{:.1}% from the idle currents alone", 100.0 * idle_sp),
                s.label,
                if idle_sp >= sp { "most" } else { "less" }
            ));
        }
    }
    match crossover {
        Some(t) => text.push_str(&format!(
            "The protocol changes battery life by more than 10% only when messages come more often than every {}.",
            crate::units::fmt_duration(t)
        )),
        None => text.push_str(&format!(
            "At no interval does the {} cost change battery life by more than 10%.",
            s.label
        )),
    }
    Some(Lesson {
        life_spread,
        crossover_interval_s: crossover,
        text,
    })
}
