//! The streaming sample reader shared by every format.
//!
//! Reads blocks of about [`BLOCK_ROWS`] rows, at most [`BLOCK_BYTES`] (files of
//! [`ReadOptions::mmap_min_bytes`] and more are memory-mapped instead of read), splits each at line ends into
//! four parts per core, and parses the parts in
//! parallel (rayon); each part is then handed out as a chunk of its own, without a copy. Rows of
//! a layout seen before go through the shape reader ([`super::rowshape`], SSE4.1), others
//! through a SWAR decimal parser with fast-float2 behind it for anything unusual; every path is
//! correctly rounded, so a number reads the same whichever path takes it. Lines end in LF, CRLF
//! or bare CR. Memory: about three blocks of samples (in flight and being parsed) and at most one
//! line of [`MAX_LINE_BYTES`]; nothing grows with the file. Throughput: `analyze` pinned to one core reads fixed-format
//! `time,value` rows at 1.1 GB/s end to end with the shape reader, 0.54 GB/s without.

use super::{io_reason, Layout, TimeBase};
use crate::error::{Error, Result};
use crate::trace::Chunk;
use std::io::Read;

/// Largest block: bytes parsed at a time (one block is handed out as a few chunks).
pub const BLOCK_BYTES: usize = 4 << 20;
/// Blocks are sized to hold about this many rows (at most [`BLOCK_BYTES`]), from the rows'
/// mean length so far: memory stays bounded in samples, short rows or long.
pub const BLOCK_ROWS: usize = 1 << 18;
/// Blocks smaller than this are parsed on one thread.
const PARALLEL_MIN_BYTES: usize = 256 << 10;

/// How a reader reads: whether large files are memory-mapped, and whether the shape reader
/// (SSE4.1) may take rows. Both choices give the same samples, to the bit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadOptions {
    /// Memory-map files of at least this many bytes (unix only; None: never). No copy out of
    /// the page cache; parsed pages are dropped, so the resident set stays at a few blocks.
    pub mmap_min_bytes: Option<u64>,
    /// Let the shape reader take rows where the CPU has it.
    pub simd: bool,
    /// The file's size when its source was opened: a reader that finds fewer bytes reports the
    /// file as shortened (None: whatever the file holds when the reader opens it).
    pub expected_bytes: Option<u64>,
}

use super::number::MAX_LINE_BYTES;
pub use super::number::{parse_number, split_fields, Num};
use super::rows::{parse_part, split_after_line, Ctx, Part};

pub struct SampleReader {
    path: String,
    input: Box<dyn Read + Send>,
    /// Turns a SIGBUS in the map into an error naming the file (dropped before the map).
    _map_guard: Option<super::mapguard::Guard>,
    /// The whole file, when mapped (then `buf` is unused).
    map: Option<memmap2::Mmap>,
    /// Bytes the input must hold (its size when the source was opened); fewer at the end is an
    /// error, not a shorter trace.
    expected_bytes: Option<u64>,
    /// Bytes read so far (unmapped input).
    bytes_read: u64,
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
    heap: std::collections::BinaryHeap<std::cmp::Reverse<(OrdF64, u64, OrdF64, OrdF64)>>,
    seq: u64,
    last_emitted: f64,
    staged: Chunk,
}

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

/// The error for a file that another program shortened while it was read.
fn shortened(path: &str, got: u64, want: u64) -> Error {
    Error::input(
        path,
        format!(
            "the file was shortened by another program while it was read: it ended after {got} \
             of its {want} bytes"
        ),
    )
}

impl SampleReader {
    /// Read `data`; errors name `path`, the file as the user gave it. A file of at least
    /// `read.mmap_min_bytes` is memory-mapped (if another program shortens the file while it is
    /// read, the process gets SIGBUS: see [`super::mapguard`]; `--no-mmap` reads it instead).
    pub fn open(
        path: &str,
        data: &std::path::Path,
        layout: Layout,
        read: ReadOptions,
    ) -> Result<SampleReader> {
        let file = std::fs::File::open(data)
            .map_err(|e| Error::input(path, format!("cannot open: {}", io_reason(&e))))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        // Mapped only when the process opted in (its SIGBUS guard is installed): a library or
        // Python caller reads, so a file shortened meanwhile is an error, not a dead process.
        let map_it = super::mapguard::installed()
            && read
                .mmap_min_bytes
                .is_some_and(|min| size >= min.max(1) && usize::try_from(size).is_ok());
        // Unix only: elsewhere parsed pages could not be dropped from the mapping.
        let mut map = if cfg!(unix) && map_it {
            // SAFETY: the map is only read, never written. Another program may still shorten
            // the file while it is mapped: reads past the new end then raise SIGBUS, which the
            // installed guard turns into an error naming the file (see `mapguard`); a mapping
            // the guard cannot cover is dropped below before any read.
            let map = unsafe { memmap2::Mmap::map(&file) }.ok();
            #[cfg(unix)]
            if let Some(m) = &map {
                let _ = m.advise(memmap2::Advice::Sequential);
            }
            map
        } else {
            None
        };
        let guard = map
            .as_ref()
            .map(|m| super::mapguard::register(m.as_ptr(), m.len(), path));
        if !guard.as_ref().is_some_and(|g| g.covers()) {
            map = None;
        }
        let mut r = Self::from_input(path, layout, Box::new(file))?;
        r.ctx.shapes &= read.simd;
        r._map_guard = guard;
        r.map = map;
        let expected = read.expected_bytes.unwrap_or(size);
        if size < expected {
            return Err(shortened(path, size, expected));
        }
        r.expected_bytes = Some(expected);
        Ok(r)
    }

    /// A reader over `len` bytes from `offset`, starting at the first whole line after it (at
    /// offset 0: the file's first data line), for sampling a large file. Line numbers in its
    /// errors are meaningless: callers ignore them.
    pub fn open_window(
        path: &str,
        data: &std::path::Path,
        layout: Layout,
        read: ReadOptions,
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
        r.ctx.shapes &= read.simd;
        r.skip_partial_line = offset > 0;
        r.window = true;
        r.expected_bytes = read
            .expected_bytes
            .map(|total| len.min(total.saturating_sub(offset)));
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
        let vi2 = layout.value_minus.unwrap_or(usize::MAX);
        let (si, supply_scale) = layout.supply.unwrap_or((usize::MAX, 1.0));
        let wi = layout.window_index.unwrap_or(usize::MAX);
        let needed = [ti, layout.value_index, mi, vi2, si, wi]
            .iter()
            .filter(|&&c| c != usize::MAX)
            .map(|c| c + 1)
            .max()
            .unwrap_or(1);
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
            clock_origin_s: layout.clock_origin_s,
            dig: {
                let mut d = [0usize; 16];
                for (k, (c, _)) in layout.digital.iter().take(16).enumerate() {
                    d[k] = *c;
                }
                d
            },
            nd: layout.digital.len().min(16),
            // The shape reader reads a time and a value per row, nothing more.
            shapes: vi2 == usize::MAX && si == usize::MAX && wi == usize::MAX,
            vi2,
            si,
            supply_scale,
            wi,
        };
        let threads = rayon::current_num_threads().clamp(1, 16);
        Ok(SampleReader {
            path: path.to_string(),
            input,
            _map_guard: None,
            expected_bytes: None,
            bytes_read: 0,
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
        for (k, (&t, &v)) in staged.time_s.iter().zip(&staged.value).enumerate() {
            let s = staged.supply.get(k).copied().unwrap_or(f64::NAN);
            self.heap.push(std::cmp::Reverse((
                OrdF64(t),
                self.seq,
                OrdF64(v),
                OrdF64(s),
            )));
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
        if let Some(std::cmp::Reverse((OrdF64(t), _, OrdF64(v), OrdF64(s)))) = self.heap.pop() {
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
            if !s.is_nan() {
                chunk.supply.push(s);
            }
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
        self.bytes_read += n as u64;
        if n == 0 {
            self.eof = true;
            if let Some(want) = self.expected_bytes.filter(|w| self.bytes_read < *w) {
                return Err(shortened(&self.path, self.bytes_read, want));
            }
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
        std::mem::swap(&mut chunk.supply, &mut part.supply);
        std::mem::swap(&mut chunk.window, &mut part.window);
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
