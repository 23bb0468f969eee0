//! `shuntscope plot`: charts of a trace or of a batch report folder.

use crate::analysis::{analyze_file, analyze_file_with, stream_file};
use crate::attribute::attribute;
use crate::cli::{PlotArgs, PlotKind};
use crate::error::{Error, Result};
use crate::plot::charts::{
    BatteryChart, BatteryData, CompareChart, DistributionChart, GalleryChart,
};
use crate::plot::envelope::Envelope;
use crate::plot::gallery::{panels, EventWindow};
use crate::plot::trace::TraceChart;
use crate::plot::{parse_size, render};
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
        _ => {
            if !is_dir {
                return Err(Error::usage(
                    format!(
                        "--kind {kind:?} draws a batch report: give the folder `batch --out` wrote"
                    )
                    .to_lowercase(),
                ));
            }
            let report = super::batch::load(&a.input)?;
            match kind {
                PlotKind::Compare => render(&output, size, &CompareChart(&report))?,
                PlotKind::Battery => render(
                    &output,
                    size,
                    &BatteryChart(&BatteryData { report: &report }),
                )?,
                PlotKind::Distribution => render(&output, size, &DistributionChart(&report))?,
                _ => render(&output, size, &super::batch::gallery(&report)?)?,
            }
            Ok(0)
        }
    }
}

fn trace(a: &PlotArgs, size: (u32, u32), output: &str) -> Result<i32> {
    let opts = super::analyze::options_from(&a.ingest, &a.calibrate, &a.detect);
    let columns = size.0 as usize;
    let (mut analysis, window, env) = match (&a.window, a.burst) {
        (None, None) => {
            // The envelope is built in the detection pass itself.
            let mut env = Envelope::new(columns * 4, None, 1e-7);
            let an = analyze_file_with(&a.input, &opts, &mut |t, i| env.push(t, i))?;
            let w = (an.input_time_start(), an.input_time_end());
            (an, w, env)
        }
        _ => {
            let an = analyze_file(&a.input, &opts)?;
            let w = match (&a.window, a.burst) {
                (Some(w), _) => parse_window(w)?,
                (None, Some(n)) => {
                    let b = an.bursts.get(n).ok_or_else(|| {
                        Error::usage(format!(
                            "--burst {n}: the trace has {} bursts (0 to {})",
                            an.bursts.len(),
                            an.bursts.len().saturating_sub(1)
                        ))
                    })?;
                    let pad = ((b.end_s - b.start_s) * 0.3).max(1e-3);
                    (b.start_s - pad, b.end_s + pad)
                }
                _ => unreachable!(),
            };
            let mut env = Envelope::new(columns * 4, Some(w), 0.0);
            stream_file(&a.input, &opts, |t, i| env.push(t, i))?;
            (an, w, env)
        }
    };
    if let Some(o) = a.pcap.options() {
        analysis.pcap = Some(crate::attribute::pcap::attribute_pcap(
            &analysis.bursts,
            &o,
        )?);
    }
    let (t0, t1) = if window.1 > window.0 {
        window
    } else {
        (window.0, window.0 + 1e-3)
    };
    let chart = TraceChart {
        analysis: &analysis,
        columns: env.columns(columns),
        window: (t0, t1),
    };
    render(output, size, &chart)?;
    Ok(0)
}

fn gallery_of_trace(a: &PlotArgs, size: (u32, u32), output: &str) -> Result<i32> {
    let mut opts = super::analyze::options_from(&a.ingest, &a.calibrate, &a.detect);
    opts.ingest.marker_col = a.attribute.marker_col.clone();
    opts.marker_threshold = a.attribute.marker_threshold;
    let an = analyze_file(&a.input, &opts)?;
    let labels = super::batch::label_options(&a.attribute)?;
    let attr = attribute(&an.bursts, &labels.source(), &an.marker_edges_s)?;
    let events: Vec<EventWindow> = attr
        .events
        .iter()
        .take(48)
        .map(|e| EventWindow {
            title: format!("#{} {}", e.index, e.label),
            start_s: e.start_s,
            end_s: e.end_s,
            excess_charge_ma_ms: e.excess_charge_ma_ms,
            duration_ms: e.duration_ms,
        })
        .collect();
    if events.is_empty() {
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
            events.len(),
            an.baseline_ma
        ),
        panels: panels(&a.input, &opts, an.baseline_ma, &events)?,
        columns: (events.len() as f64).sqrt().ceil() as usize,
    };
    render(output, size, &chart)?;
    Ok(0)
}
