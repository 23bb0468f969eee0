//! sigrok / PulseView sessions (`.sr`, version 2): a ZIP archive with `version` (`2`),
//! `metadata` (INI: `[device 1]` with `samplerate=8 MHz`, `probeN=name` for logic channels
//! (bit N−1), `analogN=name` for analog ones, `capturefile=logic-1`, `unitsize`), logic data in
//! `logic-1-1`, `logic-1-2`, ... (unitsize bytes a sample) and analog data in `analog-1-N-1`,
//! `analog-1-N-2`, ... (little-endian f32, in the channel's unit). Chunks are numbered from 1
//! and concatenate in numeric order; each channel streams from its own chunks.

use super::zipped::{self, Chain, Member, Spool};
use super::{Channels, Emit, BLOCK_SAMPLES};
use crate::error::{Error, Result};
use crate::trace::Chunk;
use std::path::Path;

pub const NAME: &str = "sigrok-session";

/// What a sigrok session holds.
#[derive(Debug, Clone)]
pub struct SigrokSession {
    rate_hz: f64,
    /// Analog channels: name and chunks in order.
    analog: Vec<(String, Vec<Member>)>,
    /// Logic channels: name and bit.
    probes: Vec<(String, usize)>,
    logic: Vec<Member>,
    unitsize: usize,
    /// Inflated copies of large chunks for a second pass.
    pub spool: Spool,
}

/// `8 MHz`, `500 kHz`, `100 Hz`, `1000000`: a rate in Hz.
fn parse_rate(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: f64 = n.trim().parse().ok()?;
    let k = match unit.trim() {
        "" | "Hz" => 1.0,
        "kHz" => 1e3,
        "MHz" => 1e6,
        "GHz" => 1e9,
        _ => return None,
    };
    Some(n * k)
}

/// The members named `prefix1`, `prefix2`, ... in numeric order.
fn numbered(members: &[Member], prefix: &str) -> Vec<Member> {
    let mut v: Vec<(u64, Member)> = members
        .iter()
        .filter_map(|m| {
            let n: u64 = m.name.strip_prefix(prefix)?.parse().ok()?;
            Some((n, m.clone()))
        })
        .collect();
    v.sort_by_key(|(n, _)| *n);
    v.into_iter().map(|(_, m)| m).collect()
}

impl SigrokSession {
    pub fn open(file: &str, data: &Path, members: &[Member]) -> Result<SigrokSession> {
        let find = |n: &str| members.iter().find(|m| m.name == n);
        let version = find("version")
            .map(|m| zipped::read_text(file, data, m))
            .transpose()?
            .unwrap_or_default();
        if version.trim() != "2" {
            return Err(Error::input(
                file,
                format!(
                    "a sigrok session of version \"{}\": only version 2 is known",
                    crate::error::snippet(version.trim(), 20)
                ),
            ));
        }
        let meta = match find("metadata") {
            Some(m) => zipped::read_text(file, data, m)?,
            None => return Err(Error::input(file, "a sigrok session without metadata")),
        };
        let mut in_device = false;
        let (mut rate_hz, mut unitsize, mut capture) = (None, 1usize, "logic-1".to_string());
        let (mut analog, mut probes) = (Vec::new(), Vec::new());
        for line in meta.lines().map(str::trim) {
            if line.starts_with('[') {
                // Only the first device is read.
                in_device = line == "[device 1]";
                continue;
            }
            let Some((k, v)) = line.split_once('=').filter(|_| in_device) else {
                continue;
            };
            let (k, v) = (k.trim(), v.trim());
            if k == "samplerate" {
                rate_hz = Some(parse_rate(v).ok_or_else(|| {
                    Error::input(
                        file,
                        format!("metadata: samplerate \"{v}\" is not a rate such as 1 MHz"),
                    )
                })?);
            } else if k == "unitsize" {
                unitsize = v
                    .parse()
                    .ok()
                    .filter(|u| (1..=8).contains(u))
                    .ok_or_else(|| {
                        Error::input(file, format!("metadata: unitsize \"{v}\" is not 1 to 8"))
                    })?;
            } else if k == "capturefile" {
                capture = v.to_string();
            } else if let Some(n) = k.strip_prefix("analog").and_then(|n| n.parse::<u32>().ok()) {
                let chunks = numbered(members, &format!("analog-1-{n}-"));
                analog.push((v.to_string(), chunks));
            } else if let Some(n) = k
                .strip_prefix("probe")
                .and_then(|n| n.parse::<usize>().ok())
            {
                if (1..=unitsize.max(8) * 8).contains(&n) {
                    probes.push((v.to_string(), n - 1));
                }
            }
        }
        let logic = numbered(members, &format!("{capture}-"));
        if analog.iter().all(|(_, c)| c.is_empty()) {
            return Err(Error::input(
                file,
                "a sigrok session with no analog channel: nothing to measure",
            ));
        }
        Ok(SigrokSession {
            rate_hz: rate_hz.unwrap_or(0.0),
            analog,
            probes,
            logic,
            unitsize,
            spool: Spool::default(),
        })
    }

    pub fn channels(&self, _file: &str) -> Result<Channels> {
        let mut names: Vec<String> = self.analog.iter().map(|(n, _)| n.clone()).collect();
        names.extend(self.probes.iter().map(|(n, _)| n.clone()));
        let n = names.len();
        let mut analog = vec![true; self.analog.len()];
        analog.extend(vec![false; self.probes.len()]);
        let samples: Vec<u64> = self
            .analog
            .iter()
            .map(|(_, c)| c.iter().map(|m| m.size).sum::<u64>() / 4)
            .collect();
        Ok(Channels {
            names,
            units: vec![None; n],
            analog,
            default_value: self
                .analog
                .iter()
                .position(|(_, c)| !c.is_empty())
                .unwrap_or(0),
            default_supply: None,
            constant_supply_v: None,
            rate_hz: self.rate_hz,
            scaling: vec![format!(
                "sigrok session: {} analog channel(s) of {} samples, {} logic channel(s), {} S/s",
                self.analog.len(),
                samples.iter().max().copied().unwrap_or(0),
                self.probes.len(),
                self.rate_hz
            )],
            assumptions: Vec::new(),
        })
    }

    pub fn reader(&self, file: &str, data: &Path, emit: Emit) -> Result<Reader> {
        let na = self.analog.len();
        let needed = emit.needed(na + self.probes.len());
        let streams = (0..na)
            .map(|j| {
                needed[j].then(|| Chain::new(file, data, self.analog[j].1.clone(), &self.spool))
            })
            .collect();
        let bits: Vec<(usize, usize)> = self
            .probes
            .iter()
            .enumerate()
            .filter(|(k, _)| needed[na + k])
            .map(|(k, (_, bit))| (na + k, *bit))
            .collect();
        let logic =
            (!bits.is_empty()).then(|| Chain::new(file, data, self.logic.clone(), &self.spool));
        Ok(Reader {
            file: file.to_string(),
            names: self.analog.iter().map(|(n, _)| n.clone()).collect(),
            streams,
            logic,
            bits,
            unitsize: self.unitsize,
            buf: Vec::new(),
            cols: vec![Vec::new(); na + self.probes.len()],
            next: 0,
            emit,
        })
    }
}

/// Streams a sigrok session's channels side by side.
pub struct Reader {
    file: String,
    names: Vec<String>,
    /// One stream per analog channel that is needed.
    streams: Vec<Option<Chain>>,
    logic: Option<Chain>,
    /// Needed logic channels: (column, bit).
    bits: Vec<(usize, usize)>,
    unitsize: usize,
    buf: Vec<u8>,
    cols: Vec<Vec<f64>>,
    next: u64,
    pub emit: Emit,
}

impl Reader {
    pub fn next_chunk(&mut self, chunk: &mut Chunk) -> Result<bool> {
        let mut count: Option<(usize, String)> = None;
        for (j, s) in self.streams.iter_mut().enumerate() {
            let Some(s) = s else { continue };
            self.buf.resize(BLOCK_SAMPLES * 4, 0);
            let n = s.fill(&mut self.buf)?;
            super::f32s(&self.buf[..n - n % 4], 4, &mut self.cols[j]);
            let k = n / 4;
            match &count {
                None => count = Some((k, self.names[j].clone())),
                Some((c, other)) if *c != k => {
                    return Err(Error::input(
                        &self.file,
                        format!(
                            "channels \"{other}\" and \"{}\" hold different numbers of samples (from sample {})",
                            self.names[j], self.next
                        ),
                    ))
                }
                _ => {}
            }
        }
        let Some((count, _)) = count else {
            return Ok(false);
        };
        if let Some(logic) = &mut self.logic {
            let u = self.unitsize;
            self.buf.resize(count * u, 0);
            let n = logic.fill(&mut self.buf)?;
            if n < count * u {
                return Err(Error::input(
                    &self.file,
                    format!(
                        "the logic channels end at sample {}, before the analog ones",
                        self.next + (n / u) as u64
                    ),
                ));
            }
            for &(col, bit) in &self.bits {
                let c = &mut self.cols[col];
                c.clear();
                c.extend(
                    self.buf[..count * u]
                        .chunks_exact(u)
                        .map(|s| ((s[bit / 8] >> (bit % 8)) & 1) as f64),
                );
            }
        }
        if count == 0 {
            return Ok(false);
        }
        self.emit.emit(&self.cols, count, self.next, chunk);
        self.next += count as u64;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rates() {
        assert_eq!(super::parse_rate("8 MHz"), Some(8e6));
        assert_eq!(super::parse_rate("500 kHz"), Some(5e5));
        assert_eq!(super::parse_rate("100 Hz"), Some(100.0));
        assert_eq!(super::parse_rate("1000"), Some(1000.0));
        assert_eq!(super::parse_rate("fast"), None);
    }
}
