//! One trace from file to measured bursts: ingest → calibrate → detect, in two streaming passes
//! (the first a survey for the baseline: the whole file when small, 16 windows of it when large).
//! [`analyze_source`] gives the [`Ingested`] and [`Detection`] stages (and the phase windows
//! measured in the same pass); [`result`] holds every stage's result type and the JSON
//! contract.
//!
//! Memory: about three blocks of samples (a block is about 256 k rows) and the baseline
//! reservoir (2 MB), whatever the file's length (32 MB peak RSS on a 349 MB trace and on a
//! 2.2 GB one). Time: one read of a large file, plus 16 MiB.

use crate::calibrate::Calibration;
use crate::detect::{estimate_baseline, BaselineEstimate, Burst, DetectParams, Detector, Survey};
use crate::error::{Error, Result};
use crate::ingest::{Reader, Source};
use crate::settings::Settings;
use crate::trace::{Chunk, TraceInfo};
use crate::units::fmt_duration;

mod budget;
mod classes;
mod every;
mod result;
mod states;

pub use budget::{budget, main_class, Budget, BudgetPeriod, OneOff, PowerShare};
pub use classes::Class;
pub use every::EveryWindow;
pub use states::SE_BATCHES;

pub use result::{
    Analysis, AnalysisJson, BaselineSource, Detection, Excerpt, Ingested, State, Totals, Warning,
    WarningCode,
};

/// A time stamp in s with as many decimals as the sample interval needs (`0.103`, not
/// `0.10300000000000001`).
fn time_at(t_s: f64, interval_s: f64) -> String {
    let decimals = if interval_s > 0.0 && interval_s.is_finite() {
        (-interval_s.log10()).ceil().clamp(0.0, 12.0) as usize
    } else {
        6
    };
    format!("{t_s:.decimals$}")
}

/// Stream every sample of a file through `f`, in mA, chunk by chunk (one pass, no analysis).
pub fn stream_file(path: &str, s: &Settings, f: impl FnMut(&[f64], &[f64])) -> Result<()> {
    stream_source(&Source::open(path, &s.ingest)?, s, f)
}

/// [`stream_file`] on an opened source.
pub fn stream_source(source: &Source, s: &Settings, f: impl FnMut(&[f64], &[f64])) -> Result<()> {
    let mut f = f;
    for_each_chunk(source, &s.calibration, |c| f(&c.time_s, &c.value)).map(|_| ())
}

/// Stream every chunk of `source` (current in mA, digital channels, supply) through `f`.
pub fn stream_chunks(source: &Source, s: &Settings, f: impl FnMut(&Chunk)) -> Result<()> {
    for_each_chunk(source, &s.calibration, f).map(|_| ())
}

/// Files larger than [`crate::settings::DetectSettings::survey_full_bytes`] are surveyed from [`SURVEY_WINDOWS`] windows of [`SURVEY_WINDOW_BYTES`]
/// spread over the file instead of a full first pass.
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
    fn of(reader: &Reader) -> PassStats {
        let (empty_cells, first_empty_line) = reader.skipped();
        PassStats {
            rows: reader.rows(),
            last_line: reader.last_data_line(),
            empty_cells,
            first_empty_line,
        }
    }
}

/// Stream every sample of `source` through `f`, in mA, chunk by chunk. Reading and parsing run
/// on another thread (and the rayon pool) while `f` works on the previous chunk; chunks are
/// recycled, so memory stays at a few chunks.
fn for_each_chunk(
    source: &Source,
    cal: &Calibration,
    mut f: impl FnMut(&Chunk),
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
            f(&chunk);
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
        let producer = scope.spawn(move || -> Result<Reader> {
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
            f(&chunk);
            let _ = empty_tx.send(chunk);
        }
        drop(empty_tx);
        let reader = producer
            .join()
            .map_err(|_| Error::internal(format!("{}: the reader thread failed", source.path)))??;
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

/// Pass 1, the survey: the whole file when small, windows spread over it when large.
fn survey(source: &Source, settings: &Settings) -> Result<Survey> {
    let cal = settings.calibration;
    let size = source.size();
    // A session file decodes only the value's channels for the survey (a text table's rows
    // are parsed alike either way, and its row count must not change).
    let values = match source.session {
        Some(_) => source.values_only(),
        None => source.clone(),
    };
    let mut survey = if size > settings.detect.survey_full_bytes {
        survey_windows(&values, &cal, size)
    } else {
        Survey::default()
    };
    if survey.samples < 2 {
        survey = Survey::default();
        // Pass 2 reads the file again: a session file's inflated samples are kept for it.
        source.will_reread();
        let pass = for_each_chunk(&values, &cal, |c| survey.push(&c.time_s, &c.value))?;
        check_rows(source, &pass)?;
    }
    Ok(survey)
}

/// The detector's levels: the baseline (given or estimated), the trigger level (given, or
/// 6 × noise and at least 3 ADC steps) and the release level (0.4 × trigger).
fn levels(
    settings: &Settings,
    est: &BaselineEstimate,
    interval_s: f64,
    typical_step_s: f64,
    sleeping: bool,
) -> (DetectParams, BaselineSource) {
    let d = &settings.detect;
    let (baseline_ma, source) = match d.baseline_ma {
        Some(b) => (b, BaselineSource::Given),
        None if sleeping => (est.baseline_ma, BaselineSource::Floor),
        None => (est.baseline_ma, BaselineSource::Auto),
    };
    let q = est.quantisation_ma.unwrap_or(0.0);
    let floor = 1e-9 * baseline_ma.abs().max(1e-3);
    let threshold_ma = d
        .threshold_ma
        .unwrap_or_else(|| (6.0 * est.noise_ma).max(3.0 * q).max(floor));
    let params = DetectParams {
        baseline_ma,
        threshold_ma,
        release_ma: 0.4 * threshold_ma,
        merge_gap_s: d
            .merge_gap_ms
            .unwrap_or(if sleeping && !d.split {
                crate::settings::SLEEP_MERGE_GAP_MS
            } else {
                0.0
            })
            .max(0.0)
            / 1e3,
        min_burst_s: d.min_burst_ms.max(0.0) / 1e3,
        gap_s: d.max_gap_s.unwrap_or(d.gap_factor * typical_step_s),
        interval_s,
        noise_ma: est.noise_ma,
        settle_samples: crate::detect::settle_samples(interval_s),
    };
    (params, source)
}

/// The phase-window tracker the settings ask for, if any: the window column's crossings and the
/// given spans (`--window`, `--windows FILE` shifted by `--events-offset`).
fn window_tracker(
    source: &Source,
    settings: &Settings,
    gap_s: f64,
) -> Result<Option<crate::attribute::windows::Tracker>> {
    use crate::attribute::windows::{read, Tracker};
    let w = &settings.windows;
    let mut spans: crate::attribute::windows::Spans =
        w.spans.iter().map(|&(a, b)| (a, b, None)).collect();
    if let Some(f) = &w.file {
        spans.extend(read(f, settings.labels.events_offset_s.unwrap_or(0.0))?);
    }
    // Given spans are labelled by --window-labels too, after the marker's, else `window`.
    for (k, s) in spans.iter_mut().enumerate().filter(|(_, s)| s.2.is_none()) {
        s.2 = Some(
            w.labels
                .get(k)
                .filter(|_| w.col.is_none())
                .cloned()
                .unwrap_or_else(|| "window".into()),
        );
    }
    let marker = source.layout.window_index.map(|_| {
        (
            w.threshold
                .unwrap_or(crate::settings::DEFAULT_WINDOW_THRESHOLD),
            w.polarity,
        )
    });
    let t = Tracker::new(marker, &spans, gap_s);
    Ok(t.active().then_some(t))
}

/// ∫ V·I dt over a chunk (mA × V × s = mJ), trapezoid on the samples' own time stamps, never
/// across a step longer than `gap_s`; `last` carries the previous sample across chunks.
fn supplied_energy_mj(
    time_s: &[f64],
    current_ma: &[f64],
    supply_v: &[f64],
    gap_s: f64,
    last: &mut Option<(f64, f64)>,
) -> f64 {
    let mut e = 0.0;
    for ((&t, &i), &v) in time_s.iter().zip(current_ma).zip(supply_v) {
        let p = v * i;
        if let Some((t0, p0)) = *last {
            let dt = t - t0;
            if dt <= gap_s {
                e += 0.5 * (p0 + p) * dt;
            }
        }
        *last = Some((t, p));
    }
    e
}

/// The bursts with their energy and the totals: from the measured supply (`measured_total_mj`
/// = ∫ V·I dt; the bursts' energy is the detector's), else from the constant `supply_v`.
fn energies(det: &Detector, supply_v: f64, measured_total_mj: Option<f64>) -> (Vec<Burst>, Totals) {
    let mut bursts = det.bursts.clone();
    if measured_total_mj.is_none() {
        for b in &mut bursts {
            b.energy_mj = b.excess_charge_ma_ms * supply_v / 1e3;
        }
    }
    let mut totals = totals(det, &bursts, supply_v);
    if let Some(total_mj) = measured_total_mj {
        totals.burst_energy_mj = bursts.iter().map(|b| b.energy_mj).sum();
        totals.energy_mj = total_mj;
        totals.mean_mw = total_mj / det.covered_s;
    }
    (bursts, totals)
}

/// Whole-trace totals from the detector and the bursts; energy from a constant supply.
fn totals(det: &Detector, bursts: &[Burst], supply_v: f64) -> Totals {
    let charge_ma_ms = det.charge_mas * 1e3;
    let burst_excess: f64 = bursts.iter().map(|b| b.excess_charge_ma_ms).sum();
    Totals {
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
        dropped_nonpositive: det.dropped_nonpositive,
        energy_mj: charge_ma_ms * supply_v / 1e3,
        mean_mw: if det.covered_s > 0.0 {
            det.charge_mas / det.covered_s * supply_v
        } else {
            f64::NAN
        },
    }
}

/// The constant supply voltage for energies: `--supply-v`, else one the file states (with
/// where it says so), else [`crate::settings::DEFAULT_SUPPLY_V`].
fn constant_supply(settings: &Settings, source: &Source) -> (f64, Option<(f64, String)>) {
    let file_v = source.layout.constant_supply_v.clone();
    let v = match (settings.detect.supply_v, &file_v) {
        (None, Some((v, _))) => *v,
        _ => settings.detect.supply_v(),
    };
    (v, file_v)
}

/// The assumption behind energies from a constant supply voltage (none was measured).
fn constant_supply_note(given: Option<f64>, supply_v: f64, origin: Option<&str>) -> String {
    if let (None, Some(origin)) = (given, origin) {
        return format!(
            "energy at a constant {supply_v} V, {origin} (give --supply-v V to use another)"
        );
    }
    match given {
        Some(_) => format!(
            "energy at a constant {supply_v} V (--supply-v): no supply voltage measured (give \
             --supply-col NAME to use a recorded one)"
        ),
        None => format!(
            "energy at an assumed constant {supply_v} V (the default): no supply voltage \
             measured (give --supply-v V, or --supply-col NAME to use a recorded one)"
        ),
    }
}

/// The levels where the current dwells, the baseline estimate and the floor.
struct Levels {
    states: Vec<State>,
    est: BaselineEstimate,
    /// The floor, its spread and its standard error (batch means), mA.
    floor: Option<(f64, f64, Option<f64>)>,
    /// The device sleeps and the floor is the baseline.
    sleeping: bool,
}

/// The states of the reservoir; a sleeping device's floor is its baseline, estimated from the
/// floor's samples alone (else from all of them, as for an awake device). Cost: one baseline
/// estimate over the reservoir and the states over at most 2^16 of its values.
fn dwell_levels(reservoir: &[f64], settings: &Settings) -> Levels {
    let states = states::states(reservoir);
    let floor_state = states::floor(&states);
    let sleeping = floor_state.is_some_and(|(_, s)| s) && settings.detect.baseline_ma.is_none();
    let samples = floor_state.map(|(f, _)| states::floor_samples(reservoir, f, &states));
    let est = match (&samples, sleeping) {
        (Some(v), true) => estimate_baseline(v),
        _ => estimate_baseline(reservoir),
    };
    // The floor and its spread: the estimate when it is the baseline, else its state's.
    let floor = floor_state.map(|(f, _)| {
        let se = samples.as_deref().and_then(states::batch_se);
        if sleeping {
            (est.baseline_ma, est.noise_ma, se)
        } else {
            (f.level_ma, f.sd_ma, se)
        }
    });
    Levels {
        states,
        est,
        floor,
        sleeping,
    }
}

/// The marker column's rising edges, found as the samples stream past.
struct Edges {
    threshold: f64,
    high: Option<bool>,
    rising_s: Vec<f64>,
}

impl Edges {
    fn new(threshold: f64) -> Edges {
        Edges {
            threshold,
            high: None,
            rising_s: Vec::new(),
        }
    }

    fn push(&mut self, time_s: &[f64], marker: &[f64]) {
        for (&t, &m) in time_s.iter().zip(marker) {
            // An undefined state (NaN: a PPK2 channel's `00`) keeps the state before it.
            if m.is_nan() {
                continue;
            }
            let high = m >= self.threshold;
            if high && self.high == Some(false) {
                self.rising_s.push(t);
            }
            self.high = Some(high);
        }
    }
}

/// What the detection pass gives: the ingest and detection stages, the phase windows measured
/// in the same pass, and their warnings.
pub struct Measured {
    pub ingest: Ingested,
    pub detection: Detection,
    pub windows: Vec<crate::attribute::windows::Window>,
    /// `--every`'s windows.
    pub every: Vec<EveryWindow>,
    pub warnings: Vec<Warning>,
}

/// Survey, then detect and integrate, on an opened source (which a later pass may read again:
/// a session file's inflated copy lives as long as the source). Every sample of the detection
/// pass (time in s, current in mA) is also shown to `observe`: a plot's envelope is built in
/// the same pass, at no extra read.
pub fn analyze_source(
    source: &Source,
    settings: &Settings,
    observe: &mut dyn FnMut(&[f64], &[f64]),
) -> Result<Measured> {
    let path = source.path.as_str();
    let cal = settings.calibration;
    let survey = survey(source, settings)?;
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
    let Levels {
        states,
        est,
        floor,
        sleeping,
    } = dwell_levels(survey.reservoir(), settings);
    // Gaps are judged against how the steps spread, not the median alone: a logger that
    // delivers samples in packets (steps from 0.2 ms to 0.7 s) has long steps that are not gaps.
    let typical_step_s = interval_s.max(survey.step_quantile_s(0.99));
    let (params, baseline_source) = levels(settings, &est, interval_s, typical_step_s, sleeping);

    // Pass 2: detect and integrate; rising edges of the marker column start events; phase
    // windows are measured in the same pass.
    let mut det = Detector::new(params);
    let mut windows = window_tracker(source, settings, params.gap_s)?;
    let measured = source.layout.supply.is_some();
    let mut power = Vec::new();
    let mut edges = Edges::new(settings.labels.marker_threshold);
    // With a measured supply: ∫ V·I dt over the trace, never across a gap (the bursts' energy
    // is the detector's, over the same steps as their charge).
    let mut total_mj = 0.0;
    let mut last: Option<(f64, f64)> = None;
    let gap_s = params.gap_s;
    let mut every = settings.detect.every_s.map(|w| every::Every::new(w, gap_s));
    let pass = for_each_chunk(source, &cal, |c| {
        if let Some(e) = &mut every {
            e.push(&c.time_s, &c.value, if measured { &c.supply } else { &[] });
        }
        if measured {
            det.push_supplied(&c.time_s, &c.value, &c.supply);
            total_mj += supplied_energy_mj(&c.time_s, &c.value, &c.supply, gap_s, &mut last);
        } else {
            det.push(&c.time_s, &c.value);
        }
        observe(&c.time_s, &c.value);
        if let Some(w) = &mut windows {
            let p: &[f64] = if measured {
                power.clear();
                power.extend(c.value.iter().zip(&c.supply).map(|(i, v)| i * v));
                &power
            } else {
                &c.value
            };
            w.push(&c.time_s, &c.value, p, &c.window);
        }
        edges.push(&c.time_s, &c.marker);
    })?;
    let marker_edges_s = edges.rising_s;
    check_rows(source, &pass)?;
    let det = det.finish();

    let (supply_v, file_v) = constant_supply(settings, source);
    let every = every.map_or_else(Vec::new, |e| e.finish(measured, supply_v));
    let (mut bursts, totals) = energies(&det, supply_v, measured.then_some(total_mj));
    let (baseline_ma, threshold_ma) = (params.baseline_ma, params.threshold_ma);
    let classes = classes::classify(&mut bursts, baseline_ma, totals.charge_ma_ms);
    let labels = &settings.windows.labels;
    let (windows, from_marker) = windows
        .map(|w| w.finish(baseline_ma, measured, supply_v, labels, &bursts))
        .unwrap_or_default();
    let mut info = source.info();
    let mut warnings = diagnose(
        &info,
        &bursts,
        &det,
        &est,
        interval_s,
        pass.rows,
        threshold_ma,
    );
    // Said in `input.assumptions` and the table, but no warning.
    info.assumptions.extend(baseline_notes(
        baseline_source,
        baseline_ma,
        &states,
        (!measured).then_some((settings.detect.supply_v, supply_v, file_v.map(|f| f.1))),
    ));
    warnings.extend(quality(
        survey.reservoir(),
        &est,
        baseline_ma,
        threshold_ma,
        &bursts,
    ));
    if settings.windows.col.is_some() && from_marker < labels.len() {
        warnings.push(Warning::new(
            WarningCode::Windows,
            format!(
                "{} window labels given, but the window column marks only {from_marker} windows",
                labels.len()
            ),
        ));
    }
    warnings.extend(empty_cells_warning(source, &pass));
    Ok(Measured {
        ingest: Ingested {
            file: path.to_string(),
            format: info.format.clone(),
            quantity: info.quantity,
            samples: pass.rows,
            sample_interval_s: interval_s,
            first_time_s: det.first_time_s,
            calibration: cal,
            calibration_text: cal.describe(info.quantity),
            input: info,
            gaps: det.gaps.clone(),
            marker_edges_s,
        },
        detection: Detection {
            baseline_ma,
            baseline_source,
            noise_ma: est.noise_ma,
            threshold_ma,
            release_ma: params.release_ma,
            quantisation_ma: est.quantisation_ma,
            floor_ma: floor.map(|f| f.0),
            floor_sd_ma: floor.map(|f| f.1),
            floor_se_ma: floor.and_then(|f| f.2),
            states,
            supply_v,
            totals,
            bursts,
            classes,
        },
        windows,
        every,
        warnings,
    })
}

/// What the baseline and the energies assume: the sleep floor as the baseline, a constant
/// supply (`constant`: the given and the used voltage) when none was measured.
fn baseline_notes(
    source: BaselineSource,
    baseline_ma: f64,
    states: &[State],
    constant: Option<(Option<f64>, f64, Option<String>)>,
) -> Vec<String> {
    let mut notes = Vec::new();
    let top = states.iter().map(|s| s.level_ma).reduce(f64::max);
    if let (BaselineSource::Floor, Some(top)) = (source, top) {
        notes.push(format!(
            "baseline: the sleep floor, {} (the lowest level the current keeps returning to; it \
             wakes to {}): give --baseline-ma to measure above another level",
            crate::units::fmt_current(baseline_ma),
            crate::units::fmt_current(top)
        ));
    }
    if let Some((given, used, origin)) = constant {
        notes.push(constant_supply_note(given, used, origin.as_deref()));
    }
    notes
}

/// The warning for samples without a value (empty cells, NaN samples of a session), if any.
fn empty_cells_warning(source: &Source, pass: &PassStats) -> Option<Warning> {
    (pass.empty_cells > 0).then(|| {
        Warning::new(
            WarningCode::EmptyCells,
            if source.session.is_some() {
                format!(
                    "{} samples without a value (NaN) skipped as missing, the first is sample {} (counted from 0)",
                    pass.empty_cells, pass.first_empty_line
                )
            } else {
                format!(
                    "{} rows with an empty value cell skipped as missing samples, the first on line {}",
                    pass.empty_cells, pass.first_empty_line
                )
            },
        )
    })
}

/// Measurement-quality checks on the baseline reservoir (a time-ordered, decimated sample of
/// the trace): clipping at the rails, baseline drift, ADC steps large against the bursts.
fn quality(
    values: &[f64],
    est: &BaselineEstimate,
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
            code: WarningCode::Clipping,
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
            code: WarningCode::Clipping,
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
                code: WarningCode::BaselineDrift,
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
                code: WarningCode::CoarseQuantisation,
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
    est: &BaselineEstimate,
    interval_s: f64,
    rows: u64,
    threshold_ma: f64,
) -> Vec<Warning> {
    let mut w = Vec::new();
    for a in &info.assumptions {
        w.push(Warning {
            code: WarningCode::Assumption,
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
                code: WarningCode::FewSamples,
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
                code: WarningCode::CutBurst,
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
        let gap_s = det.gap_s();
        let total: f64 = det.gaps.iter().map(|g| g.end_s - g.start_s).sum();
        let g = det.gaps[0];
        w.push(Warning {
            code: WarningCode::Gap,
            message: format!(
                "{} gap(s) in time (steps over {}), {} in all left out of every integral (never integrated across); the first from {} s to {} s. Give --max-gap DURATION to treat longer steps as samples",
                det.gaps.len(),
                fmt_duration(gap_s),
                fmt_duration(total),
                time_at(g.start_s, interval_s),
                time_at(g.end_s, interval_s)
            ),
            burst: None,
        });
    }
    let steps = rows.saturating_sub(1).max(1);
    if det.irregular_steps as f64 > 0.01 * steps as f64 {
        w.push(Warning {
            code: WarningCode::IrregularSampling,
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
            code: WarningCode::RepeatedTime,
            message: format!(
                "{} samples repeat the time stamp before them: the time column may be too coarse",
                det.repeated_times
            ),
            burst: None,
        });
    }
    if est.quiet_share < 0.5 {
        w.push(Warning {
            code: WarningCode::BaselineUnsure,
            message: format!(
                "only {:.0}% of the samples sit near the estimated baseline: the trace may have no quiet stretch; consider --baseline-ma",
                100.0 * est.quiet_share
            ),
            burst: None,
        });
    }
    if bursts.is_empty() {
        w.push(Warning {
            code: WarningCode::NoBursts,
            message: format!(
                "no burst rose {threshold_ma:.4} mA above the baseline: lower --threshold-ma if you expected some"
            ),
            burst: None,
        });
    }
    w
}
