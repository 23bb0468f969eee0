//! From the PPK2's byte stream to samples: framing, the counter, calibration, the spike filter,
//! and host-side averaging. O(1) memory: a few bytes of unframed input and the gap list.
//!
//! Framing: a word is accepted when its range is 0–4, its counter is the one expected and the
//! next word's counter follows it. Anything else (a lost or extra byte, a short read that split
//! a word, lost samples) starts a search for the first offset where three words in a row are
//! valid and count up. The counter's jump there is the number of samples lost (modulo 64, the
//! counter's width), a damaged sample among them: each becomes a lost sample in its place, so
//! the time base never shifts. A lost byte costs the damaged sample only.

use super::protocol::{self, Modifiers, SpikeFilter};

/// Words in a row that must count up to (re)gain the framing.
const LOOK: usize = 3;
/// Bytes searched for framing before a stretch is given up as noise.
const SEARCH: usize = 4096;
/// Gaps kept with their place; beyond this only counted (bounded memory).
const MAX_GAPS: usize = 10_000;

/// A run of lost samples: never integrated across.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Gap {
    /// Index (at 100 kS/s) of the first lost sample.
    pub at_sample: u64,
    /// Samples lost (the counter's jump, modulo 64).
    pub lost_samples: u64,
}

/// What the decoder saw.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DecodeStats {
    /// Samples in the time base: decoded plus lost.
    pub samples: u64,
    pub lost_samples: u64,
    /// Runs of lost samples (at most 10 000 kept; `gap_count` counts all).
    pub gaps: Vec<Gap>,
    pub gap_count: u64,
    /// Bytes that belonged to no sample (damaged or before the first framed word).
    pub skipped_bytes: u64,
    /// Times the framing was searched for and found again.
    pub resyncs: u64,
}

/// One sample: current in µA, the logic byte (D0 in bit 0) and whether the logic byte is
/// known (false next to a lost byte); None when lost.
pub type Sample = Option<(f32, u8, bool)>;

/// Streaming decoder of sample words.
pub struct Decoder {
    mods: Modifiers,
    vdd_mv: f64,
    filter: Option<SpikeFilter>,
    buf: Vec<u8>,
    expected: Option<u8>,
    pub stats: DecodeStats,
}

#[inline]
fn word_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[inline]
fn valid(w: u32) -> bool {
    protocol::range(w) <= 4
}

enum Frame {
    Found(usize),
    NeedMore,
    NotFound(usize),
}

impl Decoder {
    /// A decoder with the device's calibration at `vdd_mv`; `spike_filter` as the app does.
    pub fn new(mods: Modifiers, vdd_mv: f64, spike_filter: bool) -> Decoder {
        Decoder {
            mods,
            vdd_mv,
            filter: spike_filter.then(SpikeFilter::default),
            buf: Vec::with_capacity(1 << 16),
            expected: None,
            stats: DecodeStats::default(),
        }
    }

    /// Decode `data` (any split of the stream), calling `sink` once per sample in order.
    pub fn push(&mut self, data: &[u8], sink: &mut impl FnMut(Sample)) {
        self.buf.extend_from_slice(data);
        let used = self.process(false, sink);
        self.buf.drain(..used);
    }

    /// The stream ended: decode what can be, count the rest as skipped.
    pub fn finish(&mut self, sink: &mut impl FnMut(Sample)) {
        let used = self.process(true, sink);
        self.stats.skipped_bytes += (self.buf.len() - used) as u64;
        self.buf.clear();
    }

    #[inline]
    fn emit(&mut self, w: u32, logic_known: bool, sink: &mut impl FnMut(Sample)) {
        let r = protocol::range(w) as usize;
        let mut amps = self.mods.current_a(r, protocol::adc(w), self.vdd_mv);
        if let Some(f) = &mut self.filter {
            amps = f.apply(r, amps);
        }
        self.stats.samples += 1;
        sink(Some(((amps * 1e6) as f32, protocol::logic(w), logic_known)));
    }

    fn lose(&mut self, n: u64, sink: &mut impl FnMut(Sample)) {
        let at = self.stats.samples;
        self.stats.samples += n;
        self.stats.lost_samples += n;
        self.stats.gap_count += 1;
        if self.stats.gaps.len() < MAX_GAPS {
            self.stats.gaps.push(Gap {
                at_sample: at,
                lost_samples: n,
            });
        }
        for _ in 0..n {
            sink(None);
        }
    }

    /// The first offset from `pos` where LOOK valid words count up.
    fn find_frame(&self, pos: usize, end: bool) -> Frame {
        let b = &self.buf;
        for q in pos..pos + SEARCH {
            if q + 4 * LOOK > b.len() {
                return if end {
                    Frame::NotFound(b.len())
                } else {
                    Frame::NeedMore
                };
            }
            let w0 = word_at(b, q);
            let ok = (0..LOOK).all(|k| {
                let w = word_at(b, q + 4 * k);
                valid(w) && protocol::counter(w) == (protocol::counter(w0) + k as u8) & 63
            });
            if ok {
                return Frame::Found(q);
            }
        }
        Frame::NotFound(pos + SEARCH)
    }

    /// Decode from the buffer; returns the bytes used.
    fn process(&mut self, end: bool, sink: &mut impl FnMut(Sample)) -> usize {
        let mut pos = 0;
        loop {
            let avail = self.buf.len() - pos;
            if let Some(e) = self.expected {
                if avail < 4 || (avail < 8 && !end) {
                    break;
                }
                let w0 = word_at(&self.buf, pos);
                let next_ok = avail < 8 || {
                    let w1 = word_at(&self.buf, pos + 4);
                    valid(w1) && protocol::counter(w1) == (e + 1) & 63
                };
                if valid(w0) && protocol::counter(w0) == e && next_ok {
                    self.emit(w0, true, sink);
                    self.expected = Some((e + 1) & 63);
                    pos += 4;
                    continue;
                }
            }
            // A word that is valid and carries the expected counter is intact: the damage (or
            // the lost samples) come after it, so the search starts after it. (Searching from
            // it would find a false frame when the next sample lost its second byte: its
            // counter byte moves into a word that starts a byte early.)
            let mut after_good = false;
            if let Some(e) = self.expected {
                let w0 = word_at(&self.buf, pos);
                after_good = valid(w0) && protocol::counter(w0) == e;
            }
            let from = if after_good { pos + 4 } else { pos };
            match self.find_frame(from, end) {
                Frame::NeedMore => break,
                Frame::NotFound(upto) => {
                    let upto = upto.max(pos);
                    self.stats.skipped_bytes += (upto - pos) as u64;
                    pos = upto;
                    if end {
                        break;
                    }
                }
                Frame::Found(q) => {
                    if after_good {
                        // Misaligned after it: a byte went missing right after this word, maybe
                        // its own last one (the logic byte): its current stands, its logic
                        // inputs are unknown.
                        let w0 = word_at(&self.buf, pos);
                        self.emit(w0, (q - pos) % 4 == 0, sink);
                        self.expected = self.expected.map(|e| (e + 1) & 63);
                        pos += 4;
                    }
                    let c = protocol::counter(word_at(&self.buf, q));
                    self.stats.skipped_bytes += (q - pos) as u64;
                    if let Some(e) = self.expected {
                        self.stats.resyncs += (q > pos) as u64;
                        let lost = (c.wrapping_sub(e) & 63) as u64;
                        if lost > 0 {
                            self.lose(lost, sink);
                        }
                    }
                    self.expected = Some(c);
                    pos = q;
                    let w = word_at(&self.buf, pos);
                    self.emit(w, true, sink);
                    self.expected = Some((c + 1) & 63);
                    pos += 4;
                }
            }
        }
        pos
    }
}

/// Host-side averaging to a lower rate (`--average`), and the file's 16-bit digital word:
/// channel n in bits 2n, 2n+1 as `01` low for the whole sample, `10` high, `11` both, `00`
/// unknown (a lost sample). An output sample with a lost input sample in it is lost (NaN).
pub struct Averager {
    n: u32,
    k: u32,
    sum: f64,
    lost: bool,
    low: u8,
    high: u8,
}

impl Averager {
    /// Average every `n` samples into one (1: none).
    pub fn new(n: u32) -> Averager {
        Averager {
            n: n.max(1),
            k: 0,
            sum: 0.0,
            lost: false,
            low: 0,
            high: 0,
        }
    }

    /// Add one sample; an output sample (µA, digital word) every `n`.
    #[inline]
    pub fn push(&mut self, s: Sample) -> Option<(f32, u16)> {
        match s {
            Some((ua, bits, known)) => {
                self.sum += ua as f64;
                if known {
                    self.high |= bits;
                    self.low |= !bits;
                }
            }
            None => self.lost = true,
        }
        self.k += 1;
        if self.k < self.n {
            return None;
        }
        let mut word = 0u16;
        for c in 0..8 {
            let state = ((self.low >> c) & 1) as u16 | ((((self.high >> c) & 1) as u16) << 1);
            word |= state << (2 * c);
        }
        let ua = if self.lost {
            f32::NAN
        } else {
            (self.sum / self.n as f64) as f32
        };
        *self = Averager::new(self.n);
        Some((ua, word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::protocol::word;

    fn stream(n: u64, start_counter: u8) -> Vec<u8> {
        (0..n)
            .flat_map(|k| {
                let c = (start_counter as u64 + k) as u8 & 63;
                word(1000 + k as u32, 2, c, k as u8).to_le_bytes()
            })
            .collect()
    }

    fn decode(bytes: &[u8], split: usize) -> (Vec<Sample>, DecodeStats) {
        let mut d = Decoder::new(Modifiers::default(), 3000.0, false);
        let mut out = Vec::new();
        for part in bytes.chunks(split) {
            d.push(part, &mut |s| out.push(s));
        }
        d.finish(&mut |s| out.push(s));
        (out, d.stats)
    }

    #[test]
    fn any_split_gives_the_same_samples() {
        let bytes = stream(500, 17);
        let (whole, _) = decode(&bytes, bytes.len());
        for split in [1, 2, 3, 5, 7, 64] {
            assert_eq!(decode(&bytes, split).0, whole, "split {split}");
        }
        assert_eq!(whole.len(), 500);
        assert!(whole.iter().all(|s| s.is_some()));
    }

    #[test]
    fn a_lost_byte_costs_the_damaged_sample_only() {
        let mut bytes = stream(300, 0);
        bytes.remove(100 * 4 + 1); // sample 100 loses its second byte
        let (out, st) = decode(&bytes, 7);
        assert_eq!(out.len(), 300);
        let lost: Vec<usize> = (0..300).filter(|&k| out[k].is_none()).collect();
        assert_eq!(lost, vec![100]);
        assert_eq!(
            st.gaps,
            vec![Gap {
                at_sample: 100,
                lost_samples: 1
            }]
        );
        // The samples after it are the right ones: logic byte = index.
        assert_eq!(out[101].unwrap().1, 101);
        assert_eq!(out[299].unwrap().1, (299u32 & 255) as u8);
        // Whichever byte of a sample is lost, one sample is lost: that one, or when it was the
        // logic byte (the last) the next, whose first byte was read into it.
        for b in 0..4 {
            let mut bytes = stream(300, 0);
            bytes.remove(100 * 4 + b);
            let (out, st) = decode(&bytes, 7);
            assert_eq!(out.len(), 300, "byte {b}");
            let lost: Vec<usize> = (0..300).filter(|&k| out[k].is_none()).collect();
            let want = if b == 3 { 101 } else { 100 };
            assert_eq!(lost, vec![want], "byte {b}");
            assert_eq!(st.lost_samples, 1);
            for k in (0..300).filter(|&k| k != want) {
                let (ua, logic, known) = out[k].unwrap();
                let ua_want = Modifiers::default().current_a(2, 1000 + k as u32, 3000.0) * 1e6;
                assert_eq!(ua, ua_want as f32, "byte {b}, sample {k}");
                if known {
                    assert_eq!(logic, k as u8, "byte {b}, sample {k}");
                } else {
                    // The sample before the lost one: its last byte and the lost byte cannot
                    // be told apart, so its logic inputs are unknown (its current stands).
                    assert_eq!(k + 1, want, "byte {b}");
                }
            }
        }
    }

    #[test]
    fn lost_samples_keep_the_time_base() {
        let all = stream(200, 5);
        let mut bytes = all[..50 * 4].to_vec();
        bytes.extend_from_slice(&all[60 * 4..]); // samples 50..60 never sent
        let (out, st) = decode(&bytes, 13);
        assert_eq!(out.len(), 200);
        assert!((50..60).all(|k| out[k].is_none()));
        assert_eq!(out[60].unwrap().1, 60);
        assert_eq!(st.lost_samples, 10);
    }

    #[test]
    fn a_lost_byte_right_after_a_gap_and_at_the_start() {
        let all = stream(100, 0);
        let mut bytes = all[2..].to_vec(); // the first sample is cut: framing found after it
        bytes.drain(38 * 4 - 2..40 * 4 - 2); // samples 38, 39 never sent
        let (out, st) = decode(&bytes, 5);
        assert_eq!(out.len(), 99);
        assert_eq!(
            st.gaps,
            vec![Gap {
                at_sample: 37,
                lost_samples: 2
            }]
        );
        assert_eq!(out[36].unwrap().1, 37);
        assert_eq!(out[39].unwrap().1, 40);
    }

    #[test]
    fn averaging_and_two_bit_states() {
        let mut a = Averager::new(2);
        assert_eq!(a.push(Some((1.0, 0b01, true))), None);
        let (ua, w) = a.push(Some((3.0, 0b11, true))).unwrap();
        assert_eq!(ua, 2.0);
        // D0 high both times (10), D1 low then high (11), D2..D7 low (01).
        assert_eq!(w & 0b1111, 0b1110);
        assert_eq!(w >> 4, 0x5555 >> 4);
        a.push(None);
        assert!(a.push(Some((1.0, 0, true))).unwrap().0.is_nan());
        // An unknown logic byte leaves the channels undefined (00).
        assert_eq!(a.push(Some((1.0, 0, false))), None);
        assert_eq!(a.push(Some((1.0, 0, false))).unwrap().1, 0);
    }
}
