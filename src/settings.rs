//! Settings: everything a run needs besides its files, in one type, with every default in one
//! place ([`Settings::default`]).
//!
//! Settings come in layers: the defaults, then the command line, then (in `batch`) a manifest
//! row's columns and its `options` cell. Each layer is a [`SettingsArgs`], every field optional,
//! and [`SettingsArgs::apply`] overrides only what a layer sets. The command line and the
//! manifest's `options` column parse into the same [`SettingsArgs`], so a flag that exists for
//! one exists for the other.

use crate::attribute::pcap::PcapOptions;
use crate::attribute::LabelSource;
use crate::calibrate::Calibration;
use crate::error::{Error, Result};
use crate::ingest::IngestOptions;
use clap::{Args, Parser};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Everything a run of the pipeline needs besides the file. Serialised into report.json with
/// each file's outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Settings {
    pub ingest: IngestOptions,
    pub calibration: Calibration,
    pub detect: DetectSettings,
    pub labels: LabelSettings,
    pub capture: CaptureSettings,
    pub windows: WindowSettings,
    pub budget: BudgetSettings,
    /// Events whose down-sampled excerpts are kept in the results (for galleries); 0: none.
    pub excerpts: usize,
}

/// The supply voltage when neither `--supply-v` nor a supply column gives one: USB's 5 V.
pub const DEFAULT_SUPPLY_V: f64 = 5.0;

impl DetectSettings {
    /// The constant supply voltage, V: `--supply-v`, else [`DEFAULT_SUPPLY_V`].
    pub fn supply_v(&self) -> f64 {
        self.supply_v.unwrap_or(DEFAULT_SUPPLY_V)
    }
}

/// Bursts of a sleeping device closer than this are one wake-up, ms (unless --merge-gap-ms).
pub const SLEEP_MERGE_GAP_MS: f64 = 1.0;

/// Finding bursts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct DetectSettings {
    /// Fixed baseline in mA instead of the estimate.
    pub baseline_ma: Option<f64>,
    /// Burst trigger level above the baseline in mA instead of 6 × noise.
    pub threshold_ma: Option<f64>,
    /// Bursts shorter than this are dropped, ms.
    pub min_burst_ms: f64,
    /// Bursts closer than this are joined, ms.
    /// None: 0 for a device that never sleeps, `SLEEP_MERGE_GAP_MS` (1 ms) for one measured above
    /// its sleep floor (range-switch glitches never split a wake-up).
    pub merge_gap_ms: Option<f64>,
    /// A constant supply voltage for energy = charge × supply, V; None: a supply column the
    /// file carries, else [`DEFAULT_SUPPLY_V`].
    pub supply_v: Option<f64>,
    /// A time step longer than this many typical steps is a gap (typical: the larger of the
    /// median and the 99th-percentile step, so packet-delivered samples are not all gaps).
    pub gap_factor: f64,
    /// A time step longer than this is a gap, s (`--max-gap`); None: `gap_factor` typical steps.
    pub max_gap_s: Option<f64>,
    /// Mean current, charge and energy of consecutive windows this long from the first
    /// sample, s (`--every`).
    pub every_s: Option<f64>,
    /// Keep a sleeping device's wake-ups split into their bursts (`--split`): no default join.
    pub split: bool,
    /// Files larger than this are surveyed for the baseline from 16 windows instead of a full
    /// first pass, bytes.
    pub survey_full_bytes: u64,
}

/// The energy budget of one file: periods to cost and the battery.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct BudgetSettings {
    /// Periods to cost a class at (`--at-period [CLASS=]DURATION`); class None: the main class.
    pub at_periods: Vec<AtPeriod>,
    /// Battery capacity, mAh (`--battery-mah`): battery life for each period.
    pub battery_mah: Option<f64>,
    /// Battery voltage, V (`--battery-v`); None: the supply (measured, else constant).
    pub battery_v: Option<f64>,
}

/// A period to cost a class at.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct AtPeriod {
    /// The class (its number in `classes[]`); None: the recurring class holding most charge.
    pub class: Option<usize>,
    pub period_s: f64,
}

/// `10s` or `2=10s`: a period, for the main class or a given one.
fn parse_at_period(s: &str) -> std::result::Result<AtPeriod, String> {
    let (class, period) = match s.split_once('=') {
        Some((c, p)) => (
            Some(c.trim().parse::<usize>().map_err(|_| {
                format!("expected CLASS=DURATION with a class number, such as 2=10s, found \"{s}\"")
            })?),
            p,
        ),
        None => (None, s),
    };
    let period_s = parse_duration(period)?;
    if !(period_s > 0.0 && period_s.is_finite()) {
        return Err(format!("expected a positive period, found \"{s}\""));
    }
    Ok(AtPeriod { class, period_s })
}

/// Labelling bursts as events (connection set-up, messages).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LabelSettings {
    /// One event per period, counted from the first burst, s.
    pub period_s: Option<f64>,
    /// Label of the first event (the connection set-up).
    pub first_label: String,
    /// Label of the later events, and the label compared across groups.
    pub label: String,
    /// A `time_s,label` CSV (a device log).
    pub events: Option<String>,
    /// Seconds added to the events file's times; None: estimated.
    pub events_offset_s: Option<f64>,
    /// How much earlier than its event a burst may start, ms.
    pub tolerance_ms: f64,
    /// How long after its event a burst may start, ms.
    pub event_window_ms: f64,
    /// A marker column is high at or above this value (the column's own units).
    pub marker_threshold: f64,
}

/// Phase windows: spans of time measured whatever the bursts (from a marker column, a file of
/// intervals or given times).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct WindowSettings {
    /// The window column: a window wherever it is at or above the level.
    pub col: Option<String>,
    /// The level; None: [`DEFAULT_WINDOW_THRESHOLD`] (for digital channels).
    pub threshold: Option<f64>,
    /// `low`: a window wherever the column is at or below the level (an active-low line).
    pub polarity: crate::attribute::windows::Polarity,
    /// A CSV of `start_s,end_s,label`, on the trace's clock (or shifted by --events-offset).
    pub file: Option<String>,
    /// Given windows, s.
    pub spans: Vec<(f64, f64)>,
    /// Labels of the windows from the marker column, in order.
    pub labels: Vec<String>,
}

/// The window column's level when none is given: halfway for a digital channel (0/1).
pub const DEFAULT_WINDOW_THRESHOLD: f64 = 0.5;

/// A packet capture recorded beside the trace.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CaptureSettings {
    /// The capture (pcap or pcapng).
    pub pcap: Option<String>,
    /// `PROTOCOL=PORT` mappings on top of 80, 443, 1883, 8883.
    pub ports: Vec<String>,
    /// Trace time = packet time + offset, s; None: estimated.
    pub offset_s: Option<f64>,
    /// How far outside a burst an exchange's first packet may fall and still belong to it, ms.
    pub tolerance_ms: f64,
    /// Keep only packets to or from these addresses.
    pub hosts: Vec<String>,
}

impl Default for DetectSettings {
    fn default() -> Self {
        DetectSettings {
            baseline_ma: None,
            threshold_ma: None,
            min_burst_ms: 0.0,
            merge_gap_ms: None,
            supply_v: None,
            gap_factor: 3.0,
            max_gap_s: None,
            every_s: None,
            split: false,
            survey_full_bytes: 64 << 20,
        }
    }
}

impl Default for LabelSettings {
    fn default() -> Self {
        LabelSettings {
            period_s: None,
            first_label: "connect".into(),
            label: "message".into(),
            events: None,
            events_offset_s: None,
            tolerance_ms: 50.0,
            event_window_ms: 500.0,
            marker_threshold: 0.5,
        }
    }
}

impl Default for CaptureSettings {
    fn default() -> Self {
        CaptureSettings {
            pcap: None,
            ports: Vec::new(),
            offset_s: None,
            tolerance_ms: 2.0,
            hosts: Vec::new(),
        }
    }
}

impl Settings {
    /// Check what no reader can: positive resistances and voltages, known port names.
    pub fn validate(&self) -> Result<()> {
        self.calibration.validate()?;
        let d = &self.detect;
        if !(d.supply_v().is_finite() && d.supply_v() > 0.0) {
            return Err(Error::usage(
                "--supply-v must be a positive number of volts",
            ));
        }
        if let Some(t) = d.threshold_ma {
            if !(t > 0.0 && t.is_finite()) {
                return Err(Error::usage(format!(
                    "--threshold-ma must be positive (an excess above the baseline), found {t}"
                )));
            }
        }
        if let Some(e) = d.every_s {
            if !(e > 0.0 && e.is_finite()) {
                return Err(Error::usage(format!(
                    "--every must be a positive duration, found {e} s"
                )));
            }
        }
        if let Some(g) = d.max_gap_s {
            if !(g > 0.0 && g.is_finite()) {
                return Err(Error::usage(format!(
                    "--max-gap must be a positive duration, found {g} s"
                )));
            }
        }
        if let Some(p) = self.labels.period_s {
            if !(p > 0.0 && p.is_finite()) {
                return Err(Error::usage(format!(
                    "--period must be a positive duration, found {p} s"
                )));
            }
        }
        for (name, v) in [
            ("--battery-mah", self.budget.battery_mah),
            ("--battery-v", self.budget.battery_v),
        ] {
            if let Some(v) = v.filter(|v| !(*v > 0.0 && v.is_finite())) {
                return Err(Error::usage(format!(
                    "{name} must be a positive number, found {v}"
                )));
            }
        }
        crate::capture::PortMap::with(&self.capture.ports)?;
        Ok(())
    }

    /// Where the labels come from: the marker column, else the events file, else the schedule,
    /// else every burst is its own event.
    pub fn label_source(&self) -> LabelSource {
        let l = &self.labels;
        let (tolerance_s, window_s) = (l.tolerance_ms / 1e3, l.event_window_ms / 1e3);
        if self.ingest.marker_col.is_some() {
            LabelSource::Marker {
                first_label: l.first_label.clone(),
                label: l.label.clone(),
                tolerance_s,
                window_s,
            }
        } else if let Some(path) = &l.events {
            LabelSource::EventsFile {
                path: path.clone(),
                offset_s: l.events_offset_s,
                tolerance_s,
                window_s,
            }
        } else if let Some(period_s) = l.period_s {
            LabelSource::Schedule {
                period_s,
                first_label: l.first_label.clone(),
                label: l.label.clone(),
            }
        } else {
            LabelSource::Bursts
        }
    }

    /// The capture's options, when there is a capture.
    pub fn pcap_options(&self) -> Option<PcapOptions> {
        let c = &self.capture;
        c.pcap.as_ref().map(|path| PcapOptions {
            path: path.clone(),
            ports: c.ports.clone(),
            offset_s: c.offset_s,
            tolerance_ms: c.tolerance_ms,
            hosts: c.hosts.clone(),
        })
    }
}

/// A clock offset in seconds, or None for `auto` (estimated).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Offset(pub Option<f64>);

/// `auto` or a number of seconds.
pub fn parse_offset(s: &str) -> std::result::Result<Offset, String> {
    if s.trim() == "auto" {
        return Ok(Offset(None));
    }
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(|v| Offset(Some(v)))
        .ok_or_else(|| format!("expected seconds or auto, found \"{s}\""))
}

fn parse_duration(s: &str) -> std::result::Result<f64, String> {
    crate::units::parse_duration_s(s).map_err(|e| e.message)
}

/// `16M`, `64MiB`, `1000000`: a byte count.
fn parse_bytes(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("expected a number of bytes such as 16M, found \"{s}\""))?;
    let k: u64 = match unit.trim() {
        "" | "B" => 1,
        "k" | "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        _ => {
            return Err(format!(
                "expected a number of bytes such as 16M, found \"{s}\""
            ))
        }
    };
    n.checked_mul(k)
        .ok_or_else(|| format!("{s}: too many bytes"))
}

/// `[default: X]` after a flag's help, from [`Settings::default`].
fn with_default(text: &str, value: impl std::fmt::Display) -> String {
    format!("{text} [default: {value}]")
}

fn defaults() -> Settings {
    Settings::default()
}

/// Reading the file. Every field optional: a layer sets only what it names.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Reading the file")]
pub struct IngestArgs {
    /// Force the input format (see `shuntscope formats`) instead of detecting it.
    #[arg(long, value_name = "NAME")]
    pub input_format: Option<String>,

    /// Time between samples (0.0001, 100us, 0.1ms), for files without a time column; overrides one.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub sample_interval: Option<f64>,

    /// DSO Nano: the screen pixel row (0-199) of 0 V.
    #[arg(long, value_name = "PX")]
    pub zero_px: Option<f64>,

    /// The time column, by header name or 1-based number.
    #[arg(long, value_name = "NAME|N")]
    pub time_col: Option<String>,

    /// The value column (the channel, in a file with several), by header name or 1-based number.
    #[arg(long, visible_alias = "channel", value_name = "NAME|N")]
    pub value_col: Option<String>,

    /// Unit of the value column: V, mV, uV (shunt voltage) or A, mA, uA, nA (current).
    #[arg(long, value_name = "UNIT")]
    pub unit: Option<String>,

    /// Unit of the time column when the header does not say: s, ms, us, ns.
    #[arg(long, value_name = "UNIT")]
    pub time_unit: Option<String>,

    /// A supply-voltage column (a scope channel on the supply, a USB meter's voltage), by header
    /// name or 1-based number: energy becomes ∫ V·I dt instead of charge × --supply-v.
    #[arg(long, value_name = "NAME|N")]
    pub supply_col: Option<String>,

    /// Read files instead of memory-mapping them (large files are mapped, which is faster; a
    /// mapped file that another program shortens while it is read stops the run).
    #[arg(long)]
    pub no_mmap: bool,

    /// Memory-map files of at least this many bytes (16M, 1G, 0 for every file).
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, help = with_default(
        "Memory-map files of at least this many bytes (16M, 1G, 0 for every file)",
        defaults().ingest.mmap_min_bytes))]
    pub mmap_min_bytes: Option<u64>,

    /// Parse with the scalar parser only (no SSE4.1 shape reader): the reference path.
    #[arg(long)]
    pub no_simd: bool,
}

impl IngestArgs {
    /// Override what this layer sets.
    pub fn apply(&self, o: &mut IngestOptions) {
        set_some(&mut o.sample_interval_s, self.sample_interval);
        set_some(&mut o.zero_px, self.zero_px);
        for (dst, src) in [
            (&mut o.input_format, &self.input_format),
            (&mut o.time_col, &self.time_col),
            (&mut o.value_col, &self.value_col),
            (&mut o.unit, &self.unit),
            (&mut o.time_unit, &self.time_unit),
            (&mut o.supply_col, &self.supply_col),
        ] {
            if src.is_some() {
                dst.clone_from(src);
            }
        }
        o.no_mmap |= self.no_mmap;
        o.no_simd |= self.no_simd;
        set(&mut o.mmap_min_bytes, self.mmap_min_bytes);
    }

    /// The options of this layer alone, on the defaults.
    pub fn options(&self) -> IngestOptions {
        let mut o = IngestOptions::default();
        self.apply(&mut o);
        o
    }
}

/// Voltage to current.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Voltage to current")]
pub struct CalibrateArgs {
    #[arg(long, value_name = "OHMS", help = with_default(
        "Shunt resistance in ohms: I = (V − offset) / R / gain",
        defaults().calibration.shunt_ohms))]
    pub shunt_ohms: Option<f64>,

    #[arg(long, value_name = "GAIN", help = with_default(
        "Probe attenuation or sense-amplifier gain between shunt and instrument",
        defaults().calibration.gain))]
    pub gain: Option<f64>,

    #[arg(long, value_name = "MV", allow_hyphen_values = true, help = with_default(
        "Voltage the instrument shows at zero current, in mV",
        defaults().calibration.offset_mv))]
    pub offset_mv: Option<f64>,
}

impl CalibrateArgs {
    pub fn apply(&self, c: &mut Calibration) {
        set(&mut c.shunt_ohms, self.shunt_ohms);
        set(&mut c.gain, self.gain);
        set(&mut c.offset_mv, self.offset_mv);
    }
}

/// Finding bursts.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Finding bursts")]
pub struct DetectArgs {
    /// Use this baseline (idle current) in mA instead of estimating it.
    #[arg(long, value_name = "MA")]
    pub baseline_ma: Option<f64>,

    /// A burst starts this many mA above the baseline (default: 6 × noise, at least 3 ADC steps).
    #[arg(long, value_name = "MA")]
    pub threshold_ma: Option<f64>,

    #[arg(long, value_name = "MS", help = with_default(
        "Drop bursts shorter than this, in ms", defaults().detect.min_burst_ms))]
    pub min_burst_ms: Option<f64>,

    /// Join bursts separated by less than this, in ms (default: 0, or 1 ms when the device
    /// sleeps and bursts are measured above its sleep floor, so that range-switch glitches never
    /// split a wake-up).
    #[arg(long, value_name = "MS")]
    pub merge_gap_ms: Option<f64>,

    #[arg(long, value_name = "V", help = with_default(
        "Supply voltage in V, a constant for energy = charge × supply (overrides a voltage column \
         the file carries)", DEFAULT_SUPPLY_V))]
    pub supply_v: Option<f64>,

    /// A time step longer than this is a gap, never integrated across (e.g. 2s, 50ms); default:
    /// 3 × the typical step (the larger of the median and the 99th-percentile step).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_gap: Option<f64>,

    /// The mean current, charge and energy of consecutive windows this long from the first
    /// sample (JSON `every[]`; with --format csv, the CSV is these windows); the last may be
    /// partial.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub every: Option<f64>,

    /// Keep a sleeping device's wake-ups split into the bursts inside them (no 1 ms join).
    #[arg(long)]
    pub split: bool,

    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, help = with_default(
        "Survey files larger than this for the baseline from 16 windows instead of a full pass",
        defaults().detect.survey_full_bytes))]
    pub survey_full_bytes: Option<u64>,
}

impl DetectArgs {
    pub fn apply(&self, d: &mut DetectSettings) {
        set_some(&mut d.baseline_ma, self.baseline_ma);
        set_some(&mut d.threshold_ma, self.threshold_ma);
        set(&mut d.min_burst_ms, self.min_burst_ms);
        set_some(&mut d.merge_gap_ms, self.merge_gap_ms);
        set_some(&mut d.supply_v, self.supply_v);
        set_some(&mut d.max_gap_s, self.max_gap);
        set_some(&mut d.every_s, self.every);
        d.split |= self.split;
        set(&mut d.survey_full_bytes, self.survey_full_bytes);
    }
}

/// The energy budget.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Energy budget")]
pub struct BudgetArgs {
    /// Also cost the budget with the main recurring class (or class N with N=DURATION) at this
    /// period, e.g. 1s, 2=10s; repeatable.
    #[arg(long, value_name = "[CLASS=]DURATION", value_parser = parse_at_period)]
    pub at_period: Vec<AtPeriod>,

    /// Battery capacity in mAh: the budget gives the battery life at each period.
    #[arg(long, value_name = "MAH")]
    pub battery_mah: Option<f64>,

    /// Battery voltage in V, for the battery's energy (mAh × V) [default: the supply, measured
    /// or constant].
    #[arg(long, value_name = "V")]
    pub battery_v: Option<f64>,
}

impl BudgetArgs {
    pub fn apply(&self, b: &mut BudgetSettings) {
        if !self.at_period.is_empty() {
            b.at_periods = self.at_period.clone();
        }
        set_some(&mut b.battery_mah, self.battery_mah);
        set_some(&mut b.battery_v, self.battery_v);
    }
}

/// Labelling bursts as events.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Labelling bursts as events")]
pub struct LabelArgs {
    /// One event per period, counted from the first burst: the first is --first-label, the
    /// rest --label (e.g. 1s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub period: Option<f64>,

    #[arg(long, value_name = "LABEL", help = with_default(
        "Label of the first event of a schedule (the connection set-up)",
        defaults().labels.first_label))]
    pub first_label: Option<String>,

    #[arg(long, value_name = "LABEL", help = with_default(
        "Label of the later events of a schedule, and the label compared across groups",
        defaults().labels.label))]
    pub label: Option<String>,

    /// A `time_s,label` CSV (a device log): each burst goes to the event around it.
    #[arg(long, value_name = "FILE")]
    pub events: Option<String>,

    /// Seconds added to the events file's times to put them on the trace's clock, or `auto`
    /// (estimated) [default: auto].
    #[arg(long, value_name = "SECONDS|auto", allow_hyphen_values = true, value_parser = parse_offset)]
    pub events_offset: Option<Offset>,

    #[arg(long, value_name = "MS", help = with_default(
        "How much earlier than its event a burst may start, ms", defaults().labels.tolerance_ms))]
    pub tolerance_ms: Option<f64>,

    #[arg(long, value_name = "MS", help = with_default(
        "How long after its event a burst may start, ms", defaults().labels.event_window_ms))]
    pub event_window_ms: Option<f64>,

    /// A marker column in the trace (a GPIO line, PPK2's D0, a second channel), by name or
    /// number: each rising edge starts an event.
    #[arg(long, value_name = "NAME|N")]
    pub marker_col: Option<String>,

    #[arg(long, value_name = "LEVEL", help = with_default(
        "The marker is high at or above this value (in the column's own units)",
        defaults().labels.marker_threshold))]
    pub marker_threshold: Option<f64>,
}

impl LabelArgs {
    pub fn apply(&self, s: &mut Settings) {
        let l = &mut s.labels;
        set_some(&mut l.period_s, self.period);
        set(&mut l.first_label, self.first_label.clone());
        set(&mut l.label, self.label.clone());
        set_some(&mut l.events, self.events.clone());
        set(&mut l.events_offset_s, self.events_offset.map(|o| o.0));
        set(&mut l.tolerance_ms, self.tolerance_ms);
        set(&mut l.event_window_ms, self.event_window_ms);
        set(&mut l.marker_threshold, self.marker_threshold);
        set_some(&mut s.ingest.marker_col, self.marker_col.clone());
    }
}

/// A packet capture recorded beside the trace.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Packet capture")]
pub struct CaptureArgs {
    /// A pcap or pcapng capture of the same run: bytes, packets and charge per protocol phase.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<String>,

    /// Map a server port to a protocol, on top of http=80, https=443, mqtt=1883, mqtts=8883
    /// (repeatable), e.g. mqtt=1884.
    #[arg(long = "port", value_name = "PROTOCOL=PORT")]
    pub ports: Vec<String>,

    /// Trace time = packet time (s since the capture's first packet) + SECONDS; default:
    /// estimated by matching packets to bursts.
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true)]
    pub pcap_offset: Option<f64>,

    #[arg(long, value_name = "MS", help = with_default(
        "How far outside a burst an exchange's first packet may fall and still belong to it",
        defaults().capture.tolerance_ms))]
    pub pcap_tolerance_ms: Option<f64>,

    /// Keep only packets to or from this address (the device's; repeatable).
    #[arg(long = "pcap-host", value_name = "ADDR")]
    pub pcap_hosts: Vec<String>,
}

impl CaptureArgs {
    pub fn apply(&self, c: &mut CaptureSettings) {
        set_some(&mut c.pcap, self.pcap.clone());
        // Port mappings add up across layers; hosts are replaced.
        c.ports.extend(self.ports.iter().cloned());
        set_some(&mut c.offset_s, self.pcap_offset);
        set(&mut c.tolerance_ms, self.pcap_tolerance_ms);
        if !self.pcap_hosts.is_empty() {
            c.hosts.clone_from(&self.pcap_hosts);
        }
    }
}

/// `1.2s..3.4s` (or `1.2..3.4`): a window of time.
fn parse_span(s: &str) -> std::result::Result<(f64, f64), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("expected START..END such as 1.2s..3.4s, found \"{s}\""))?;
    let a = crate::units::parse_time_s(a).map_err(|e| e.message)?;
    let b = crate::units::parse_time_s(b).map_err(|e| e.message)?;
    if b <= a {
        return Err(format!("the end must come after the start, found \"{s}\""));
    }
    Ok((a, b))
}

/// Phase windows from a marker column or a file (the part `plot` takes too; its `--window`
/// zooms).
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Phase windows")]
pub struct PhaseArgs {
    /// A window column (a GPIO line, PPK2's D0, a scope channel), by name or number: every span
    /// where it is at or above --window-threshold is a window.
    #[arg(long, value_name = "NAME|N")]
    pub window_col: Option<String>,

    #[arg(long, value_name = "LEVEL", allow_hyphen_values = true, help = with_default(
        "The window column's level, in its own units", DEFAULT_WINDOW_THRESHOLD))]
    pub window_threshold: Option<f64>,

    /// `low`: windows where the column is at or below the level (an active-low line).
    #[arg(long, value_enum, value_name = "high|low")]
    pub window_polarity: Option<crate::attribute::windows::Polarity>,

    /// A CSV of start_s,end_s,label: the windows, on the trace's clock (or shifted by
    /// --events-offset).
    #[arg(long, value_name = "FILE")]
    pub windows: Option<String>,

    /// Names of the windows from --window-col, in order (e.g. boot,connect,network,packet).
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub window_labels: Vec<String>,
}

/// Phase windows: the marker column or file, and given spans.
#[derive(Args, Debug, Clone, Default)]
pub struct WindowArgs {
    #[command(flatten)]
    pub phase: PhaseArgs,

    /// A window of time, e.g. 1.2s..3.4s (repeatable).
    #[arg(long = "window", value_name = "START..END", value_parser = parse_span, next_line_help = false, help_heading = "Phase windows")]
    pub spans: Vec<(f64, f64)>,
}

impl WindowArgs {
    pub fn apply(&self, s: &mut Settings) {
        let (p, w) = (&self.phase, &mut s.windows);
        set_some(&mut w.col, p.window_col.clone());
        set_some(&mut w.threshold, p.window_threshold);
        set(&mut w.polarity, p.window_polarity);
        set_some(&mut w.file, p.windows.clone());
        if !p.window_labels.is_empty() {
            w.labels.clone_from(&p.window_labels);
        }
        if !self.spans.is_empty() {
            w.spans.clone_from(&self.spans);
        }
        set_some(&mut s.ingest.window_col, p.window_col.clone());
    }
}

/// One layer of settings: the flags of analyze, batch and plot, and of a manifest's `options`.
#[derive(Args, Debug, Clone, Default)]
pub struct SettingsArgs {
    #[command(flatten)]
    pub ingest: IngestArgs,
    #[command(flatten)]
    pub calibrate: CalibrateArgs,
    #[command(flatten)]
    pub detect: DetectArgs,
    #[command(flatten)]
    pub labels: LabelArgs,
    #[command(flatten)]
    pub capture: CaptureArgs,
    #[command(flatten)]
    pub windows: WindowArgs,
    #[command(flatten)]
    pub budget: BudgetArgs,
}

impl SettingsArgs {
    /// Override, field by field, what this layer sets.
    pub fn apply(&self, s: &mut Settings) {
        self.ingest.apply(&mut s.ingest);
        self.calibrate.apply(&mut s.calibration);
        self.detect.apply(&mut s.detect);
        // A constant supply voltage replaces one the file measures.
        if self.detect.supply_v.is_some() {
            s.ingest.file_supply = false;
        }
        self.labels.apply(s);
        self.capture.apply(&mut s.capture);
        self.windows.apply(s);
        self.budget.apply(&mut s.budget);
    }

    /// The defaults with this layer on top.
    pub fn settings(&self) -> Settings {
        let mut s = Settings::default();
        self.apply(&mut s);
        s
    }

    /// Parse a manifest's `options` cell (already split into words). Relative paths (events
    /// files, captures) are taken from `dir`, the manifest's folder.
    pub fn parse_options(
        words: &[String],
        dir: &Path,
    ) -> std::result::Result<SettingsArgs, String> {
        let mut layer = OptionsLine::try_parse_from(words)
            .map_err(|e| {
                let first = e.to_string().lines().next().unwrap_or("").to_string();
                first.trim_start_matches("error: ").to_string()
            })?
            .settings;
        for p in [
            &mut layer.labels.events,
            &mut layer.capture.pcap,
            &mut layer.windows.phase.windows,
        ]
        .into_iter()
        .flatten()
        {
            *p = dir.join(&*p).display().to_string();
        }
        Ok(layer)
    }
}

/// A manifest's `options` cell: the same flags as the command line.
#[derive(Parser, Debug)]
#[command(name = "options", no_binary_name = true, disable_help_flag = true)]
struct OptionsLine {
    #[command(flatten)]
    settings: SettingsArgs,
}

fn set<T>(dst: &mut T, src: Option<T>) {
    if let Some(v) = src {
        *dst = v;
    }
}

fn set_some<T>(dst: &mut Option<T>, src: Option<T>) {
    if src.is_some() {
        *dst = src;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(words: &str) -> SettingsArgs {
        let w: Vec<String> = words.split_whitespace().map(String::from).collect();
        SettingsArgs::parse_options(&w, Path::new("m")).unwrap()
    }

    #[test]
    fn layers_override_only_what_they_set() {
        let mut s = layer("--shunt-ohms 1.0 --period 1s --tolerance-ms 20").settings();
        assert_eq!(s.calibration.shunt_ohms, 1.0);
        assert_eq!(s.labels.period_s, Some(1.0));
        layer("--supply-v 3.3 --event-window-ms 300 --marker-threshold 1.5").apply(&mut s);
        assert_eq!(s.calibration.shunt_ohms, 1.0, "kept from the layer below");
        assert_eq!(s.labels.tolerance_ms, 20.0, "kept from the layer below");
        assert_eq!(s.detect.supply_v, Some(3.3));
        assert!(
            !s.ingest.file_supply,
            "a constant replaces a measured supply"
        );
        assert_eq!(s.labels.event_window_ms, 300.0);
        assert_eq!(s.labels.marker_threshold, 1.5);
        assert_eq!(s.calibration.gain, Settings::default().calibration.gain);
    }

    #[test]
    fn manifest_paths_are_relative_to_the_manifest() {
        let s = layer("--events log.csv --pcap run.pcap --events-offset -1.5").settings();
        assert_eq!(s.labels.events.as_deref(), Some("m/log.csv"));
        assert_eq!(s.capture.pcap.as_deref(), Some("m/run.pcap"));
        assert_eq!(s.labels.events_offset_s, Some(-1.5));
        let auto = layer("--events-offset auto").settings();
        assert_eq!(auto.labels.events_offset_s, None);
    }

    #[test]
    fn bad_options_say_what() {
        let w = vec!["--shunt-ohms".to_string(), "abc".to_string()];
        let e = SettingsArgs::parse_options(&w, Path::new(".")).unwrap_err();
        assert!(e.contains("abc"), "{e}");
        assert_eq!(parse_bytes("16M"), Ok(16 << 20));
        assert!(parse_bytes("16X").is_err());
    }

    #[test]
    fn settings_round_trip_through_json() {
        let s = layer("--period 1s --port mqtt=1884 --no-mmap").settings();
        let text = serde_json::to_string(&s).unwrap();
        let back: Settings = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
    }
}
