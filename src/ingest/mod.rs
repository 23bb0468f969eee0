//! Ingest: find out what a file is, then stream its samples.
//!
//! Each format module scores how likely the file is of its kind from its first kilobytes
//! (in the manner of libsigrok's `format_match`) and builds a [`Layout`]; the best score wins
//! and `--input-format` overrides. One streaming reader ([`reader::SampleReader`]) then parses
//! every layout, so all formats share the same number parsing, line handling and errors.

pub mod dso_nano;
pub mod header;
pub mod known;
pub mod logger;
pub mod mapguard;
pub mod native;
pub mod number;
pub mod reader;
pub mod rigol;
pub mod rows;
pub mod rowshape;
pub mod source;
pub mod table;

pub use source::{Reader, Source};

use crate::error::{snippet, Error, Result};
use crate::trace::Quantity;

/// How many bytes of a file the formats see when they score it and lay it out.
pub const HEAD_BYTES: usize = 64 * 1024;

/// Options the user gives to help or override detection, and how to read.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct IngestOptions {
    /// Force a format by name (see [`FORMATS`]).
    pub input_format: Option<String>,
    /// Seconds between samples, when the file has no time column or it should be ignored.
    pub sample_interval_s: Option<f64>,
    /// DSO Nano: the pixel row of 0 V.
    pub zero_px: Option<f64>,
    /// Time column by name or 1-based number.
    pub time_col: Option<String>,
    /// Value column by name or 1-based number.
    pub value_col: Option<String>,
    /// Unit of the value column (`V`, `mV`, `A`, `mA`, `uA`, ...).
    pub unit: Option<String>,
    /// Unit of the time column (`s`, `ms`, `us`, ...).
    pub time_unit: Option<String>,
    /// A marker column (a digital line or a second channel) by name or 1-based number.
    pub marker_col: Option<String>,
    /// Also read the digital channels a format knows of (for `convert`).
    pub read_digital: bool,
    /// The supply-voltage column, by header name or 1-based number.
    pub supply_col: Option<String>,
    /// The phase-window column, by header name or 1-based number.
    pub window_col: Option<String>,
    /// Use a voltage column the file carries as the supply (off when `--supply-v` is given).
    pub file_supply: bool,
    /// Read large files instead of memory-mapping them.
    pub no_mmap: bool,
    /// Files of at least this many bytes are memory-mapped (unix only): no copy out of the
    /// page cache, parsed pages dropped so the resident set stays at a few blocks.
    pub mmap_min_bytes: u64,
    /// Parse with the scalar parser only, not the SSE4.1 shape reader (the reference path of
    /// the tests and benchmarks; both give the same bits).
    pub no_simd: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            input_format: None,
            sample_interval_s: None,
            zero_px: None,
            time_col: None,
            value_col: None,
            unit: None,
            time_unit: None,
            marker_col: None,
            read_digital: false,
            supply_col: None,
            window_col: None,
            file_supply: true,
            no_mmap: false,
            mmap_min_bytes: 16 << 20,
            no_simd: false,
        }
    }
}

/// The field separator of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    Byte(u8),
    /// Runs of spaces and tabs.
    Whitespace,
}

impl Delimiter {
    pub fn describe(&self) -> &'static str {
        match self {
            Delimiter::Byte(b',') => "comma",
            Delimiter::Byte(b';') => "semicolon",
            Delimiter::Byte(b'\t') => "tab",
            Delimiter::Byte(_) => "other",
            Delimiter::Whitespace => "spaces",
        }
    }
}

/// Where each sample's time comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeBase {
    /// A column (0-based), converted by `time_s = raw * scale + offset`.
    Column {
        index: usize,
        scale: f64,
        offset: f64,
    },
    /// The n-th data row (from 0) is at `start_s + n * interval_s`.
    Implied { start_s: f64, interval_s: f64 },
}

/// Everything the streaming reader needs to turn lines into samples.
#[derive(Debug, Clone)]
pub struct Layout {
    pub format: &'static str,
    pub delimiter: Delimiter,
    pub decimal_comma: bool,
    /// 1-based line of the first data row; earlier lines are skipped unparsed.
    pub data_line: u64,
    pub columns: Vec<String>,
    pub time: TimeBase,
    pub time_label: String,
    /// 0-based value column; `value = raw * value_scale + value_offset` in V or mA.
    pub value_index: usize,
    pub value_scale: f64,
    pub value_offset: f64,
    pub value_label: String,
    pub value_unit: String,
    pub quantity: Quantity,
    pub assumptions: Vec<String>,
    /// Scalings the format applies (shown, not warned about).
    pub scaling: Vec<String>,
    /// Time runs backwards a little between packets (FNIRSI): put samples in order through a
    /// small window instead of refusing the file.
    pub reorder: bool,
    /// 0-based marker column, read beside the value when asked for.
    pub marker_index: Option<usize>,
    /// The time column holds clock times (`2024-05-01T12:00:00.123+02:00`, `01-05-2024
    /// 12:00:00.123456`, `12:00:00.5`: see [`number::parse_clock`]), read as seconds after
    /// `clock_origin_s`.
    pub time_is_datetime: bool,
    /// Whole seconds subtracted from clock times (the first sample's, so that time counts from
    /// 0; 0 keeps seconds since 1970).
    pub clock_origin_s: i64,
    /// The first sample's clock time, ISO 8601 (`input.start_time`), when time is a clock.
    pub start_time: Option<String>,
    /// Digital channels to read beside the value (0-based column, name), when asked for.
    pub digital: Vec<(usize, String)>,
    /// A column subtracted from the value column (a shunt measured with a probe on each side):
    /// `value = (raw − raw_minus) * value_scale + value_offset`.
    pub value_minus: Option<usize>,
    /// The supply-voltage column and the scale of its values to volts.
    pub supply: Option<(usize, f64)>,
    /// The phase-window column (a GPIO line, a digital channel), read as it is.
    pub window_index: Option<usize>,
    /// Each column's unit, where the file names one.
    pub units: Vec<Option<crate::units::Unit>>,
    /// A voltage column the file carries beside the current (Joulescope, rd-usb, Monsoon): the
    /// supply unless the user gives `--supply-v` or another `--supply-col`.
    pub default_supply: Option<usize>,
    /// A constant supply voltage the file states (V, and where it says so): a PPK2 recording
    /// made by `shuntscope record` in source mode. Used unless the user gives `--supply-v`.
    pub constant_supply_v: Option<(f64, String)>,
    /// Hand out a PPK2 session's digital word per sample (`Chunk::digital_words`) instead of
    /// decoding each channel: the viewer's lanes, at a fraction of the cost.
    pub digital_words: bool,
}

/// The start of a file, split into lines, for scoring and layout.
#[derive(Debug)]
pub struct Head {
    pub lines: Vec<HeadLine>,
    /// True when the whole file fit in the head.
    pub complete: bool,
    /// The block of numeric rows, found once (every format asks).
    block: std::sync::OnceLock<Option<table::Block>>,
}

#[derive(Debug)]
pub struct HeadLine {
    /// 1-based line number.
    pub number: u64,
    pub text: String,
}

impl Head {
    /// Split bytes into lines (LF, CRLF or bare CR), dropping NUL bytes; an incomplete last line
    /// is dropped unless `complete`.
    pub fn from_bytes(bytes: &[u8], complete: bool) -> Head {
        let mut lines = Vec::new();
        let mut number = 1u64;
        let mut start = 0usize;
        let mut i = 0usize;
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'\n' || b == b'\r' {
                lines.push(HeadLine {
                    number,
                    text: clean_line(&bytes[start..i]),
                });
                number += 1;
                if b == b'\r' && i + 1 < bytes.len() && bytes[i + 1] == b'\n' {
                    i += 1;
                }
                start = i + 1;
            }
            i += 1;
        }
        if complete && start < bytes.len() {
            lines.push(HeadLine {
                number,
                text: clean_line(&bytes[start..]),
            });
        }
        Head {
            lines,
            complete,
            block: std::sync::OnceLock::new(),
        }
    }

    /// The block of numeric rows under the best dialect (see [`table::find_block`]); computed
    /// on first use. Cost: one parse of the head per dialect.
    pub fn block(&self) -> Option<table::Block> {
        self.block.get_or_init(|| table::find_block(self)).clone()
    }

    /// The first `n` lines as the reader saw them, for error messages.
    pub fn preview(&self, n: usize) -> String {
        self.lines
            .iter()
            .filter(|l| !l.text.trim().is_empty())
            .take(n)
            .map(|l| format!("{}: {}", l.number, snippet(&l.text, 60)))
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

fn clean_line(bytes: &[u8]) -> String {
    let text = if memchr::memchr(0, bytes).is_none() {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        let kept: Vec<u8> = bytes.iter().copied().filter(|&b| b != 0).collect();
        String::from_utf8_lossy(&kept).into_owned()
    };
    text.strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text)
}

/// A format in the registry.
pub struct Format {
    pub name: &'static str,
    pub description: &'static str,
    /// How sure the format is that the head is its kind, 0 (no) to 100 (certain).
    pub score: fn(&Head) -> u8,
    pub layout: fn(&Head, &str, &IngestOptions) -> Result<Layout>,
}

/// A session file's entry in the registry: recognised by content before any text format, so
/// its text score is 0 and its text layout an error.
fn session_only(_: &Head) -> u8 {
    0
}

fn not_a_session(_: &Head, file: &str, _: &IngestOptions) -> Result<Layout> {
    Err(Error::input(
        file,
        "not a session file of that kind (PPK2 and sigrok sessions are ZIP archives, JLS files start with jlsfmt)",
    ))
}

/// Every format shuntscope reads, most specific first.
pub const FORMATS: &[Format] = &[
    Format {
        name: native::ppk2::NAME,
        description: "nRF Connect Power Profiler session (.ppk2: ZIP with session.raw, current in µA, D0-D7)",
        score: session_only,
        layout: not_a_session,
    },
    Format {
        name: native::sigrok::NAME,
        description: "sigrok / PulseView session (.sr: ZIP with analog and logic channels; --channel NAME)",
        score: session_only,
        layout: not_a_session,
    },
    Format {
        name: native::jls::NAME,
        description: "Joulescope JLS v2 (current, voltage, power signals; the voltage is the supply)",
        score: session_only,
        layout: not_a_session,
    },
    Format {
        name: dso_nano::NAME,
        description: "Seeed DSO Nano v3 / e-Design CSV (screen pixels; needs --sample-interval and --zero-px)",
        score: dso_nano::score,
        layout: dso_nano::layout,
    },
    Format {
        name: rigol::NAME,
        description: "Rigol DS1000Z CSV (X,CH1,...,Start,Increment or CH1,CH2,...,Start,Increment header; time from Start + n*Increment)",
        score: rigol::score,
        layout: rigol::layout,
    },
    Format {
        name: known::tds2000::NAME,
        description: "Tektronix TDS2000 CSV (metadata in columns A-B, data in D-E)",
        score: known::tds2000::score,
        layout: known::tds2000::layout,
    },
    Format {
        name: known::fnirsi::NAME,
        description: "FNIRSI FNB48/C1/FNB58 via fnirsi_logger.py (epoch seconds, packets reordered)",
        score: known::fnirsi::score,
        layout: known::fnirsi::layout,
    },
    Format {
        name: known::ppk2_api::NAME,
        description: "ppk2-api-python logger (ts as dd-mm-YYYY HH:MM:SS.ffffff, current in µA)",
        score: known::ppk2_api::score,
        layout: known::ppk2_api::layout,
    },
    Format {
        name: known::tektronix::NAME,
        description: "Tektronix CSV with a key/value header (units from Vertical Units)",
        score: known::tektronix::score,
        layout: known::tektronix::layout,
    },
    Format {
        name: known::siglent::NAME,
        description: "Siglent SDS CSV (Record Length, ... header)",
        score: known::siglent::score,
        layout: known::siglent::layout,
    },
    Format {
        name: known::sigrok::NAME,
        description: "sigrok-cli CSV (; comment header; analog values in volts)",
        score: known::sigrok::score,
        layout: known::sigrok::layout,
    },
    Format {
        name: known::rd_usb::NAME,
        description: "rd-usb log of RDTech UM24C/UM25C/UM34C/TC66C meters (time from Unix time)",
        score: known::rd_usb::score,
        layout: known::rd_usb::layout,
    },
    Format {
        name: known::ppk2::NAME,
        description: "Nordic PPK2 / Power Profiler export (Timestamp(ms), Current(uA))",
        score: known::ppk2::score,
        layout: known::ppk2::layout,
    },
    Format {
        name: known::monsoon::NAME,
        description: "Monsoon PyMonsoon CSV (Time(ms), Main(mA), ...)",
        score: known::monsoon::score,
        layout: known::monsoon::layout,
    },
    Format {
        name: known::joulescope::NAME,
        description: "Joulescope UI export (time, current, voltage in SI units; # header)",
        score: known::joulescope::score,
        layout: known::joulescope::layout,
    },
    Format {
        name: known::saleae::NAME,
        description: "Saleae Logic 2 analog export (Time [s], channels in volts)",
        score: known::saleae::score,
        layout: known::saleae::layout,
    },
    Format {
        name: known::keysight::NAME,
        description: "Keysight/Agilent InfiniiVision CSV (x-axis, channels; second, Volt)",
        score: known::keysight::score,
        layout: known::keysight::layout,
    },
    Format {
        name: known::rigol_e::NAME,
        description: "Rigol DS1000E CSV (Time, X(CH1); Second, Volt)",
        score: known::rigol_e::score,
        layout: known::rigol_e::layout,
    },
    Format {
        name: known::picoscope::NAME,
        description: "PicoScope CSV (Time, Channel A; units row)",
        score: known::picoscope::score,
        layout: known::picoscope::layout,
    },
    Format {
        name: logger::NAME,
        description: "Logger CSV whose rows mix numbers with clock times (ISO 8601, HH:MM:SS, epoch) and text columns (INA219/INA226 boards, USB-meter scripts); time from 0 at the first sample",
        score: logger::score,
        layout: logger::layout,
    },
    Format {
        name: table::NAME,
        description: "any delimited time/value table; columns found by name and unit",
        score: table::score,
        layout: table::layout,
    },
];

/// A file with its detected layout; open it as often as the analysis needs passes.
/// The `--marker-col` column among `columns`, if one was asked for.
pub fn marker_index(columns: &[String], opts: &IngestOptions) -> Result<Option<usize>> {
    opts.marker_col
        .as_ref()
        .map(|m| find_column(columns, m, "marker column"))
        .transpose()
}

/// A short reason for an I/O error, without Rust's "(os error N)" noise.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

/// Is this line a comment (`#` or `;` first) or blank (only separators, spaces and NULs)?
pub fn is_skippable(text: &str) -> bool {
    let t = text.trim_start();
    t.is_empty()
        || t.starts_with('#')
        || t.starts_with(';')
        || t.chars()
            .all(|c| matches!(c, ',' | ';' | '\t' | ' ' | '"' | '\0'))
}

/// Resolve a column given by name (case-insensitive, with or without its unit) or 1-based number.
pub fn find_column(columns: &[String], wanted: &str, what: &str) -> Result<usize> {
    let w = wanted.trim();
    // A header named like the request wins over a column number (Keysight names channels 1, 2).
    if let Some(i) = columns.iter().position(|c| c.trim() == w) {
        return Ok(i);
    }
    if let Ok(n) = w.parse::<usize>() {
        if n >= 1 && n <= columns.len() {
            return Ok(n - 1);
        }
        if columns.iter().all(|c| c.trim() != w) {
            return Err(Error::usage(format!(
                "{what} {n} does not exist: the table has {} columns",
                columns.len()
            )));
        }
    }
    let lw = w.to_lowercase();
    columns
        .iter()
        .position(|c| c.trim().to_lowercase() == lw)
        .or_else(|| {
            columns
                .iter()
                .position(|c| header::split_name_unit(c).0.to_lowercase() == lw)
        })
        .ok_or_else(|| {
            Error::usage(format!(
                "{what} \"{w}\" not found; the columns are: {}",
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{} \"{}\"", i + 1, c))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}
