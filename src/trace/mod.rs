//! The trace between ingest and analysis: what the reader chose (provenance), and chunks of samples.
//!
//! A trace is never held whole: readers hand out [`Chunk`]s of a few hundred thousand samples,
//! so memory stays bounded whatever the file's length. [`envelope`] reduces a stream of them to
//! min/max columns (charts, excerpts).

pub mod envelope;

use serde::{Deserialize, Serialize};

/// What a value column measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quantity {
    /// Volts across a shunt (or a sense amplifier's output): calibrate turns it into current.
    Voltage,
    /// Milliamperes, used as they are.
    Current,
}

/// How the reader interpreted a file: printed by `analyze` and kept in its JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TraceInfo {
    /// The file as the user named it.
    pub file: String,
    /// Format name from the registry (`table`, `rigol-ds1000z`, `dso-nano-v3`, ...).
    pub format: String,
    /// Separator and decimal mark, e.g. `comma` or `semicolon, decimal comma`.
    pub dialect: String,
    /// Header names as read ("" for columns without a name).
    pub columns: Vec<String>,
    /// 1-based line of the first data row.
    pub data_line: u64,
    /// How time is obtained: `column 1 "Time (ms)" in ms` or `implied: start 0 s, interval 100 µs`.
    pub time_source: String,
    /// The value column's header name (or a description when the file has none); for a
    /// difference of two columns, both (`column 2 "CH2" − column 1 "CH1"`).
    pub value_column: String,
    /// `--value-col` as given, when it is a difference of two columns (`CH2-CH1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_expression: Option<String>,
    /// The column read as the supply voltage, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supply_column: Option<String>,
    /// The unit the value column is in, as the file (or `--unit`) names it.
    pub value_unit: String,
    pub quantity: Quantity,
    /// Guesses the reader made (assumed units, ignored columns): each is also a warning.
    pub assumptions: Vec<String>,
    /// Scalings the format applies (pixels to volts, probe factor): facts, not guesses.
    pub scaling: Vec<String>,
    /// The first sample's clock time, ISO 8601, when the file's time is a clock (time then
    /// counts from 0 at that sample).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
}

impl TraceInfo {
    /// How the file was read, for people: the dialect, and the first data line of a text file
    /// (`comma, data from line 2`; a binary session has no lines).
    pub fn read_as(&self) -> String {
        if self.data_line == 0 {
            self.dialect.clone()
        } else {
            format!("{}, data from line {}", self.dialect, self.data_line)
        }
    }
}

/// A run of samples: time in seconds, value in V (voltage traces) or mA (current traces).
#[derive(Debug, Default, Clone)]
pub struct Chunk {
    pub time_s: Vec<f64>,
    pub value: Vec<f64>,
    /// The marker column's value per sample, when the layout has one (else empty).
    pub marker: Vec<f64>,
    /// Digital channels, row after row (layout.digital.len() values a sample; NaN for `X`/`-`).
    pub digital: Vec<f64>,
    /// The supply voltage per sample, V, when the layout has a supply column (else empty).
    pub supply: Vec<f64>,
    /// The phase-window column's value per sample, when the layout has one (else empty).
    pub window: Vec<f64>,
    /// A PPK2 session's 16-bit digital word per sample (channel n in bits 2n, 2n+1), when the
    /// layout asks for words instead of decoded channels (`Layout::digital_words`); else empty.
    pub digital_words: Vec<u16>,
}

impl Chunk {
    pub fn clear(&mut self) {
        self.time_s.clear();
        self.value.clear();
        self.marker.clear();
        self.digital.clear();
        self.supply.clear();
        self.window.clear();
        self.digital_words.clear();
    }

    pub fn len(&self) -> usize {
        self.time_s.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time_s.is_empty()
    }
}
