//! One file all the way: ingest → calibrate → detect ([`crate::analysis`]) → attribute (schedule,
//! events file, marker column or packet capture) → excerpts for galleries. `analyze`, `batch`
//! and `plot` all run a file through [`run_file`]; every warning ends up in the result.
//!
//! Cost: the two streaming passes of the analysis, plus one more pass when a packet capture's
//! exchanges are integrated on the samples or excerpts are asked for (both in the same pass).

use crate::analysis::{
    analyze_source, stream_source, Analysis, Detection, Excerpt, Warning, WarningCode,
};
use crate::attribute::pcap::{attribute_pcap, events as pcap_events, integrate, PcapReport};
use crate::attribute::{attribute, Attribution, LabelSource};
use crate::error::Result;
use crate::ingest::source::Source;
use crate::settings::Settings;
use crate::trace::envelope::Envelope;
use serde::{Deserialize, Serialize};

/// Columns of an event's excerpt.
pub const EXCERPT_COLUMNS: usize = 160;

/// Run the whole pipeline on one file. Errors name the file (and line and column where there
/// is one).
pub fn run_file(path: &str, settings: &Settings) -> Result<Analysis> {
    run_file_with(path, settings, &mut |_, _| {})
}

/// [`run_file`], also showing every sample (time s, current mA) of the detection pass to
/// `observe` (a plot's envelope is built in that pass at no extra read).
pub fn run_file_with(
    path: &str,
    settings: &Settings,
    observe: &mut dyn FnMut(&[f64], &[f64]),
) -> Result<Analysis> {
    settings.validate()?;
    // One source for every pass: a session file's inflated copy serves the last pass too.
    let input = Source::open(path, &settings.ingest)?;
    run_source_with(&input, settings, observe)
}

/// [`run_file_with`] on an open source (a caller that reads it again afterwards: a session
/// file's inflated copy is then read, not inflated again).
pub fn run_source_with(
    input: &Source,
    settings: &Settings,
    observe: &mut dyn FnMut(&[f64], &[f64]),
) -> Result<Analysis> {
    settings.validate()?;
    let input = input.clone();
    // Ingest and detection (phase windows in the same pass).
    let m = analyze_source(&input, settings, observe)?;
    let mut warnings = m.warnings;
    // Attribution: the capture's exchanges, then events from the first source that names any.
    let bursts = &m.detection.bursts;
    let mut capture = match settings.pcap_options() {
        Some(o) => Some(attribute_pcap(bursts, &o)?),
        None => None,
    };
    let source = settings.label_source();
    let attribution = match (&source, &capture) {
        // With nothing else to label them, the capture labels the bursts.
        (LabelSource::Bursts, Some(r)) => pcap_events(bursts, r),
        _ => attribute(bursts, &source, &m.ingest.marker_edges_s)?,
    };
    // One more pass over the samples, for what needs the bursts' and events' times: the
    // exchanges' integrated charges and the events' excerpts. Standard input cannot be read
    // again: the capture keeps its time-share split and there are no excerpts.
    let windows = excerpt_windows(&attribution, settings.excerpts);
    let mut excerpts = Vec::new();
    if m.ingest.file != "-" && (capture.is_some() || !windows.is_empty()) {
        let step_s = m.ingest.sample_interval_s * settings.detect.gap_factor;
        excerpts = second_pass(
            &input,
            &m.detection,
            step_s,
            settings,
            capture.as_mut(),
            &windows,
        )?;
    }
    if let Some(r) = &capture {
        warnings.extend(r.warnings.iter().map(|w| Warning {
            code: WarningCode::Pcap,
            message: w.clone(),
            burst: None,
        }));
    }
    let budget = crate::analysis::budget(&m.detection, &settings.budget, &mut warnings);
    Ok(Analysis {
        ingest: m.ingest,
        detection: m.detection,
        attribution,
        windows: m.windows,
        every: m.every,
        budget: Some(budget),
        capture,
        excerpts,
        warnings,
    })
}

/// The windows of the first `n` events: the event with margins of 25% of its length (at
/// least 1 ms) on each side.
fn excerpt_windows(attribution: &Attribution, n: usize) -> Vec<(usize, (f64, f64))> {
    attribution
        .events
        .iter()
        .take(n)
        .map(|e| {
            let pad = ((e.end_s - e.start_s) * 0.25).max(1e-3);
            (e.index, (e.start_s - pad, e.end_s + pad))
        })
        .collect()
}

/// Read the file again: integrate the capture's exchanges on the samples, and down-sample
/// the samples around each event window into an excerpt. Memory: one small envelope per window.
fn second_pass(
    source: &Source,
    d: &Detection,
    max_step_s: f64,
    settings: &Settings,
    pcap: Option<&mut PcapReport>,
    windows: &[(usize, (f64, f64))],
) -> Result<Vec<Excerpt>> {
    let mut envs: Vec<Envelope> = windows
        .iter()
        .map(|(_, w)| Envelope::new(EXCERPT_COLUMNS * 2, Some(*w), 0.0))
        .collect();
    let mut excerpt = |t: &[f64], i: &[f64]| {
        let (Some(&first), Some(&last)) = (t.first(), t.last()) else {
            return;
        };
        for (env, (_, w)) in envs.iter_mut().zip(windows) {
            if w.1 >= first && w.0 <= last {
                env.push(t, i);
            }
        }
    };
    let mut streamed = false;
    if let Some(r) = pcap {
        integrate(r, &d.bursts, d.baseline_ma, d.supply_v, max_step_s, |f| {
            streamed = true;
            stream_source(source, settings, |t, i| {
                f(t, i);
                excerpt(t, i);
            })
        })?;
    }
    if !streamed && !windows.is_empty() {
        stream_source(source, settings, &mut excerpt)?;
    }
    Ok(windows
        .iter()
        .zip(envs)
        .map(|((event, _), env)| Excerpt {
            event: *event,
            columns: env
                .columns(EXCERPT_COLUMNS)
                .into_iter()
                .flatten()
                .map(|(t, lo, hi)| [t, lo, hi])
                .collect(),
        })
        .collect())
}

/// What came of one file in a batch: its place (group, metadata), the settings it was run
/// with, and the analysis or the error. Serialised into report.json as it is, so `merge` (and
/// later `diff`) read it back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileOutcome {
    pub file: String,
    pub group: String,
    pub bytes_per_message: Option<f64>,
    pub payload: Option<String>,
    /// The error, for a file that failed.
    pub error: Option<String>,
    /// The settings it was run with.
    #[serde(default)]
    pub settings: Option<Settings>,
    pub result: Option<Analysis>,
}
