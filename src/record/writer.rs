//! A .ppk2 session written as it is recorded: a ZIP archive (format version 2, as nRF Connect
//! Power Profiler writes it) with `session.raw` (6 bytes a sample: f32 µA, then the u16 digital
//! word, little-endian) deflated as it streams, then `metadata.json` and the app's overview
//! `minimap.raw` at the end. Memory is fixed: a 1 MB write buffer, a 64 KB sample buffer and
//! the overview's 10 000 elements. The file appears under its name only when finished
//! (a temporary file beside it, then a rename).

use crate::error::{Error, Result};
use crate::output::AtomicFile;
use std::io::Write;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

type Zip = zip::ZipWriter<std::io::BufWriter<tempfile::NamedTempFile>>;

/// Elements of the app's overview before pairs are merged.
const MINIMAP_ELEMENTS: usize = 10_000;

/// The app's overview: min and max of runs of `fold` samples, at most 10 000 runs; when full,
/// neighbouring runs merge and `fold` doubles.
struct Minimap {
    fold: u64,
    /// (first sample, min, max) of each full run.
    runs: Vec<(u64, f32, f32)>,
    count: u64,
    first: u64,
    min: f32,
    max: f32,
}

impl Minimap {
    fn new() -> Minimap {
        Minimap {
            fold: 1,
            runs: Vec::with_capacity(MINIMAP_ELEMENTS),
            count: 0,
            first: 0,
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
        }
    }

    #[inline]
    fn push(&mut self, index: u64, ua: f32) {
        if self.count == 0 {
            self.first = index;
        }
        if !ua.is_nan() {
            self.min = self.min.min(ua);
            self.max = self.max.max(ua);
        }
        self.count += 1;
        if self.count == self.fold {
            self.runs.push((self.first, self.min, self.max));
            self.count = 0;
            self.min = f32::INFINITY;
            self.max = f32::NEG_INFINITY;
            if self.runs.len() == MINIMAP_ELEMENTS {
                let merged = self
                    .runs
                    .chunks(2)
                    .map(|p| {
                        let b = p.last().unwrap();
                        (p[0].0, p[0].1.min(b.1), p[0].2.max(b.2))
                    })
                    .collect();
                self.runs = merged;
                self.fold *= 2;
            }
        }
    }

    /// The app's JSON: x is a run's middle in µs, y its min or max in µA.
    fn json(&self, sample_us: f64) -> String {
        let mut runs = self.runs.clone();
        let mut last = self.fold;
        if self.count > 0 {
            runs.push((self.first, self.min, self.max));
            last = self.count;
        }
        let n = runs.len();
        let point = |k: usize, y: f32| {
            let len = if k + 1 == n { last } else { self.fold };
            let x = (runs[k].0 as f64 + (len - 1) as f64 / 2.0) * sample_us;
            let y = if y.is_finite() { y as f64 } else { 0.0 };
            serde_json::json!({"x": x, "y": y})
        };
        let min: Vec<_> = (0..n).map(|k| point(k, runs[k].1)).collect();
        let max: Vec<_> = (0..n).map(|k| point(k, runs[k].2)).collect();
        serde_json::json!({
            "lastElementFoldCount": last,
            "data": {"length": n, "min": min, "max": max},
            "maxNumberOfElements": MINIMAP_ELEMENTS,
            "numberOfTimesToFold": self.fold,
        })
        .to_string()
    }
}

/// A .ppk2 file being recorded.
pub struct Ppk2Writer {
    target: String,
    zip: Zip,
    rate_hz: f64,
    start_ms: u64,
    buf: Vec<u8>,
    minimap: Minimap,
    samples: u64,
}

impl Ppk2Writer {
    /// Start `target` (which appears on [`Ppk2Writer::finish`]); `large` allows more than
    /// 4 GiB of samples (ZIP64; about 2 h at 100 kS/s).
    pub fn create(target: &str, rate_hz: f64, start_ms: u64, large: bool) -> Result<Ppk2Writer> {
        let (target, writer) = AtomicFile::create(target)?.into_parts();
        let mut zip = zip::ZipWriter::new(writer);
        let opts = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(1))
            .large_file(large);
        zip.start_file("session.raw", opts)
            .map_err(|e| Error::output(&target, format!("cannot write: {e}")))?;
        Ok(Ppk2Writer {
            target,
            zip,
            rate_hz,
            start_ms,
            buf: Vec::with_capacity(1 << 16),
            minimap: Minimap::new(),
            samples: 0,
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::output(&self.target, format!("cannot write: {e}"))
    }

    /// Samples written.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Append one sample: µA (NaN for a lost sample) and the 16-bit digital word.
    #[inline]
    pub fn push(&mut self, ua: f32, digital: u16) -> Result<()> {
        self.buf.extend_from_slice(&ua.to_le_bytes());
        self.buf.extend_from_slice(&digital.to_le_bytes());
        self.minimap.push(self.samples, ua);
        self.samples += 1;
        if self.buf.len() >= (1 << 16) - 6 {
            self.flush_samples()?;
        }
        Ok(())
    }

    fn flush_samples(&mut self) -> Result<()> {
        if let Err(e) = self.zip.write_all(&self.buf) {
            return Err(self.err(e));
        }
        self.buf.clear();
        Ok(())
    }

    /// Write metadata.json (with `recording`, shuntscope's account of the run, beside the
    /// app's keys) and the overview, and move the file into place.
    pub fn finish(mut self, recording: serde_json::Value) -> Result<()> {
        self.flush_samples()?;
        let meta = serde_json::json!({
            "metadata": {"samplesPerSecond": self.rate_hz, "startSystemTime": self.start_ms},
            "formatVersion": 2,
            "recording": recording,
        });
        let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        let minimap = self.minimap.json(1e6 / self.rate_hz);
        for (name, text) in [
            ("metadata.json", meta.to_string()),
            ("minimap.raw", minimap),
        ] {
            self.zip.start_file(name, opts).map_err(|e| self.err(e))?;
            self.zip
                .write_all(text.as_bytes())
                .map_err(|e| self.err(e))?;
        }
        let target = self.target;
        let writer = self
            .zip
            .finish()
            .map_err(|e| Error::output(&target, format!("cannot write: {e}")))?;
        AtomicFile::from_parts(target, writer).commit()
    }
}
