//! The streaming sample reader shared by every format.
//!
//! Reads fixed-size blocks (1 MiB), splits lines on LF, CRLF or bare CR, and parses only the two
//! fields it needs from each line. Memory: one block, one chunk of samples, and at most one line
//! of [`MAX_LINE_BYTES`]; nothing grows with the file.

use super::{io_reason, Delimiter, Layout, TimeBase};
use crate::error::{snippet, Error, Result};
use crate::trace::Chunk;
use std::io::Read;

/// Samples handed out per chunk.
pub const CHUNK_SAMPLES: usize = 1 << 16;
/// Bytes read from the file at a time.
const BLOCK_BYTES: usize = 1 << 20;
/// A longer line is an error, not an allocation.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// One field parsed as a number, or why it is not one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Value(f64),
    NonFinite,
    Empty,
    NotANumber,
}

/// Parse one field: spaces, quotes and NULs around it are ignored; `+`, engineering notation and
/// (with `decimal_comma`) `1,5` are accepted. Cost: a few ns, no allocation.
#[inline]
pub fn parse_number(field: &[u8], decimal_comma: bool) -> Num {
    let f = trim_field(field);
    if f.is_empty() {
        return Num::Empty;
    }
    let parsed: Option<f64> = if decimal_comma && f.contains(&b',') {
        if f.len() > 64 {
            None
        } else {
            let mut tmp = [0u8; 64];
            for (d, &s) in tmp.iter_mut().zip(f) {
                *d = if s == b',' { b'.' } else { s };
            }
            fast_float2::parse::<f64, _>(&tmp[..f.len()]).ok()
        }
    } else {
        fast_float2::parse::<f64, _>(f).ok()
    };
    match parsed {
        Some(v) if v.is_finite() => Num::Value(v),
        Some(_) => Num::NonFinite,
        None if f == "∞".as_bytes() || f == "-∞".as_bytes() || f == "+∞".as_bytes() => {
            Num::NonFinite
        }
        None => Num::NotANumber,
    }
}

#[inline]
fn trim_field(mut f: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'"' | b'\0', rest @ ..] = f {
        f = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'"' | b'\0'] = f {
        f = rest;
    }
    f
}

/// Split a line into fields by the layout's delimiter. Trailing empty fields stay (callers ignore them).
pub fn split_fields(line: &[u8], delim: Delimiter) -> Vec<&[u8]> {
    match delim {
        Delimiter::Byte(d) => line.split(|&b| b == d).collect(),
        Delimiter::Whitespace => line
            .split(|&b| b == b' ' || b == b'\t')
            .filter(|f| !f.is_empty())
            .collect(),
    }
}

/// Streams samples out of a file according to a [`Layout`].
pub struct SampleReader {
    path: String,
    input: Box<dyn Read + Send>,
    layout: Layout,
    buf: Vec<u8>,
    /// Start of unprocessed bytes in `buf`.
    pos: usize,
    eof: bool,
    /// Number of the next line to process (1-based).
    line: u64,
    /// The last block ended in CR: a LF at the start of the next one belongs to it.
    skip_lf: bool,
    /// Data rows parsed so far.
    rows: u64,
    /// Data rows seen, parsed or skipped (the sample number for implied time).
    slots: u64,
    /// Rows skipped for an empty value cell, and the first such line.
    pub empty_cells: u64,
    pub first_empty_line: u64,
    last_time_s: f64,
    last_line: u64,
    /// Highest field index needed + 1.
    needed_fields: usize,
}

impl SampleReader {
    pub fn open(path: &str, layout: Layout) -> Result<SampleReader> {
        let file = std::fs::File::open(path)
            .map_err(|e| Error::input(path, format!("cannot open: {}", io_reason(&e))))?;
        let needed_fields = match layout.time {
            TimeBase::Column { index, .. } => index.max(layout.value_index) + 1,
            TimeBase::Implied { .. } => layout.value_index + 1,
        };
        Ok(SampleReader {
            path: path.to_string(),
            input: Box::new(file),
            layout,
            buf: Vec::with_capacity(BLOCK_BYTES * 2),
            pos: 0,
            eof: false,
            line: 1,
            skip_lf: false,
            rows: 0,
            slots: 0,
            empty_cells: 0,
            first_empty_line: 0,
            last_time_s: f64::NEG_INFINITY,
            last_line: 0,
            needed_fields,
        })
    }

    /// Data rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The line of the last data row read (0 before any).
    pub fn last_data_line(&self) -> u64 {
        self.last_line
    }

    /// Fill `chunk` (cleared first) with up to [`CHUNK_SAMPLES`] samples. Returns false at the end.
    pub fn next_chunk(&mut self, chunk: &mut Chunk) -> Result<bool> {
        chunk.clear();
        loop {
            self.parse_buffered(chunk)?;
            if chunk.len() >= CHUNK_SAMPLES {
                return Ok(true);
            }
            if self.eof {
                // A last line without a terminator.
                if self.pos < self.buf.len() {
                    let buf = std::mem::take(&mut self.buf);
                    let res = self.handle_line(&buf[self.pos..], chunk);
                    self.pos = buf.len();
                    self.buf = buf;
                    res?;
                    self.line += 1;
                }
                return Ok(!chunk.is_empty());
            }
            self.fill()?;
        }
    }

    /// Read one more block, keeping the unprocessed tail.
    fn fill(&mut self) -> Result<()> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        if self.buf.len() > MAX_LINE_BYTES {
            return Err(Error::input(
                &self.path,
                format!(
                    "line is longer than {} MiB: not a trace table",
                    MAX_LINE_BYTES >> 20
                ),
            )
            .at_line(self.line));
        }
        let old = self.buf.len();
        self.buf.resize(old + BLOCK_BYTES, 0);
        let n = loop {
            match self.input.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Error::input(
                        &self.path,
                        format!("cannot read: {}", io_reason(&e)),
                    ))
                }
            }
        };
        self.buf.truncate(old + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(())
    }

    /// Parse every complete line in the buffer, stopping early when the chunk is full.
    fn parse_buffered(&mut self, chunk: &mut Chunk) -> Result<()> {
        let buf = std::mem::take(&mut self.buf);
        let result = self.parse_lines(&buf, chunk);
        self.buf = buf;
        result
    }

    fn parse_lines(&mut self, buf: &[u8], chunk: &mut Chunk) -> Result<()> {
        while self.pos < buf.len() && chunk.len() < CHUNK_SAMPLES {
            if self.skip_lf {
                self.skip_lf = false;
                if buf[self.pos] == b'\n' {
                    self.pos += 1;
                    continue;
                }
            }
            let rest = &buf[self.pos..];
            let Some(end) = memchr::memchr2(b'\n', b'\r', rest) else {
                return Ok(());
            };
            self.handle_line(&rest[..end], chunk)?;
            self.line += 1;
            self.pos += end + 1;
            if rest[end] == b'\r' {
                if end + 1 < rest.len() {
                    if rest[end + 1] == b'\n' {
                        self.pos += 1;
                    }
                } else {
                    self.skip_lf = true;
                }
            }
        }
        Ok(())
    }

    fn handle_line(&mut self, line: &[u8], chunk: &mut Chunk) -> Result<()> {
        if self.line < self.layout.data_line || skippable(line) {
            return Ok(());
        }
        let time_index = match self.layout.time {
            TimeBase::Column { index, .. } => index,
            TimeBase::Implied { .. } => usize::MAX,
        };
        let vi = self.layout.value_index;
        let needed = self.needed_fields;
        let (count, time_raw, value_raw) = match self.layout.delimiter {
            Delimiter::Byte(d) => pick(line.split(|&b| b == d), time_index, vi, needed),
            Delimiter::Whitespace => pick(
                line.split(|&b| b == b' ' || b == b'\t')
                    .filter(|f| !f.is_empty()),
                time_index,
                vi,
                needed,
            ),
        };
        if count < self.needed_fields {
            return Err(self
                .err(format!(
                    "expected at least {} fields, found {count}: \"{}\"",
                    self.needed_fields,
                    snippet(&String::from_utf8_lossy(line), 60)
                ))
                .at_line(self.line));
        }
        // An empty value cell is a missing sample (some scopes leave the last one empty): skip
        // the row, count it, and let the gap detector see the hole in time.
        let slot = self.slots;
        self.slots += 1;
        let value_field = value_raw.unwrap_or_default();
        let time_empty = matches!(self.layout.time, TimeBase::Column { .. })
            && trim_field(time_raw.unwrap_or_default()).is_empty();
        if trim_field(value_field).is_empty() && !time_empty {
            self.empty_cells += 1;
            if self.first_empty_line == 0 {
                self.first_empty_line = self.line;
            }
            return Ok(());
        }
        let value = self.number(value_field, vi)?;
        let value = value * self.layout.value_scale + self.layout.value_offset;
        let time_s = match self.layout.time {
            TimeBase::Column {
                index,
                scale,
                offset,
            } => self.number(time_raw.unwrap_or_default(), index)? * scale + offset,
            TimeBase::Implied {
                start_s,
                interval_s,
            } => start_s + slot as f64 * interval_s,
        };
        if time_s < self.last_time_s {
            return Err(self
                .err(format!(
                    "time goes backwards: {time_s} s here, {} s on line {}",
                    self.last_time_s, self.last_line
                ))
                .at_line(self.line));
        }
        self.last_time_s = time_s;
        self.last_line = self.line;
        self.rows += 1;
        chunk.time_s.push(time_s);
        chunk.value.push(value);
        Ok(())
    }

    fn number(&self, field: &[u8], index: usize) -> Result<f64> {
        let name = self
            .layout
            .columns
            .get(index)
            .filter(|c| !c.is_empty())
            .map(|c| format!("column \"{c}\""))
            .unwrap_or_else(|| format!("column {}", index + 1));
        let found = || snippet(&String::from_utf8_lossy(trim_field(field)), 40);
        let msg = match parse_number(field, self.layout.decimal_comma) {
            Num::Value(v) => return Ok(v),
            Num::Empty => format!("expected a number in {name}, found an empty cell"),
            Num::NonFinite => format!(
                "expected a finite number in {name}, found \"{}\" (NaN and infinity are not measurements)",
                found()
            ),
            Num::NotANumber => format!("expected a number in {name}, found \"{}\"", found()),
        };
        Err(self.err(msg).at_line(self.line).at_field(index + 1))
    }

    fn err(&self, msg: String) -> Error {
        Error::input(&self.path, msg)
    }
}

/// The fields at `ti` and `vi`, reading no further than `needed` fields; and how many were read.
#[inline]
fn pick<'a>(
    fields: impl Iterator<Item = &'a [u8]>,
    ti: usize,
    vi: usize,
    needed: usize,
) -> (usize, Option<&'a [u8]>, Option<&'a [u8]>) {
    let (mut t, mut v, mut count) = (None, None, 0);
    for (i, f) in fields.enumerate() {
        count = i + 1;
        if i == ti {
            t = Some(f);
        }
        if i == vi {
            v = Some(f);
        }
        if count >= needed {
            break;
        }
    }
    (count, t, v)
}

/// Comment (`#`, `;`), blank, or only separators and padding.
#[inline]
fn skippable(line: &[u8]) -> bool {
    for &b in line {
        match b {
            b' ' | b'\t' | b'\0' | b',' | b';' | b'"' => continue,
            b'#' => return true,
            _ => return line.iter().find(|&&c| !matches!(c, b' ' | b'\t' | b'\0')) == Some(&b';'),
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number(b" 1.5 ", false), Num::Value(1.5));
        assert_eq!(
            parse_number(b"+31.500101E-03", false),
            Num::Value(0.031500101)
        );
        assert_eq!(parse_number(b"-0.00000e+00", false), Num::Value(-0.0));
        assert_eq!(parse_number(b"1,5", true), Num::Value(1.5));
        assert_eq!(parse_number(b"\"2.5\"", false), Num::Value(2.5));
        assert_eq!(parse_number(b"nan", false), Num::NonFinite);
        assert_eq!(parse_number(b"inf", false), Num::NonFinite);
        assert_eq!(parse_number("∞".as_bytes(), false), Num::NonFinite);
        assert_eq!(parse_number(b"", false), Num::Empty);
        assert_eq!(parse_number(b"abc", false), Num::NotANumber);
        assert_eq!(parse_number(b"1.5x", false), Num::NotANumber);
    }

    #[test]
    fn skip() {
        assert!(skippable(b"# comment"));
        assert!(skippable(b"; comment"));
        assert!(skippable(b",,"));
        assert!(skippable(b"\0\0\0"));
        assert!(!skippable(b"1,2"));
    }
}
