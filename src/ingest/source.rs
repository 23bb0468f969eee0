//! Sources: a named input (a file, standard input, a compressed file) laid out by the format
//! that recognised it, and the readers that stream its samples (text tables through
//! [`super::reader::SampleReader`], session files through [`super::native`]).

use super::*;
use crate::error::{Error, Result};
use crate::trace::TraceInfo;
use std::io::Read;

/// A file with its detected layout; open it as often as the analysis needs passes.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file as the user named it (`-` for standard input).
    pub path: String,
    /// Where its bytes are: the file itself, or a decompressed or spooled copy.
    data: std::sync::Arc<Data>,
    pub layout: Layout,
    /// How to read: memory-mapping and the shape reader.
    pub read: reader::ReadOptions,
    /// `--value-col` as given (shown when it names a difference of two columns).
    pub value_expression: Option<String>,
    /// A native session file (PPK2, sigrok, JLS), when it is one.
    pub session: Option<std::sync::Arc<native::Session>>,
}

/// The bytes a source reads.
#[derive(Debug)]
enum Data {
    File(std::path::PathBuf),
    /// A temporary copy, deleted when the last reader is gone.
    Spooled(tempfile::TempPath),
}

impl Data {
    fn path(&self) -> &std::path::Path {
        match self {
            Data::File(p) => p,
            Data::Spooled(t) => t,
        }
    }
}

/// A compressed file may expand this much (beyond 64 MiB) before it is taken for a bomb; CSV
/// traces compress 3–20×.
const MAX_EXPANSION: u64 = 100;

/// Copy a stream into a temporary file, so that the analysis can read it twice. Standard input
/// and `.gz`/`.zst` files go through here: memory stays one buffer, disk holds the copy.
fn spool(display: &str, mut input: Box<dyn Read>, limit: Option<u64>) -> Result<Data> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".shuntscope-input-")
        .tempfile()
        .map_err(|e| Error::input(display, format!("cannot make a temporary copy: {e}")))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::input(
                    display,
                    format!("cannot read (or decompress): {}", io_reason(&e)),
                ))
            }
        };
        total += n as u64;
        if limit.is_some_and(|l| total > l) {
            return Err(Error::input(
                display,
                format!(
                    "decompresses to more than {} MB, over {MAX_EXPANSION}× its size: refused as a likely decompression bomb",
                    limit.unwrap_or(0) / 1_000_000
                ),
            ));
        }
        std::io::Write::write_all(tmp.as_file_mut(), &buf[..n])
            .map_err(|e| Error::input(display, format!("cannot write a temporary copy: {e}")))?;
    }
    Ok(Data::Spooled(tmp.into_temp_path()))
}

/// Open a named input: `-` is standard input, `.gz` and `.zst` are decompressed on the way.
fn open_data(path: &str) -> Result<Data> {
    let lower = path.to_ascii_lowercase();
    if path == "-" {
        return spool(path, Box::new(std::io::stdin()), None);
    }
    if !(lower.ends_with(".gz") || lower.ends_with(".zst")) {
        return Ok(Data::File(path.into()));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| Error::input(path, format!("cannot open: {}", io_reason(&e))))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let limit = Some(size.saturating_mul(MAX_EXPANSION).max(64 << 20));
    let reader: Box<dyn Read> = if lower.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
            file,
        )))
    } else {
        Box::new(
            zstd::stream::read::Decoder::new(file)
                .map_err(|e| Error::input(path, format!("not a zstd file: {e}")))?,
        )
    };
    spool(path, reader, limit)
}

impl Source {
    /// Read the file's head, pick a format and lay the file out. Cost: one read of at most 64 KiB
    /// (and, for standard input or compressed files, one copy into a temporary file).
    pub fn open(path: &str, opts: &IngestOptions) -> Result<Source> {
        let data = open_data(path)?;
        // The size every later read must find (see `ReadOptions::expected_bytes`).
        let expected_bytes = std::fs::metadata(data.path()).ok().map(|m| m.len());
        let first = first_bytes(path, data.path())?;
        let session = native::sniff(path, data.path(), &first)?;
        let (mut layout, session) = match session {
            Some(s) => {
                if let Some(f) = opts.input_format.as_deref().filter(|f| *f != s.format()) {
                    return Err(Error::usage(format!(
                        "--input-format {f}: the file is a {} session file",
                        s.format()
                    )));
                }
                let l = layout_for(opts, |o| s.layout(path, o))?;
                (l, Some(std::sync::Arc::new(s)))
            }
            None => {
                if let Some(why) = binary(&first) {
                    return Err(Error::input(path, why));
                }
                let head = read_head(path, data.path())?;
                let format = text_format(path, &head, opts)?;
                let mut l = layout_for(opts, |o| (format.layout)(&head, path, o))
                    .map_err(|e| e.in_file(path))?;
                if MEASURE_SUPPLY.contains(&l.format) {
                    l.default_supply = supply_beside(&l);
                }
                (l, None)
            }
        };
        supply_column(&mut layout, opts)?;
        if let Some(w) = &opts.window_col {
            layout.window_index = Some(find_column(&layout.columns, w, "window column")?);
        }
        Ok(Source {
            path: path.to_string(),
            data: std::sync::Arc::new(data),
            layout,
            session,
            value_expression: opts.value_col.clone(),
            read: reader::ReadOptions {
                mmap_min_bytes: (!opts.no_mmap).then_some(opts.mmap_min_bytes),
                simd: !opts.no_simd,
                expected_bytes,
            },
        })
    }

    /// Size of the bytes to read, if known.
    pub fn size(&self) -> u64 {
        std::fs::metadata(self.data.path())
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// A fresh streaming reader over the whole file.
    pub fn reader(&self) -> Result<Reader> {
        Ok(match &self.session {
            Some(s) => Reader::Native(Box::new(s.reader(
                &self.path,
                self.data.path(),
                &self.layout,
            )?)),
            None => Reader::Text(Box::new(reader::SampleReader::open(
                &self.path,
                self.data.path(),
                self.layout.clone(),
                self.read,
            )?)),
        })
    }

    /// The same source handing out a PPK2 session's digital words (`Chunk::digital_words`)
    /// instead of decoded channels; None for other formats.
    pub fn with_digital_words(&self) -> Option<Source> {
        if !matches!(
            self.session.as_deref(),
            Some(super::native::Session::Ppk2(_))
        ) {
            return None;
        }
        let mut s = self.clone();
        s.layout.digital.clear();
        s.layout.digital_words = true;
        Some(s)
    }

    /// The same source without its digital channels (what the analysis' passes read).
    pub fn without_digital(&self) -> Source {
        let mut s = self.clone();
        s.layout.digital.clear();
        s
    }

    /// The same source read for its values only: no supply, marker, window or digital
    /// channels (a session file then decodes only the value's channels: the survey's reader).
    pub fn values_only(&self) -> Source {
        let mut s = self.clone();
        let l = &mut s.layout;
        l.supply = None;
        l.marker_index = None;
        l.window_index = None;
        l.digital.clear();
        s
    }

    /// The file will be read whole more than once: a session file keeps its inflated samples
    /// from the next pass on (disk: their uncompressed size; see [`native::zipped::Spool`]).
    pub fn will_reread(&self) {
        if let Some(s) = &self.session {
            s.keep_inflated();
        }
    }

    /// A reader over a window of the file from about byte `offset` (see
    /// [`reader::SampleReader::open_window`]; a JLS file from the first chunk after `offset`).
    /// Compressed session files have none: an error.
    pub fn window(&self, offset: u64, len: u64) -> Result<Reader> {
        if let Some(s) = &self.session {
            return match s.reader_near(&self.path, self.data.path(), &self.layout, offset)? {
                Some(r) => Ok(Reader::Native(Box::new(r))),
                None => Err(Error::input(
                    &self.path,
                    "a compressed session file is read whole",
                )),
            };
        }
        Ok(Reader::Text(Box::new(reader::SampleReader::open_window(
            &self.path,
            self.data.path(),
            self.layout.clone(),
            self.read,
            offset,
            len,
        )?)))
    }

    /// What the reader chose, for reports.
    pub fn info(&self) -> TraceInfo {
        let l = &self.layout;
        let mut dialect = match &self.session {
            Some(s) => s.storage().to_string(),
            None => l.delimiter.describe().to_string(),
        };
        if l.decimal_comma {
            dialect.push_str(", decimal comma");
        }
        TraceInfo {
            file: self.path.clone(),
            format: l.format.to_string(),
            dialect,
            columns: l.columns.clone(),
            data_line: l.data_line,
            time_source: l.time_label.clone(),
            value_column: l.value_label.clone(),
            value_expression: l.value_minus.and_then(|_| self.value_expression.clone()),
            supply_column: l.supply.map(|(j, _)| {
                format!(
                    "column {} \"{}\"",
                    j + 1,
                    l.columns.get(j).map(String::as_str).unwrap_or("")
                )
            }),
            value_unit: l.value_unit.clone(),
            quantity: l.quantity,
            assumptions: l.assumptions.clone(),
            scaling: l.scaling.clone(),
            start_time: l.start_time.clone(),
        }
    }
}

/// Formats of instruments that record the supply voltage beside the current.
const MEASURE_SUPPLY: &[&str] = &["joulescope", "rd-usb", "monsoon", "logger"];

/// The voltage column recorded beside the value: one whose unit is a voltage and whose name
/// says voltage, preferring one that shares a word with the value column (Monsoon's `Main(mA)`
/// and `Main Voltage(V)`); never USB's data lines.
fn supply_beside(l: &Layout) -> Option<usize> {
    let value = header::split_name_unit(&l.columns[l.value_index])
        .0
        .to_lowercase();
    let candidates: Vec<usize> = (0..l.columns.len())
        .filter(|&j| {
            let name = l.columns[j].to_lowercase();
            l.units
                .get(j)
                .cloned()
                .flatten()
                .is_some_and(|u| u.dim == crate::units::Dim::Voltage)
                && (name.contains("volt") || name.starts_with('v'))
                && !name.contains("data")
        })
        .collect();
    candidates
        .iter()
        .copied()
        .find(|&j| {
            value
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.len() > 1)
                .any(|w| l.columns[j].to_lowercase().contains(w))
        })
        .or(candidates.first().copied())
}

/// The text format of a head: `--input-format`, else the best score.
fn text_format(path: &str, head: &Head, opts: &IngestOptions) -> Result<&'static Format> {
    if head.lines.is_empty() && !head.complete {
        return Err(Error::input(
            path,
            format!(
                "no line ends in the first {} KiB: a header or row that long is not a trace table",
                HEAD_BYTES >> 10
            ),
        )
        .at_line(1));
    }
    if head.lines.iter().all(|l| l.text.trim().is_empty()) {
        return Err(Error::input(path, "the file is empty"));
    }
    if let Some(name) = &opts.input_format {
        return FORMATS.iter().find(|f| f.name == name).ok_or_else(|| {
            let names: Vec<_> = FORMATS.iter().map(|f| f.name).collect();
            Error::usage(format!(
                "unknown input format \"{name}\": choose one of {}",
                names.join(", ")
            ))
        });
    }
    let best = FORMATS
        .iter()
        .map(|f| ((f.score)(head), f))
        .max_by_key(|(s, _)| *s)
        .filter(|(s, _)| *s > 0);
    match best {
        Some((_, f)) => Ok(f),
        None if head.complete
            && head.lines.iter().filter(|l| !is_skippable(&l.text)).count() == 1 =>
        {
            Err(Error::input(
                path,
                format!("a header line and no data rows: {}", head.preview(1)),
            ))
        }
        None => {
            // Advice the user has already followed is not given again.
            let advice = if opts.time_col.is_some() || opts.value_col.is_some() {
                "Check the column names against the header, or name the format with --input-format"
            } else {
                "Name the columns with --time-col and --value-col, or the format with --input-format"
            };
            Err(Error::input(
                path,
                format!(
                    "no known layout: found no block of numeric rows and no header over rows of \
                     numbers, clock times and text. First lines: {}. {advice}",
                    head.preview(4)
                ),
            ))
        }
    }
}

/// The first bytes of a file, for recognising session files and binary data.
fn first_bytes(path: &str, data: &std::path::Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(data)
        .map_err(|e| Error::input(path, format!("cannot open: {}", io_reason(&e))))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(Error::input(path, "is a directory, expected a trace file"));
    }
    let mut buf = Vec::with_capacity(4096);
    file.take(4096)
        .read_to_end(&mut buf)
        .map_err(|e| Error::input(path, format!("cannot read: {}", io_reason(&e))))?;
    Ok(buf)
}

/// Why the first bytes are binary data rather than text (control bytes other than tab, line
/// ends and NUL padding, or invalid UTF-8), if they are: never print them.
fn binary(first: &[u8]) -> Option<String> {
    let text: Vec<u8> = first.iter().copied().filter(|&b| b != 0).collect();
    let control = text
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x1a) || b == 0x7f)
        .count();
    // Allow a character cut at the 4 KiB boundary.
    let utf8_ok = match std::str::from_utf8(&text) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() || e.valid_up_to() + 4 >= text.len(),
    };
    let latin1 = text.iter().filter(|&&b| b >= 0x80).count();
    if control * 20 > text.len().max(1) || (!utf8_ok && latin1 * 5 > text.len().max(1)) {
        Some(format!(
            "no known layout: binary data, not a text trace table or a known session file (.ppk2, .sr, .jls); it starts with bytes {}",
            first
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        ))
    } else {
        None
    }
}

/// The format's layout (`lay` with the options); a `--value-col` that names no column but
/// reads as `A-B` (names or numbers) is the difference of two columns in the same unit: a
/// shunt with a probe on each side.
fn layout_for(
    opts: &IngestOptions,
    lay: impl Fn(&IngestOptions) -> Result<Layout>,
) -> Result<Layout> {
    let err = match lay(opts) {
        Ok(l) => return Ok(l),
        Err(e) => e,
    };
    let Some(v) = &opts.value_col else {
        return Err(err);
    };
    for (k, _) in v.match_indices('-') {
        let (a, b) = (v[..k].trim(), v[k + 1..].trim());
        if a.is_empty() || b.is_empty() {
            continue;
        }
        let o = IngestOptions {
            value_col: Some(a.to_string()),
            ..opts.clone()
        };
        let Ok(mut l) = lay(&o) else {
            continue;
        };
        let Ok(j) = find_column(&l.columns, b, "value column") else {
            continue;
        };
        if j == l.value_index {
            return Err(Error::usage(format!(
                "--value-col {v}: a column minus itself is zero"
            )));
        }
        let (ua, ub) = (
            l.units.get(l.value_index).cloned().flatten(),
            l.units.get(j).cloned().flatten(),
        );
        if let (Some(ua), Some(ub)) = (&ua, &ub) {
            if ua.dim != ub.dim || ua.to_base != ub.to_base {
                return Err(Error::usage(format!(
                    "--value-col {v}: the columns are in different units ({} and {}): a difference needs one unit",
                    ua.symbol, ub.symbol
                )));
            }
        }
        l.value_minus = Some(j);
        l.value_label = format!("{} − column {} \"{}\"", l.value_label, j + 1, l.columns[j]);
        return Ok(l);
    }
    Err(err)
}

/// The supply-voltage column: `--supply-col`, else a voltage column the file carries (unless
/// `--supply-v` asked for a constant). Its unit gives the scale to volts.
fn supply_column(l: &mut Layout, opts: &IngestOptions) -> Result<()> {
    let (j, given) = match &opts.supply_col {
        Some(s) => (find_column(&l.columns, s, "supply column")?, true),
        None => match l.default_supply.filter(|_| opts.file_supply) {
            Some(j) => (j, false),
            None => return Ok(()),
        },
    };
    let name = l.columns.get(j).cloned().unwrap_or_default();
    let scale = match l.units.get(j).cloned().flatten() {
        Some(u) if u.dim == crate::units::Dim::Voltage => u.to_base,
        Some(u) => {
            return Err(Error::usage(format!(
                "supply column {} \"{name}\" is in {}, not a voltage",
                j + 1,
                u.symbol
            )))
        }
        None => {
            l.assumptions.push(format!(
                "supply column {} \"{name}\" has no unit: taken as volts",
                j + 1
            ));
            1.0
        }
    };
    if !given {
        l.assumptions.push(format!(
            "supply voltage measured: column {} \"{name}\" (give --supply-v for a constant instead)",
            j + 1
        ));
    }
    l.supply = Some((j, scale));
    Ok(())
}

fn read_head(path: &str, data: &std::path::Path) -> Result<Head> {
    let file = std::fs::File::open(data)
        .map_err(|e| Error::input(path, format!("cannot open: {}", io_reason(&e))))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(Error::input(path, "is a directory, expected a trace file"));
    }
    let mut buf = Vec::with_capacity(HEAD_BYTES);
    file.take(HEAD_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::input(path, format!("cannot read: {}", io_reason(&e))))?;
    let complete = buf.len() <= HEAD_BYTES;
    buf.truncate(HEAD_BYTES);
    Ok(Head::from_bytes(&buf, complete))
}

/// Streams samples out of a source: a text table's reader or a session file's.
pub enum Reader {
    Text(Box<reader::SampleReader>),
    Native(Box<native::NativeReader>),
}

impl Reader {
    /// The next chunk of samples; false at the end.
    pub fn next_chunk(&mut self, chunk: &mut crate::trace::Chunk) -> Result<bool> {
        match self {
            Reader::Text(r) => r.next_chunk(chunk),
            Reader::Native(r) => r.next_chunk(chunk),
        }
    }

    /// Samples handed out so far.
    pub fn rows(&self) -> u64 {
        match self {
            Reader::Text(r) => r.rows(),
            Reader::Native(r) => r.rows(),
        }
    }

    /// The last data line read (text), or the number of samples (session files).
    pub fn last_data_line(&self) -> u64 {
        match self {
            Reader::Text(r) => r.last_data_line(),
            Reader::Native(r) => r.rows(),
        }
    }

    /// Rows skipped for an empty value cell (a NaN sample in a session file), and the line (or
    /// sample index) of the first.
    pub fn skipped(&self) -> (u64, u64) {
        match self {
            Reader::Text(r) => (r.empty_cells, r.first_empty_line),
            Reader::Native(r) => r.skipped(),
        }
    }

    /// How many chunks a block is handed out in (at most).
    pub fn parts_per_block(&self) -> usize {
        match self {
            Reader::Text(r) => r.parts_per_block(),
            Reader::Native(_) => 8,
        }
    }
}
