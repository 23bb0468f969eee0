//! Joulescope JLS v2 files: a 32-byte file header (`jlsfmt\r\n \n \x1a  \xb2\x1c`, length,
//! version, CRC), then chunks, each a 32-byte header (next, previous, tag, meta, payload length,
//! previous payload length, CRC) and its payload padded so that the CRC after it ends on a
//! multiple of 8. Signal definitions (tag 0x02) give each fixed-rate signal's id, data type,
//! sample rate, name and units; sample data sits in level-0 chunks of the signal's track (meta:
//! signal id in bits 0–7, level in bits 12–15), each `i64 first sample id, u32 count, u16 bits
//! per sample, u16 reserved` and the samples. The format is defined by jetperch/jls
//! (`include/jls/format.h`); summary and index chunks are skipped. Each signal is read through
//! its own cursor over the file, so current and voltage stream side by side in blocks.

use super::{Channels, Emit, BLOCK_SAMPLES};
use crate::error::{Error, Result};
use crate::trace::Chunk;
use crate::units::{Dim, Unit};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

pub const NAME: &str = "jls";

const MAGIC: [u8; 16] = [
    0x6a, 0x6c, 0x73, 0x66, 0x6d, 0x74, 0x0d, 0x0a, 0x20, 0x0a, 0x20, 0x1a, 0x20, 0x20, 0xb2, 0x1c,
];
const TAG_SOURCE_DEF: u8 = 0x01;
const TAG_SIGNAL_DEF: u8 = 0x02;
const TAG_END: u8 = 0xff;

pub fn is_jls(head: &[u8]) -> bool {
    head.starts_with(&MAGIC)
}

/// A source (an instrument) that signals come from.
#[derive(Debug, Clone)]
pub struct Source {
    pub id: u16,
    /// Name, vendor, model, version and serial number, as the file has them.
    pub name: String,
    pub vendor: String,
    pub model: String,
    pub version: String,
    pub serial: String,
}

/// One fixed-sample-rate signal.
#[derive(Debug, Clone)]
pub struct Signal {
    pub id: u16,
    /// The id of its [`Source`].
    pub source: u16,
    pub name: String,
    pub units: String,
    pub rate_hz: f64,
    /// Bytes per sample: 4 (f32) or 8 (f64).
    pub bytes: usize,
}

/// What a JLS file holds.
#[derive(Debug, Clone)]
pub struct JlsSession {
    signals: Vec<Signal>,
    sources: Vec<Source>,
    /// File offset of the first chunk after the definitions.
    data_start: u64,
}

/// A chunk header.
struct ChunkHeader {
    tag: u8,
    meta: u16,
    payload: u64,
}

/// The chunk header at byte `at`, checked against its CRC-32C; `None` at the end of the file.
fn read_header(r: &mut impl Read, file: &str, at: u64) -> Result<Option<ChunkHeader>> {
    let mut h = [0u8; 32];
    let mut n = 0;
    while n < 32 {
        match r.read(&mut h[n..]) {
            Ok(0) if n == 0 => return Ok(None),
            Ok(0) | Err(_) => {
                return Err(Error::input(
                    file,
                    format!("the JLS file is cut inside a chunk header at byte {at}"),
                ))
            }
            Ok(k) => n += k,
        }
    }
    check_crc(file, &h[..28], &h[28..32], || {
        format!("the JLS chunk header at byte {at}")
    })?;
    Ok(Some(ChunkHeader {
        tag: h[16],
        meta: u16::from_le_bytes([h[18], h[19]]),
        payload: u32::from_le_bytes([h[20], h[21], h[22], h[23]]) as u64,
    }))
}

/// `bytes` against the little-endian CRC-32C in `stored` (JLS checks every header and payload
/// so; a damaged file would otherwise give wrong numbers, not an error). Cost: ~0.1 ns a byte.
fn check_crc(file: &str, bytes: &[u8], stored: &[u8], what: impl Fn() -> String) -> Result<()> {
    let stored = u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]);
    let crc = crc32c::crc32c(bytes);
    if crc != stored {
        return Err(Error::input(
            file,
            format!(
                "{} fails its CRC-32C check (stored {stored:08x}, read {crc:08x}): the file is damaged",
                what()
            ),
        ));
    }
    Ok(())
}

/// Read the body of the chunk at byte `at` whose header is `h` into `buf` (payload, padding
/// and CRC; checked); the payload is `buf[..h.payload]`. The reader ends after the chunk.
fn read_payload(
    r: &mut impl Read,
    h: &ChunkHeader,
    file: &str,
    at: u64,
    buf: &mut Vec<u8>,
) -> Result<()> {
    let len = body_len(h.payload) as usize;
    buf.resize(len, 0);
    r.read_exact(buf).map_err(|_| {
        Error::input(
            file,
            format!("the JLS file is cut in the chunk at byte {at}"),
        )
    })?;
    if len > 0 {
        check_crc(file, &buf[..h.payload as usize], &buf[len - 4..], || {
            format!("the payload of the JLS chunk at byte {at}")
        })?;
    }
    Ok(())
}

/// Bytes after a chunk's header: the payload, its padding and the CRC (none for an empty one).
fn body_len(payload: u64) -> u64 {
    if payload == 0 {
        0
    } else {
        payload + (8 - (payload + 4) % 8) % 8 + 4
    }
}

/// NUL-terminated strings separated by 0x1f, as JLS stores a definition's names.
fn strings(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0)
        .map(|s| {
            String::from_utf8_lossy(s)
                .trim_matches('\u{1f}')
                .to_string()
        })
        .collect()
}

impl JlsSession {
    pub fn open(file: &str, data: &Path) -> Result<JlsSession> {
        let bad = |m: String| Error::input(file, m);
        let f = std::fs::File::open(data)
            .map_err(|e| bad(format!("cannot open: {}", super::super::io_reason(&e))))?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        let mut r = BufReader::new(f);
        let mut fh = [0u8; 32];
        r.read_exact(&mut fh)
            .map_err(|_| bad("a JLS file shorter than its 32-byte header".into()))?;
        check_crc(file, &fh[..28], &fh[28..], || "the JLS file header".into())?;
        let major = fh[27];
        if major != 1 {
            return Err(bad(format!(
                "JLS format version {major}.{}: only version 1.x (JLS v2 files) is known",
                fh[26]
            )));
        }
        // Definitions may come anywhere, even after data (EM•Scope writes `voltage` and `power`
        // after the first `current` chunks): every chunk header is read, payloads are skipped.
        let mut signals = Vec::new();
        let mut sources = Vec::new();
        let mut pos = 32u64;
        let mut p = Vec::new();
        while let Some(h) = read_header(&mut r, file, pos)? {
            let len = body_len(h.payload);
            if pos + 32 + len > size {
                return Err(bad(format!(
                    "a JLS chunk at byte {pos} claims {} payload bytes, past the end of the file",
                    h.payload
                )));
            }
            if h.tag == TAG_END {
                break;
            }
            if (h.tag == TAG_SIGNAL_DEF && h.payload >= 36) || h.tag == TAG_SOURCE_DEF {
                read_payload(&mut r, &h, file, pos, &mut p)?;
                p.truncate(h.payload as usize);
                if h.tag == TAG_SOURCE_DEF {
                    sources.extend(source(&p, h.meta & 0xff));
                } else {
                    signals.extend(signal(&p, h.meta & 0xff));
                }
            } else {
                r.seek_relative(len as i64)
                    .map_err(|_| bad(format!("cannot skip the chunk at byte {pos}")))?;
            }
            pos += 32 + len;
        }
        if signals.is_empty() {
            return Err(bad(
                "a JLS file with no fixed-rate signal of f32 or f64 samples".into(),
            ));
        }
        signals.sort_by_key(|s| s.id);
        Ok(JlsSession {
            signals,
            sources,
            data_start: 32,
        })
    }

    pub fn channels(&self, _file: &str) -> Result<Channels> {
        let names: Vec<String> = self.signals.iter().map(|s| s.name.clone()).collect();
        let units: Vec<Option<Unit>> = self
            .signals
            .iter()
            .map(|s| match s.units.as_str() {
                "A" => Some(Unit::new(Dim::Current, 1e3, "A")),
                "V" => Some(Unit::new(Dim::Voltage, 1.0, "V")),
                _ => None,
            })
            .collect();
        let pick = |dim: Dim| {
            units
                .iter()
                .position(|u| u.as_ref().is_some_and(|u| u.dim == dim))
        };
        let current = pick(Dim::Current);
        let rate_hz = current.map_or(self.signals[0].rate_hz, |c| self.signals[c].rate_hz);
        Ok(Channels {
            analog: vec![true; names.len()],
            default_value: current.unwrap_or(0),
            default_supply: current.and(pick(Dim::Voltage)),
            constant_supply_v: None,
            rate_hz,
            scaling: vec![format!(
                "JLS signals: {}",
                self.signals
                    .iter()
                    .map(|s| format!(
                        "{} ({}, {} S/s, from {})",
                        s.name,
                        s.units,
                        s.rate_hz,
                        self.describe_source(s.source)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )],
            assumptions: Vec::new(),
            names,
            units,
        })
    }

    /// A source as people name it: `source 1 "JS220" (Jetperch JS220 1.0, serial 0001)`.
    fn describe_source(&self, id: u16) -> String {
        match self.sources.iter().find(|s| s.id == id) {
            Some(s) => {
                let about: Vec<&str> = [s.vendor.as_str(), &s.model, &s.version]
                    .into_iter()
                    .filter(|x| !x.is_empty() && *x != "-")
                    .collect();
                let mut d = format!("source {id} \"{}\"", s.name);
                if !about.is_empty() || !s.serial.is_empty() {
                    d.push_str(&format!(" ({}", about.join(" ")));
                    if !s.serial.is_empty() && s.serial != "-" {
                        d.push_str(&format!(", serial {}", s.serial));
                    }
                    d.push(')');
                }
                d
            }
            None => format!("source {id}"),
        }
    }

    pub fn reader(&self, file: &str, data: &Path, emit: Emit) -> Result<Reader> {
        self.reader_at(file, data, emit, self.data_start)
    }

    /// A reader from the first chunk at or after byte `offset` (a survey's window), found on
    /// the 8-byte grid chunks lie on by its header's CRC-32C. Cost: a read of at most
    /// [`FIND_CHUNK_BYTES`].
    pub fn reader_near(&self, file: &str, data: &Path, emit: Emit, offset: u64) -> Result<Reader> {
        let start = find_chunk(file, data, offset.max(self.data_start))?;
        self.reader_at(file, data, emit, start)
    }

    /// A reader whose cursors start at the chunk at byte `start`.
    fn reader_at(&self, file: &str, data: &Path, emit: Emit, start: u64) -> Result<Reader> {
        let needed = emit.needed(self.signals.len());
        let rate = self.signals[emit.value].rate_hz;
        let mut cursors = Vec::new();
        for (j, s) in self.signals.iter().enumerate() {
            if !needed[j] {
                continue;
            }
            if s.rate_hz != rate {
                return Err(Error::usage(format!(
                    "JLS signals \"{}\" ({} S/s) and \"{}\" ({} S/s) differ in sample rate",
                    self.signals[emit.value].name, rate, s.name, s.rate_hz
                )));
            }
            let f = std::fs::File::open(data).map_err(|e| {
                Error::input(
                    file,
                    format!("cannot open: {}", super::super::io_reason(&e)),
                )
            })?;
            let mut r = BufReader::with_capacity(1 << 20, f);
            r.seek(SeekFrom::Start(start))
                .map_err(|e| Error::input(file, format!("cannot seek: {e}")))?;
            cursors.push(Cursor {
                column: j,
                signal: s.clone(),
                r,
                pos: start,
                pending: Vec::new(),
                pending_first: 0,
                done: false,
                buf: Vec::new(),
            });
        }
        Ok(Reader {
            file: file.to_string(),
            cursors,
            cols: vec![Vec::new(); self.signals.len()],
            emit,
            align: start != self.data_start,
        })
    }
}

/// Bytes searched for a chunk header by [`JlsSession::reader_near`] (data chunks are tens of
/// KiB; a window that finds none is left out of the survey).
pub const FIND_CHUNK_BYTES: usize = 1 << 20;

/// The offset of the first chunk header at or after byte `from`: a 32-byte block on the 8-byte
/// grid whose first 28 bytes match the CRC-32C in its last 4 (a chance match: 1 in 2^32 a
/// place, and the chunk's payload has a CRC of its own).
fn find_chunk(file: &str, data: &Path, from: u64) -> Result<u64> {
    use std::os::unix::fs::FileExt;
    let start = from.div_ceil(8) * 8;
    let f = std::fs::File::open(data).map_err(|e| {
        Error::input(
            file,
            format!("cannot open: {}", super::super::io_reason(&e)),
        )
    })?;
    let mut buf = vec![0u8; FIND_CHUNK_BYTES + 32];
    let mut n = 0;
    while n < buf.len() {
        match f.read_at(&mut buf[n..], start + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::input(file, format!("cannot read: {e}"))),
        }
    }
    (0..n.saturating_sub(31))
        .step_by(8)
        .find(|&p| {
            let h = &buf[p..p + 32];
            crc32c::crc32c(&h[..28]) == u32::from_le_bytes([h[28], h[29], h[30], h[31]])
        })
        .map(|p| start + p as u64)
        .ok_or_else(|| {
            Error::input(
                file,
                format!("no JLS chunk within {FIND_CHUNK_BYTES} bytes of byte {start}"),
            )
        })
}

/// A source definition's payload: reserved bytes, then name, vendor, model, version and
/// serial number.
fn source(p: &[u8], id: u16) -> Option<Source> {
    let at = p.iter().position(|&b| b != 0)?;
    let s = strings(&p[at..]);
    let get = |k: usize| s.get(k).cloned().unwrap_or_default();
    Some(Source {
        id,
        name: get(0),
        vendor: get(1),
        model: get(2),
        version: get(3),
        serial: get(4),
    })
}

/// A signal definition's payload: source id u16, type u8, reserved u8, data type u32, sample
/// rate u32, six u32 sizes and decimation factors, reserved zero bytes (128 bytes in all from
/// pyjls 0.17), then the name and the units.
fn signal(p: &[u8], id: u16) -> Option<Signal> {
    let u32_at = |k: usize| u32::from_le_bytes([p[k], p[k + 1], p[k + 2], p[k + 3]]);
    let signal_type = p[2];
    let data_type = u32_at(4);
    let rate = u32_at(8);
    let bytes = match data_type & 0xffff {
        0x2004 => 4,
        0x4004 => 8,
        _ => return None,
    };
    if signal_type != 0 || rate == 0 {
        return None;
    }
    // The strings start after the reserved zeros.
    let at = 36 + p.get(36..)?.iter().position(|&b| b != 0)?;
    let s = strings(&p[at..]);
    Some(Signal {
        id,
        source: u16::from_le_bytes([p[0], p[1]]),
        name: s.first().cloned().unwrap_or_default(),
        units: s.get(1).cloned().unwrap_or_default(),
        rate_hz: rate as f64,
        bytes,
    })
}

/// A level-0 chunk of a fixed-rate track (tags 0x20–0x27): sample data.
fn is_data(h: &ChunkHeader) -> bool {
    (h.tag == 0x22 || h.tag == 0x23) && h.meta >> 12 == 0 && h.payload >= 16
}

/// One signal's way through the file: the next data chunk of its track, then its samples.
struct Cursor {
    column: usize,
    signal: Signal,
    r: BufReader<std::fs::File>,
    pos: u64,
    /// Samples read but not yet handed out, and the sample id of the first.
    pending: Vec<f64>,
    pending_first: u64,
    done: bool,
    /// The current chunk's body (reused).
    buf: Vec<u8>,
}

impl Cursor {
    /// Read data chunks until at least `want` samples are pending (or the data ends).
    fn fill(&mut self, file: &str, want: usize) -> Result<()> {
        let bad = |m: String| Error::input(file, m);
        while !self.done && self.pending.len() < want {
            let at = self.pos;
            let Some(h) = read_header(&mut self.r, file, at)? else {
                self.done = true;
                break;
            };
            let len = body_len(h.payload);
            self.pos += 32 + len;
            if h.tag == TAG_END {
                self.done = true;
                break;
            }
            if !(is_data(&h) && h.meta & 0xff == self.signal.id) {
                self.r
                    .seek_relative(len as i64)
                    .map_err(|_| bad(format!("the JLS file is cut in the chunk at byte {at}")))?;
                continue;
            }
            read_payload(&mut self.r, &h, file, at, &mut self.buf)?;
            let p = &self.buf[..h.payload as usize];
            let first = i64::from_le_bytes(p[0..8].try_into().unwrap_or([0; 8]));
            let count = u32::from_le_bytes([p[8], p[9], p[10], p[11]]) as usize;
            let bits = u16::from_le_bytes([p[12], p[13]]) as usize;
            let b = self.signal.bytes;
            if bits != 8 * b || 16 + count * b > p.len() || first < 0 {
                return Err(bad(format!(
                    "the JLS data chunk at byte {at} holds {count} samples of {bits} bits in {} bytes: expected {}-bit samples",
                    p.len() - 16,
                    8 * b
                )));
            }
            let first = first as u64;
            if self.pending.is_empty() {
                self.pending_first = first;
            } else if first != self.pending_first + self.pending.len() as u64 {
                // A jump in sample ids: hand out what is pending first.
                self.r
                    .seek_relative(-((32 + len) as i64))
                    .map_err(|_| bad(format!("cannot seek back to byte {at}")))?;
                self.pos = at;
                break;
            }
            let data = &p[16..16 + count * b];
            if b == 4 {
                self.pending.extend(
                    data.chunks_exact(4)
                        .map(|x| f32::from_le_bytes([x[0], x[1], x[2], x[3]]) as f64),
                );
            } else {
                self.pending.extend(
                    data.chunks_exact(8)
                        .map(|x| f64::from_le_bytes(x.try_into().unwrap_or([0; 8]))),
                );
            }
        }
        Ok(())
    }
}

/// Streams a JLS file's signals side by side.
pub struct Reader {
    file: String,
    cursors: Vec<Cursor>,
    cols: Vec<Vec<f64>>,
    pub emit: Emit,
    /// Started mid-file: the signals' cursors may start at different samples, and those ahead
    /// wait for the others (from the start, a difference is an error).
    align: bool,
}

impl Reader {
    pub fn next_chunk(&mut self, chunk: &mut Chunk) -> Result<bool> {
        for c in &mut self.cursors {
            c.fill(&self.file, BLOCK_SAMPLES)?;
        }
        if self.align {
            self.align()?;
        }
        let Some(lead) = self.cursors.first() else {
            return Ok(false);
        };
        let (first, lead_name) = (lead.pending_first, lead.signal.name.clone());
        let count = self
            .cursors
            .iter()
            .map(|c| c.pending.len())
            .min()
            .unwrap_or(0);
        if count == 0 {
            return Ok(false);
        }
        for c in &mut self.cursors {
            if c.pending_first != first {
                return Err(Error::input(
                    &self.file,
                    format!(
                        "JLS signals \"{}\" and \"{}\" are not aligned: sample {} against {}",
                        lead_name, c.signal.name, first, c.pending_first
                    ),
                ));
            }
            let col = &mut self.cols[c.column];
            col.clear();
            col.extend(c.pending.drain(..count));
            c.pending_first += count as u64;
        }
        self.emit.emit(&self.cols, count, first, chunk);
        Ok(true)
    }

    /// Drop the samples of cursors behind the one furthest on until all start at one sample (or
    /// one has ended). Memory: a block a cursor.
    fn align(&mut self) -> Result<()> {
        loop {
            let target = self.cursors.iter().map(|c| c.pending_first).max();
            let Some(target) = target else {
                return Ok(());
            };
            let mut aligned = true;
            for c in &mut self.cursors {
                if c.pending_first < target {
                    aligned = false;
                    let drop = ((target - c.pending_first) as usize).min(c.pending.len());
                    c.pending.drain(..drop);
                    c.pending_first += drop as u64;
                    if c.pending.is_empty() && c.done {
                        return Ok(());
                    }
                    c.fill(&self.file, BLOCK_SAMPLES)?;
                }
            }
            if aligned {
                self.align = false;
                return Ok(());
            }
        }
    }
}
