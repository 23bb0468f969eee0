//! `shuntscope batch DIR... --out REPORT/`: analyse, attribute, summarise, report.

use crate::batch::{self, parse_offset, parse_shard, FileOutcome, LabelOptions};
use crate::cli::{BatchArgs, MergeArgs};
use crate::error::{Error, Result};
use crate::output::AtomicDir;
use crate::plot::charts::{
    BatteryChart, BatteryData, CompareChart, DistributionChart, GalleryChart,
};
use crate::plot::gallery::{panels, EventWindow};
use crate::plot::render;
use crate::report::{self, BatchReport, BatchReportIn};
use crate::summarize::{summarize, SummarySettings};
use std::io::IsTerminal;

/// The default message intervals of the battery projection, s.
pub const DEFAULT_INTERVALS_S: &[f64] = &[1.0, 10.0, 60.0, 600.0, 3600.0];
/// The default connection lengths of the amortised cost.
pub const DEFAULT_MESSAGES_PER_CONNECTION: &[u32] = &[1, 10, 100];

pub fn run(a: &BatchArgs) -> Result<i32> {
    let mut base = super::analyze::options_from(&a.ingest, &a.calibrate, &a.detect);
    base.ingest.marker_col = a.attribute.marker_col.clone();
    base.marker_threshold = a.attribute.marker_threshold;
    let mut labels = label_options(&a.attribute)?;
    labels.pcap_defaults = crate::attribute::pcap::PcapOptions {
        path: String::new(),
        ports: a.pcap.ports.clone(),
        offset_s: a.pcap.pcap_offset,
        tolerance_ms: a.pcap.pcap_tolerance_ms,
        hosts: a.pcap.pcap_hosts.clone(),
    };
    crate::capture::PortMap::with(&a.pcap.ports)?;
    if !(a.battery_mah > 0.0 && a.battery_mah.is_finite()) {
        return Err(Error::usage("--battery-mah must be positive"));
    }
    let settings = SummarySettings {
        battery_mah: a.battery_mah,
        intervals_s: if a.intervals.is_empty() {
            DEFAULT_INTERVALS_S.to_vec()
        } else {
            a.intervals.clone()
        },
        messages_per_connection: if a.messages_per_connection.is_empty() {
            DEFAULT_MESSAGES_PER_CONNECTION.to_vec()
        } else {
            a.messages_per_connection
                .iter()
                .copied()
                .filter(|n| *n > 0)
                .collect()
        },
        first_label: labels.first_label.clone(),
        label: labels.label.clone(),
    };
    let shard = a.shard.as_deref().map(parse_shard).transpose()?;
    // Refuse an existing report before any work.
    let out = AtomicDir::create(&a.out, a.force)?;

    let mut jobs = batch::plan(&a.inputs, a.manifest.as_deref(), &base, &labels)?;
    if let Some((i, n)) = shard {
        jobs = jobs
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % n == i)
            .map(|(_, j)| j)
            .collect();
    }
    if let Some(o) = a.pcap.options() {
        if jobs.len() != 1 {
            return Err(Error::usage(format!(
                "--pcap names one capture, but there are {} trace files: give each its capture \
                 in the manifest's pcap column, or put NAME.pcap beside NAME.csv",
                jobs.len()
            )));
        }
        jobs[0].labels.pcap = Some(o);
    }
    if jobs.is_empty() {
        return Err(Error::usage(format!(
            "no trace files (.csv, .tsv, .txt, .dat) found in {}",
            a.inputs.join(", ")
        )));
    }
    let bar = if a.quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(jobs.len() as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed}")
        {
            b.set_style(style);
        }
        b
    };
    let files = batch::run(&jobs, a.jobs.unwrap_or(0), &|| bar.inc(1))?;
    bar.finish_and_clear();
    let report = build(settings, a.inputs.clone(), a.shard.clone(), files);
    if !a.quiet {
        for f in &report.files {
            if let Some(e) = &f.error {
                eprintln!("failed: {e}");
            }
        }
    }
    write(&report, out)?;
    print_summary(&report, &a.out);
    Ok(if report.failed > 0 { 1 } else { 0 })
}

pub fn build(
    settings: SummarySettings,
    inputs: Vec<String>,
    shard: Option<String>,
    files: Vec<FileOutcome>,
) -> BatchReport {
    let summaries = summarize(&files, &settings);
    BatchReport {
        tool: format!("shuntscope {}", env!("CARGO_PKG_VERSION")),
        settings,
        inputs,
        shard,
        failed: files.iter().filter(|f| f.error.is_some()).count(),
        files,
        summaries,
    }
}

/// The charts a report folder holds: (file, caption).
pub const CHARTS: &[(&str, &str)] = &[
    (
        "compare.png",
        "Energy per event for each group, with 95% confidence intervals",
    ),
    ("battery.png", "Battery life against message interval"),
    (
        "distribution.png",
        "Excess charge of every message, per group",
    ),
    (
        "gallery.png",
        "The events of one trace per group, integrated area filled",
    ),
];

fn write(r: &BatchReport, out: AtomicDir) -> Result<()> {
    let json =
        serde_json::to_string_pretty(r).map_err(|e| Error::output("report.json", e.to_string()))?;
    out.write("report.json", (json + "\n").as_bytes())?;
    out.write("report.md", report::markdown::render(r).as_bytes())?;
    out.write("summary.csv", report::summary_csv(r).as_bytes())?;
    out.write("events.parquet", &report::parquet::events(r)?)?;
    out.write("summary.parquet", &report::parquet::summary(r)?)?;
    if r.files
        .iter()
        .any(|f| f.result.as_ref().is_some_and(|x| x.pcap.is_some()))
    {
        out.write("phases.csv", report::phases_csv(r).as_bytes())?;
        out.write("exchanges.parquet", &report::parquet::exchanges(r)?)?;
    }
    let dir = out.path().display().to_string();
    let mut images = Vec::new();
    for (name, caption) in CHARTS {
        let path = format!("{dir}/{name}");
        let drawn = match *name {
            "compare.png" => render(&path, (1600, 800), &CompareChart(r)),
            "battery.png" => render(
                &path,
                (1600, 900),
                &BatteryChart(&BatteryData { report: r }),
            ),
            "distribution.png" => render(&path, (1400, 800), &DistributionChart(r)),
            _ => gallery(r).and_then(|g| {
                let rows = g.panels.len().div_ceil(g.columns.max(1)).max(1) as u32;
                render(&path, (1800, 60 + 230 * rows), &g)
            }),
        };
        match drawn {
            Ok(()) => images.push((name.to_string(), caption.to_string())),
            Err(e) => eprintln!("warning: {name} not drawn: {e}"),
        }
    }
    out.write("report.html", report::html::render(r, &images).as_bytes())?;
    out.commit()
}

/// The labelling options from the command line.
pub fn label_options(a: &crate::cli::AttributeArgs) -> Result<LabelOptions> {
    Ok(LabelOptions {
        period_s: a.period,
        first_label: a.first_label.clone(),
        label: a.label.clone(),
        events: a.events.clone(),
        events_offset_s: parse_offset(&a.events_offset)?,
        tolerance_s: a.tolerance_ms / 1e3,
        window_s: a.event_window_ms / 1e3,
        marker: a.marker_col.is_some(),
        pcap: None,
        pcap_defaults: crate::attribute::pcap::PcapOptions {
            tolerance_ms: 2.0,
            ..Default::default()
        },
    })
}

/// The settings and files of a report folder's report.json.
fn read_report(dir: &str) -> Result<BatchReportIn> {
    let path = format!("{}/report.json", dir.trim_end_matches('/'));
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::input(
            &path,
            format!("cannot read: {}", crate::ingest::io_reason(&e)),
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Error::input(&path, format!("not a shuntscope batch report: {e}")).at_line(e.line() as u64)
    })
}

/// Read a report folder back (its settings and files; the summaries are recomputed).
pub fn load(dir: &str) -> Result<BatchReport> {
    let r = read_report(dir)?;
    Ok(build(r.settings, r.inputs, None, r.files))
}

/// A gallery of the first trace of each group: one row per group, one panel per event
/// (up to 10), read again from the trace files.
pub fn gallery(r: &BatchReport) -> Result<GalleryChart> {
    let mut rows: Vec<Vec<crate::plot::charts::Panel>> = Vec::new();
    let mut seen = Vec::new();
    for f in &r.files {
        let (Some(x), Some(opts)) = (&f.result, &f.options) else {
            continue;
        };
        if seen.contains(&f.group) || x.attribution.events.is_empty() {
            continue;
        }
        seen.push(f.group.clone());
        let events: Vec<EventWindow> = x
            .attribution
            .events
            .iter()
            .take(10)
            .map(|e| EventWindow {
                title: format!("{} #{} {}", f.group, e.index, e.label),
                start_s: e.start_s,
                end_s: e.end_s,
                excess_charge_ma_ms: e.excess_charge_ma_ms,
                duration_ms: e.duration_ms,
            })
            .collect();
        rows.push(panels(&f.file, opts, x.baseline_ma, &events)?);
    }
    // One row per group: pad short rows with empty panels.
    let columns = rows.iter().map(Vec::len).max().unwrap_or(1);
    let mut all = Vec::new();
    for mut row in rows {
        while row.len() < columns {
            row.push(crate::plot::charts::Panel {
                title: String::new(),
                columns: Vec::new(),
                baseline_ma: 0.0,
                start_ms: 0.0,
                end_ms: 0.0,
                excess_charge_ma_ms: f64::NAN,
                duration_ms: f64::NAN,
            });
        }
        all.append(&mut row);
    }
    if all.is_empty() {
        return Err(Error::usage("no events to draw"));
    }
    Ok(GalleryChart {
        title: "Events of one trace per group; the filled area is the excess charge over idle"
            .into(),
        panels: all,
        columns,
    })
}

/// Some file had a packet capture.
fn has_pcap(r: &BatchReport) -> bool {
    r.files
        .iter()
        .any(|f| f.result.as_ref().is_some_and(|x| x.pcap.is_some()))
}

fn print_summary(r: &BatchReport, out: &str) {
    if let Some(l) = &r.summaries.lesson {
        println!("{}\n", l.text);
    }
    if let Some(t) = report::batch_tables(r).into_iter().next() {
        let widths: Vec<usize> = (0..t.header.len())
            .map(|c| {
                std::iter::once(&t.header[c])
                    .chain(t.rows.iter().map(|r| &r[c]))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:>w$}"))
                .collect::<Vec<_>>()
                .join("  ")
        };
        println!("{}", line(&t.header));
        for row in &t.rows {
            println!("{}", line(row));
        }
    }
    println!(
        "\n{} files, {} failed. Report: {out}/report.html, report.md, report.json, events.parquet, summary.parquet, summary.csv{}",
        r.files.len(),
        r.failed,
        if has_pcap(r) {
            ", phases.csv, exchanges.parquet"
        } else {
            ""
        }
    );
}

/// `shuntscope merge --out DIR SHARD...`
pub fn merge(a: &MergeArgs) -> Result<i32> {
    let out = AtomicDir::create(&a.out, a.force)?;
    let mut settings = None;
    let mut inputs = Vec::new();
    let mut files: Vec<FileOutcome> = Vec::new();
    for dir in &a.shards {
        let r = read_report(dir)?;
        settings.get_or_insert(r.settings);
        for i in r.inputs {
            if !inputs.contains(&i) {
                inputs.push(i);
            }
        }
        files.extend(r.files);
    }
    files.sort_by(|x, y| x.file.cmp(&y.file));
    files.dedup_by(|x, y| x.file == y.file);
    let settings =
        settings.ok_or_else(|| Error::usage("merge needs at least one report folder"))?;
    let report = build(settings, inputs, None, files);
    write(&report, out)?;
    print_summary(&report, &a.out);
    Ok(if report.failed > 0 { 1 } else { 0 })
}
