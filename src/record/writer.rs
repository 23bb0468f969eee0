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

/// The app's overview (`FoldingBuffer` of nRF Connect Power Profiler, replicated so the app
/// opens the file as it opens its own): at most 10 000 elements, each the running-mean time (µs)
/// and the min and max (nA, at least 200, NaN skipped) of `fold` samples; when the buffer is
/// full, neighbours merge and `fold` doubles.
struct Minimap {
    fold: u64,
    last_count: u64,
    /// (x µs, min y nA, max y nA) per element.
    elements: Vec<(f64, f64, f64)>,
}

impl Minimap {
    fn new() -> Minimap {
        Minimap {
            fold: 1,
            last_count: 0,
            elements: Vec::with_capacity(MINIMAP_ELEMENTS),
        }
    }

    #[inline]
    fn push(&mut self, ts_us: f64, ua: f32) {
        if self.last_count == 0 {
            self.elements.push((ts_us, f64::MAX, -f64::MAX));
        }
        let mut v = ua as f64 * 1000.0;
        if v < 200.0 {
            v = 200.0;
        }
        self.last_count += 1;
        let alpha = 1.0 / self.last_count as f64;
        let e = self.elements.last_mut().expect("an element");
        e.0 = ts_us * alpha + e.0 * (1.0 - alpha);
        if !v.is_nan() {
            e.1 = e.1.min(v);
            e.2 = e.2.max(v);
        }
        if self.last_count == self.fold {
            self.last_count = 0;
        }
        if self.elements.len() == MINIMAP_ELEMENTS {
            self.fold *= 2;
            let merged = self
                .elements
                .chunks(2)
                .map(|p| {
                    (
                        (p[0].0 + p[1].0) / 2.0,
                        p[0].1.min(p[1].1),
                        p[0].2.max(p[1].2),
                    )
                })
                .collect();
            self.elements = merged;
        }
    }

    /// The app's JSON (`minimap.raw`): arrays of 10 000 slots, `length` of them used. Written
    /// as text directly (about 1 MB), not through a JSON tree.
    fn json(&self) -> String {
        use std::fmt::Write as _;
        let n = self.elements.len();
        let mut out = String::with_capacity(n * 90 + 2 * MINIMAP_ELEMENTS * 5 + 200);
        let num = |v: f64| serde_json::Number::from_f64(v).map_or("null".into(), |n| n.to_string());
        let _ = write!(
            out,
            "{{\"lastElementFoldCount\":{},\"data\":{{\"length\":{n}",
            self.last_count
        );
        for (name, pick) in [("min", 1), ("max", 2)] {
            let _ = write!(out, ",\"{name}\":[");
            for (k, e) in self.elements.iter().enumerate() {
                let y = if pick == 1 { e.1 } else { e.2 };
                let sep = if k > 0 { "," } else { "" };
                let _ = write!(out, "{sep}{{\"x\":{},\"y\":{}}}", num(e.0), num(y));
            }
            for k in n..MINIMAP_ELEMENTS {
                out.push_str(if k > 0 { ",null" } else { "null" });
            }
            out.push(']');
        }
        let _ = write!(
            out,
            "}},\"maxNumberOfElements\":{MINIMAP_ELEMENTS},\"numberOfTimesToFold\":{}}}",
            self.fold
        );
        out
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
        self.minimap
            .push(self.samples as f64 * 1e6 / self.rate_hz, ua);
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
        // An integral rate is written as an integer, as the app writes it.
        let rate = if self.rate_hz.fract() == 0.0 {
            serde_json::json!(self.rate_hz as u64)
        } else {
            serde_json::json!(self.rate_hz)
        };
        let meta = serde_json::json!({
            "metadata": {"samplesPerSecond": rate, "startSystemTime": self.start_ms},
            "formatVersion": 2,
            "recording": recording,
        });
        let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        let minimap = self.minimap.json();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn member(path: &std::path::Path, name: &str) -> Vec<u8> {
        let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        let mut out = Vec::new();
        z.by_name(name).unwrap().read_to_end(&mut out).unwrap();
        out
    }

    /// The samples of a real Power Profiler recording, written again: session.raw is byte for
    /// byte the app's, and metadata.json and minimap.raw have the app's keys.
    #[test]
    fn writes_the_apps_layout() {
        let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/native/ppk2_bthome-presence_test01.ppk2");
        let raw = member(&real, "session.raw");
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("again.ppk2");
        let mut w =
            Ppk2Writer::create(out.to_str().unwrap(), 10_000.0, 1716314807283, false).unwrap();
        for s in raw.chunks_exact(6) {
            let ua = f32::from_le_bytes([s[0], s[1], s[2], s[3]]);
            w.push(ua, u16::from_le_bytes([s[4], s[5]])).unwrap();
        }
        w.finish(serde_json::json!({"note": "test"})).unwrap();
        assert!(member(&out, "session.raw") == raw, "session.raw differs");
        let meta: serde_json::Value =
            serde_json::from_slice(&member(&out, "metadata.json")).unwrap();
        let app: serde_json::Value =
            serde_json::from_slice(&member(&real, "metadata.json")).unwrap();
        assert_eq!(meta["metadata"], app["metadata"]);
        assert_eq!(meta["formatVersion"], app["formatVersion"]);
        let mine: serde_json::Value = serde_json::from_slice(&member(&out, "minimap.raw")).unwrap();
        let theirs: serde_json::Value =
            serde_json::from_slice(&member(&real, "minimap.raw")).unwrap();
        for key in [
            "maxNumberOfElements",
            "numberOfTimesToFold",
            "lastElementFoldCount",
        ] {
            assert_eq!(mine[key], theirs[key], "{key}");
        }
        // Every element as the app computed it: time (µs) and extremes (nA).
        let n = theirs["data"]["length"].as_u64().unwrap() as usize;
        assert_eq!(mine["data"]["length"], n);
        for side in ["min", "max"] {
            for k in 0..n {
                let (a, b) = (&mine["data"][side][k], &theirs["data"][side][k]);
                for c in ["x", "y"] {
                    let (a, b) = (a[c].as_f64().unwrap(), b[c].as_f64().unwrap());
                    assert!(
                        (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                        "{side}[{k}].{c}: {a} {b}"
                    );
                }
            }
        }
        assert_eq!(mine["data"]["min"].as_array().unwrap().len(), 10_000);
    }
}
