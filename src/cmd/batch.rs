//! `shuntscope batch DIR... --out REPORT/`: plan, run the pipeline on every file, summarise,
//! write the report folder; `shuntscope merge`: join shards' report folders.

use crate::cli::{BatchArgs, MergeArgs};
use shuntscope::batch::{self, parse_shard};
use shuntscope::error::{Error, Result};
use shuntscope::output::AtomicDir;
use shuntscope::pipeline::FileOutcome;
use shuntscope::report::folder::{build, has_pcap, read, write};
use shuntscope::report::{self, BatchReport};
use shuntscope::summarize::SummarySettings;
use std::io::IsTerminal;

/// The default message intervals of the battery projection, s.
pub const DEFAULT_INTERVALS_S: &[f64] = &[1.0, 10.0, 60.0, 600.0, 3600.0];
/// The default connection lengths of the amortised cost.
pub const DEFAULT_MESSAGES_PER_CONNECTION: &[u32] = &[1, 10, 100];

/// The summary settings from the command line.
fn summary_settings(
    a: &BatchArgs,
    labels: &shuntscope::settings::LabelSettings,
) -> Result<SummarySettings> {
    if !(a.battery_mah > 0.0 && a.battery_mah.is_finite()) {
        return Err(Error::usage("--battery-mah must be positive"));
    }
    Ok(SummarySettings {
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
    })
}

pub fn run(a: &BatchArgs) -> Result<i32> {
    let mut base = a.settings.settings();
    base.validate()?;
    // `--pcap` names the capture of one trace: given to that trace after planning.
    let pcap = base.capture.pcap.take();
    let settings = summary_settings(a, &base.labels)?;
    let shard = a.shard.as_deref().map(parse_shard).transpose()?;
    // Refuse an existing report before any work.
    let out = AtomicDir::create(&a.out, a.force)?;

    let mut jobs = batch::plan(&a.inputs, a.manifest.as_deref(), &base)?;
    if let Some((i, n)) = shard {
        jobs = jobs
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % n == i)
            .map(|(_, j)| j)
            .collect();
    }
    if let Some(p) = pcap {
        if jobs.len() != 1 {
            return Err(Error::usage(format!(
                "--pcap names one capture, but there are {} trace files: give each its capture \
                 in the manifest's pcap column, or put NAME.pcap beside NAME.csv",
                jobs.len()
            )));
        }
        jobs[0].settings.capture.pcap = Some(p);
    }
    if jobs.is_empty() {
        return Err(Error::usage(format!(
            "no trace files (.csv, .tsv, .txt, .dat, .ppk2, .sr, .jls) found in {}",
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
    if !a.no_summary {
        print_summary(&report, &a.out);
    }
    Ok(if report.failed > 0 { 1 } else { 0 })
}

fn print_summary(r: &BatchReport, out: &str) {
    if let Some(l) = &r.summaries.lesson {
        println!("{}\n", l.text);
    }
    if let Some(t) = report::batch_tables(r).into_iter().next() {
        print!("{}", report::table::aligned(&t.header, &t.rows));
    }
    println!(
        "\n{} files, {} failed. Report: {out}/report.html, report.md, report.json, events.parquet, summary.parquet, summary.csv{}",
        r.files.len(),
        r.failed,
        match (has_pcap(r), shuntscope::report::folder::has_windows(r)) {
            (true, true) => ", phases.csv, exchanges.parquet, windows.csv, windows.parquet",
            (true, false) => ", phases.csv, exchanges.parquet",
            (false, true) => ", windows.csv, windows.parquet",
            _ => "",
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
        let r = read(dir)?;
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
    if !a.no_summary {
        print_summary(&report, &a.out);
    }
    Ok(if report.failed > 0 { 1 } else { 0 })
}
