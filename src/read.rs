//! Reading a trace for its samples, outside the analysis: [`read`] streams the normalised
//! columns (`convert` writes them, Python's `shuntscope.read` returns them) and [`inspect`]
//! says how a file is read and what it holds.
//!
//! Cost: one streaming pass; memory is one chunk (a few hundred thousand samples).

use crate::calibrate::Calibration;
use crate::detect::Survey;
use crate::error::{Error, Result};
use crate::ingest::{IngestOptions, Reader, Source, FORMATS};
use crate::trace::{Chunk, Quantity, TraceInfo};
use serde::Serialize;

/// A trace's samples as normalised columns, chunk by chunk: `time_s`, then `voltage_v` (a
/// voltage trace read without a calibration) or `current_ma`, then each digital channel the
/// file carries, by its name.
pub struct ColumnReader {
    reader: Reader,
    quantity: Quantity,
    calibration: Option<Calibration>,
    names: Vec<String>,
}

/// Open `path` for its normalised columns (digital channels included). With `calibration`, a
/// voltage trace becomes current (I = V / R, gain and offset) and the value column is
/// `current_ma`.
pub fn read(
    path: &str,
    ingest: &IngestOptions,
    calibration: Option<Calibration>,
) -> Result<ColumnReader> {
    let mut io = ingest.clone();
    io.read_digital = true;
    if let Some(c) = &calibration {
        c.validate()?;
    }
    let source = Source::open(path, &io)?;
    let quantity = source.layout.quantity;
    let names = column_names(&source, calibration.is_some());
    Ok(ColumnReader {
        reader: source.reader()?,
        quantity,
        calibration,
        names,
    })
}

/// The normalised column names of a source: `time_s`, the value (`voltage_v` for a voltage
/// trace that is not calibrated, else `current_ma`), then the digital channels.
fn column_names(source: &Source, calibrated: bool) -> Vec<String> {
    let value = match (source.layout.quantity, calibrated) {
        (Quantity::Voltage, false) => "voltage_v",
        _ => "current_ma",
    };
    let mut names = vec!["time_s".to_string(), value.to_string()];
    names.extend(source.layout.digital.iter().map(|(_, n)| n.clone()));
    names
}

impl ColumnReader {
    /// The column names: time, value, then the digital channels.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The number of digital channels (interleaved in [`Chunk::digital`], NaN where a row has
    /// none).
    pub fn digital_channels(&self) -> usize {
        self.names.len() - 2
    }

    /// The next chunk, calibrated when asked; false at the end.
    pub fn next_chunk(&mut self, chunk: &mut Chunk) -> Result<bool> {
        if !self.reader.next_chunk(chunk)? {
            return Ok(false);
        }
        if let Some(c) = &self.calibration {
            c.to_ma(self.quantity, &mut chunk.value);
        }
        Ok(true)
    }
}

/// What [`inspect`] finds: how the file is read, and the range of its samples.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub file: String,
    pub format: String,
    pub format_description: String,
    pub input: TraceInfo,
    pub samples: u64,
    /// Unit of the values below: V or mA.
    pub unit: &'static str,
    pub first_time_s: f64,
    pub last_time_s: f64,
    pub median_interval_s: f64,
    pub first_value: f64,
    pub last_value: f64,
    pub min_value: f64,
    pub max_value: f64,
    pub empty_cells_skipped: u64,
}

/// How `path` is read (format, columns, units, assumptions) and what it holds: one pass, no
/// analysis. A file without data rows is an error naming the line they were expected from.
pub fn inspect(path: &str, ingest: &IngestOptions) -> Result<Inspection> {
    let source = Source::open(path, ingest)?;
    let mut reader = source.reader()?;
    let mut chunk = Chunk::default();
    let mut survey = Survey::default();
    let (mut first, mut last) = (None, None);
    while reader.next_chunk(&mut chunk)? {
        if first.is_none() && !chunk.is_empty() {
            first = Some((chunk.time_s[0], chunk.value[0]));
        }
        if let (Some(&t), Some(&v)) = (chunk.time_s.last(), chunk.value.last()) {
            last = Some((t, v));
        }
        survey.push(&chunk.time_s, &chunk.value);
    }
    let (Some(first), Some(last)) = (first, last) else {
        return Err(Error::input(
            path,
            format!(
                "no data rows: expected numbers from line {} on",
                source.layout.data_line
            ),
        ));
    };
    let info = source.info();
    Ok(Inspection {
        file: path.to_string(),
        format_description: FORMATS
            .iter()
            .find(|f| f.name == info.format)
            .map(|f| f.description.to_string())
            .unwrap_or_default(),
        format: info.format.clone(),
        samples: reader.rows(),
        unit: if info.quantity == Quantity::Voltage {
            "V"
        } else {
            "mA"
        },
        first_time_s: first.0,
        last_time_s: last.0,
        median_interval_s: survey.median_interval_s(),
        first_value: first.1,
        last_value: last.1,
        min_value: survey.min_ma,
        max_value: survey.max_ma,
        empty_cells_skipped: reader.skipped().0,
        input: info,
    })
}
