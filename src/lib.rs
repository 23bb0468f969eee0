//! shuntscope: what each burst of current costs, from a shunt-resistor or power-meter trace.
//!
//! The pipeline, one module per stage:
//! [`ingest`] (find the format, stream samples) → [`trace`] (the data between stages) →
//! [`calibrate`] (volts to milliamperes) → [`detect`] (baseline, noise, bursts, integrals) →
//! [`attribute`] (bursts to labelled events; [`capture`] reads packet captures into exchanges
//! for it) → [`stats`] and [`summarize`] (statistics over
//! repetitions, comparisons, battery life) → [`report`] (table, JSON, CSV, Markdown, HTML,
//! Parquet) and [`plot`] (charts). [`settings`] holds every setting and its default;
//! [`pipeline::run_file`] runs one file all the way ([`analysis`] is its ingest-to-detect part),
//! [`batch`] many; [`diff`] compares two reports; [`synth`] makes traces with known ground
//! truth; [`output`] writes files atomically. Process-wide policy (exit codes, the SIGBUS
//! handler of [`ingest::mapguard`]) belongs to the binary.

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

pub mod analysis;
pub mod attribute;
pub mod batch;
pub mod calibrate;
pub mod capture;
pub mod detect;
pub mod diff;
pub mod error;
pub mod ingest;
pub mod manifest;
pub mod output;
pub mod pipeline;
pub mod plot;
pub mod report;
pub mod settings;
pub mod stats;
pub mod summarize;
pub mod synth;
pub mod trace;
pub mod units;
