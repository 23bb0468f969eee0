//! shuntscope: what each burst of current costs, from a shunt-resistor scope capture, a USB
//! power meter or a power analyzer's recording.
//!
//! # Analyse one file
//!
//! [`run_file`] runs the whole pipeline on one file with [`Settings`] and returns an
//! [`Analysis`]: one result per stage (ingest, detection, attribution, phase windows, packet
//! capture, excerpts), serialised as the command line's JSON.
//!
//! ```
//! use shuntscope::{run_file, Settings};
//!
//! # fn main() -> shuntscope::Result<()> {
//! // A trace written here: 170 mA idle, one 64 mA burst of 40 ms (time in s, current in mA).
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("trace.csv");
//! let mut csv = String::from("time_s,current_ma\n");
//! for k in 0..2000 {
//!     let t = k as f64 * 1e-3;
//!     let ma = if (1.0..1.04).contains(&t) { 234.0 } else { 170.0 };
//!     csv += &format!("{t},{ma}\n");
//! }
//! std::fs::write(&path, csv).unwrap();
//!
//! let a = run_file(path.to_str().unwrap(), &Settings::default())?;
//! assert_eq!(a.detection.bursts.len(), 1);
//! // 64 mA × 40 ms, by the trapezoid rule on the samples: 64 × 40 = 2560 mA·ms.
//! let q = a.detection.bursts[0].excess_charge_ma_ms;
//! assert!((q - 2560.0).abs() < 64.0, "{q}");
//! // The JSON of `shuntscope analyze -f json`.
//! let json = shuntscope::render(&a, shuntscope::OutputFormat::Json)?;
//! assert!(json.contains("\"excess_charge_ma_ms\""));
//! # Ok(())
//! # }
//! ```
//!
//! # The pipeline
//!
//! ingest (find the format, stream samples; [`Ingested`]) → calibrate (volts to milliamperes;
//! [`Calibration`]) → detect (baseline, noise, bursts, integrals; [`Detection`]) → attribute
//! (bursts to labelled events from a schedule, a log, a marker column or a packet capture;
//! [`Attribution`], [`PcapReport`]; phase windows, [`Window`]) → summarize (statistics over
//! repetitions: [`batch()`], [`merge`], [`diff()`]) → render ([`render`], report folders
//! with [`BatchReport::write`]).
//!
//! # Reading samples
//!
//! [`read`] streams a file's normalised columns (`time_s`, `current_ma` or `voltage_v`, the
//! digital channels) chunk by chunk; [`inspect`] says how a file is read.
//!
//! # Errors and reads
//!
//! Every function returns [`Error`]: one line naming the file, the line and what was expected.
//! A library caller reads files with `read(2)`, never memory-mapped, so a file that another
//! program shortens while it is read is an [`ErrorKind::Input`] error. A program that wants the
//! speed of mapped reads opts in once with [`allow_mmap`] (the `shuntscope` binary does).
//!
//! The command line itself is [`cli`] (feature `cli`, on by default).

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

mod analysis;
mod attribute;
mod batch;
mod calibrate;
mod capture;
mod detect;
mod diff;
mod error;
mod ingest;
mod manifest;
mod output;
mod pipeline;
mod plot;
mod read;
mod record;
mod report;
mod settings;
mod stats;
mod summarize;
mod synth;
mod trace;
mod units;
mod view;

#[cfg(feature = "cli")]
pub mod cli;

#[cfg(test)]
mod tests;

pub use analysis::{
    Analysis, AnalysisJson, BaselineSource, Budget, BudgetPeriod, Class, Detection, EveryWindow,
    Excerpt, Ingested, OneOff, PowerShare, State, Totals, Warning, WarningCode,
};
pub use attribute::pcap::{ChargeSplit, ExchangeRow, OffsetSource, PcapReport, PhaseRow};
pub use attribute::windows::{Polarity, Window};
pub use attribute::{Attribution, AttributionSource, Event, UnmatchedEvent};
pub use batch::{
    batch, merge, plan_batch, run_job, run_job_on, BatchOptions, BatchPlan, BatchReport, Job,
};
pub use calibrate::Calibration;
pub use capture::exchange::Phase;
pub use capture::Protocol;
pub use detect::{Burst, Gap};
pub use diff::{
    diff, diff_gated, outcomes, parse_limit, Diff, Kind, Metric, Row, Verdict, DEFAULT_GATE,
};
pub use error::{Error, ErrorKind, Result};
pub use ingest::{Format, IngestOptions, FORMATS};
pub use pipeline::{run_file, FileOutcome};
pub use read::{inspect, read, ColumnReader, Inspection};
pub use record::{parse_average, record, DutPower, Ended, GapAt, Mode, RecordOptions, Recording};
pub use report::{render, OutputFormat};
pub use settings::{
    AtPeriod, BudgetSettings, CaptureSettings, DetectSettings, LabelSettings, Settings,
    SettingsArgs, WindowSettings, DEFAULT_SUPPLY_V, DEFAULT_WINDOW_THRESHOLD,
};
pub use summarize::{
    Amortised, BatteryPoint, Comparison, GroupSummary, LabelStats, Lesson, Summaries,
    SummarySettings, WindowStats,
};
pub use trace::{Chunk, Quantity, TraceInfo};

/// The Nordic PPK2: its protocol and calibration formula, the stream decoder, the .ppk2
/// writer, port listing, and a simulated PPK2 on a pseudo-terminal (for tests and benchmarks
/// without hardware). [`record()`] uses them.
pub mod ppk2 {
    pub use crate::record::decode::{Averager, DecodeStats, Decoder, Gap as LostRun, Sample};
    pub use crate::record::device::{list, Ppk2Port};
    pub use crate::record::protocol::{parse_metadata, Metadata, Modifiers, SpikeFilter, RATE_HZ};
    pub use crate::record::sim::{encode, Profile, SimConfig, SimLog, Simulator, METADATA};
    pub use crate::record::writer::Ppk2Writer;
}

/// Let this process memory-map large input files (faster: no copy out of the page cache). Call
/// it once, from a program (not a library), before reading: it installs a SIGBUS handler so
/// that a mapped file that another program shortens ends the process with a one-line error
/// naming the file and exit code 2, instead of a crash. Without it nothing is mapped, and such
/// a file is an ordinary [`ErrorKind::Input`] error. Linux only; elsewhere it does nothing.
pub fn allow_mmap() {
    ingest::mapguard::install();
}
