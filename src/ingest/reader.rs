//! The streaming sample reader shared by every format.
//!
//! Reads blocks of about [`BLOCK_ROWS`] rows, at most [`BLOCK_BYTES`] (files of
//! [`MMAP_MIN_BYTES`] and more are memory-mapped instead of read), splits each at line ends into
//! four parts per core, and parses the parts in
//! parallel (rayon); each part is then handed out as a chunk of its own, without a copy. Rows of
//! a layout seen before go through the shape reader ([`super::rowshape`], SSE4.1), others
//! through a SWAR decimal parser with fast-float2 behind it for anything unusual; every path is
//! correctly rounded, so a number reads the same whichever path takes it. Lines end in LF, CRLF
//! or bare CR. Memory: about three blocks of samples (in flight and being parsed) and at most one
//! line of [`MAX_LINE_BYTES`]; nothing grows with the file. Throughput: `analyze` pinned to one core reads fixed-format
//! `time,value` rows at 1.1 GB/s end to end with the shape reader, 0.54 GB/s without.

use super::rowshape::{ShapeCtx, Shapes, Sink};
use super::{io_reason, Delimiter, Layout, TimeBase};
use crate::error::{snippet, Error, Result};
use crate::trace::Chunk;
use std::io::Read;

/// Largest block: bytes parsed at a time (one block is handed out as a few chunks).
pub const BLOCK_BYTES: usize = 4 << 20;
/// Blocks are sized to hold about this many rows (at most [`BLOCK_BYTES`]), from the rows'
/// mean length so far: memory stays bounded in samples, short rows or long.
pub const BLOCK_ROWS: usize = 1 << 18;
/// Blocks smaller than this are parsed on one thread.
const PARALLEL_MIN_BYTES: usize = 256 << 10;
/// A longer line is an error, not an allocation.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Files at least this large are memory-mapped (no copy out of the page cache; pages already
/// parsed are dropped from the mapping, so the resident set stays at a few blocks).
pub const MMAP_MIN_BYTES: u64 = 16 << 20;

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

/// Days from 1970-01-01 to a civil date (proleptic Gregorian; Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `dd-mm-YYYY HH:MM:SS[.f]` (ppk2-api-python) or `YYYY-MM-DD HH:MM:SS[.f]` (ISO, also with
/// `T`), as seconds since 1970-01-01 in the clock's own zone. None for anything else.
pub fn parse_datetime(f: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(f).ok()?.trim();
    let (date, time) = s.split_once([' ', 'T'])?;
    let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
    if parts.len() != 3 {
        return None;
    }
    let n = |x: &str| x.parse::<i64>().ok();
    let (y, m, d) = if parts[0].len() == 4 {
        (n(parts[0])?, n(parts[1])?, n(parts[2])?)
    } else {
        (n(parts[2])?, n(parts[1])?, n(parts[0])?)
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let t: Vec<&str> = time.split(':').collect();
    if t.len() != 3 {
        return None;
    }
    let (hh, mm) = (n(t[0])?, n(t[1])?);
    let ss: f64 = t[2].parse().ok()?;
    if !(0..24).contains(&hh) || !(0..60).contains(&mm) || !(0.0..61.0).contains(&ss) {
        return None;
    }
    Some((days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60) as f64 + ss)
}

/// Powers of ten exactly representable as f64.
pub(super) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Plain decimals (`-12.345`, `1.5e-3`): short ones (`[-]d{1,7}.d{0,7}`) by SWAR digit
/// arithmetic and a divide by 10^k (correctly rounded), others by
/// Clinger's fast path (an integer mantissa below 2^53 times or over an exact power of ten,
/// correctly rounded). None for anything else (the caller falls back to [`parse_number`]).
#[inline]
pub fn fast_number(f: &[u8], decimal: u8) -> Option<f64> {
    match fast_prefix(f, decimal) {
        Some((v, used)) if used == f.len() => Some(v),
        _ => None,
    }
}

const POW10_U64: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// Eight bytes at `at` as a little-endian word, if there are eight.
#[inline(always)]
fn word(f: &[u8], at: usize) -> Option<u64> {
    f.get(at..at + 8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
}

/// How many leading bytes of a little-endian word are ASCII digits (0–8).
#[inline(always)]
fn digit_run(w: u64) -> usize {
    let x = w ^ 0x3030_3030_3030_3030;
    // A byte is a digit iff it is 0x30..=0x39: high nibble 3 (x's high nibble 0) and low < 10.
    let bad = (x.wrapping_add(0x0606_0606_0606_0606) | x) & 0xF0F0_F0F0_F0F0_F0F0;
    (bad.trailing_zeros() / 8) as usize
}

/// The value of the first `k` (1–8) digit bytes of a little-endian word, by SWAR: three
/// multiplies instead of eight.
#[inline(always)]
fn digits_value(w: u64, k: usize) -> u64 {
    // Move the k digits to the top and pad the bottom with '0's.
    let shift = (8 - k) * 8;
    let w = if shift == 0 {
        w
    } else {
        (w << shift) | (0x3030_3030_3030_3030u64 >> (64 - shift))
    };
    let mut v = w.wrapping_sub(0x3030_3030_3030_3030);
    v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    (v.wrapping_mul(10000) + (v >> 32)) & 0xFFFF_FFFF
}

/// The common shape `[-]d{1,7}.d{0,7}` (no exponent) by SWAR; None to take the byte loop.
#[inline(always)]
fn swar_prefix(f: &[u8], decimal: u8) -> Option<(f64, usize)> {
    let neg = f.first() == Some(&b'-');
    let start = neg as usize;
    let w = word(f, start)?;
    let k1 = digit_run(w);
    if k1 == 0 || k1 == 8 {
        return None;
    }
    let int = digits_value(w, k1);
    let mut i = start + k1;
    let (mant, frac) = if f[i] == decimal {
        let w2 = word(f, i + 1)?;
        let k2 = digit_run(w2);
        if k2 == 8 {
            return None;
        }
        i += 1 + k2;
        if k2 == 0 {
            (int, 0)
        } else {
            (int * POW10_U64[k2] + digits_value(w2, k2), k2)
        }
    } else {
        (int, 0)
    };
    if i < f.len() && (f[i] | 0x20) == b'e' {
        return None;
    }
    // A divide of two exact values: correctly rounded, the same value as every other path
    // (fast-float2, the shape reader), so a number reads the same wherever it is in the file.
    let v = mant as f64 / POW10[frac];
    Some((if neg { -v } else { v }, i))
}

/// [`fast_number`] on the start of `f`: the value and how many bytes it took. None when the
/// number is not a plain decimal of at most 19 digits (the caller falls back).
#[inline(always)]
pub fn fast_prefix(f: &[u8], decimal: u8) -> Option<(f64, usize)> {
    if let Some(r) = swar_prefix(f, decimal) {
        return Some(r);
    }
    let n = f.len();
    let mut i = 0;
    let neg = match f.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut mant: u64 = 0;
    let mut dot = usize::MAX;
    while i < n {
        let c = f[i];
        let d = c.wrapping_sub(b'0');
        if d < 10 {
            mant = mant.wrapping_mul(10).wrapping_add(d as u64);
        } else if c == decimal && dot == usize::MAX {
            dot = i;
        } else {
            break;
        }
        i += 1;
    }
    let has_dot = dot != usize::MAX;
    let digits = i - start - has_dot as usize;
    if digits == 0 || digits > 19 {
        return None;
    }
    let frac = if has_dot { (i - dot - 1) as i32 } else { 0 };
    let mut exp = 0i32;
    if i < n && (f[i] | 0x20) == b'e' {
        i += 1;
        let eneg = match f.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let es = i;
        while i < n && f[i].is_ascii_digit() && i - es < 4 {
            exp = exp * 10 + (f[i] - b'0') as i32;
            i += 1;
        }
        if i == es {
            return None;
        }
        if eneg {
            exp = -exp;
        }
    }
    let v = if mant == 0 {
        0.0
    } else {
        if mant > (1u64 << 53) {
            return None;
        }
        let e = exp - frac;
        if (0..=22).contains(&e) {
            mant as f64 * POW10[e as usize]
        } else if (-22..0).contains(&e) {
            mant as f64 / POW10[(-e) as usize]
        } else {
            return None;
        }
    };
    Some((if neg { -v } else { v }, i))
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

/// What the parser needs to know about a layout, copied into each worker.
#[derive(Clone, Copy)]
struct Ctx {
    delimiter: Delimiter,
    decimal: u8,
    decimal_comma: bool,
    /// Time column, or usize::MAX for implied time.
    ti: usize,
    vi: usize,
    needed: usize,
    time_scale: f64,
    time_offset: f64,
    value_scale: f64,
    value_offset: f64,
    /// Accept time going backwards (the reader reorders).
    reorder: bool,
    /// Marker column, or usize::MAX for none.
    mi: usize,
    /// The time column holds date-times.
    datetime: bool,
    /// Digital columns to read (0-based), as a fixed array; `nd` of them are used.
    dig: [usize; 16],
    nd: usize,
    /// Use the shape reader (SIMD) where it can; off for the scalar reference in tests.
    shapes: bool,
}

/// An error found by a worker, located relative to its part.
#[derive(Debug, Clone)]
struct PartError {
    /// 0-based line within the part.
    line: u64,
    field: Option<usize>,
    /// `{col}` in it stands for the column's name, `{prev}` for the line of `prev_line`.
    message: String,
    /// 0-based line within the part of the row an error refers back to.
    prev_line: Option<u64>,
}

/// One worker's output. For implied time, `time` holds the row's slot number within the part.
#[derive(Default)]
struct Part {
    time: Vec<f64>,
    value: Vec<f64>,
    marker: Vec<f64>,
    digital: Vec<f64>,
    /// Lines in the part.
    lines: u64,
    slots: u64,
    empty: u64,
    first_empty_line: Option<u64>,
    first_row_line: u64,
    last_row_line: u64,
    err: Option<PartError>,
    /// Rows read by the shape reader.
    shaped: u64,
}

impl Part {
    fn reset(&mut self) {
        self.time.clear();
        self.value.clear();
        self.marker.clear();
        self.digital.clear();
        self.lines = 0;
        self.slots = 0;
        self.empty = 0;
        self.first_empty_line = None;
        self.first_row_line = 0;
        self.last_row_line = 0;
        self.err = None;
        self.shaped = 0;
    }
}

/// Streams samples out of a file according to a [`Layout`].
pub struct SampleReader {
    path: String,
    input: Box<dyn Read + Send>,
    /// Turns a SIGBUS in the map into an error naming the file (dropped before the map).
    _map_guard: Option<super::mapguard::Guard>,
    /// The whole file, when mapped (then `buf` is unused).
    map: Option<memmap2::Mmap>,
    /// Bytes at the start of the map already dropped from the mapping.
    released: usize,
    layout: Layout,
    ctx: Ctx,
    buf: Vec<u8>,
    /// Bytes parsed at a time: about [`BLOCK_ROWS`] rows, at most [`BLOCK_BYTES`], less for a
    /// small window.
    block: usize,
    /// Start of unprocessed bytes in `buf`.
    pos: usize,
    /// End of valid bytes in `buf`.
    end: usize,
    eof: bool,
    /// Line number at `pos` (1-based).
    line: u64,
    /// The last region ended in CR: a LF right after it belongs to it.
    skip_lf: bool,
    /// Drop everything up to the first line end (a window that starts mid-line).
    skip_partial_line: bool,
    /// A window of a file: its last line may be cut, so it is dropped.
    window: bool,
    rows: u64,
    /// Data rows seen, parsed or skipped (the sample number for implied time).
    slots: u64,
    /// Rows skipped for an empty value cell, and the first such line.
    pub empty_cells: u64,
    pub first_empty_line: u64,
    last_time_s: f64,
    last_line: u64,
    parts: Vec<Part>,
    /// Parts of the last block parsed, and the next one to hand out.
    n_parts: usize,
    next_part: usize,
    /// Line number of each part's first line.
    part_line: Vec<u64>,
    /// Lines parsed so far (for the block size: bytes per line).
    lines_parsed: u64,
    /// Reordering (FNIRSI): the window of pending samples, a tie-breaking counter, the last
    /// time handed out, and a staging chunk.
    heap: std::collections::BinaryHeap<std::cmp::Reverse<(OrdF64, u64, OrdF64)>>,
    seq: u64,
    last_emitted: f64,
    staged: Chunk,
}

/// Larger magnitudes (in s, V or mA) are refused as implausible rather than integrated into
/// infinities.
pub const MAX_MAGNITUDE: f64 = 1e15;

/// Samples a reordering reader holds back.
pub const REORDER_WINDOW: usize = 256;

/// A total order on f64 for the reorder heap.
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF64(f64);
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

impl SampleReader {
    /// Read `data`; errors name `path`, the file as the user gave it. With `mmap`, a file of
    /// at least [`MMAP_MIN_BYTES`] is memory-mapped (if another program shortens the file while
    /// it is read, the run stops: see [`super::mapguard`]; `--no-mmap` reads it instead).
    pub fn open(
        path: &str,
        data: &std::path::Path,
        layout: Layout,
        mmap: bool,
    ) -> Result<SampleReader> {
        let file = std::fs::File::open(data)
            .map_err(|e| Error::input(path, format!("cannot open: {}", io_reason(&e))))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        // The limit can be lowered through the environment, for tests of the mapped path.
        let min = std::env::var("SHUNTSCOPE_MMAP_MIN_BYTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(MMAP_MIN_BYTES);
        // Unix only: elsewhere parsed pages could not be dropped from the mapping.
        let map = if cfg!(unix) && mmap && size >= min.max(1) && usize::try_from(size).is_ok() {
            // SAFETY: the map is only read; the file is not ours to shorten (see above).
            let map = unsafe { memmap2::Mmap::map(&file) }.ok();
            #[cfg(unix)]
            if let Some(m) = &map {
                let _ = m.advise(memmap2::Advice::Sequential);
            }
            map
        } else {
            None
        };
        let mut r = Self::from_input(path, layout, Box::new(file))?;
        r._map_guard = map
            .as_ref()
            .map(|m| super::mapguard::register(m.as_ptr(), m.len(), path));
        r.map = map;
        // A test hook: another program shortening the file while it is read.
        if r.map.is_some() && std::env::var_os("SHUNTSCOPE_TEST_SHRINK_MAPPED").is_some() {
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .open(data)
                .and_then(|f| f.set_len(size / 2));
        }
        Ok(r)
    }

    /// A reader over `len` bytes from `offset`, starting at the first whole line after it (at
    /// offset 0: the file's first data line), for sampling a large file. Line numbers in its
    /// errors are meaningless: callers ignore them.
    pub fn open_window(
        path: &str,
        data: &std::path::Path,
        layout: Layout,
        offset: u64,
        len: u64,
    ) -> Result<SampleReader> {
        use std::io::{Seek, SeekFrom};
        let mut file = std::fs::File::open(data)
            .map_err(|e| Error::input(path, format!("cannot open: {}", io_reason(&e))))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::input(path, format!("cannot seek: {}", io_reason(&e))))?;
        let mut layout = layout;
        if offset > 0 {
            layout.data_line = 0;
        }
        let mut r = Self::from_input(path, layout, Box::new(file.take(len)))?;
        r.skip_partial_line = offset > 0;
        r.window = true;
        r.block = usize::try_from(len)
            .unwrap_or(BLOCK_BYTES)
            .clamp(64 << 10, BLOCK_BYTES);
        Ok(r)
    }

    fn from_input(path: &str, layout: Layout, input: Box<dyn Read + Send>) -> Result<SampleReader> {
        let (ti, time_scale, time_offset) = match layout.time {
            TimeBase::Column {
                index,
                scale,
                offset,
            } => (index, scale, offset),
            TimeBase::Implied { .. } => (usize::MAX, 1.0, 0.0),
        };
        let mi = layout.marker_index.unwrap_or(usize::MAX);
        let needed = if ti == usize::MAX {
            layout.value_index + 1
        } else {
            ti.max(layout.value_index) + 1
        }
        .max(if mi == usize::MAX { 0 } else { mi + 1 });
        let ctx = Ctx {
            delimiter: layout.delimiter,
            decimal: if layout.decimal_comma { b',' } else { b'.' },
            decimal_comma: layout.decimal_comma,
            ti,
            vi: layout.value_index,
            needed,
            time_scale,
            time_offset,
            value_scale: layout.value_scale,
            value_offset: layout.value_offset,
            reorder: layout.reorder,
            mi,
            datetime: layout.time_is_datetime,
            dig: {
                let mut d = [0usize; 16];
                for (k, (c, _)) in layout.digital.iter().take(16).enumerate() {
                    d[k] = *c;
                }
                d
            },
            nd: layout.digital.len().min(16),
            shapes: true,
        };
        let threads = rayon::current_num_threads().clamp(1, 16);
        Ok(SampleReader {
            path: path.to_string(),
            input,
            _map_guard: None,
            map: None,
            released: 0,
            skip_partial_line: false,
            window: false,
            layout,
            ctx,
            buf: Vec::new(),
            block: BLOCK_BYTES / 4,
            pos: 0,
            end: 0,
            eof: false,
            line: 1,
            skip_lf: false,
            rows: 0,
            slots: 0,
            empty_cells: 0,
            first_empty_line: 0,
            last_time_s: f64::NEG_INFINITY,
            last_line: 0,
            parts: (0..threads * 4).map(|_| Part::default()).collect(),
            n_parts: 0,
            next_part: 0,
            part_line: Vec::new(),
            lines_parsed: 0,
            heap: std::collections::BinaryHeap::new(),
            seq: 0,
            last_emitted: f64::NEG_INFINITY,
            staged: Chunk::default(),
        })
    }

    /// How many chunks a block is handed out in (at most).
    pub fn parts_per_block(&self) -> usize {
        self.parts.len()
    }

    /// Data rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The line of the last data row read (0 before any).
    pub fn last_data_line(&self) -> u64 {
        self.last_line
    }

    /// Fill `chunk` (cleared first) with the samples of the next block. Returns false at the end.
    pub fn next_chunk(&mut self, chunk: &mut Chunk) -> Result<bool> {
        if !self.layout.reorder {
            return self.next_block(chunk);
        }
        // Put samples in time order through a window of REORDER_WINDOW samples.
        let mut staged = std::mem::take(&mut self.staged);
        let more = self.next_block(&mut staged)?;
        chunk.clear();
        for (&t, &v) in staged.time_s.iter().zip(&staged.value) {
            self.heap
                .push(std::cmp::Reverse((OrdF64(t), self.seq, OrdF64(v))));
            self.seq += 1;
            while self.heap.len() > REORDER_WINDOW {
                self.emit_ordered(chunk)?;
            }
        }
        if !more {
            while !self.heap.is_empty() {
                self.emit_ordered(chunk)?;
            }
        }
        self.staged = staged;
        Ok(!chunk.is_empty() || more)
    }

    fn emit_ordered(&mut self, chunk: &mut Chunk) -> Result<()> {
        if let Some(std::cmp::Reverse((OrdF64(t), _, OrdF64(v)))) = self.heap.pop() {
            if t < self.last_emitted {
                return Err(Error::input(
                    &self.path,
                    format!(
                        "time goes backwards by more than {REORDER_WINDOW} samples: {t} s after {} s",
                        self.last_emitted
                    ),
                ));
            }
            self.last_emitted = t;
            chunk.time_s.push(t);
            chunk.value.push(v);
        }
        Ok(())
    }

    fn next_block(&mut self, chunk: &mut Chunk) -> Result<bool> {
        chunk.clear();
        while chunk.is_empty() {
            // The parts of the block parsed last, one chunk each.
            if self.next_part < self.n_parts {
                self.next_part += 1;
                self.hand_out(self.next_part - 1, chunk)?;
                continue;
            }
            // Top the buffer up to a block, or to the end of the input.
            while !self.eof && self.end - self.pos < self.block {
                self.fill()?;
            }
            let bytes: &[u8] = match &self.map {
                Some(m) => &m[..self.end],
                None => &self.buf[..self.end],
            };
            if self.skip_lf && self.pos < self.end {
                self.skip_lf = false;
                if bytes[self.pos] == b'\n' {
                    self.pos += 1;
                }
            }
            if self.skip_partial_line {
                match memchr::memchr2(b'\n', b'\r', &bytes[self.pos..]) {
                    Some(i) => {
                        self.pos += i + 1;
                        self.skip_partial_line = false;
                        self.skip_lf = true;
                        continue;
                    }
                    None => return Ok(false),
                }
            }
            if self.pos >= self.end {
                return Ok(false);
            }
            let region = &bytes[self.pos..];
            let region_len = region.len();
            // The last line end within the block (or, for a long line, its end).
            let found = if region_len > self.block + (64 << 10) {
                let lim = region_len.min(MAX_LINE_BYTES + 1);
                memchr::memrchr2(b'\n', b'\r', &region[..self.block])
                    .or_else(|| memchr::memchr2(b'\n', b'\r', &region[..lim]))
            } else if self.eof && self.window {
                match memchr::memrchr2(b'\n', b'\r', region) {
                    Some(i) => Some(i),
                    None => return Ok(false),
                }
            } else if self.eof {
                Some(region_len - 1)
            } else {
                memchr::memrchr2(b'\n', b'\r', region)
            };
            let cut = match found {
                Some(i) => i + 1,
                // A line longer than the block but within the limit: read on.
                None if !self.eof && region_len <= MAX_LINE_BYTES => {
                    self.fill()?;
                    continue;
                }
                None => {
                    return Err(Error::input(
                        &self.path,
                        format!(
                            "line is longer than {} MiB: not a trace table",
                            MAX_LINE_BYTES >> 20
                        ),
                    )
                    .at_line(self.line))
                }
            };
            let ends_in_cr = match &self.map {
                Some(m) => m[self.pos + cut - 1],
                None => self.buf[self.pos + cut - 1],
            } == b'\r';
            let more_after = self.pos + cut < self.end || !self.eof;
            let lines_before = self.lines_parsed;
            self.parse_region(cut);
            self.pos += cut;
            // Size the next block to about BLOCK_ROWS rows of the length seen.
            let lines = self.lines_parsed - lines_before;
            if !self.window && lines >= 64 {
                let per_row = cut as f64 / lines as f64;
                self.block = ((BLOCK_ROWS as f64 * per_row) as usize).clamp(64 << 10, BLOCK_BYTES);
            }
            if ends_in_cr && more_after {
                self.skip_lf = true;
            }
            self.release_parsed();
        }
        Ok(true)
    }

    /// Drop the pages of the map before `pos` from the mapping (they stay in the page cache):
    /// the resident set stays at a few blocks, not the whole file. Cost: a syscall per block.
    fn release_parsed(&mut self) {
        let Some(m) = &self.map else {
            return;
        };
        let upto = self.pos & !((1 << 16) - 1);
        if upto > self.released {
            // SAFETY: the bytes before `pos` are parsed and no longer borrowed; a read-only
            // file mapping refaults from the file if touched again.
            #[cfg(unix)]
            let _ = unsafe {
                m.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    self.released,
                    upto - self.released,
                )
            };
            self.released = upto;
        }
    }

    /// Read more bytes, moving what is left unprocessed to the front. The buffer is allocated
    /// (and zeroed) once; `end` marks its valid bytes.
    fn fill(&mut self) -> Result<()> {
        if let Some(m) = &self.map {
            self.end = m.len();
            self.eof = true;
            return Ok(());
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end > MAX_LINE_BYTES.max(self.block) {
            return Ok(());
        }
        let cap = self.block.max(self.end) + (64 << 10);
        if self.buf.len() < cap {
            self.buf.resize(cap, 0);
        }
        let n = loop {
            match self.input.read(&mut self.buf[self.end..cap]) {
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
        self.end += n;
        if n == 0 {
            self.eof = true;
        }
        Ok(())
    }

    /// Parse the `len` bytes at `pos` (whole lines) into parts, in parallel; [`Self::hand_out`]
    /// then gives them out in order.
    fn parse_region(&mut self, len: usize) {
        let bytes: &[u8] = match &self.map {
            Some(m) => m,
            None => &self.buf,
        };
        let region = &bytes[self.pos..self.pos + len];
        // Lines before the data (header, units) are skipped unparsed.
        let mut skip = 0usize;
        let mut line = self.line;
        while line < self.layout.data_line && skip < region.len() {
            match memchr::memchr2(b'\n', b'\r', &region[skip..]) {
                Some(i) => {
                    let at = skip + i;
                    skip = at + 1;
                    if region[at] == b'\r' && region.get(skip) == Some(&b'\n') {
                        skip += 1;
                    }
                    line += 1;
                }
                None => skip = region.len(),
            }
        }
        let data = &region[skip..];
        let n_parts = if data.len() < PARALLEL_MIN_BYTES {
            1
        } else {
            self.parts.len()
        };
        let mut bounds = Vec::with_capacity(n_parts + 1);
        bounds.push(0usize);
        for k in 1..n_parts {
            let target = (data.len() * k / n_parts).max(*bounds.last().unwrap_or(&0));
            bounds.push(split_after_line(data, target));
        }
        bounds.push(data.len());
        let ctx = self.ctx;
        let parts = &mut self.parts[..n_parts];
        if n_parts == 1 {
            parse_part(data, &ctx, &mut parts[0]);
        } else {
            use rayon::prelude::*;
            parts
                .par_iter_mut()
                .enumerate()
                .for_each(|(k, part)| parse_part(&data[bounds[k]..bounds[k + 1]], &ctx, part));
        }
        self.part_line.clear();
        for part in &self.parts[..n_parts] {
            self.part_line.push(line);
            line += part.lines;
            self.lines_parsed += part.lines;
        }
        self.line = line;
        self.n_parts = n_parts;
        self.next_part = 0;
    }

    /// Check part `k` against what came before (the first problem in file order wins) and
    /// hand its samples to `chunk` (cleared) by swapping buffers: no copy.
    fn hand_out(&mut self, k: usize, chunk: &mut Chunk) -> Result<()> {
        let base = self.part_line[k];
        let part = &mut self.parts[k];
        let first_row_t = part.time.first().copied();
        let boundary_backwards = !self.layout.reorder
            && matches!(self.layout.time, TimeBase::Column { .. })
            && first_row_t.map(|t| t < self.last_time_s).unwrap_or(false);
        match (&part.err, boundary_backwards) {
            (Some(e), b) if !b || e.line < part.first_row_line => {
                let col = e
                    .field
                    .and_then(|f| self.layout.columns.get(f - 1))
                    .filter(|c| !c.is_empty())
                    .map(|c| format!("column \"{c}\""))
                    .unwrap_or_else(|| format!("column {}", e.field.unwrap_or(0)));
                let message = e
                    .message
                    .replace("{col}", &col)
                    .replace("{prev}", &(base + e.prev_line.unwrap_or(0)).to_string());
                let mut err = Error::input(&self.path, message).at_line(base + e.line);
                if let Some(f) = e.field {
                    err = err.at_field(f);
                }
                self.n_parts = 0;
                return Err(err);
            }
            (_, true) => {
                self.n_parts = 0;
                return Err(Error::input(
                    &self.path,
                    format!(
                        "time goes backwards: {} s here, {} s on line {}",
                        first_row_t.unwrap_or_default(),
                        self.last_time_s,
                        self.last_line
                    ),
                )
                .at_line(base + part.first_row_line));
            }
            _ => {}
        }
        if let TimeBase::Implied {
            start_s,
            interval_s,
        } = self.layout.time
        {
            let slot0 = self.slots as f64;
            for s in part.time.iter_mut() {
                *s = start_s + (slot0 + *s) * interval_s;
            }
        }
        chunk.clear();
        std::mem::swap(&mut chunk.time_s, &mut part.time);
        std::mem::swap(&mut chunk.value, &mut part.value);
        std::mem::swap(&mut chunk.marker, &mut part.marker);
        std::mem::swap(&mut chunk.digital, &mut part.digital);
        if let Some(&t) = chunk.time_s.last() {
            self.last_time_s = t;
            self.last_line = base + part.last_row_line;
        }
        self.rows += chunk.value.len() as u64;
        self.slots += part.slots;
        if part.empty > 0 && self.first_empty_line == 0 {
            self.first_empty_line = base + part.first_empty_line.unwrap_or(0);
        }
        self.empty_cells += part.empty;
        Ok(())
    }
}

/// The first position after a line end at or after `target` (or the end of `data`).
fn split_after_line(data: &[u8], target: usize) -> usize {
    if target >= data.len() {
        return data.len();
    }
    match memchr::memchr(b'\n', &data[target..]) {
        Some(i) => target + i + 1,
        // A file with bare CR line ends: split after a CR not followed by LF.
        None => match memchr::memchr(b'\r', &data[target..]) {
            Some(i) if data.get(target + i + 1) != Some(&b'\n') => target + i + 1,
            _ => data.len(),
        },
    }
}

/// Parse whole lines into `out`. Stops at the first error, recording it.
fn parse_part(data: &[u8], ctx: &Ctx, out: &mut Part) {
    out.reset();
    let n = data.len();
    let mut p = 0usize;
    let mut line = 0u64;
    let mut last_t = f64::NEG_INFINITY;
    let fast_delim = match ctx.delimiter {
        Delimiter::Byte(d)
            if !ctx.decimal_comma && ctx.mi == usize::MAX && !ctx.datetime && ctx.nd == 0 =>
        {
            Some(d)
        }
        _ => None,
    };
    let mut shapes = shape_ctx(ctx).filter(|_| ctx.shapes).and_then(Shapes::new);
    while p < n {
        // Rows of a layout seen before, 16 bytes at a time.
        if let Some(sh) = shapes.as_mut() {
            let mut sink = Sink {
                time: &mut out.time,
                value: &mut out.value,
                slots: &mut out.slots,
                first_row_line: &mut out.first_row_line,
                last_row_line: &mut out.last_row_line,
                last_t: &mut last_t,
            };
            let (next, rows) = sh.run(data, p, line, &mut sink);
            p = next;
            line += rows;
            out.shaped += rows;
            if p >= n {
                break;
            }
        }
        let (row_start, rows_before) = (p, out.value.len());
        // The common row, `time,value` or `value,` ending the line, parsed in one go.
        if let Some(d) = fast_delim {
            if let Some(next) = fast_row(data, p, d, ctx, out, line, &mut last_t) {
                line += 1;
                p = next;
                learn(&mut shapes, data, row_start, rows_before, out);
                continue;
            }
        }
        // One scan finds the line's end and, for single-byte delimiters, the two fields.
        let (end, fields) = match ctx.delimiter {
            Delimiter::Byte(d) => {
                let (mut i, mut f, mut fs) = (p, 0usize, p);
                let (mut tr, mut vr, mut mr) = ((0, 0), (0, 0), (0, 0));
                // Remember field `f`, spanning fs..i, if it is one the row needs.
                let mut keep = |f: usize, fs: usize, i: usize| {
                    if f == ctx.ti {
                        tr = (fs, i);
                    }
                    if f == ctx.vi {
                        vr = (fs, i);
                    }
                    if f == ctx.mi {
                        mr = (fs, i);
                    }
                };
                while i < n {
                    let c = data[i];
                    if c == d {
                        keep(f, fs, i);
                        f += 1;
                        fs = i + 1;
                    } else if c == b'\n' || c == b'\r' {
                        break;
                    }
                    i += 1;
                }
                keep(f, fs, i);
                (i, Some((f + 1, tr, vr, mr)))
            }
            Delimiter::Whitespace => (
                memchr::memchr2(b'\n', b'\r', &data[p..])
                    .map(|i| p + i)
                    .unwrap_or(n),
                None,
            ),
        };
        let text = &data[p..end];
        let result = match fields {
            Some((count, tr, vr, mr)) => parse_row(
                text,
                count,
                &data[tr.0..tr.1],
                &data[vr.0..vr.1],
                &data[mr.0..mr.1],
                line,
                ctx,
                out,
                &mut last_t,
            ),
            None => parse_line(text, line, ctx, out, &mut last_t),
        };
        if let Err(e) = result {
            out.err = Some(e);
            out.lines = line + 1;
            return;
        }
        line += 1;
        p = end + 1;
        if end < n && data[end] == b'\r' && p < n && data[p] == b'\n' {
            p += 1;
        }
        learn(&mut shapes, data, row_start, rows_before, out);
    }
    out.lines = line;
}

/// The shape reader's view of the layout, when it can take it: a one-byte delimiter, the
/// time (or implied time) and value only, no markers, digital channels or date-times.
fn shape_ctx(ctx: &Ctx) -> Option<ShapeCtx> {
    match ctx.delimiter {
        Delimiter::Byte(d) if ctx.mi == usize::MAX && !ctx.datetime && ctx.nd == 0 => {
            Some(ShapeCtx {
                delimiter: d,
                decimal: ctx.decimal,
                ti: ctx.ti,
                vi: ctx.vi,
                needed: ctx.needed,
                time_scale: ctx.time_scale,
                time_offset: ctx.time_offset,
                value_scale: ctx.value_scale,
                value_offset: ctx.value_offset,
                reorder: ctx.reorder,
            })
        }
        _ => None,
    }
}

/// After the scalar parser read the row at `row_start` as one sample, let the shape reader
/// learn its layout.
#[inline]
fn learn(shapes: &mut Option<Shapes>, data: &[u8], row_start: usize, before: usize, out: &Part) {
    if let Some(sh) = shapes.as_mut().filter(|s| s.enabled) {
        if out.value.len() == before + 1 {
            sh.learn(data, row_start, out.time[before], out.value[before]);
        }
    }
}

/// Parse a plain `time<d>value` (time column 0, value column 1) or `value[<d>]` (implied
/// time) row starting at `p`, and return where the next line starts; None to take the general
/// path (anything unusual, including every error).
#[inline(always)]
fn fast_row(
    data: &[u8],
    p: usize,
    d: u8,
    ctx: &Ctx,
    out: &mut Part,
    line: u64,
    last_t: &mut f64,
) -> Option<usize> {
    let n = data.len();
    let (t, v, mut q) = if ctx.ti == 0 && ctx.vi == 1 && ctx.needed == 2 {
        let (t, k) = fast_prefix(&data[p..], b'.')?;
        let q = p + k;
        if q >= n || data[q] != d {
            return None;
        }
        let (v, k2) = fast_prefix(&data[q + 1..], b'.')?;
        let t = t * ctx.time_scale + ctx.time_offset;
        if t < *last_t && !ctx.reorder {
            return None;
        }
        (t, v, q + 1 + k2)
    } else if ctx.ti == usize::MAX && ctx.vi == 0 && ctx.needed == 1 {
        let (v, k) = fast_prefix(&data[p..], b'.')?;
        (out.slots as f64, v, p + k)
    } else {
        return None;
    };
    if t.abs() > MAX_MAGNITUDE || (v * ctx.value_scale + ctx.value_offset).abs() > MAX_MAGNITUDE {
        return None; // the general path reports it
    }
    if q < n && data[q] == d {
        q += 1; // one trailing delimiter
    }
    let next = if q == n {
        n
    } else if data[q] == b'\n' {
        q + 1
    } else if data[q] == b'\r' {
        if q + 1 < n && data[q + 1] == b'\n' {
            q + 2
        } else {
            q + 1
        }
    } else {
        return None;
    };
    if ctx.ti != usize::MAX {
        *last_t = t;
    }
    if out.value.is_empty() {
        out.first_row_line = line;
    }
    out.last_row_line = line;
    out.slots += 1;
    out.time.push(t);
    out.value.push(v * ctx.value_scale + ctx.value_offset);
    Some(next)
}

/// A line split on whitespace.
#[inline]
fn parse_line(
    line: &[u8],
    line_no: u64,
    ctx: &Ctx,
    out: &mut Part,
    last_t: &mut f64,
) -> std::result::Result<(), PartError> {
    let (count, time_raw, value_raw) = pick(
        line.split(|&b| b == b' ' || b == b'\t')
            .filter(|f| !f.is_empty()),
        ctx.ti,
        ctx.vi,
        ctx.needed,
    );
    let marker_raw = if ctx.mi == usize::MAX {
        &[][..]
    } else {
        line.split(|&b| b == b' ' || b == b'\t')
            .filter(|f| !f.is_empty())
            .nth(ctx.mi)
            .unwrap_or_default()
    };
    parse_row(
        line,
        count,
        time_raw.unwrap_or_default(),
        value_raw.unwrap_or_default(),
        marker_raw,
        line_no,
        ctx,
        out,
        last_t,
    )
}

/// One line whose fields have been found: check, parse and store it.
#[inline]
#[allow(clippy::too_many_arguments)]
fn parse_row(
    line: &[u8],
    count: usize,
    time_raw: &[u8],
    value_raw: &[u8],
    marker_raw: &[u8],
    line_no: u64,
    ctx: &Ctx,
    out: &mut Part,
    last_t: &mut f64,
) -> std::result::Result<(), PartError> {
    // Data rows start with a digit, sign or point; anything else may be a comment or blank.
    if line.len() > MAX_LINE_BYTES {
        return Err(PartError {
            line: line_no,
            field: None,
            message: format!(
                "line is longer than {} MiB: not a trace table",
                MAX_LINE_BYTES >> 20
            ),
            prev_line: None,
        });
    }
    let first = line.first().copied().unwrap_or(b' ');
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.')
        && skippable(line)
    {
        return Ok(());
    }
    if count < ctx.needed {
        return Err(PartError {
            line: line_no,
            field: None,
            message: format!(
                "expected at least {} fields, found {count}: \"{}\"",
                ctx.needed,
                snippet(&String::from_utf8_lossy(line), 60)
            ),
            prev_line: None,
        });
    }
    let slot = out.slots;
    out.slots += 1;
    let value_field = trim_field(value_raw);
    let time_field = trim_field(time_raw);
    if value_field.is_empty() && (ctx.ti == usize::MAX || !time_field.is_empty()) {
        out.empty += 1;
        out.first_empty_line.get_or_insert(line_no);
        return Ok(());
    }
    let value = number(value_field, ctx, ctx.vi, line_no)? * ctx.value_scale + ctx.value_offset;
    if value.abs() > MAX_MAGNITUDE {
        return Err(PartError {
            line: line_no,
            field: Some(ctx.vi + 1),
            message: format!("implausible value {value:e} in {{col}}: more than {MAX_MAGNITUDE:e} in base units (V or mA)"),
            prev_line: None,
        });
    }
    let time = if ctx.ti == usize::MAX {
        slot as f64
    } else {
        let t = if ctx.datetime {
            parse_datetime(time_field).ok_or_else(|| PartError {
                line: line_no,
                field: Some(ctx.ti + 1),
                message: format!(
                    "expected a date-time such as 01-05-2024 12:00:00.123456 or 2024-05-01 12:00:00 in {{col}}, found \"{}\"",
                    snippet(&String::from_utf8_lossy(time_field), 40)
                ),
                prev_line: None,
            })?
        } else {
            number(time_field, ctx, ctx.ti, line_no)? * ctx.time_scale + ctx.time_offset
        };
        if t.abs() > MAX_MAGNITUDE {
            return Err(PartError {
                line: line_no,
                field: Some(ctx.ti + 1),
                message: format!("implausible time {t:e} s in {{col}}"),
                prev_line: None,
            });
        }
        if t < *last_t && !ctx.reorder {
            return Err(PartError {
                line: line_no,
                field: None,
                message: format!(
                    "time goes backwards: {t} s here, {} s on line {{prev}}",
                    *last_t
                ),
                prev_line: Some(out.last_row_line),
            });
        }
        *last_t = t;
        t
    };
    if out.value.is_empty() {
        out.first_row_line = line_no;
    }
    out.last_row_line = line_no;
    out.time.push(time);
    out.value.push(value);
    if ctx.mi != usize::MAX {
        // Digital states `-` and `X` (PPK2) and anything unreadable count as low.
        out.marker
            .push(fast_number(trim_field(marker_raw), ctx.decimal).unwrap_or(0.0));
    }
    if ctx.nd > 0 {
        let fields: Vec<&[u8]> = match ctx.delimiter {
            Delimiter::Byte(d) => line.split(|&b| b == d).collect(),
            Delimiter::Whitespace => split_fields(line, Delimiter::Whitespace),
        };
        for &c in &ctx.dig[..ctx.nd] {
            let v = fields
                .get(c)
                .and_then(|f| fast_number(trim_field(f), ctx.decimal));
            out.digital.push(v.unwrap_or(f64::NAN));
        }
    }
    Ok(())
}

/// A trimmed field as a finite number, or a located error naming the column.
#[inline]
fn number(
    field: &[u8],
    ctx: &Ctx,
    index: usize,
    line_no: u64,
) -> std::result::Result<f64, PartError> {
    match fast_number(field, ctx.decimal) {
        Some(v) => Ok(v),
        None => slow_number(field, ctx, index, line_no),
    }
}

#[cold]
#[inline(never)]
fn slow_number(
    field: &[u8],
    ctx: &Ctx,
    index: usize,
    line_no: u64,
) -> std::result::Result<f64, PartError> {
    let found = || snippet(&String::from_utf8_lossy(field), 40);
    let what = match parse_number(field, ctx.decimal_comma) {
        Num::Value(v) => return Ok(v),
        Num::Empty => "expected a number in {col}, found an empty cell".to_string(),
        Num::NonFinite => format!(
            "expected a finite number in {{col}}, found \"{}\" (NaN and infinity are not measurements)",
            found()
        ),
        Num::NotANumber => format!("expected a number in {{col}}, found \"{}\"", found()),
    };
    Err(PartError {
        line: line_no,
        field: Some(index + 1),
        message: what,
        prev_line: None,
    })
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
    fn swar_correctly_rounded_as_fast_float() {
        let cases = [
            "0",
            "7",
            "-3",
            "0.5",
            "12.25",
            "0.08010",
            "123.45678",
            "-0.00001",
            "1234567.1234567",
            "9999999.9999999",
            "0.0000001",
            "5.",
            "42.0",
            "3.14159",
            "-120.5",
            "1e3",
            "2.5E-3",
            "+1.5",
            "00012.500",
        ];
        // Correctly rounded: the same bits as fast-float2.
        let ulp_close = |got: f64, want: f64| got.to_bits() == want.to_bits();
        for c in cases {
            let padded = format!("{c},1234567890");
            let want: f64 = fast_float2::parse(c).unwrap();
            let (got, used) = fast_prefix(padded.as_bytes(), b'.').unwrap();
            assert_eq!(used, c.len(), "{c}");
            assert!(ulp_close(got, want), "{c}: {got} vs {want}");
            assert!(
                ulp_close(fast_number(c.as_bytes(), b'.').unwrap(), want),
                "{c}"
            );
        }
        // Pseudo-random decimals of every shape the SWAR path takes.
        let mut x = 0x1234_5678_9abc_def0u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let int = x % 10_000_000 / 10u64.pow((x >> 40) as u32 % 7);
            let fd = (x >> 50) as usize % 8;
            let frac = (x >> 20) % 10u64.pow(fd as u32);
            let c = if fd == 0 {
                format!("{int}")
            } else {
                format!("{int}.{frac:0fd$}")
            };
            let padded = format!("{c}\n00000000");
            let want: f64 = fast_float2::parse(&c).unwrap();
            let (got, used) = fast_prefix(padded.as_bytes(), b'.').unwrap();
            assert_eq!(used, c.len(), "{c}");
            assert!(ulp_close(got, want), "{c}: {got} vs {want}");
        }
    }

    fn ctx(delimiter: u8, ti: usize, vi: usize, needed: usize, shapes: bool) -> Ctx {
        Ctx {
            delimiter: Delimiter::Byte(delimiter),
            decimal: b'.',
            decimal_comma: false,
            ti,
            vi,
            needed,
            time_scale: 1e-3,
            time_offset: 0.5,
            value_scale: 2.0,
            value_offset: -0.25,
            reorder: false,
            mi: usize::MAX,
            datetime: false,
            dig: [0; 16],
            nd: 0,
            shapes,
        }
    }

    /// Parse `data` with and without the shape reader; everything must come out the same,
    /// to the bit. Returns the rows read and how many of them the shape reader took.
    fn same_with_and_without_shapes(data: &[u8], c: Ctx) -> (usize, u64) {
        let (mut a, mut b) = (Part::default(), Part::default());
        parse_part(data, &Ctx { shapes: true, ..c }, &mut a);
        parse_part(data, &Ctx { shapes: false, ..c }, &mut b);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.time), bits(&b.time));
        assert_eq!(bits(&a.value), bits(&b.value));
        assert_eq!(
            (a.lines, a.slots, a.empty, a.first_empty_line),
            (b.lines, b.slots, b.empty, b.first_empty_line)
        );
        assert_eq!(
            (a.first_row_line, a.last_row_line),
            (b.first_row_line, b.last_row_line)
        );
        let err = |p: &Part| p.err.as_ref().map(|e| (e.line, e.field, e.message.clone()));
        assert_eq!(err(&a), err(&b));
        assert_eq!(b.shaped, 0);
        (a.value.len(), a.shaped)
    }

    #[test]
    fn shapes_read_rows_as_the_scalar_parser() {
        let mut text = String::new();
        // Fixed decimals; the time's integer part grows (new shapes at 10 and 100).
        for k in 0..3000 {
            text += &format!(
                "{:.5},{:.5}\n",
                9.98 + k as f64 * 0.03,
                0.08 + (k % 7) as f64 * 1e-4
            );
        }
        // Negative values and times, CRLF, a trailing delimiter.
        for k in 0..500 {
            text += &format!(
                "{:.4},{:.6},\r\n",
                200.0 + k as f64 * 0.5,
                -0.001 * (k % 3) as f64
            );
        }
        // Unusual rows among usual ones: exponent, plus sign, quotes, spaces, a comment, an
        // empty value, a long field.
        for (k, odd) in [
            "450.05,1e-3",
            "450.15,+0.5",
            "450.25,\"0.25\"",
            "450.35, 0.5",
            "# note",
            "450.55,",
            "450.65,123456789.0123456",
            "450.75,0.1234567890123456",
        ]
        .iter()
        .enumerate()
        {
            for j in 0..40 {
                text += &format!(
                    "{:.5},{:.5}\n",
                    450.0 + k as f64 * 0.1 + j as f64 * 1e-3,
                    0.5
                );
            }
            text += odd;
            text += "\n";
        }
        for j in 0..100 {
            text += &format!("{:.5},{:.5}\n", 460.0 + j as f64, 0.5);
        }
        let (rows, shaped) =
            same_with_and_without_shapes(text.as_bytes(), ctx(b',', 0, 1, 2, true));
        assert_eq!(rows, 3000 + 500 + 8 * 40 + 6 + 100);
        assert!(shaped as usize > rows * 9 / 10, "{shaped} of {rows}");
        // Implied time, a value column only; and the value in the third of four columns.
        let one: String = (0..2000)
            .map(|k| format!("{:.3}\n", (k % 50) as f64 - 20.0))
            .collect();
        let (rows, shaped) =
            same_with_and_without_shapes(one.as_bytes(), ctx(b',', usize::MAX, 0, 1, true));
        assert!(rows == 2000 && shaped > 1900, "{shaped}");
        let four: String = (0..2000)
            .map(|k| format!("{},x,{:.2},11111111\n", k + 1000, (k % 50) as f64 * 0.37))
            .collect();
        let (rows, shaped) =
            same_with_and_without_shapes(four.as_bytes(), ctx(b',', 0, 2, 3, true));
        assert!(rows == 2000 && shaped > 1900, "{shaped}");
        // Scientific notation as Rigol and Keysight write it: negative times, signs that change
        // slowly, two channels and a trailing comma; and `+` exponents.
        let sci: String = (0..3000)
            .map(|k| {
                let t = (k as f64 - 1000.0) * 1e-6;
                let a = (k as f64 / 300.0).sin();
                format!("{t:.7e},{a:.5e},{:.5e},\n", -a * 40.0).replace("e-", "e-0")
            })
            .collect();
        let (rows, shaped) = same_with_and_without_shapes(sci.as_bytes(), ctx(b',', 0, 1, 2, true));
        assert!(rows == 3000 && shaped > 2700, "{shaped}");
        let plus: String = (0..2000)
            .map(|k| format!("+{:.6}E+00,{:.3}E-03\n", 1.0 + k as f64 * 1e-6, 31.5))
            .collect();
        let (rows, shaped) =
            same_with_and_without_shapes(plus.as_bytes(), ctx(b',', 0, 1, 2, true));
        assert!(rows == 2000 && shaped > 1900, "{shaped}");
        // Semicolons and decimal commas.
        let comma: String = (0..2000)
            .map(|k| {
                format!("{:.3};{:.4}\n", k as f64 * 0.5, (k % 50) as f64 - 20.5).replace('.', ",")
            })
            .collect();
        let c = Ctx {
            decimal: b',',
            decimal_comma: true,
            ..ctx(b';', 0, 1, 2, true)
        };
        let (rows, shaped) = same_with_and_without_shapes(comma.as_bytes(), c);
        assert!(rows == 2000 && shaped > 1900, "{shaped}");
        // An error (time going backwards) is found at the same line either way.
        let back = format!(
            "{}5.00000,1.00000\n{}",
            text_rows(0, 100),
            text_rows(100, 200)
        );
        same_with_and_without_shapes(back.as_bytes(), ctx(b',', 0, 1, 2, true));
    }

    fn text_rows(from: u32, to: u32) -> String {
        (from..to)
            .map(|k| format!("{:.5},{:.5}\n", 10.0 + k as f64 * 0.01, 0.25))
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Random mixes of row layouts (and damaged rows) read the same with and without shapes.
        #[test]
        fn shapes_match_scalar_on_random_rows(
            segments in proptest::collection::vec(
                (0u8..12, 1usize..200, 0u32..6, 0u32..9, proptest::bool::ANY, 0u64..1_000_000),
                1..12,
            ),
            cr in proptest::bool::ANY,
        ) {
            let mut text = String::new();
            let mut t = 0.0f64;
            for (kind, n, td, vd, neg, seed) in segments {
                let mut x = seed;
                for _ in 0..n {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    t += 0.001 * ((x >> 60) + 1) as f64;
                    let v = ((x >> 20) % 100_000) as f64 / 997.0 * if neg { -1.0 } else { 1.0 };
                    let (td, vd) = (td as usize, vd as usize);
                    let row = match kind {
                        0 => format!("{t:.td$},{v:.vd$}"),
                        1 => format!("{t:.td$},{v:.vd$},"),
                        2 => format!("{t:.td$},{v:.vd$},{}", x % 3),
                        3 => format!("{t},{v}"),
                        4 => format!("{t:.td$},{v:e}"),
                        8 => format!("{t:.td$e},{v:.vd$e}"),
                        9 => format!("{:.6e},{:.5E}", t - 1e6, v * 1e-9),
                        10 => format!("{t:.td$},{v:.vd$e}{}", ["", "0", "x"][(x % 3) as usize]),
                        11 => format!("{t:+.td$},{v:+.vd$E}"),
                        5 => format!("{t:.td$},{v:.vd$}{}", ["", " ", "x", ";"][(x % 4) as usize]),
                        6 => format!("{t:.td$},{}", (x % 10_000_000_000_000_000)),
                        _ => format!("{t:.td$},-{v:.vd$}"),
                    };
                    text += &row;
                    text += if cr { "\r\n" } else { "\n" };
                }
            }
            same_with_and_without_shapes(text.as_bytes(), ctx(b',', 0, 1, 2, true));
        }
    }

    #[test]
    fn datetimes() {
        // 2024-05-01 00:00:00 is 1714521600 s after 1970 (date -u -d 2024-05-01 +%s).
        assert_eq!(parse_datetime(b"2024-05-01 00:00:00"), Some(1714521600.0));
        assert_eq!(
            parse_datetime(b"01-05-2024 12:00:01.5"),
            Some(1714521600.0 + 43201.5)
        );
        assert_eq!(parse_datetime(b"1970-01-01T00:00:00"), Some(0.0));
        assert_eq!(parse_datetime(b"2024-13-01 00:00:00"), None);
        assert_eq!(parse_datetime(b"12.5"), None);
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
