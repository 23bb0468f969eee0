//! `shuntscope plot`: charts of a trace or of a batch report folder.

use super::args::{PlotArgs, PlotKind};
use crate::analysis::stream_file;
use crate::error::{Error, Result};
use crate::pipeline::{run_file, run_file_with};
use crate::plot::budget::BudgetChart;
use crate::plot::charts::{
    BatteryChart, BatteryData, CompareChart, DistributionChart, GalleryChart,
};
use crate::plot::gallery::panels;
use crate::plot::trace::TraceChart;
use crate::plot::{parse_size, render};
use crate::report::folder;
use crate::trace::envelope::Envelope;
use crate::units::parse_time_s;
use std::path::Path;

fn parse_window(s: &str) -> Result<(f64, f64)> {
    let (a, b) = s.split_once("..").ok_or_else(|| {
        Error::usage(format!(
            "--window: expected FROM..TO such as 1.2s..1.4s, found \"{s}\""
        ))
    })?;
    let (a, b) = (parse_time_s(a)?, parse_time_s(b)?);
    if b <= a {
        return Err(Error::usage(format!(
            "--window: the end must come after the start, found \"{s}\""
        )));
    }
    Ok((a, b))
}

pub fn run(a: &PlotArgs) -> Result<i32> {
    let size = parse_size(&a.size)?;
    let output = if a.svg {
        Path::new(&a.output)
            .with_extension("svg")
            .display()
            .to_string()
    } else {
        a.output.clone()
    };
    crate::output::refuse_existing(&output, a.force)?;
    let is_dir = Path::new(&a.input).is_dir();
    let kind = a.kind.unwrap_or(if is_dir {
        PlotKind::Compare
    } else {
        PlotKind::Trace
    });
    match kind {
        PlotKind::Trace => {
            if is_dir {
                return Err(Error::usage(
                    "--kind trace needs a trace file, not a folder",
                ));
            }
            trace(a, size, &output)
        }
        PlotKind::Gallery if !is_dir => gallery_of_trace(a, size, &output),
        PlotKind::Budget if !is_dir => {
            let an = run_file(&a.input, &a.settings())?;
            super::print_warnings(&an, a.quiet);
            render(&output, size, &BudgetChart(vec![(String::new(), &an)]))?;
            Ok(0)
        }
        _ => {
            if !is_dir {
                return Err(Error::usage(
                    format!(
                        "--kind {kind:?} draws a batch report: give the folder `batch --out` wrote"
                    )
                    .to_lowercase(),
                ));
            }
            let report = crate::batch::BatchReport::load(&a.input)?;
            match kind {
                PlotKind::Compare => render(&output, size, &CompareChart(&report))?,
                PlotKind::Battery => render(
                    &output,
                    size,
                    &BatteryChart(&BatteryData { report: &report }),
                )?,
                PlotKind::Distribution => render(&output, size, &DistributionChart(&report))?,
                PlotKind::Budget => render(&output, size, &folder::budget_chart(&report))?,
                _ => render(&output, size, &folder::gallery(&report)?)?,
            }
            Ok(0)
        }
    }
}

fn trace(a: &PlotArgs, size: (u32, u32), output: &str) -> Result<i32> {
    let settings = a.settings();
    let columns = size.0 as usize;
    let (analysis, window, env) = match (&a.window, a.burst) {
        (None, None) => {
            // The envelope is built in the detection pass itself.
            let mut env = Envelope::new(columns * 4, None, 1e-7);
            let an = run_file_with(&a.input, &settings, &mut |t, i| env.push(t, i))?;
            let w = (an.input_time_start(), an.input_time_end());
            (an, w, env)
        }
        _ => {
            let an = run_file(&a.input, &settings)?;
            let w = match (&a.window, a.burst) {
                (Some(w), _) => parse_window(w)?,
                (None, Some(n)) => {
                    let b = an.detection.bursts.get(n).ok_or_else(|| {
                        Error::usage(format!(
                            "--burst {n}: the trace has {} bursts (0 to {})",
                            an.detection.bursts.len(),
                            an.detection.bursts.len().saturating_sub(1)
                        ))
                    })?;
                    let pad = ((b.end_s - b.start_s) * 0.3).max(1e-3);
                    (b.start_s - pad, b.end_s + pad)
                }
                _ => unreachable!(),
            };
            let mut env = Envelope::new(columns * 4, Some(w), 0.0);
            stream_file(&a.input, &settings, |t, i| env.push(t, i))?;
            (an, w, env)
        }
    };
    super::print_warnings(&analysis, a.quiet);
    let (t0, t1) = if window.1 > window.0 {
        window
    } else {
        (window.0, window.0 + 1e-3)
    };
    let chart = TraceChart {
        analysis: &analysis,
        columns: env.columns(columns),
        window: (t0, t1),
        log_y: match (a.log_y, a.linear_y) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
    };
    render(output, size, &chart)?;
    Ok(0)
}

/// Events a trace's gallery shows at most.
const GALLERY_EVENTS: usize = 48;

fn gallery_of_trace(a: &PlotArgs, size: (u32, u32), output: &str) -> Result<i32> {
    let mut settings = a.settings();
    settings.excerpts = GALLERY_EVENTS;
    let an = run_file(&a.input, &settings)?;
    super::print_warnings(&an, a.quiet);
    let panels = panels(&an, "");
    if panels.is_empty() {
        return Err(Error::input(
            &a.input,
            "no bursts to draw: see `shuntscope analyze` for why",
        ));
    }
    let name = Path::new(&a.input)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(&a.input);
    let chart = GalleryChart {
        title: format!(
            "{name}: {} events, area = excess charge over idle {:.2} mA",
            panels.len(),
            an.detection.baseline_ma
        ),
        columns: (panels.len() as f64).sqrt().ceil() as usize,
        panels,
    };
    render(output, size, &chart)?;
    Ok(0)
}
