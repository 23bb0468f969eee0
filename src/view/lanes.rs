//! The lanes under the current: each digital channel as its edges (exact, up to a budget) and
//! the measured supply voltage as a min/max pyramid. Built in the page's second read, beside
//! the full-rate samples.

use super::pyramid::{self, Pyramid};
use serde::Serialize;

/// Edges kept over all digital channels of a trace, at most (12 bytes each on the page).
pub const EDGE_BUDGET: usize = 400_000;

/// One digital channel: its state from each edge on (0 low, 1 high, 0.5 toggled within the
/// sample, NaN unknown), or one constant state.
#[derive(Debug, Clone, Serialize)]
pub struct DigitalLane {
    pub name: String,
    #[serde(serialize_with = "pyramid::b64_f64")]
    pub t: Vec<f64>,
    #[serde(serialize_with = "pyramid::b64_f32")]
    pub s: Vec<f32>,
    /// Edges stop here: the budget was spent (the lane is blank after it).
    pub truncated_at_s: Option<f64>,
}

/// What the lanes hold.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Lanes {
    /// Channels that change at least once (in file order).
    pub digital: Vec<DigitalLane>,
    /// Channels that never change, with their state: "D0–D7 high" on the page.
    pub constant: Vec<(String, f64)>,
    /// The measured supply, V.
    pub supply: Option<pyramid::Levels>,
}

/// Collects lanes chunk by chunk.
pub struct LaneBuilder {
    lanes: Vec<DigitalLane>,
    edges: usize,
    supply: Option<Pyramid>,
    /// The last row's bit patterns.
    prev: Vec<u64>,
    /// The last PPK2 digital word.
    prev_word: Option<u16>,
}

fn same(a: f32, b: f32) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

impl LaneBuilder {
    pub fn new(names: &[String], supply: bool) -> LaneBuilder {
        LaneBuilder {
            lanes: names
                .iter()
                .map(|n| DigitalLane {
                    name: n.clone(),
                    t: Vec::new(),
                    s: Vec::new(),
                    truncated_at_s: None,
                })
                .collect(),
            edges: 0,
            supply: supply.then(Pyramid::default),
            prev: Vec::new(),
            prev_word: None,
        }
    }

    /// Add a chunk: times, the digital values row after row, the supply (V, may be empty).
    pub fn push(&mut self, time_s: &[f64], digital: &[f64], supply_v: &[f64]) {
        let n = self.lanes.len();
        if n > 0 && digital.len() == time_s.len() * n {
            for (k, &t) in time_s.iter().enumerate() {
                let row = &digital[k * n..k * n + n];
                // Most rows repeat the one before: one comparison of the bit patterns.
                if self.prev.len() == n
                    && row
                        .iter()
                        .zip(&self.prev)
                        .fold(0u64, |d, (a, b)| d | (a.to_bits() ^ b))
                        == 0
                {
                    continue;
                }
                self.prev.clear();
                self.prev.extend(row.iter().map(|v| v.to_bits()));
                for (c, lane) in self.lanes.iter_mut().enumerate() {
                    if lane.truncated_at_s.is_some() {
                        continue;
                    }
                    let v = digital[k * n + c] as f32;
                    if lane.s.last().is_some_and(|&l| same(l, v)) {
                        continue;
                    }
                    if self.edges >= EDGE_BUDGET {
                        lane.truncated_at_s = Some(t);
                        continue;
                    }
                    lane.t.push(t);
                    lane.s.push(v);
                    self.edges += 1;
                }
            }
        }
        if let Some(p) = &mut self.supply {
            if supply_v.len() == time_s.len() {
                p.push(time_s, supply_v);
            }
        }
    }

    /// Add a chunk of PPK2 digital words (channels D0–D7, two bits each: `01` low, `10` high,
    /// `11` toggled, `00` unknown), for a builder made with the names D0–D7.
    pub fn push_words(&mut self, time_s: &[f64], words: &[u16]) {
        if words.len() != time_s.len() || self.lanes.len() != 8 {
            return;
        }
        for (&t, &w) in time_s.iter().zip(words) {
            if self.prev_word == Some(w) {
                continue;
            }
            let prev = self.prev_word.replace(w);
            for (c, lane) in self.lanes.iter_mut().enumerate() {
                let st = (w >> (2 * c)) & 3;
                if prev.is_some_and(|p| (p >> (2 * c)) & 3 == st) || lane.truncated_at_s.is_some() {
                    continue;
                }
                if self.edges >= EDGE_BUDGET {
                    lane.truncated_at_s = Some(t);
                    continue;
                }
                lane.t.push(t);
                lane.s
                    .push(crate::ingest::native::ppk2::logic_state(w, c) as f32);
                self.edges += 1;
            }
        }
    }

    pub fn finish(self, gap_s: f64) -> Lanes {
        let (mut digital, mut constant) = (Vec::new(), Vec::new());
        for l in self.lanes {
            if l.s.len() == 1 && l.truncated_at_s.is_none() {
                constant.push((l.name, l.s[0] as f64));
            } else if !l.s.is_empty() {
                digital.push(l);
            }
        }
        Lanes {
            digital,
            constant,
            supply: self.supply.map(|p| p.finish(gap_s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_constants_and_budget() {
        let names: Vec<String> = ["D0", "D1"].iter().map(|s| s.to_string()).collect();
        let mut b = LaneBuilder::new(&names, false);
        // D0: 0 0 1 1 0.5 NaN; D1 always 1.
        let t = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let d = [0., 1., 0., 1., 1., 1., 1., 1., 0.5, 1., f64::NAN, 1.];
        b.push(&t[..3], &d[..6], &[]);
        b.push(&t[3..], &d[6..], &[]);
        let l = b.finish(f64::INFINITY);
        assert_eq!(l.constant, vec![("D1".to_string(), 1.0)]);
        assert_eq!(l.digital[0].t, vec![0.0, 2.0, 4.0, 5.0]);
        assert_eq!(&l.digital[0].s[..3], &[0.0, 1.0, 0.5]);
        assert!(l.digital[0].s[3].is_nan());
    }

    /// The word path gives what the decoded path gives (D0 as above, D1 high, D2..D7 low).
    #[test]
    fn words_as_decoded() {
        let names: Vec<String> = (0..8).map(|c| format!("D{c}")).collect();
        let mut b = LaneBuilder::new(&names, false);
        let rest = 0b01_01_01_01_01_01_10_00u16; // D1 high (10), D2..D7 low (01), D0 bits 0
        let d0 = [0b01u16, 0b01, 0b10, 0b10, 0b11, 0b00];
        let words: Vec<u16> = d0.iter().map(|s| rest | s).collect();
        let t = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        b.push_words(&t[..2], &words[..2]);
        b.push_words(&t[2..], &words[2..]);
        let l = b.finish(f64::INFINITY);
        assert_eq!(l.digital.len(), 1);
        assert_eq!(l.digital[0].name, "D0");
        assert_eq!(l.digital[0].t, vec![0.0, 2.0, 4.0, 5.0]);
        assert_eq!(&l.digital[0].s[..3], &[0.0, 1.0, 0.5]);
        assert!(l.digital[0].s[3].is_nan());
        assert_eq!(l.constant[0], ("D1".to_string(), 1.0));
        assert_eq!(l.constant.len(), 7);
    }
}
