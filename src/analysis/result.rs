//! The results of one file's analysis, one type per stage, composed into [`Analysis`]:
//! [`Ingested`] (what the file is and how it was read), [`Detection`] (levels, bursts,
//! totals), [`Attribution`] (bursts as labelled events), phase [`Window`]s, the packet
//! capture's [`PcapReport`] and the gallery's [`Excerpt`]s, plus every stage's [`Warning`]s.
//!
//! The JSON of `analyze -f json` (and each file of report.json) is serialised from one output
//! type, [`AnalysisJson`], whose flat field names and order are the contract; it reads back
//! into the stages.

use super::budget::Budget;
use super::classes::Class;
use super::every::EveryWindow;
pub use super::states::State;
use crate::attribute::pcap::PcapReport;
use crate::attribute::windows::Window;
use crate::attribute::Attribution;
use crate::calibrate::Calibration;
use crate::detect::{Burst, Gap};
use crate::trace::{Quantity, TraceInfo};
use serde::{Deserialize, Serialize};

/// What a warning is about; serialised as its kebab-case name (`few-samples`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarningCode {
    FewSamples,
    Gap,
    IrregularSampling,
    RepeatedTime,
    CutBurst,
    NoBursts,
    Assumption,
    BaselineUnsure,
    EmptyCells,
    Clipping,
    BaselineDrift,
    CoarseQuantisation,
    /// From the packet capture.
    Pcap,
    /// Phase windows (labels without windows, windows across gaps).
    Windows,
    /// The energy budget (a period for a class that does not recur).
    Budget,
}

impl WarningCode {
    /// The stable name, as in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            WarningCode::FewSamples => "few-samples",
            WarningCode::Gap => "gap",
            WarningCode::IrregularSampling => "irregular-sampling",
            WarningCode::RepeatedTime => "repeated-time",
            WarningCode::CutBurst => "cut-burst",
            WarningCode::NoBursts => "no-bursts",
            WarningCode::Assumption => "assumption",
            WarningCode::BaselineUnsure => "baseline-unsure",
            WarningCode::EmptyCells => "empty-cells",
            WarningCode::Clipping => "clipping",
            WarningCode::BaselineDrift => "baseline-drift",
            WarningCode::CoarseQuantisation => "coarse-quantisation",
            WarningCode::Pcap => "pcap",
            WarningCode::Windows => "windows",
            WarningCode::Budget => "budget",
        }
    }
}

impl std::fmt::Display for WarningCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// A measurement-quality or interpretation warning, with its numbers in the message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
    /// The burst concerned, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<usize>,
}

impl Warning {
    pub(crate) fn new(code: WarningCode, message: String) -> Warning {
        Warning {
            code,
            message,
            burst: None,
        }
    }
}

/// Where the baseline came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineSource {
    /// Estimated from the trace.
    Auto,
    /// `--baseline-ma`.
    Given,
    /// The sleep floor: the device sleeps (a state dwells ten times above its lowest), and the
    /// baseline is estimated from the floor's samples alone.
    Floor,
}

/// Whole-trace totals.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Crossings dropped because their excess charge was not positive (glitches of both signs).
    #[serde(default)]
    pub dropped_nonpositive: u64,
    /// ∫ V·I dt over the covered time, mJ: V from the supply column, else the constant supply.
    #[serde(default)]
    pub energy_mj: f64,
    /// Average power over the covered time, mW.
    #[serde(default)]
    pub mean_mw: f64,
}

/// The current around one event, down-sampled to min/max columns, for a gallery panel.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Excerpt {
    /// The event's index in `attribution.events`.
    pub event: usize,
    /// Columns of (time s, lowest mA, highest mA), trace clock.
    pub columns: Vec<[f64; 3]>,
}

/// Ingest and survey: what the file is, how it was read, and where its sampling breaks.
#[derive(Debug, Clone)]
pub struct Ingested {
    /// The file as the user named it.
    pub file: String,
    pub format: String,
    pub quantity: Quantity,
    pub samples: u64,
    /// Median time step, s (the given one for implied time).
    pub sample_interval_s: f64,
    /// Time stamp of the first sample, s.
    pub first_time_s: f64,
    pub calibration: Calibration,
    pub calibration_text: String,
    /// How the file was read: columns, units, scaling, assumptions.
    pub input: TraceInfo,
    /// Steps too long to integrate across.
    pub gaps: Vec<Gap>,
    /// Times of the marker column's rising edges, s (when a marker column was read): the
    /// attribution stage's input, read in the same pass.
    pub marker_edges_s: Vec<f64>,
}

/// Detection: the baseline, the trigger levels, the bursts and the whole trace's totals.
#[derive(Debug, Clone)]
pub struct Detection {
    pub baseline_ma: f64,
    pub baseline_source: BaselineSource,
    pub noise_ma: f64,
    /// Burst trigger level above the baseline, mA.
    pub threshold_ma: f64,
    /// Level above the baseline below which a burst is in its tail, mA.
    pub release_ma: f64,
    pub quantisation_ma: Option<f64>,
    /// The sleep floor (the lowest level the current dwells at, 5% of the time or more) and its
    /// spread, mA; None when no level dwells that long.
    pub floor_ma: Option<f64>,
    pub floor_sd_ma: Option<f64>,
    /// The floor's standard error, mA: batch means over its samples in time order (20
    /// batches), which allows for their autocorrelation; `diff` compares floors with it.
    pub floor_se_ma: Option<f64>,
    /// The levels where the current dwells, lowest first.
    pub states: Vec<State>,
    /// The constant supply of energies when no supply was measured, V.
    pub supply_v: f64,
    pub bursts: Vec<Burst>,
    /// Bursts that recur alike, by charge (each burst's `class` indexes this).
    pub classes: Vec<Class>,
    pub totals: Totals,
}

/// The result of running the pipeline on one trace: each stage's result, and every warning.
/// Serialised (and read back) as [`AnalysisJson`], the JSON contract.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub ingest: Ingested,
    pub detection: Detection,
    /// The bursts labelled as events (schedule, events file, marker column or capture).
    pub attribution: Attribution,
    /// Phase windows (from a marker column, a windows file or given times), in time order.
    pub windows: Vec<Window>,
    /// Averages over fixed windows (`--every`), in time order.
    pub every: Vec<EveryWindow>,
    /// The energy budget: the floor, the mean, each recurring class's period and the periods
    /// asked for.
    pub budget: Option<Budget>,
    /// The packet capture's exchanges and their costs (`--pcap`).
    pub capture: Option<PcapReport>,
    /// Down-sampled excerpts of the first events (for galleries), when asked for.
    pub excerpts: Vec<Excerpt>,
    pub warnings: Vec<Warning>,
}

impl Analysis {
    /// The file as the user named it.
    pub fn file(&self) -> &str {
        &self.ingest.file
    }

    /// First time stamp of the trace, s.
    pub fn input_time_start(&self) -> f64 {
        self.ingest.first_time_s
    }

    /// Last time stamp of the trace, s.
    pub fn input_time_end(&self) -> f64 {
        self.ingest.first_time_s + self.detection.totals.duration_s
    }
}

/// The JSON contract of one analysis: the flat field names and their order are what
/// `analyze -f json` has always written (see the README). Borrowed from an [`Analysis`] to
/// write; [`Analysis`] reads it back (through an owned twin of this type).
#[derive(Serialize)]
pub struct AnalysisJson<'a> {
    pub file: &'a str,
    pub format: &'a str,
    pub quantity: Quantity,
    pub samples: u64,
    pub sample_interval_s: f64,
    pub first_time_s: f64,
    pub baseline_ma: f64,
    pub baseline_source: BaselineSource,
    pub noise_ma: f64,
    pub threshold_ma: f64,
    pub release_ma: f64,
    pub quantisation_ma: Option<f64>,
    pub floor_ma: Option<f64>,
    pub floor_sd_ma: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor_se_ma: Option<f64>,
    pub states: &'a [State],
    pub supply_v: f64,
    pub calibration: &'a Calibration,
    pub calibration_text: &'a str,
    pub input: &'a TraceInfo,
    pub bursts: &'a [Burst],
    pub classes: &'a [Class],
    pub gaps: &'a [Gap],
    #[serde(skip_serializing_if = "<[f64]>::is_empty")]
    pub marker_edges_s: &'a [f64],
    pub totals: &'a Totals,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<&'a Budget>,
    pub warnings: &'a [Warning],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcap: Option<&'a PcapReport>,
    pub attribution: &'a Attribution,
    pub windows: &'a [Window],
    #[serde(skip_serializing_if = "<[EveryWindow]>::is_empty")]
    pub every: &'a [EveryWindow],
    #[serde(skip_serializing_if = "<[Excerpt]>::is_empty")]
    pub excerpts: &'a [Excerpt],
}

/// [`AnalysisJson`] read back (report.json's files, for `merge` and `diff`).
#[derive(Deserialize)]
pub(crate) struct AnalysisRecord {
    file: String,
    format: String,
    quantity: Quantity,
    samples: u64,
    sample_interval_s: f64,
    first_time_s: f64,
    baseline_ma: f64,
    baseline_source: BaselineSource,
    noise_ma: f64,
    threshold_ma: f64,
    release_ma: f64,
    quantisation_ma: Option<f64>,
    #[serde(default)]
    floor_ma: Option<f64>,
    #[serde(default)]
    floor_sd_ma: Option<f64>,
    #[serde(default)]
    floor_se_ma: Option<f64>,
    #[serde(default)]
    states: Vec<State>,
    supply_v: f64,
    calibration: Calibration,
    calibration_text: String,
    input: TraceInfo,
    bursts: Vec<Burst>,
    #[serde(default)]
    classes: Vec<Class>,
    gaps: Vec<Gap>,
    #[serde(default)]
    marker_edges_s: Vec<f64>,
    totals: Totals,
    #[serde(default)]
    budget: Option<Budget>,
    warnings: Vec<Warning>,
    #[serde(default)]
    pcap: Option<PcapReport>,
    #[serde(default)]
    attribution: Attribution,
    #[serde(default)]
    windows: Vec<Window>,
    #[serde(default)]
    every: Vec<EveryWindow>,
    #[serde(default)]
    excerpts: Vec<Excerpt>,
}

impl<'a> From<&'a Analysis> for AnalysisJson<'a> {
    fn from(a: &'a Analysis) -> Self {
        let (i, d) = (&a.ingest, &a.detection);
        AnalysisJson {
            file: &i.file,
            format: &i.format,
            quantity: i.quantity,
            samples: i.samples,
            sample_interval_s: i.sample_interval_s,
            first_time_s: i.first_time_s,
            baseline_ma: d.baseline_ma,
            baseline_source: d.baseline_source,
            noise_ma: d.noise_ma,
            threshold_ma: d.threshold_ma,
            release_ma: d.release_ma,
            quantisation_ma: d.quantisation_ma,
            floor_ma: d.floor_ma,
            floor_sd_ma: d.floor_sd_ma,
            floor_se_ma: d.floor_se_ma,
            states: &d.states,
            supply_v: d.supply_v,
            calibration: &i.calibration,
            calibration_text: &i.calibration_text,
            input: &i.input,
            bursts: &d.bursts,
            classes: &d.classes,
            gaps: &i.gaps,
            marker_edges_s: &i.marker_edges_s,
            totals: &d.totals,
            budget: a.budget.as_ref(),
            warnings: &a.warnings,
            pcap: a.capture.as_ref(),
            attribution: &a.attribution,
            windows: &a.windows,
            every: &a.every,
            excerpts: &a.excerpts,
        }
    }
}

impl From<AnalysisRecord> for Analysis {
    fn from(r: AnalysisRecord) -> Self {
        Analysis {
            ingest: Ingested {
                file: r.file,
                format: r.format,
                quantity: r.quantity,
                samples: r.samples,
                sample_interval_s: r.sample_interval_s,
                first_time_s: r.first_time_s,
                calibration: r.calibration,
                calibration_text: r.calibration_text,
                input: r.input,
                gaps: r.gaps,
                marker_edges_s: r.marker_edges_s,
            },
            detection: Detection {
                baseline_ma: r.baseline_ma,
                baseline_source: r.baseline_source,
                noise_ma: r.noise_ma,
                threshold_ma: r.threshold_ma,
                release_ma: r.release_ma,
                quantisation_ma: r.quantisation_ma,
                floor_ma: r.floor_ma,
                floor_sd_ma: r.floor_sd_ma,
                floor_se_ma: r.floor_se_ma,
                states: r.states,
                supply_v: r.supply_v,
                bursts: r.bursts,
                classes: r.classes,
                totals: r.totals,
            },
            attribution: r.attribution,
            windows: r.windows,
            every: r.every,
            budget: r.budget,
            capture: r.pcap,
            excerpts: r.excerpts,
            warnings: r.warnings,
        }
    }
}

impl Serialize for Analysis {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        AnalysisJson::from(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Analysis {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        AnalysisRecord::deserialize(d).map(Analysis::from)
    }
}
