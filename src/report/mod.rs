//! Render: results to text, one file per output format (table, JSON, CSV, Markdown, HTML,
//! Parquet), as functions of the results alone. [`folder`] is the one part that touches files:
//! it draws the charts (crate::plot) and writes a report folder whole or not at all; a chart
//! that cannot be drawn is a warning on standard error, never the end of the report.

pub mod csv;
pub mod json;
pub mod table;

use crate::analysis::Analysis;
use crate::error::Result;

/// Output formats of `analyze`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Aligned text for people.
    Table,
    /// Everything, with stable field names.
    Json,
    /// One row per burst.
    Csv,
}

/// Render one analysis in the chosen format.
pub fn render(a: &Analysis, format: OutputFormat) -> Result<String> {
    match format {
        OutputFormat::Table => Ok(crate::units::clean_negative_zeros(&table::render(a))),
        OutputFormat::Json => json::render(a),
        OutputFormat::Csv => Ok(csv::render(a)),
    }
}

pub mod diff;
pub mod folder;
pub mod html;
pub mod markdown;
pub mod parquet;

use crate::batch::BatchReport;

/// `12.3`, or `–` for a missing number.
pub fn num(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.decimals$}"),
        _ => "–".to_string(),
    }
}

pub use crate::units::fmt_hours as hours;

/// The tables of a batch report, as rows of cells: (title, intro, header, rows). Markdown and
/// HTML render the same tables.
pub struct Table {
    pub id: &'static str,
    pub title: String,
    pub intro: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Every table of a batch report, in the order the report shows them.
pub fn batch_tables(r: &BatchReport) -> Vec<Table> {
    let mut t = cost_tables(r);
    t.extend(projection_tables(r));
    t.extend(capture_tables(r));
    t.extend(window_tables(r));
    t.extend(budget_tables(r));
    t.extend(file_tables(r));
    // No `-0.000` in any cell (Markdown, HTML and the printed table alike).
    for cell in t.iter_mut().flat_map(|t| t.rows.iter_mut()).flatten() {
        *cell = crate::units::clean_negative_zeros(cell);
    }
    t
}

/// What messages cost, per group and label, and the comparisons between groups.
fn cost_tables(r: &BatchReport) -> Vec<Table> {
    let s = &r.summaries;
    let st = &r.settings;
    let mut t = Vec::new();
    let find = |g: &str, l: &str| s.label_stats.iter().find(|x| x.group == g && x.label == l);
    t.push(Table {
        id: "cost",
        title: "What one message costs".into(),
        intro: format!(
            "Excess charge is ∫(I − idle) dt over the event, in mA·ms (= µC); energy is that times the supply voltage. `{}` is the connection set-up, `{}` each later message; 95% confidence intervals of the mean (Student t).",
            st.first_label, st.label
        ),
        header: [
            "group", "files", "idle", "connect mA·ms", "message mA·ms", "message 95% CI", "n", "message mJ", "bytes", "µJ/byte",
        ]
        .map(String::from)
        .to_vec(),
        rows: s
            .groups
            .iter()
            .map(|g| {
                let m = find(&g.group, &st.label);
                vec![
                    g.group.clone(),
                    g.files.to_string(),
                    crate::units::fmt_current(g.baseline_ma),
                    num(g.connect_excess_charge_ma_ms, 1),
                    num(g.message_excess_charge_ma_ms, 1),
                    m.map(|m| format!("{} – {}", num(m.excess_charge_ma_ms.ci95_low, 1), num(m.excess_charge_ma_ms.ci95_high, 1)))
                        .unwrap_or_else(|| "–".into()),
                    m.map(|m| m.n.to_string()).unwrap_or_else(|| "0".into()),
                    num(g.message_energy_mj, 3),
                    num(g.bytes_per_message, 0),
                    num(g.message_uj_per_byte, 2),
                ]
            })
            .collect(),
    });
    t.push(Table {
        id: "labels",
        title: "Per group and label".into(),
        intro: "Every event, summarised. Duration runs from the idle level to the idle level (tails included); width is the time above the trigger level.".into(),
        header: [
            "group", "label", "n", "mean mA·ms", "sd", "95% CI", "median", "min", "max", "duration ms", "width ms", "energy mJ",
        ]
        .map(String::from)
        .to_vec(),
        rows: s
            .label_stats
            .iter()
            .map(|x| {
                let e = &x.excess_charge_ma_ms;
                vec![
                    x.group.clone(),
                    x.label.clone(),
                    x.n.to_string(),
                    num(Some(e.mean), 2),
                    num(e.sd, 2),
                    format!("{} – {}", num(e.ci95_low, 2), num(e.ci95_high, 2)),
                    num(Some(e.median), 2),
                    num(Some(e.min), 2),
                    num(Some(e.max), 2),
                    num(Some(x.duration_ms.mean), 2),
                    num(Some(x.width_ms.mean), 2),
                    num(Some(x.energy_mj.mean), 4),
                ]
            })
            .collect(),
    });
    t.push(Table {
        id: "compare",
        title: format!("Comparisons of the {} cost", st.label),
        intro: "Ratio of mean excess charge with a 95% CI (delta method on the log ratio) and Welch's t-test.".into(),
        header: ["costlier", "cheaper", "ratio", "ratio 95% CI", "p (Welch)", "verdict"]
            .map(String::from)
            .to_vec(),
        rows: s
            .comparisons
            .iter()
            .map(|c| {
                vec![
                    c.a.clone(),
                    c.b.clone(),
                    num(c.ratio, 2),
                    format!("{} – {}", num(c.ratio_ci95_low, 2), num(c.ratio_ci95_high, 2)),
                    c.p_value.map(|p| if p < 1e-4 { "< 0.0001".into() } else { format!("{p:.4}") }).unwrap_or_else(|| "–".into()),
                    c.note.clone(),
                ]
            })
            .collect(),
    });
    t
}

/// Each file's floor, mean and energy budget: what decides a battery-powered device's life.
fn budget_tables(r: &BatchReport) -> Vec<Table> {
    use crate::units::{fmt_current, fmt_hours, fmt_sig};
    let rows: Vec<Vec<String>> = r
        .files
        .iter()
        .filter_map(|f| {
            let x = f.result.as_ref()?;
            let b = x.budget.as_ref()?;
            let main = crate::analysis::main_class(&x.detection.classes);
            let at_own =
                main.and_then(|c| b.periods.iter().find(|p| p.class == c.class && !p.given));
            Some(vec![
                f.file.clone(),
                f.group.clone(),
                x.detection.floor_ma.map_or("–".into(), fmt_current),
                format!("{:?}", x.detection.baseline_source).to_lowercase(),
                fmt_current(b.mean_ma),
                fmt_sig(b.mean_mw, 4),
                format!(
                    "{} / {}",
                    x.detection.classes.iter().filter(|c| c.recurs()).count(),
                    x.detection.classes.len()
                ),
                main.map_or("–".into(), |c| c.class.to_string()),
                at_own.map_or("–".into(), |p| crate::units::fmt_duration(p.period_s)),
                main.map_or("–".into(), |c| fmt_sig(c.mean_excess_charge_ma_ms, 4)),
                at_own.map_or("–".into(), |p| fmt_sig(p.energy_per_day_j, 4)),
                b.battery_life_h.map_or("–".into(), fmt_hours),
            ])
        })
        .collect();
    if rows.is_empty() {
        return Vec::new();
    }
    vec![Table {
        id: "budget",
        title: "Floor and energy budget".into(),
        intro: "The sleep floor, the mean over each file, and the main recurring class (the one holding most charge) at its own period; energy per day with every recurring class at its own period and the floor in between, one-offs left out. Battery life at the file's mean power (with --battery-mah). The formula is in the README.".into(),
        header: [
            "file", "group", "floor", "baseline", "mean", "mean mW", "recurring / classes", "main class", "its period", "mA·ms an event", "J a day", "battery",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }]
}

/// Amortised cost per message and battery life.
fn projection_tables(r: &BatchReport) -> Vec<Table> {
    let s = &r.summaries;
    let st = &r.settings;
    let mut t = Vec::new();
    let mut header = vec!["group".to_string()];
    header.extend(
        st.messages_per_connection
            .iter()
            .map(|n| format!("{n} per connection")),
    );
    t.push(Table {
        id: "amortised",
        title: "Amortised cost per message, mA·ms".into(),
        intro: format!("(connect + (N − 1) × {}) / N: what each message costs when one connection carries N of them.", st.label),
        header,
        rows: s
            .groups
            .iter()
            .map(|g| {
                let mut row = vec![g.group.clone()];
                row.extend(st.messages_per_connection.iter().map(|n| {
                    num(g.amortised.iter().find(|a| a.messages == *n).map(|a| a.excess_charge_ma_ms), 1)
                }));
                row
            })
            .collect(),
    });
    let mut header = vec!["group".to_string()];
    header.extend(
        st.intervals_s
            .iter()
            .map(|t| format!("every {}", crate::units::fmt_duration(*t))),
    );
    t.push(Table {
        id: "battery",
        title: format!("Battery life on {:.0} mAh", st.battery_mah),
        intro: format!(
            "Average current = idle + {} charge / interval; in brackets the share spent on messages.",
            st.label
        ),
        header,
        rows: s
            .groups
            .iter()
            .map(|g| {
                let mut row = vec![g.group.clone()];
                row.extend(g.battery.iter().map(|b| format!("{} ({:.2}%)", hours(b.life_h), 100.0 * b.message_share)));
                row
            })
            .collect(),
    });
    t
}

/// Packet captures: cost per protocol phase, and clock alignment.
fn capture_tables(r: &BatchReport) -> Vec<Table> {
    let mut t = Vec::new();
    let ph = phase_rows(r);
    if !ph.is_empty() {
        t.push(Table {
            id: "phases",
            title: "Packets and cost per protocol phase".into(),
            intro: "From the packet captures: every packet in one exchange, bytes as on the wire (both directions, headers included). An exchange is tied to the burst that holds its first packet; its charge is ∫(I − idle) dt over its stretch of that burst, from its first packet to the next exchange's (the first from the burst's start, the last to its end). µJ/B counts only the exchanges tied to a burst.".into(),
            header: [
                "group", "protocol", "phase", "exchanges", "packets", "bytes", "bytes/exchange", "in a burst", "mA·ms", "mJ", "µJ/B",
            ]
            .map(String::from)
            .to_vec(),
            rows: ph
                .iter()
                .map(|(g, p)| {
                    vec![
                        g.clone(),
                        p.protocol.to_string(),
                        p.phase.to_string(),
                        p.exchanges.to_string(),
                        p.packets.to_string(),
                        p.bytes.to_string(),
                        num(Some(p.bytes_per_exchange), 1),
                        p.attributed.to_string(),
                        num(Some(p.excess_charge_ma_ms), 1),
                        num(Some(p.energy_mj), 3),
                        num(p.energy_uj_per_byte, 2),
                    ]
                })
                .collect(),
        });
        let align: Vec<Vec<String>> = r
            .files
            .iter()
            .filter_map(|f| Some((f, f.result.as_ref()?.capture.as_ref()?)))
            .map(|(f, p)| {
                vec![
                    f.file.clone(),
                    p.file.clone(),
                    p.packets.to_string(),
                    format!("{:.6} ({})", p.offset_s, p.offset_source),
                    num(p.residual_ms, 3),
                    format!("{} of {}", p.matched_clusters, p.clusters),
                    p.unexplained_bursts.len().to_string(),
                ]
            })
            .collect();
        t.push(Table {
            id: "captures",
            title: "Captures and clock alignment".into(),
            intro: "Trace time = packet time (since the capture's first packet) + offset. Residual: RMS distance of the packet clusters that open a burst from the burst's start.".into(),
            header: ["trace", "capture", "packets", "offset s", "residual ms", "clusters in a burst", "bursts no packet explains"]
                .map(String::from)
                .to_vec(),
            rows: align,
        });
    }
    t
}

/// The files: what was read, what failed, what is unexplained, the warnings.
fn file_tables(r: &BatchReport) -> Vec<Table> {
    let mut t = Vec::new();
    t.push(Table {
        id: "files",
        title: "Files".into(),
        intro: String::new(),
        header: [
            "file",
            "group",
            "format",
            "samples",
            "interval",
            "idle",
            "noise",
            "bursts",
            "events",
            "unexplained bursts",
            "unmatched events",
            "warnings",
        ]
        .map(String::from)
        .to_vec(),
        rows: r
            .files
            .iter()
            .filter_map(|f| {
                let x = f.result.as_ref()?;
                Some(vec![
                    f.file.clone(),
                    f.group.clone(),
                    x.ingest.format.clone(),
                    x.ingest.samples.to_string(),
                    crate::units::fmt_duration(x.ingest.sample_interval_s),
                    crate::units::fmt_current(x.detection.baseline_ma),
                    crate::units::fmt_current(x.detection.noise_ma),
                    x.detection.bursts.len().to_string(),
                    x.attribution.events.len().to_string(),
                    x.attribution.unexplained_bursts.len().to_string(),
                    x.attribution.unmatched_events.len().to_string(),
                    x.warnings.len().to_string(),
                ])
            })
            .collect(),
    });
    let failed: Vec<Vec<String>> = r
        .files
        .iter()
        .filter_map(|f| f.error.as_ref().map(|e| vec![f.file.clone(), e.clone()]))
        .collect();
    if !failed.is_empty() {
        t.push(Table {
            id: "failed",
            title: "Files that failed".into(),
            intro: "These files are left out of every number above.".into(),
            header: vec!["file".into(), "error".into()],
            rows: failed,
        });
    }
    let mut unexplained = Vec::new();
    for f in &r.files {
        if let Some(x) = &f.result {
            for b in &x.attribution.unexplained_bursts {
                unexplained.push(vec![f.file.clone(), "burst".into(), format!("burst {b}")]);
            }
            for u in &x.attribution.unmatched_events {
                unexplained.push(vec![
                    f.file.clone(),
                    "event".into(),
                    format!("{} at {:.4} s, no burst", u.label, u.time_s),
                ]);
            }
        }
    }
    if !unexplained.is_empty() {
        t.push(Table {
            id: "unmatched",
            title: "Bursts without events, events without bursts".into(),
            intro: String::new(),
            header: vec!["file".into(), "what".into(), "detail".into()],
            rows: unexplained,
        });
    }
    let warnings: Vec<Vec<String>> = r
        .files
        .iter()
        .filter_map(|f| f.result.as_ref().map(|x| (f, x)))
        .flat_map(|(f, x)| {
            x.warnings
                .iter()
                .map(move |w| vec![f.file.clone(), w.code.to_string(), w.message.clone()])
        })
        .collect();
    if !warnings.is_empty() {
        t.push(Table {
            id: "warnings",
            title: "Measurement warnings".into(),
            intro: String::new(),
            header: vec!["file".into(), "code".into(), "warning".into()],
            rows: warnings,
        });
    }
    t
}

/// Per group, protocol and phase: the files' capture totals added up.
pub fn phase_rows(r: &BatchReport) -> Vec<(String, crate::attribute::pcap::PhaseRow)> {
    use crate::attribute::pcap::phases;
    let mut groups: Vec<&str> = r.files.iter().map(|f| f.group.as_str()).collect();
    groups.sort();
    groups.dedup();
    let mut out = Vec::new();
    for g in groups {
        let rows: Vec<_> = r
            .files
            .iter()
            .filter(|f| f.group == g)
            .filter_map(|f| f.result.as_ref()?.capture.as_ref())
            .flat_map(|p| p.exchanges.iter().cloned())
            .collect();
        out.extend(phases(&rows).into_iter().map(|p| (g.to_string(), p)));
    }
    out
}

/// phases.csv: one row per group, protocol and phase.
pub fn phases_csv(r: &BatchReport) -> String {
    let mut out = String::from("group,protocol,phase,exchanges,packets,bytes,bytes_per_exchange,attributed,attributed_bytes,excess_charge_ma_ms,energy_mj,energy_uj_per_byte\n");
    for (g, p) in phase_rows(r) {
        out.push_str(
            &[
                csv::field(&g),
                p.protocol.to_string(),
                p.phase.to_string(),
                p.exchanges.to_string(),
                p.packets.to_string(),
                p.bytes.to_string(),
                p.bytes_per_exchange.to_string(),
                p.attributed.to_string(),
                p.attributed_bytes.to_string(),
                p.excess_charge_ma_ms.to_string(),
                p.energy_mj.to_string(),
                p.energy_uj_per_byte
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
            ]
            .join(","),
        );
        out.push('\n');
    }
    out
}

/// Phase windows: energy per group and phase, and the groups compared phase by phase.
fn window_tables(r: &BatchReport) -> Vec<Table> {
    let s = &r.summaries;
    let mut t = Vec::new();
    if s.window_stats.is_empty() {
        return t;
    }
    t.push(Table {
        id: "phases-windows",
        title: "Energy per phase window".into(),
        intro: "Windows from a marker column, a windows file or given times; charge ∫ I dt and energy ∫ V·I dt over each window (charge × supply without a supply column), mean with 95% CI. Windows cut by a trace's start or end are left out.".into(),
        header: ["group", "phase", "n", "cut", "mean mJ", "95% CI", "mean mA·ms", "mean ms", "mean mW"]
            .map(String::from)
            .to_vec(),
        rows: s
            .window_stats
            .iter()
            .map(|w| {
                let e = &w.energy_mj;
                vec![
                    w.group.clone(),
                    w.label.clone(),
                    w.n.to_string(),
                    w.cut.to_string(),
                    num(Some(e.mean), 3),
                    format!("{} – {}", num(e.ci95_low, 3), num(e.ci95_high, 3)),
                    num(Some(w.charge_ma_ms.mean), 1),
                    num(Some(w.duration_ms.mean), 1),
                    num(Some(w.mean_mw.mean), 2),
                ]
            })
            .collect(),
    });
    if !s.window_comparisons.is_empty() {
        t.push(Table {
            id: "phases-compare",
            title: "Groups compared phase by phase".into(),
            intro: "Ratio of mean energy per window with a 95% CI (delta method on the log ratio) and Welch's t-test.".into(),
            header: ["phase", "costlier", "cheaper", "ratio", "ratio 95% CI", "p (Welch)", "verdict"]
                .map(String::from)
                .to_vec(),
            rows: s
                .window_comparisons
                .iter()
                .map(|c| {
                    vec![
                        c.label.clone(),
                        c.a.clone(),
                        c.b.clone(),
                        num(c.ratio, 2),
                        format!("{} – {}", num(c.ratio_ci95_low, 2), num(c.ratio_ci95_high, 2)),
                        c.p_value
                            .map(|p| if p < 1e-4 { "< 0.0001".into() } else { format!("{p:.4}") })
                            .unwrap_or_else(|| "–".into()),
                        c.note.clone(),
                    ]
                })
                .collect(),
        });
    }
    t
}

/// windows.csv: one row per group and phase label. The ten named columns are a contract.
pub fn windows_csv(r: &BatchReport) -> String {
    let mut out = String::from(
        "group,label,n,mean_energy_mj,sd_energy_mj,ci_low_energy_mj,ci_high_energy_mj,mean_charge_ma_ms,mean_duration_ms,mean_mw,cut\n",
    );
    let o = |v: Option<f64>| {
        v.filter(|x| x.is_finite())
            .map(|x| x.to_string())
            .unwrap_or_default()
    };
    for w in &r.summaries.window_stats {
        let e = &w.energy_mj;
        out.push_str(
            &[
                csv::field(&w.group),
                csv::field(&w.label),
                w.n.to_string(),
                o(Some(e.mean)),
                o(e.sd),
                o(e.ci95_low),
                o(e.ci95_high),
                o(Some(w.charge_ma_ms.mean)),
                o(Some(w.duration_ms.mean)),
                o(Some(w.mean_mw.mean)),
                w.cut.to_string(),
            ]
            .join(","),
        );
        out.push('\n');
    }
    out
}

/// summary.csv: one row per group and label. The first nine columns are a contract.
pub fn summary_csv(r: &BatchReport) -> String {
    let mut out = String::from(
        "group,label,n,mean_excess_charge_ma_ms,sd_excess_charge_ma_ms,ci95_low_excess_charge_ma_ms,ci95_high_excess_charge_ma_ms,mean_duration_ms,mean_energy_mj,median_excess_charge_ma_ms,min_excess_charge_ma_ms,max_excess_charge_ma_ms,sd_duration_ms,mean_width_ms,sd_energy_mj,ci95_low_energy_mj,ci95_high_energy_mj\n",
    );
    let o = |v: Option<f64>| {
        v.filter(|x| x.is_finite())
            .map(|x| x.to_string())
            .unwrap_or_default()
    };
    for x in &r.summaries.label_stats {
        let e = &x.excess_charge_ma_ms;
        out.push_str(
            &[
                csv::field(&x.group),
                csv::field(&x.label),
                x.n.to_string(),
                o(Some(e.mean)),
                o(e.sd),
                o(e.ci95_low),
                o(e.ci95_high),
                o(Some(x.duration_ms.mean)),
                o(Some(x.energy_mj.mean)),
                o(Some(e.median)),
                o(Some(e.min)),
                o(Some(e.max)),
                o(x.duration_ms.sd),
                o(Some(x.width_ms.mean)),
                o(x.energy_mj.sd),
                o(x.energy_mj.ci95_low),
                o(x.energy_mj.ci95_high),
            ]
            .join(","),
        );
        out.push('\n');
    }
    out
}
