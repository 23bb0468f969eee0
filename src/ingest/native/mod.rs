//! Native session files, recognised by content, not by name: Nordic's Power Profiler (`.ppk2`,
//! a ZIP archive), sigrok / PulseView (`.sr`, a ZIP archive) and Joulescope (`.jls` v2, a
//! chunked binary file). Each streams its samples in blocks, whatever the file's size.
//!
//! A session file is laid out like any table: its channels are columns (by name, or 1-based
//! number), one of them the value (`--channel`), others the marker, the supply or digital
//! channels. Time comes from the sample rate: sample n is at n / rate.

pub mod jls;
pub mod ppk2;
pub mod sigrok;
pub mod zipped;

use super::{find_column, Delimiter, IngestOptions, Layout, TimeBase};
use crate::error::{Error, Result};
use crate::trace::{Chunk, Quantity};
use crate::units::{fmt_duration, parse_unit, Dim, Unit};
use std::path::Path;

/// Samples a reader hands out at a time: small enough that a chunk's columns stay in the
/// core's cache between the reader and the analysis (16 Ki samples: 128 KiB a column).
pub const BLOCK_SAMPLES: usize = 1 << 14;

/// A recognised session file.
#[derive(Debug, Clone)]
pub enum Session {
    Ppk2(ppk2::Ppk2Session),
    Sigrok(sigrok::SigrokSession),
    Jls(jls::JlsSession),
}

/// Recognise a session file from its first bytes (and a ZIP archive's members). `Ok(None)`:
/// not a session file; a ZIP archive of another kind is an error.
pub fn sniff(file: &str, data: &Path, head: &[u8]) -> Result<Option<Session>> {
    if zipped::is_zip(head) {
        let members = zipped::members(file, data)?;
        let has = |n: &str| members.iter().any(|m| m.name == n);
        if has("session.raw") && has("metadata.json") {
            return Ok(Some(Session::Ppk2(ppk2::Ppk2Session::open(
                file, data, &members,
            )?)));
        }
        if has("metadata") && has("version") {
            return Ok(Some(Session::Sigrok(sigrok::SigrokSession::open(
                file, data, &members,
            )?)));
        }
        return Err(Error::input(
            file,
            "a ZIP archive, not a known session file (.ppk2, .sr)",
        ));
    }
    if jls::is_jls(head) {
        return Ok(Some(Session::Jls(jls::JlsSession::open(file, data)?)));
    }
    Ok(None)
}

/// What a session offers as columns.
pub struct Channels {
    pub names: Vec<String>,
    pub units: Vec<Option<Unit>>,
    /// Analog channels can be the value; digital ones only markers.
    pub analog: Vec<bool>,
    pub default_value: usize,
    pub default_supply: Option<usize>,
    /// A constant supply voltage the file states (V, where).
    pub constant_supply_v: Option<(f64, String)>,
    pub rate_hz: f64,
    /// Facts about the file, shown with the layout.
    pub scaling: Vec<String>,
    /// Guesses (each also a warning).
    pub assumptions: Vec<String>,
}

impl Session {
    /// How the samples are stored, for reports (a session has no text dialect).
    pub fn storage(&self) -> &'static str {
        match self {
            Session::Ppk2(_) => "binary session: a ZIP archive, session.raw of f32 µA and a 16-bit logic word a sample",
            Session::Sigrok(_) => "binary session: a ZIP archive of sigrok logic and analog chunks",
            Session::Jls(_) => "binary session: Joulescope JLS v2 chunks of f32 samples",
        }
    }

    pub fn format(&self) -> &'static str {
        match self {
            Session::Ppk2(_) => ppk2::NAME,
            Session::Sigrok(_) => sigrok::NAME,
            Session::Jls(_) => jls::NAME,
        }
    }

    /// The session's channels as a layout, with the user's choices applied.
    pub fn layout(&self, file: &str, opts: &IngestOptions) -> Result<Layout> {
        let ch = match self {
            Session::Ppk2(s) => s.channels(),
            Session::Sigrok(s) => s.channels(file)?,
            Session::Jls(s) => s.channels(file)?,
        };
        layout(self.format(), file, opts, ch)
    }

    /// Keep inflated copies of large compressed members from the next whole read on, so that a
    /// later pass reads them without inflating again (see [`zipped::Spool`]). JLS files are not
    /// compressed: nothing to keep.
    pub fn keep_inflated(&self) {
        match self {
            Session::Ppk2(s) => s.spool.keep(),
            Session::Sigrok(s) => s.spool.keep(),
            Session::Jls(_) => {}
        }
    }

    /// A reader from about byte `offset` on, for a survey's window: JLS files only (their
    /// chunks can be found from anywhere); compressed sessions are read from the start.
    pub fn reader_near(
        &self,
        file: &str,
        data: &Path,
        layout: &Layout,
        offset: u64,
    ) -> Result<Option<NativeReader>> {
        Ok(match self {
            Session::Jls(s) => Some(NativeReader::Jls(s.reader_near(
                file,
                data,
                Emit::new(layout),
                offset,
            )?)),
            Session::Ppk2(_) | Session::Sigrok(_) => None,
        })
    }

    /// Inflated copies kept so far (see [`Session::keep_inflated`]): the tests' check that a
    /// second pass reads the copy.
    #[cfg(test)]
    pub fn inflated_copies(&self) -> usize {
        match self {
            Session::Ppk2(s) => s.spool.copies(),
            Session::Sigrok(s) => s.spool.copies(),
            Session::Jls(_) => 0,
        }
    }

    /// A reader of the samples the layout asks for.
    pub fn reader(&self, file: &str, data: &Path, layout: &Layout) -> Result<NativeReader> {
        let emit = Emit::new(layout);
        Ok(match self {
            Session::Ppk2(s) => {
                NativeReader::Ppk2(s.reader(file, data, emit, layout.digital_words)?)
            }
            Session::Sigrok(s) => NativeReader::Sigrok(s.reader(file, data, emit)?),
            Session::Jls(s) => NativeReader::Jls(s.reader(file, data, emit)?),
        })
    }
}

/// Lay a session's channels out: the value (`--channel`, else the session's default), its unit
/// (`--unit` overrides), the marker and digital channels, time from the sample rate.
fn layout(format: &'static str, file: &str, opts: &IngestOptions, ch: Channels) -> Result<Layout> {
    let value_index = match &opts.value_col {
        Some(v) => find_column(&ch.names, v, "channel")?,
        None => ch.default_value,
    };
    if !ch.analog[value_index] {
        return Err(Error::usage(format!(
            "channel \"{}\" is digital: choose an analog channel ({})",
            ch.names[value_index],
            ch.names
                .iter()
                .zip(&ch.analog)
                .filter(|(_, a)| **a)
                .map(|(n, _)| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut assumptions = ch.assumptions;
    let unit = match &opts.unit {
        Some(u) => parse_unit(u)
            .filter(|u| matches!(u.dim, Dim::Voltage | Dim::Current))
            .ok_or_else(|| {
                Error::usage(format!(
                    "--unit {u}: expected a voltage or current unit (V, mV, A, mA, uA, nA)"
                ))
            })?,
        None => match &ch.units[value_index] {
            Some(u) => u.clone(),
            None => {
                assumptions.push(format!(
                    "channel \"{}\" has no unit in the session: taken as volts (give --unit)",
                    ch.names[value_index]
                ));
                Unit::new(Dim::Voltage, 1.0, "V")
            }
        },
    };
    let mut units = ch.units;
    units[value_index] = Some(unit.clone());
    let quantity = if unit.dim == Dim::Current {
        Quantity::Current
    } else {
        Quantity::Voltage
    };
    if !(ch.rate_hz.is_finite() && ch.rate_hz > 0.0) && opts.sample_interval_s.is_none() {
        return Err(Error::input(
            file,
            "the session gives no sample rate: give --sample-interval",
        ));
    }
    let interval_s = match opts.sample_interval_s {
        Some(dt) => {
            assumptions.push("the session's sample rate ignored: --sample-interval given".into());
            dt
        }
        None => 1.0 / ch.rate_hz,
    };
    let time = TimeBase::Implied {
        start_s: 0.0,
        interval_s,
    };
    let digital = if opts.read_digital {
        (0..ch.names.len())
            .filter(|&j| !ch.analog[j])
            .map(|j| (j, ch.names[j].clone()))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Layout {
        format,
        delimiter: Delimiter::Byte(b','),
        decimal_comma: false,
        data_line: 0,
        time_label: format!(
            "implied: sample n at n × {} (the session's {} S/s)",
            fmt_duration(interval_s),
            ch.rate_hz
        ),
        columns: ch.names.clone(),
        time,
        value_index,
        value_scale: unit.to_base,
        value_offset: 0.0,
        value_label: format!("channel {} \"{}\"", value_index + 1, ch.names[value_index]),
        value_unit: unit.symbol.clone(),
        quantity,
        assumptions,
        scaling: ch.scaling,
        reorder: false,
        marker_index: super::marker_index(&ch.names, opts)?,
        time_is_datetime: false,
        clock_origin_s: 0,
        start_time: None,
        digital,
        value_minus: None,
        supply: None,
        window_index: None,
        digital_words: false,
        units,
        default_supply: ch.default_supply,
        constant_supply_v: ch.constant_supply_v,
    })
}

/// Turns a block of decoded channels into a chunk, as the layout asks: value (minus another
/// channel, scaled), marker, supply and digital channels, time from the sample index.
#[derive(Debug, Clone)]
pub struct Emit {
    pub value: usize,
    pub minus: Option<usize>,
    pub supply: Option<(usize, f64)>,
    pub marker: Option<usize>,
    pub window: Option<usize>,
    pub digital: Vec<usize>,
    scale: f64,
    offset: f64,
    start_s: f64,
    interval_s: f64,
    /// Samples handed out, and samples skipped for a NaN value.
    pub rows: u64,
    pub skipped: u64,
    pub first_skipped: u64,
}

impl Emit {
    pub fn new(l: &Layout) -> Emit {
        let (start_s, interval_s) = match l.time {
            TimeBase::Implied {
                start_s,
                interval_s,
            } => (start_s, interval_s),
            TimeBase::Column { .. } => (0.0, 1.0),
        };
        Emit {
            value: l.value_index,
            minus: l.value_minus,
            supply: l.supply,
            marker: l.marker_index,
            window: l.window_index,
            digital: l.digital.iter().map(|(j, _)| *j).collect(),
            scale: l.value_scale,
            offset: l.value_offset,
            start_s,
            interval_s,
            rows: 0,
            skipped: 0,
            first_skipped: 0,
        }
    }

    /// The channels a reader must decode (by column).
    pub fn needed(&self, columns: usize) -> Vec<bool> {
        let mut n = vec![false; columns];
        for j in [
            Some(self.value),
            self.minus,
            self.supply.map(|s| s.0),
            self.marker,
            self.window,
        ]
        .into_iter()
        .flatten()
        .chain(self.digital.iter().copied())
        {
            if let Some(x) = n.get_mut(j) {
                *x = true;
            }
        }
        n
    }

    /// Append `count` samples from decoded channels (`cols[j]`, filled where needed), the
    /// first at sample index `first`. Samples whose value is NaN are skipped (a gap in time).
    pub fn emit(&mut self, cols: &[Vec<f64>], count: usize, first: u64, chunk: &mut Chunk) {
        if !self.has_nan(cols, count) {
            self.emit_all(cols, count, first, chunk);
            return;
        }
        let v = &cols[self.value];
        for k in 0..count {
            let mut x = v[k];
            if let Some(m) = self.minus {
                x -= cols[m][k];
            }
            if x.is_nan() {
                if self.skipped == 0 {
                    self.first_skipped = first + k as u64;
                }
                self.skipped += 1;
                continue;
            }
            chunk
                .time_s
                .push(self.start_s + (first + k as u64) as f64 * self.interval_s);
            chunk.value.push(x * self.scale + self.offset);
            if let Some((s, scale)) = self.supply {
                chunk.supply.push(cols[s][k] * scale);
            }
            if let Some(m) = self.marker {
                chunk.marker.push(cols[m][k]);
            }
            if let Some(w) = self.window {
                chunk.window.push(cols[w][k]);
            }
            for &d in &self.digital {
                chunk.digital.push(cols[d][k]);
            }
            self.rows += 1;
        }
    }
}

impl Emit {
    /// Does a value among the first `count` samples come out NaN?
    fn has_nan(&self, cols: &[Vec<f64>], count: usize) -> bool {
        // A fold without an early exit: the compiler vectorises it.
        let v = &cols[self.value][..count];
        match self.minus {
            None => v.iter().fold(false, |n, x| n | x.is_nan()),
            Some(m) => v
                .iter()
                .zip(&cols[m][..count])
                .fold(false, |n, (a, b)| n | (a - b).is_nan()),
        }
    }

    /// [`Emit::emit`] for a block without NaN values: column by column (the compiler
    /// vectorises these loops; ~1 ns a sample for time and value).
    fn emit_all(&mut self, cols: &[Vec<f64>], count: usize, first: u64, chunk: &mut Chunk) {
        let (start_s, interval_s) = (self.start_s, self.interval_s);
        chunk
            .time_s
            .extend((0..count as u64).map(|k| start_s + (first + k) as f64 * interval_s));
        let (scale, offset) = (self.scale, self.offset);
        let v = &cols[self.value][..count];
        match self.minus {
            None => chunk.value.extend(v.iter().map(|x| x * scale + offset)),
            Some(m) => chunk.value.extend(
                v.iter()
                    .zip(&cols[m][..count])
                    .map(|(a, b)| (a - b) * scale + offset),
            ),
        }
        if let Some((s, scale)) = self.supply {
            chunk
                .supply
                .extend(cols[s][..count].iter().map(|x| x * scale));
        }
        if let Some(m) = self.marker {
            chunk.marker.extend_from_slice(&cols[m][..count]);
        }
        if let Some(w) = self.window {
            chunk.window.extend_from_slice(&cols[w][..count]);
        }
        // Digital channels interleave, sample by sample.
        if !self.digital.is_empty() {
            let digital: Vec<&[f64]> = self.digital.iter().map(|&d| &cols[d][..count]).collect();
            (0..count).for_each(|k| chunk.digital.extend(digital.iter().map(|c| c[k])));
        }
        self.rows += count as u64;
    }
}

/// A session file's reader.
pub enum NativeReader {
    Ppk2(ppk2::Reader),
    Sigrok(sigrok::Reader),
    Jls(jls::Reader),
}

impl NativeReader {
    /// The next block of samples; false at the end.
    pub fn next_chunk(&mut self, chunk: &mut Chunk) -> Result<bool> {
        chunk.clear();
        match self {
            NativeReader::Ppk2(r) => r.next_chunk(chunk),
            NativeReader::Sigrok(r) => r.next_chunk(chunk),
            NativeReader::Jls(r) => r.next_chunk(chunk),
        }
    }

    fn emit(&self) -> &Emit {
        match self {
            NativeReader::Ppk2(r) => &r.emit,
            NativeReader::Sigrok(r) => &r.emit,
            NativeReader::Jls(r) => &r.emit,
        }
    }

    /// Samples handed out so far.
    pub fn rows(&self) -> u64 {
        self.emit().rows
    }

    /// Samples skipped for a NaN value, and the index of the first.
    pub fn skipped(&self) -> (u64, u64) {
        (self.emit().skipped, self.emit().first_skipped)
    }
}

/// Little-endian f32 samples into `out` (as f64), from `bytes` taken `stride` bytes apart.
pub fn f32s(bytes: &[u8], stride: usize, out: &mut Vec<f64>) {
    out.clear();
    out.extend(
        bytes
            .chunks_exact(stride)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64),
    );
}
