//! Render: `shuntscope view`, one self-contained, zoomable HTML page of one trace (or two,
//! overlaid): the [`pyramid`] of the whole trace built in the detection pass, full-rate samples
//! around every burst and phase window (one more read, within [`RAW_BUDGET`] samples), and what
//! the analysis found (floor, trigger, bursts by class, windows, events). The page's script and
//! style are inlined from `assets/view/`; a Content-Security-Policy forbids every network source.
//!
//! Cost: the analysis' passes, plus one read for the raw samples; the page holds at most
//! [`pyramid::CAP`] buckets and [`RAW_BUDGET`] samples a trace.

pub mod lanes;
pub mod pyramid;

use crate::analysis::{stream_chunks, Analysis};
use crate::error::{Error, Result};
use crate::ingest::Source;
use crate::settings::Settings;
use serde::Serialize;

/// Full-rate samples embedded a trace, at most.
pub const RAW_BUDGET: usize = 200_000;

/// How two traces share the time axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Align {
    /// Each trace's first sample at 0.
    Start,
    /// Each trace's first burst at 0.
    FirstBurst,
    /// Each trace's first marker edge at 0.
    Marker,
}

/// Full-rate samples of one span (time s, current mA), as base64 little-endian arrays.
#[derive(Debug, Clone, Serialize)]
pub struct Raw {
    #[serde(serialize_with = "pyramid::b64_f64")]
    pub t: Vec<f64>,
    #[serde(serialize_with = "pyramid::b64_f32")]
    pub i: Vec<f32>,
}

/// One trace of the page.
#[derive(Debug, Clone, Serialize)]
pub struct ViewTrace {
    pub name: String,
    /// Subtracted from the trace's times to put it on the page's axis, s.
    pub offset_s: f64,
    pub pyramid: pyramid::Levels,
    pub raw: Vec<Raw>,
    /// Digital channels and the measured supply, under the current.
    pub lanes: lanes::Lanes,
    /// The supply energies are computed at, V (the measured one's charge-weighted mean).
    pub supply_v: f64,
    pub analysis: Analysis,
}

/// The spans of full-rate samples: each burst and phase window with a margin of its length
/// (at least 20 ms), joined where they overlap, in time order, until the budget.
fn raw_spans(a: &Analysis) -> Vec<(f64, f64)> {
    let pad = |s: f64, e: f64| (e - s).max(20e-3);
    let mut spans: Vec<(f64, f64)> = a
        .detection
        .bursts
        .iter()
        .map(|b| (b.start_s, b.end_s))
        .chain(a.windows.iter().map(|w| (w.start_s, w.end_s)))
        .map(|(s, e)| (s - pad(s, e), e + pad(s, e)))
        .collect();
    spans.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut joined: Vec<(f64, f64)> = Vec::new();
    for s in spans {
        match joined.last_mut() {
            Some(l) if s.0 <= l.1 => l.1 = l.1.max(s.1),
            _ => joined.push(s),
        }
    }
    // Within the budget: spans in time order, by their expected samples.
    let dt = a.ingest.sample_interval_s.max(1e-12);
    let mut used = 0.0;
    joined
        .into_iter()
        .take_while(|s| {
            used += (s.1 - s.0) / dt;
            used <= RAW_BUDGET as f64
        })
        .collect()
}

/// Analyse `path` for the page: the analysis with the pyramid built in its detection pass,
/// then the raw samples around its bursts and windows.
pub fn trace(path: &str, settings: &Settings) -> Result<ViewTrace> {
    let mut p = pyramid::Pyramid::default();
    // One source for the analysis and the page's read: a session file is inflated once (its
    // copy serves the later passes); the analysis reads it without the digital channels.
    let source = if path == "-" {
        None
    } else {
        let mut io = settings.ingest.clone();
        io.read_digital = true;
        Some(Source::open(path, &io)?)
    };
    let a = match &source {
        Some(s) => {
            crate::pipeline::run_source_with(&s.without_digital(), settings, &mut |t, i| {
                p.push(t, i)
            })?
        }
        None => crate::pipeline::run_file_with(path, settings, &mut |t, i| p.push(t, i))?,
    };
    // Every step at least as long as the shortest gap is a gap (a step is a gap when longer
    // than the threshold, which every gap is and no other step is).
    let gap = a
        .ingest
        .gaps
        .iter()
        .map(|g| g.end_s - g.start_s)
        .fold(f64::INFINITY, f64::min);
    let levels = p.finish(gap * (1.0 - 1e-9));
    let spans = raw_spans(&a);
    let mut raw: Vec<Raw> = spans
        .iter()
        .map(|_| Raw {
            t: Vec::new(),
            i: Vec::new(),
        })
        .collect();
    let mut lane_data = lanes::Lanes::default();
    if let Some(source) = &source {
        let names: Vec<String> = source.layout.digital.iter().map(|d| d.1.clone()).collect();
        let supply = source.layout.supply.is_some();
        // One more read, for what the analysis' passes did not keep: full-rate samples
        // around bursts, digital edges, the supply.
        if !spans.is_empty() || !names.is_empty() || supply {
            // A PPK2 session hands out its digital word a sample: far cheaper than eight
            // decoded channels.
            let words = source.with_digital_words().filter(|_| names.len() == 8);
            let mut lb = lanes::LaneBuilder::new(&names, supply);
            stream_chunks(words.as_ref().unwrap_or(source), settings, |c| {
                lb.push(&c.time_s, &c.digital, &c.supply);
                lb.push_words(&c.time_s, &c.digital_words);
                keep_raw(&mut raw, &spans, &c.time_s, &c.value);
            })?;
            lane_data = lb.finish(gap * (1.0 - 1e-9));
        }
    }
    let supply_v = a
        .budget
        .as_ref()
        .map_or(a.detection.supply_v, |b| b.supply_v);
    let name = std::path::Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
        .to_string();
    Ok(ViewTrace {
        name,
        offset_s: 0.0,
        pyramid: levels,
        raw,
        lanes: lane_data,
        supply_v,
        analysis: a,
    })
}

/// Keep the samples of a chunk that fall in the spans.
fn keep_raw(raw: &mut [Raw], spans: &[(f64, f64)], t: &[f64], i: &[f64]) {
    let (Some(&first), Some(&last)) = (t.first(), t.last()) else {
        return;
    };
    for (r, s) in raw.iter_mut().zip(spans) {
        if s.1 < first || s.0 > last {
            continue;
        }
        for (&tk, &ik) in t.iter().zip(i) {
            if tk >= s.0 && tk <= s.1 && ik.is_finite() {
                r.t.push(tk);
                r.i.push(ik as f32);
            }
        }
    }
}

/// Put each trace's alignment point at 0 on the page's axis.
pub fn align(traces: &mut [ViewTrace], how: Align) -> Result<()> {
    for t in traces.iter_mut() {
        let a = &t.analysis;
        t.offset_s = match how {
            Align::Start => a.ingest.first_time_s,
            Align::FirstBurst => {
                a.detection
                    .bursts
                    .first()
                    .map(|b| b.start_s)
                    .ok_or_else(|| {
                        Error::input(a.file(), "--align first-burst: the trace has no burst")
                    })?
            }
            Align::Marker => *a.ingest.marker_edges_s.first().ok_or_else(|| {
                Error::input(
                    a.file(),
                    "--align marker: no marker edge (give --marker-col)",
                )
            })?,
        };
    }
    Ok(())
}

static SCRIPT: &str = include_str!("../../assets/view/view.js");
static STYLE: &str = include_str!("../../assets/view/view.css");

/// The page: one HTML file, script, style and data inlined; no network source allowed.
pub fn page(traces: &[ViewTrace]) -> Result<String> {
    let data = serde_json::to_string(traces)
        .map_err(|e| Error::internal(format!("view data: {e}")))?
        // Inside a <script> element: no "</" may appear.
        .replace("</", "<\\/");
    let title = traces
        .iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(" vs ");
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    Ok(format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'none'; font-src 'none'; form-action 'none'; base-uri 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shuntscope view: {title}</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1>{title}</h1><div id="help">drag: measure · shift+drag or the middle button: pan · wheel or +/−: zoom · ←/→: pan · 0: reset · L: log/linear</div></header>
<main>
<section id="chart-box"><canvas id="chart"></canvas><div id="tip" hidden></div></section>
<aside><div id="measure">Drag across the trace to measure.</div><div id="found"></div><ol id="list"></ol></aside>
</main>
<script type="application/json" id="data">{data}</script>
<script>{SCRIPT}</script>
</body>
</html>
"#,
        title = esc(&title)
    ))
}
