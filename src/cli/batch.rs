//! `shuntscope batch DIR... --out REPORT/`: plan, run the pipeline on every file, summarise,
//! write the report folder; `shuntscope merge`: join shards' report folders.

use super::args::{BatchArgs, MergeArgs};
use crate::batch::{self, parse_shard, BatchOptions, BatchReport};
use crate::error::Result;
use crate::output::AtomicDir;
use crate::report::{self, folder::has_pcap, folder::write};
use crate::summarize::SummarySettings;
use std::io::IsTerminal;

/// The summary settings from the command line.
fn summary_settings(a: &BatchArgs, settings: &crate::settings::Settings) -> SummarySettings {
    let mut s = SummarySettings::new(&settings.labels);
    // --battery-mah is one flag: each file's budget (only when given) and the projection
    // (default DEFAULT_BATTERY_MAH).
    s.battery_mah = settings
        .budget
        .battery_mah
        .unwrap_or(crate::summarize::DEFAULT_BATTERY_MAH);
    if !a.intervals.is_empty() {
        s.intervals_s = a.intervals.clone();
    }
    if !a.messages_per_connection.is_empty() {
        s.messages_per_connection = a
            .messages_per_connection
            .iter()
            .copied()
            .filter(|n| *n > 0)
            .collect();
    }
    s
}

/// The settings and options of batch's flags, checked.
fn options(a: &BatchArgs) -> Result<(crate::settings::Settings, BatchOptions)> {
    let settings = a.settings.settings();
    settings.validate()?;
    let options = BatchOptions {
        manifest: a.manifest.clone(),
        shard: a.shard.clone(),
        threads: a.jobs.unwrap_or(0),
        summary: summary_settings(a, &settings),
        views: None,
    };
    options.summary.validate()?;
    if let Some(s) = &options.shard {
        parse_shard(s)?;
    }
    Ok((settings, options))
}

/// The plan of `batch` with these flags (`--out` is not written): for another scheduler.
pub fn plan(a: &BatchArgs) -> Result<batch::BatchPlan> {
    let (settings, options) = options(a)?;
    batch::plan_batch(&a.inputs, &settings, &options)
}

pub fn run(a: &BatchArgs) -> Result<i32> {
    let (settings, options) = options(a)?;
    // Refuse an existing report before any work.
    let out = AtomicDir::create(&a.out, a.force)?;
    // The views go straight into the folder being built (it appears whole or not at all).
    let mut options = options;
    if a.views {
        options.views = Some(out.path().join("views"));
    }
    let bar = if a.quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(0);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed}")
        {
            b.set_style(style);
        }
        b
    };
    let report = batch::batch(
        &a.inputs,
        &settings,
        &options,
        &|n| bar.set_length(n as u64),
        &|| bar.inc(1),
    )?;
    bar.finish_and_clear();
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
        match (has_pcap(r), crate::report::folder::has_windows(r)) {
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
    let report = batch::merge(&a.shards)?;
    write(&report, out)?;
    if !a.no_summary {
        print_summary(&report, &a.out);
    }
    Ok(if report.failed > 0 { 1 } else { 0 })
}
