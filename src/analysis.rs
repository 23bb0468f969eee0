//! One trace from file to measured bursts: ingest → calibrate → detect, in two streaming passes
//! (the first a survey for the baseline: the whole file when small, 16 windows of it when large).
//!
//! Memory: about three blocks of samples (a block is about 256 k rows) and the baseline
//! reservoir (2 MB), whatever the file's length (32 MB peak RSS on a 349 MB trace and on a
//! 2.2 GB one). Time: one read of a large file, plus 16 MiB.

use crate::calibrate::Calibration;
use crate::detect::{estimate_baseline, Burst, DetectParams, Detector, Gap, Survey};
use crate::error::{Error, Result};
use crate::ingest::reader::SampleReader;
use crate::ingest::{IngestOptions, Source};
use crate::trace::{Chunk, Quantity, TraceInfo};
use crate::units::fmt_duration;
use serde::Serialize;

/// Everything `analyze` needs besides the file.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct AnalyzeOptions {
    pub ingest: IngestOptions,
    pub calibration: Calibration,
    /// Fixed baseline in mA instead of the estimate.
    pub baseline_ma: Option<f64>,
    /// Burst trigger level above the baseline in mA instead of 6 × noise.
    pub threshold_ma: Option<f64>,
    pub min_burst_ms: f64,
    pub merge_gap_ms: f64,
    /// Supply voltage for energy, V.
    pub supply_v: f64,
    /// A time step longer than this many median steps is a gap.
    pub gap_factor: f64,
    /// A marker column is high at or above this value.
    #[serde(default = "half")]
    pub marker_threshold: f64,
}

fn half() -> f64 {
    0.5
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            ingest: IngestOptions::default(),
            calibration: Calibration::default(),
            baseline_ma: None,
            threshold_ma: None,
            min_burst_ms: 0.0,
            merge_gap_ms: 0.0,
            supply_v: 5.0,
            gap_factor: 3.0,
            marker_threshold: 0.5,
        }
    }
}

/// A measurement-quality or interpretation warning, with its numbers in the message.
#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    /// Stable identifier: `few-samples`, `gap`, `irregular-sampling`, `repeated-time`,
    /// `cut-burst`, `no-bursts`, `assumption`, `baseline-unsure`, `empty-cells`, `clipping`,
    /// `baseline-drift`, `coarse-quantisation`.
    pub code: &'static str,
    pub message: String,
    /// The burst concerned, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<usize>,
}

/// Whole-trace totals.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    /// Last time stamp minus first, s.
    pub duration_s: f64,
    /// Time covered by samples (duration minus gaps), s.
    pub covered_s: f64,
    /// Average current over the covered time, mA.
    pub mean_ma: f64,
    /// ∫ I dt over the covered time, mA·ms.
    pub charge_ma_ms: f64,
    /// Sum of the bursts' excess charges, mA·ms.
    pub burst_excess_charge_ma_ms: f64,
    /// Share of all charge that the bursts' excess accounts for (0–1).
    pub burst_share: f64,
    pub bursts: usize,
    /// Sum of the bursts' energies, mJ.
    pub burst_energy_mj: f64,
    /// Bursts dropped by --min-burst-ms.
    pub dropped_short: u64,
}

/// The result of analysing one trace. Field names are a contract (see the README).
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub file: String,
    pub format: String,
    pub quantity: Quantity,
    pub samples: u64,
    /// Median time step, s.
    pub sample_interval_s: f64,
    /// Time stamp of the first sample, s.
    pub first_time_s: f64,
    pub baseline_ma: f64,
    /// `auto` (estimated) or `given` (--baseline-ma).
    pub baseline_source: &'static str,
    pub noise_ma: f64,
    /// Burst trigger level above the baseline, mA.
    pub threshold_ma: f64,
    /// Level above the baseline below which a burst is in its tail, mA.
    pub release_ma: f64,
    pub quantisation_ma: Option<f64>,
    pub supply_v: f64,
    pub calibration: Calibration,
    pub calibration_text: String,
    pub input: TraceInfo,
    pub bursts: Vec<Burst>,
    pub gaps: Vec<Gap>,
    /// Times of the marker column's rising edges, s (when a marker column was read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub marker_edges_s: Vec<f64>,
    pub totals: Totals,
    pub warnings: Vec<Warning>,
    /// The packet capture's exchanges and their costs (`--pcap`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcap: Option<crate::attribute::pcap::PcapReport>,
}

impl Analysis {
    /// First time stamp of the trace, s.
    pub fn input_time_start(&self) -> f64 {
        self.first_time_s
    }

    /// Last time stamp of the trace, s.
    pub fn input_time_end(&self) -> f64 {
        self.first_time_s + self.totals.duration_s
    }
}

/// The packet capture's report for an analysed trace: exchanges aligned and tied to bursts,
/// and each exchange's charge integrated on the trace's samples (a second pass; from standard
/// input, which cannot be read twice, the time-share split stays).
pub fn pcap_report(
    a: &Analysis,
    opts: &AnalyzeOptions,
    o: &crate::attribute::pcap::PcapOptions,
) -> Result<crate::attribute::pcap::PcapReport> {
    use crate::attribute::pcap::{attribute_pcap, integrate};
    let mut r = attribute_pcap(&a.bursts, o)?;
    if a.file != "-" {
        let max_step_s = a.sample_interval_s * opts.gap_factor;
        integrate(
            &mut r,
            &a.bursts,
            a.baseline_ma,
            a.supply_v,
            max_step_s,
            |f| stream_file(&a.file, opts, f),
        )?;
    }
    Ok(r)
}

/// Stream every sample of a file through `f`, in mA, chunk by chunk (one pass, no analysis).
pub fn stream_file(path: &str, opts: &AnalyzeOptions, f: impl FnMut(&[f64], &[f64])) -> Result<()> {
    let source = Source::open(path, &opts.ingest)?;
    let mut f = f;
    for_each_chunk(&source, &opts.calibration, |t, i, _| f(t, i)).map(|_| ())
}

/// Stream every sample of `source` through `f`, in mA, chunk by chunk.
/// Files larger than this are surveyed from [`SURVEY_WINDOWS`] windows of [`SURVEY_WINDOW_BYTES`]
/// spread over the file instead of a full first pass.
pub const SURVEY_FULL_BYTES: u64 = 64 << 20;
pub const SURVEY_WINDOWS: u64 = 16;
pub const SURVEY_WINDOW_BYTES: u64 = 1 << 20;

/// What a pass learnt about the rows: parsed, last data line, rows skipped for empty cells and
/// the first of them.
struct PassStats {
    rows: u64,
    last_line: u64,
    empty_cells: u64,
    first_empty_line: u64,
}

impl PassStats {
    fn of(reader: &SampleReader) -> PassStats {
        PassStats {
            rows: reader.rows(),
            last_line: reader.last_data_line(),
            empty_cells: reader.empty_cells,
            first_empty_line: reader.first_empty_line,
        }
    }
}

/// Stream every sample of `source` through `f`, in mA, chunk by chunk. Reading and parsing run
/// on another thread (and the rayon pool) while `f` works on the previous chunk; chunks are
/// recycled, so memory stays at a few chunks.
fn for_each_chunk(
    source: &Source,
    cal: &Calibration,
    mut f: impl FnMut(&[f64], &[f64], &[f64]),
) -> Result<PassStats> {
    use std::sync::mpsc::sync_channel;
    let mut reader = source.reader()?;
    let q = source.layout.quantity;
    let cal = *cal;
    // A file of a block or less: no reader thread (starting one costs more than it saves).
    if source.size() <= crate::ingest::reader::BLOCK_BYTES as u64 {
        let mut chunk = Chunk::default();
        while reader.next_chunk(&mut chunk)? {
            cal.to_ma(q, &mut chunk.value);
            f(&chunk.time_s, &chunk.value, &chunk.marker);
        }
        return Ok(PassStats::of(&reader));
    }
    // A chunk is one part of a block (a few tens of thousands of samples); two blocks' worth
    // in flight let the parser start on the next block while `f` works through this one.
    let in_flight = 2 * reader.parts_per_block();
    let (full_tx, full_rx) = sync_channel::<Chunk>(in_flight);
    let (empty_tx, empty_rx) = sync_channel::<Chunk>(in_flight + 1);
    for _ in 0..in_flight {
        let _ = empty_tx.send(Chunk::default());
    }
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || -> Result<SampleReader> {
            while let Ok(mut chunk) = empty_rx.recv() {
                if !reader.next_chunk(&mut chunk)? {
                    break;
                }
                cal.to_ma(q, &mut chunk.value);
                if full_tx.send(chunk).is_err() {
                    break;
                }
            }
            Ok(reader)
        });
        for chunk in full_rx.iter() {
            f(&chunk.time_s, &chunk.value, &chunk.marker);
            let _ = empty_tx.send(chunk);
        }
        drop(empty_tx);
        let reader = producer.join().map_err(|_| {
            Error::input(&source.path, "internal error: the reader thread failed")
        })??;
        Ok(PassStats::of(&reader))
    })
}

/// A pass that found fewer than two samples is an error.
fn check_rows(source: &Source, pass: &PassStats) -> Result<()> {
    match pass.rows {
        0 => Err(Error::input(
            &source.path,
            format!(
                "no data rows: expected numbers from line {} on",
                source.layout.data_line
            ),
        )),
        1 => Err(Error::input(
            &source.path,
            "only one sample: at least two are needed to integrate",
        )
        .at_line(pass.last_line)),
        _ => Ok(()),
    }
}

/// Pass 1 on a large file: the survey from windows spread over it, read in parallel and
/// combined in file order. Errors in a window end that window only (pass 2 reports them with
/// their line).
fn survey_windows(source: &Source, cal: &Calibration, size: u64) -> Survey {
    use rayon::prelude::*;
    let q = source.layout.quantity;
    let span = size.saturating_sub(SURVEY_WINDOW_BYTES);
    // At most as many samples as a window of 16-byte rows holds, whatever the chunks.
    let limit = SURVEY_WINDOW_BYTES as usize / 16;
    let windows: Vec<Survey> = (0..SURVEY_WINDOWS)
        .into_par_iter()
        .map(|k| {
            let mut window = Survey::default();
            // The first window starts at the file's start, header and all.
            let offset = span * k / (SURVEY_WINDOWS - 1);
            let Ok(mut r) = source.window(offset, SURVEY_WINDOW_BYTES) else {
                return window;
            };
            let mut chunk = Chunk::default();
            let mut read = 0usize;
            while let Ok(true) = r.next_chunk(&mut chunk) {
                cal.to_ma(q, &mut chunk.value);
                let take = chunk.len().min(limit - read);
                window.push(&chunk.time_s[..take], &chunk.value[..take]);
                read += take;
                if read >= limit {
                    break;
                }
            }
            window
        })
        .collect();
    let mut survey = Survey::default();
    for w in &windows {
        survey.absorb(w);
    }
    survey
}

/// Analyse one file. Errors name the file (and line and column where there is one).
pub fn analyze_file(path: &str, opts: &AnalyzeOptions) -> Result<Analysis> {
    analyze_file_with(path, opts, &mut |_, _| {})
}

/// [`analyze_file`], also showing every sample (time in s, current in mA) of the detection pass
/// to `observe`: a plot's envelope is built in the same pass, at no extra read.
pub fn analyze_file_with(
    path: &str,
    opts: &AnalyzeOptions,
    observe: &mut dyn FnMut(&[f64], &[f64]),
) -> Result<Analysis> {
    opts.calibration.validate()?;
    if !(opts.supply_v.is_finite() && opts.supply_v > 0.0) {
        return Err(Error::usage(
            "--supply-v must be a positive number of volts",
        ));
    }
    let source = Source::open(path, &opts.ingest)?;
    let cal = opts.calibration;

    // Pass 1, the survey: the whole file when small, windows spread over it when large.
    let size = source.size();
    // The limit can be lowered through the environment, for tests of the sampled survey.
    let full_limit = std::env::var("SHUNTSCOPE_SURVEY_FULL_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SURVEY_FULL_BYTES);
    let mut survey = if size > full_limit {
        survey_windows(&source, &cal, size)
    } else {
        Survey::default()
    };
    if survey.samples < 2 {
        survey = Survey::default();
        let pass = for_each_chunk(&source, &cal, |t, i, _| survey.push(t, i))?;
        check_rows(&source, &pass)?;
    }
    // Implied time steps are known exactly (differences of computed time stamps are not).
    let interval_s = match source.layout.time {
        crate::ingest::TimeBase::Implied { interval_s, .. } => interval_s,
        _ => survey.median_interval_s(),
    };
    if interval_s <= 0.0 {
        return Err(Error::input(
            path,
            "the median time step is zero: most time stamps repeat (a stuck time column, as PyMonsoon writes): give --sample-interval to ignore it",
        ));
    }

    // Baseline, noise and thresholds.
    let est = estimate_baseline(survey.reservoir());
    let (baseline_ma, baseline_source) = match opts.baseline_ma {
        Some(b) => (b, "given"),
        None => (est.baseline_ma, "auto"),
    };
    let q = est.quantisation_ma.unwrap_or(0.0);
    let floor = 1e-9 * baseline_ma.abs().max(1e-3);
    let threshold_ma = match opts.threshold_ma {
        Some(t) if t > 0.0 && t.is_finite() => t,
        Some(t) => {
            return Err(Error::usage(format!(
                "--threshold-ma must be positive (an excess above the baseline), found {t}"
            )))
        }
        None => (6.0 * est.noise_ma).max(3.0 * q).max(floor),
    };
    let release_ma = 0.4 * threshold_ma;
    let params = DetectParams {
        baseline_ma,
        threshold_ma,
        release_ma,
        merge_gap_s: opts.merge_gap_ms.max(0.0) / 1e3,
        min_burst_s: opts.min_burst_ms.max(0.0) / 1e3,
        gap_s: opts.gap_factor * interval_s,
        interval_s,
        noise_ma: est.noise_ma,
        settle_samples: crate::detect::settle_samples(interval_s),
    };

    // Pass 2: detect and integrate.
    let mut det = Detector::new(params);
    let mut marker_edges_s = Vec::new();
    let mut marker_high = None::<bool>;
    let pass = for_each_chunk(&source, &cal, |t, i, m| {
        det.push(t, i);
        observe(t, i);
        // Rising edges of the marker column start events.
        for (&tk, &mk) in t.iter().zip(m) {
            let high = mk >= opts.marker_threshold;
            if high && marker_high == Some(false) {
                marker_edges_s.push(tk);
            }
            marker_high = Some(high);
        }
    })?;
    check_rows(&source, &pass)?;
    let det = det.finish();
    let rows = pass.rows;

    let mut bursts = det.bursts.clone();
    for b in &mut bursts {
        b.energy_mj = b.excess_charge_ma_ms * opts.supply_v / 1e3;
    }
    let charge_ma_ms = det.charge_mas * 1e3;
    let burst_excess: f64 = bursts.iter().map(|b| b.excess_charge_ma_ms).sum();
    let totals = Totals {
        duration_s: det.last_time_s - det.first_time_s,
        covered_s: det.covered_s,
        mean_ma: if det.covered_s > 0.0 {
            det.charge_mas / det.covered_s
        } else {
            f64::NAN
        },
        charge_ma_ms,
        burst_excess_charge_ma_ms: burst_excess,
        burst_share: if charge_ma_ms != 0.0 {
            burst_excess / charge_ma_ms
        } else {
            0.0
        },
        bursts: bursts.len(),
        burst_energy_mj: bursts.iter().map(|b| b.energy_mj).sum(),
        dropped_short: det.dropped_short,
    };

    let info = source.info();
    let mut warnings = diagnose(&info, &bursts, &det, &est, interval_s, rows, threshold_ma);
    warnings.extend(quality(
        survey.reservoir(),
        &est,
        baseline_ma,
        threshold_ma,
        &bursts,
    ));
    if pass.empty_cells > 0 {
        warnings.push(Warning {
            code: "empty-cells",
            message: format!(
                "{} rows with an empty value cell skipped as missing samples, the first on line {}",
                pass.empty_cells, pass.first_empty_line
            ),
            burst: None,
        });
    }
    Ok(Analysis {
        file: path.to_string(),
        format: info.format.clone(),
        quantity: info.quantity,
        samples: rows,
        sample_interval_s: interval_s,
        first_time_s: det.first_time_s,
        baseline_ma,
        baseline_source,
        noise_ma: est.noise_ma,
        threshold_ma,
        release_ma,
        quantisation_ma: est.quantisation_ma,
        supply_v: opts.supply_v,
        calibration: cal,
        calibration_text: cal.describe(info.quantity),
        input: info,
        bursts,
        gaps: det.gaps.clone(),
        marker_edges_s,
        totals,
        warnings,
        pcap: None,
    })
}

/// Measurement-quality checks on the baseline reservoir (a time-ordered, decimated sample of
/// the trace): clipping at the rails, baseline drift, ADC steps large against the bursts.
fn quality(
    values: &[f64],
    est: &crate::detect::BaselineEstimate,
    baseline_ma: f64,
    threshold_ma: f64,
    bursts: &[Burst],
) -> Vec<Warning> {
    let mut w = Vec::new();
    if values.len() < 100 {
        return w;
    }
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let at_max = values.iter().filter(|v| **v == max).count();
    let at_min = values.iter().filter(|v| **v == min).count();
    let above = values
        .iter()
        .filter(|v| **v >= baseline_ma + threshold_ma)
        .count();
    if max > baseline_ma + threshold_ma && at_max >= 10 && at_max * 50 >= above {
        w.push(Warning {
            code: "clipping",
            message: format!(
                "{:.1}% of the burst samples sit at exactly {max:.4} mA, the largest value: the ADC or the channel's range probably clipped, so bursts are underestimated; widen the vertical range (V/div) or lower the gain",
                100.0 * at_max as f64 / above.max(1) as f64
            ),
            burst: None,
        });
    }
    if at_min * 20 >= values.len()
        && min < baseline_ma + threshold_ma
        && est
            .quantisation_ma
            .is_some_and(|q| (baseline_ma - min).abs() <= 2.0 * q)
    {
        w.push(Warning {
            code: "clipping",
            message: format!(
                "{:.1}% of all samples sit at exactly {min:.4} mA, the smallest value: the idle current is probably clipped at the bottom of the range, so the baseline is wrong; move the trace up (offset) or widen the range",
                100.0 * at_min as f64 / values.len() as f64
            ),
            burst: None,
        });
    }
    // Drift: the baseline of each tenth of the capture.
    let sigma = est.noise_ma.max(1e-12);
    let window = (4.0 * sigma).max(1.5 * est.quantisation_ma.unwrap_or(0.0));
    let tenths: Vec<f64> = values
        .chunks(values.len().div_ceil(10))
        .filter_map(|c| {
            let quiet: Vec<f64> = c
                .iter()
                .copied()
                .filter(|v| (v - baseline_ma).abs() <= window.max(0.02 * baseline_ma.abs()))
                .collect();
            (quiet.len() >= 20).then(|| quiet.iter().sum::<f64>() / quiet.len() as f64)
        })
        .collect();
    if tenths.len() >= 5 {
        let hi = tenths.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lo = tenths.iter().copied().fold(f64::INFINITY, f64::min);
        let drift = hi - lo;
        if drift > sigma && drift > 0.005 * baseline_ma.abs() {
            let (first, last) = (tenths[0], tenths[tenths.len() - 1]);
            w.push(Warning {
                code: "baseline-drift",
                message: format!(
                    "the idle current drifts by {drift:.3} mA ({:.1}%) across the capture (first tenth {first:.3} mA, last {last:.3} mA): each burst's excess charge is off by up to {drift:.3} mA × its duration; let the device warm up, or give --baseline-ma per segment",
                    100.0 * drift / baseline_ma.abs().max(1e-12)
                ),
                burst: None,
            });
        }
    }
    if let (Some(q), false) = (est.quantisation_ma, bursts.is_empty()) {
        let mut h: Vec<f64> = bursts.iter().map(|b| b.peak_ma - baseline_ma).collect();
        h.sort_by(f64::total_cmp);
        let median = h[h.len() / 2];
        if median > 0.0 && q > 0.05 * median {
            w.push(Warning {
                code: "coarse-quantisation",
                message: format!(
                    "the ADC step, {q:.3} mA, is {:.0}% of the median burst height ({median:.2} mA): use a smaller V/div or a sense amplifier so that a burst spans at least 20 steps",
                    100.0 * q / median
                ),
                burst: None,
            });
        }
    }
    w
}

/// `12 kS/s`, `2 MS/s`: a sample rate for people.
pub fn fmt_rate(hz: f64) -> String {
    if hz >= 1e6 {
        format!("{:.1} MS/s", hz / 1e6)
    } else if hz >= 1e3 {
        format!("{:.1} kS/s", hz / 1e3)
    } else {
        format!("{hz:.0} S/s")
    }
}

/// Samples a burst's body needs to be measured well by the trapezoid rule.
pub const MIN_GOOD_SAMPLES: u64 = 5;

fn diagnose(
    info: &TraceInfo,
    bursts: &[Burst],
    det: &Detector,
    est: &crate::detect::BaselineEstimate,
    interval_s: f64,
    rows: u64,
    threshold_ma: f64,
) -> Vec<Warning> {
    let mut w = Vec::new();
    for a in &info.assumptions {
        w.push(Warning {
            code: "assumption",
            message: a.clone(),
            burst: None,
        });
    }
    for b in bursts {
        // Samples across the burst's body (its time above the trigger level), tails not counted.
        let body_samples = b.width_ms / 1e3 / interval_s;
        if body_samples < MIN_GOOD_SAMPLES as f64 {
            let rate = 20.0 / (b.width_ms / 1e3).max(interval_s);
            w.push(Warning {
                code: "few-samples",
                message: format!(
                    "burst {} is {:.3} ms wide, only {:.1} samples at {} per sample: its charge may be off by tens of percent; sample at ≥ {} to measure it within a few percent",
                    b.index,
                    b.width_ms,
                    body_samples,
                    fmt_duration(interval_s),
                    fmt_rate(rate)
                ),
                burst: Some(b.index),
            });
        }
        if b.cut_start || b.cut_end {
            w.push(Warning {
                code: "cut-burst",
                message: format!(
                    "burst {} is cut by the {} of the trace or by a gap: its charge is a lower bound",
                    b.index,
                    if b.cut_start { "start" } else { "end" }
                ),
                burst: Some(b.index),
            });
        }
    }
    if !det.gaps.is_empty() {
        let total: f64 = det.gaps.iter().map(|g| g.end_s - g.start_s).sum();
        let g = det.gaps[0];
        w.push(Warning {
            code: "gap",
            message: format!(
                "{} gap(s) in time (steps over 3× the median {}), {} in all, not integrated across; the first from {} s to {} s",
                det.gaps.len(),
                fmt_duration(interval_s),
                fmt_duration(total),
                g.start_s,
                g.end_s
            ),
            burst: None,
        });
    }
    let steps = rows.saturating_sub(1).max(1);
    if det.irregular_steps as f64 > 0.01 * steps as f64 {
        w.push(Warning {
            code: "irregular-sampling",
            message: format!(
                "{} of {} time steps ({:.1}%) differ from the median {} by more than 1% (jitter, or a change of sample rate): integration uses the real time stamps",
                det.irregular_steps,
                steps,
                100.0 * det.irregular_steps as f64 / steps as f64,
                fmt_duration(interval_s)
            ),
            burst: None,
        });
    }
    if det.repeated_times > 0 {
        w.push(Warning {
            code: "repeated-time",
            message: format!(
                "{} samples repeat the time stamp before them: the time column may be too coarse",
                det.repeated_times
            ),
            burst: None,
        });
    }
    if est.quiet_share < 0.5 {
        w.push(Warning {
            code: "baseline-unsure",
            message: format!(
                "only {:.0}% of the samples sit near the estimated baseline: the trace may have no quiet stretch; consider --baseline-ma",
                100.0 * est.quiet_share
            ),
            burst: None,
        });
    }
    if bursts.is_empty() {
        w.push(Warning {
            code: "no-bursts",
            message: format!(
                "no burst rose {threshold_ma:.4} mA above the baseline: lower --threshold-ma if you expected some"
            ),
            burst: None,
        });
    }
    w
}
