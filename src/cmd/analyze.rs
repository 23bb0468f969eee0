//! `shuntscope analyze FILE`: one trace, its bursts and totals.

use crate::analysis::{analyze_file, AnalyzeOptions};
use crate::calibrate::Calibration;
use crate::cli::{AnalyzeArgs, CalibrateArgs, DetectArgs, IngestArgs};
use crate::error::Result;
use crate::ingest::IngestOptions;
use crate::report;

/// Build the library options from the command line.
pub fn options(a: &AnalyzeArgs) -> AnalyzeOptions {
    options_from(&a.ingest, &a.calibrate, &a.detect)
}

/// The library options from the flag groups that `analyze` and `batch` share.
pub fn options_from(i: &IngestArgs, c: &CalibrateArgs, d: &DetectArgs) -> AnalyzeOptions {
    AnalyzeOptions {
        ingest: IngestOptions {
            input_format: i.input_format.clone(),
            sample_interval_s: i.sample_interval,
            zero_px: i.zero_px,
            time_col: i.time_col.clone(),
            value_col: i.value_col.clone(),
            unit: i.unit.clone(),
            time_unit: i.time_unit.clone(),
            marker_col: None,
            read_digital: false,
            no_mmap: i.no_mmap,
        },
        calibration: Calibration {
            shunt_ohms: c.shunt_ohms,
            gain: c.gain,
            offset_mv: c.offset_mv,
        },
        baseline_ma: d.baseline_ma,
        threshold_ma: d.threshold_ma,
        min_burst_ms: d.min_burst_ms,
        merge_gap_ms: d.merge_gap_ms,
        supply_v: d.supply_v,
        ..AnalyzeOptions::default()
    }
}

pub fn run(args: &AnalyzeArgs) -> Result<i32> {
    let opts = options(args);
    let mut analysis = analyze_file(&args.file, &opts)?;
    if let Some(o) = args.pcap.options() {
        let r = crate::analysis::pcap_report(&analysis, &opts, &o)?;
        for w in &r.warnings {
            analysis.warnings.push(crate::analysis::Warning {
                code: "pcap",
                message: w.clone(),
                burst: None,
            });
        }
        analysis.pcap = Some(r);
    }
    if !args.quiet {
        for w in &analysis.warnings {
            eprintln!("warning: {}: {}", analysis.file, w.message);
        }
    }
    let text = report::render(&analysis, args.format)?;
    match &args.output {
        Some(path) => {
            crate::output::refuse_existing(path, args.force)?;
            crate::output::write_atomic(path, text.as_bytes())?
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            // A closed pipe (| head) is not an error worth a message.
            let _ = out.write_all(text.as_bytes());
        }
    }
    Ok(0)
}
