//! `shuntscope analyze FILE`: one trace, its bursts and totals.

use crate::analysis::{analyze_file, AnalyzeOptions};
use crate::calibrate::Calibration;
use crate::cli::AnalyzeArgs;
use crate::error::Result;
use crate::ingest::IngestOptions;
use crate::report;

/// Build the library options from the command line.
pub fn options(a: &AnalyzeArgs) -> AnalyzeOptions {
    AnalyzeOptions {
        ingest: IngestOptions {
            input_format: a.ingest.input_format.clone(),
            sample_interval_s: a.ingest.sample_interval,
            zero_px: a.ingest.zero_px,
            time_col: a.ingest.time_col.clone(),
            value_col: a.ingest.value_col.clone(),
            unit: a.ingest.unit.clone(),
            time_unit: a.ingest.time_unit.clone(),
        },
        calibration: Calibration {
            shunt_ohms: a.calibrate.shunt_ohms,
            gain: a.calibrate.gain,
            offset_mv: a.calibrate.offset_mv,
        },
        baseline_ma: a.detect.baseline_ma,
        threshold_ma: a.detect.threshold_ma,
        min_burst_ms: a.detect.min_burst_ms,
        merge_gap_ms: a.detect.merge_gap_ms,
        supply_v: a.detect.supply_v,
        ..AnalyzeOptions::default()
    }
}

pub fn run(args: &AnalyzeArgs) -> Result<i32> {
    let analysis = analyze_file(&args.file, &options(args))?;
    if !args.quiet {
        for w in &analysis.warnings {
            eprintln!("warning: {}: {}", analysis.file, w.message);
        }
    }
    let text = report::render(&analysis, args.format)?;
    match &args.output {
        Some(path) => crate::output::write_atomic(path, text.as_bytes())?,
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            // A closed pipe (| head) is not an error worth a message.
            let _ = out.write_all(text.as_bytes());
        }
    }
    Ok(0)
}
