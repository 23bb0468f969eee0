//! nRF Connect Power Profiler sessions (`.ppk2`, format version 2): a ZIP archive holding
//! `metadata.json` (`{"metadata": {"samplesPerSecond": 100000, ...}, "formatVersion": 2}`) and
//! `session.raw`, 6 bytes a sample: a little-endian f32 current in µA, then a little-endian u16
//! of the digital channels, two bits each: channel n is `(word >> 2n) & 3` (the app's
//! `averagedBitState`). `session.raw` is inflated as it is read, block by block.
//!
//! A channel's two bits become one number ([`logic_state`]): `01` (low for the whole sample) 0,
//! `10` (high) 1, `11` (it toggled within the sample) 0.5, `00` (undefined) NaN. `convert`
//! writes them so (NaN as an empty cell); as a marker or window column 0.5 is high at the
//! default level 0.5 (a pulse shorter than a sample is still an edge), and NaN keeps the state
//! before it.

use super::zipped::{self, Chain, Member, Spool};
use super::{Channels, Emit, BLOCK_SAMPLES};
use crate::error::{Error, Result};
use crate::trace::Chunk;
use crate::units::{Dim, Unit};
use std::path::Path;

pub const NAME: &str = "ppk2-session";
const SAMPLE_BYTES: usize = 6;

/// What a PPK2 session holds.
#[derive(Debug, Clone)]
pub struct Ppk2Session {
    raw: Member,
    rate_hz: f64,
    format_version: i64,
    /// The source-meter voltage a `shuntscope record` recording states, V.
    source_v: Option<f64>,
    /// Inflated copy of session.raw for a second pass.
    pub spool: Spool,
}

impl Ppk2Session {
    pub fn open(file: &str, data: &Path, members: &[Member]) -> Result<Ppk2Session> {
        let find = |n: &str| members.iter().find(|m| m.name == n);
        let (Some(meta), Some(raw)) = (find("metadata.json"), find("session.raw")) else {
            return Err(Error::input(
                file,
                "a PPK2 session needs metadata.json and session.raw",
            ));
        };
        let text = zipped::read_text(file, data, meta)?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::input(file, format!("metadata.json is not JSON: {e}")))?;
        let rate_hz = json["metadata"]["samplesPerSecond"]
            .as_f64()
            .filter(|r| *r > 0.0 && r.is_finite())
            .ok_or_else(|| {
                Error::input(
                    file,
                    "metadata.json has no metadata.samplesPerSecond (a positive number)",
                )
            })?;
        let format_version = json["formatVersion"].as_i64().unwrap_or(0);
        let rec = &json["recording"];
        let source_v = (rec["mode"] == "source")
            .then(|| rec["source_mv"].as_f64())
            .flatten()
            .filter(|mv| (800.0..=5000.0).contains(mv))
            .map(|mv| mv / 1000.0);
        if raw.size % SAMPLE_BYTES as u64 != 0 {
            return Err(Error::input(
                file,
                format!(
                    "session.raw is {} bytes, not a whole number of 6-byte samples: the session is cut short",
                    raw.size
                ),
            ));
        }
        Ok(Ppk2Session {
            raw: raw.clone(),
            rate_hz,
            format_version,
            source_v,
            spool: Spool::default(),
        })
    }

    /// Samples in the session.
    pub fn samples(&self) -> u64 {
        self.raw.size / SAMPLE_BYTES as u64
    }

    pub fn channels(&self) -> Channels {
        let mut names = vec!["current".to_string()];
        names.extend((0..8).map(|k| format!("D{k}")));
        let mut units = vec![Some(Unit::new(Dim::Current, 1e-3, "uA"))];
        units.extend((0..8).map(|_| None));
        let mut analog = vec![true];
        analog.extend([false; 8]);
        let mut scaling = vec![format!(
            "PPK2 session (format version {}): {} samples of current in µA at {} S/s",
            self.format_version,
            self.samples(),
            self.rate_hz
        )];
        if self.format_version != 2 {
            scaling.push(format!(
                "format version {} read as version 2 (6-byte samples)",
                self.format_version
            ));
        }
        Channels {
            names,
            units,
            analog,
            default_value: 0,
            default_supply: None,
            constant_supply_v: self.source_v.map(|v| {
                (
                    v,
                    "the PPK2's source-meter voltage, from the recording's metadata".to_string(),
                )
            }),
            rate_hz: self.rate_hz,
            scaling,
            assumptions: Vec::new(),
        }
    }

    /// A reader; with `words`, each sample's digital word goes to `Chunk::digital_words`.
    pub fn reader(&self, file: &str, data: &Path, emit: Emit, words: bool) -> Result<Reader> {
        let needed = emit.needed(9);
        Ok(Reader {
            input: Chain::new(file, data, vec![self.raw.clone()], &self.spool),
            file: file.to_string(),
            buf: vec![0; BLOCK_SAMPLES * SAMPLE_BYTES],
            cols: vec![Vec::new(); 9],
            needed,
            next: 0,
            words,
            emit,
        })
    }
}

/// Streams a PPK2 session's samples.
pub struct Reader {
    input: Chain,
    file: String,
    buf: Vec<u8>,
    cols: Vec<Vec<f64>>,
    needed: Vec<bool>,
    /// Index of the next sample.
    next: u64,
    /// Hand out the digital words.
    words: bool,
    pub emit: Emit,
}

impl Reader {
    pub fn next_chunk(&mut self, chunk: &mut Chunk) -> Result<bool> {
        loop {
            let n = self.input.fill(&mut self.buf)?;
            if n % SAMPLE_BYTES != 0 {
                return Err(Error::input(
                    &self.file,
                    format!(
                        "session.raw ends inside a sample, after sample {}",
                        self.next + (n / SAMPLE_BYTES) as u64
                    ),
                ));
            }
            if n == 0 {
                return Ok(false);
            }
            let count = n / SAMPLE_BYTES;
            let bytes = &self.buf[..n];
            super::f32s(bytes, SAMPLE_BYTES, &mut self.cols[0]);
            for bit in 0..8 {
                if !self.needed[1 + bit] {
                    continue;
                }
                let c = &mut self.cols[1 + bit];
                c.clear();
                c.extend(
                    bytes
                        .chunks_exact(SAMPLE_BYTES)
                        .map(|b| logic_state(u16::from_le_bytes([b[4], b[5]]), bit)),
                );
            }
            self.emit.emit(&self.cols, count, self.next, chunk);
            if self.words {
                // The rows emit kept: those with a current (NaN samples are gaps).
                chunk.digital_words.clear();
                let cur = &self.cols[0];
                chunk.digital_words.extend(
                    bytes
                        .chunks_exact(SAMPLE_BYTES)
                        .zip(cur)
                        .filter(|(_, i)| !i.is_nan())
                        .map(|(b, _)| u16::from_le_bytes([b[4], b[5]])),
                );
            }
            self.next += count as u64;
            if !chunk.is_empty() {
                return Ok(true);
            }
        }
    }
}

/// Channel `ch`'s state in a PPK2 digital word: `(word >> 2ch) & 3` read as 0 (`01`: low the
/// whole sample), 1 (`10`: high), 0.5 (`11`: toggled within the sample) or NaN (`00`: undefined).
pub fn logic_state(word: u16, ch: usize) -> f64 {
    match (word >> (2 * ch)) & 3 {
        0b01 => 0.0,
        0b10 => 1.0,
        0b11 => 0.5,
        _ => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::logic_state;

    #[test]
    fn two_bits_a_channel() {
        // Every channel high (0xAAAA), as the real beacon recording without a logic probe.
        assert!((0..8).all(|c| logic_state(0xAAAA, c) == 1.0));
        assert!((0..8).all(|c| logic_state(0x5555, c) == 0.0));
        // D0 toggled, D1 high, D2 low, D3 undefined; the rest low.
        let w = 0b01_01_01_01_00_01_10_11;
        assert_eq!(logic_state(w, 0), 0.5);
        assert_eq!(logic_state(w, 1), 1.0);
        assert_eq!(logic_state(w, 2), 0.0);
        assert!(logic_state(w, 3).is_nan());
        assert_eq!(logic_state(w, 7), 0.0);
    }
}
