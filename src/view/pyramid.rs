//! The viewer's multi-resolution summary of a whole trace, built as the samples stream past
//! (in the detection pass, no extra read): at most [`CAP`] buckets of consecutive samples, each
//! with its time span, true minimum and maximum, sample count and charge (∫ I dt over the steps
//! that start in it, trapezoid). When the buckets are full, neighbours merge pairwise (each
//! bucket then holds twice as many samples), so memory is fixed whatever the length. The page
//! builds coarser levels by merging pairs again.
//!
//! Gaps: the gap threshold is known only after the pass, so each bucket keeps its two longest
//! steps; [`Pyramid::finish`] removes the steps that are gaps from the charge (a bucket holding
//! more than two gaps is flagged `inexact`).
//!
//! Cost: a few comparisons and adds per sample; 48 bytes × [`CAP`] of memory.

use base64::Engine;
use serde::{Serialize, Serializer};

/// f64s as base64 of their little-endian bytes.
pub fn b64_f64<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// f32s as base64 of their little-endian bytes.
pub fn b64_f32<S: Serializer>(v: &[f32], s: S) -> Result<S::Ok, S::Error> {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Buckets at most: 65 536 (3 MB as JSON arrays).
pub const CAP: usize = 1 << 16;

/// A step between two samples: its length, s, and its trapezoid charge, mA·s.
#[derive(Clone, Copy, Default, Debug)]
struct Step {
    dt: f64,
    q: f64,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    t0: f64,
    t1: f64,
    lo: f64,
    hi: f64,
    n: u64,
    q: f64,
    long: [Step; 2],
}

impl Bucket {
    fn at(t: f64, i: f64) -> Bucket {
        Bucket {
            t0: t,
            t1: t,
            lo: i,
            hi: i,
            n: 1,
            q: 0.0,
            long: [Step::default(); 2],
        }
    }

    fn keep(long: &mut [Step; 2], s: Step) {
        if s.dt > long[0].dt {
            long[1] = long[0];
            long[0] = s;
        } else if s.dt > long[1].dt {
            long[1] = s;
        }
    }

    fn merge(&mut self, b: &Bucket) {
        self.t1 = b.t1;
        self.lo = self.lo.min(b.lo);
        self.hi = self.hi.max(b.hi);
        self.n += b.n;
        self.q += b.q;
        for s in b.long {
            Bucket::keep(&mut self.long, s);
        }
    }
}

/// The streaming builder.
pub struct Pyramid {
    /// Samples a bucket holds (doubles at each merge).
    per: u64,
    done: Vec<Bucket>,
    cur: Option<Bucket>,
    last: Option<(f64, f64)>,
}

/// The finished pyramid, as the page reads it: parallel arrays, one entry per bucket, each
/// serialised as base64 of its little-endian bytes (f64 or f32: 40–55% of the JSON numbers'
/// size; the page reads them as typed arrays).
#[derive(Debug, Clone, Serialize)]
pub struct Levels {
    /// Samples per bucket (the last may hold fewer).
    pub per: u64,
    #[serde(serialize_with = "b64_f64")]
    pub t0: Vec<f64>,
    #[serde(serialize_with = "b64_f64")]
    pub t1: Vec<f64>,
    #[serde(serialize_with = "b64_f32")]
    pub lo: Vec<f32>,
    #[serde(serialize_with = "b64_f32")]
    pub hi: Vec<f32>,
    #[serde(serialize_with = "b64_f64")]
    pub n: Vec<f64>,
    /// ∫ I dt over the bucket's steps (gaps excluded), mA·s.
    #[serde(serialize_with = "b64_f64")]
    pub q: Vec<f64>,
    /// Buckets whose charge could not be cleared of every gap (more than two in one bucket).
    pub inexact: Vec<usize>,
}

impl Default for Pyramid {
    fn default() -> Self {
        Pyramid {
            per: 1,
            done: Vec::new(),
            cur: None,
            last: None,
        }
    }
}

impl Pyramid {
    /// Add samples (time s, current mA) in time order.
    pub fn push(&mut self, time_s: &[f64], current_ma: &[f64]) {
        let len = time_s.len().min(current_ma.len());
        let mut k = 0;
        while k < len {
            let (t, i) = (time_s[k], current_ma[k]);
            k += 1;
            if !i.is_finite() {
                continue;
            }
            // Fast path: the sample joins the current bucket, which has room (a tight loop
            // over the run of such samples).
            if let (Some(b), Some((mut tp, mut ip))) = (self.cur.as_mut(), self.last) {
                if b.n < self.per {
                    let end = (k - 1 + (self.per - b.n) as usize).min(len);
                    let mut j = k - 1;
                    let (mut lo, mut hi, mut q) = (b.lo, b.hi, b.q);
                    // The second-longest step so far: only a longer one needs `keep`.
                    let mut long1 = b.long[1].dt;
                    while j < end {
                        let (tj, ij) = (time_s[j], current_ma[j]);
                        if !ij.is_finite() {
                            break;
                        }
                        let dt = tj - tp;
                        let sq = 0.5 * (ip + ij) * dt;
                        q += sq;
                        if dt > long1 {
                            Bucket::keep(&mut b.long, Step { dt, q: sq });
                            long1 = b.long[1].dt;
                        }
                        // Plain comparisons: the values are finite here (f64::min handles NaN).
                        if ij < lo {
                            lo = ij;
                        }
                        if ij > hi {
                            hi = ij;
                        }
                        (tp, ip) = (tj, ij);
                        j += 1;
                    }
                    b.n += (j - (k - 1)) as u64;
                    if j > k - 1 {
                        b.t1 = tp;
                    }
                    (b.lo, b.hi, b.q) = (lo, hi, q);
                    self.last = Some((tp, ip));
                    k = j;
                    continue;
                }
            }
            // The step from the previous sample belongs to the previous sample's bucket.
            if let Some((t0, i0)) = self.last {
                let s = Step {
                    dt: t - t0,
                    q: 0.5 * (i0 + i) * (t - t0),
                };
                let b = self.cur.as_mut().or(self.done.last_mut());
                if let Some(b) = b {
                    b.q += s.q;
                    Bucket::keep(&mut b.long, s);
                }
            }
            self.last = Some((t, i));
            match &mut self.cur {
                Some(b) if b.n < self.per => {
                    b.t1 = t;
                    b.lo = b.lo.min(i);
                    b.hi = b.hi.max(i);
                    b.n += 1;
                }
                _ => {
                    if let Some(b) = self.cur.take() {
                        self.done.push(b);
                        if self.done.len() == CAP {
                            self.halve();
                        }
                    }
                    self.cur = Some(Bucket::at(t, i));
                }
            }
        }
    }

    /// Merge neighbours pairwise: half the buckets, twice the samples each.
    fn halve(&mut self) {
        let merged: Vec<Bucket> = self
            .done
            .chunks(2)
            .map(|c| {
                let mut b = c[0];
                if let Some(x) = c.get(1) {
                    b.merge(x);
                }
                b
            })
            .collect();
        self.done = merged;
        self.per *= 2;
    }

    /// The buckets, with the steps longer than `gap_s` taken out of their charge.
    pub fn finish(mut self, gap_s: f64) -> Levels {
        if let Some(b) = self.cur.take() {
            self.done.push(b);
        }
        let mut l = Levels {
            per: self.per,
            t0: Vec::with_capacity(self.done.len()),
            t1: Vec::with_capacity(self.done.len()),
            lo: Vec::with_capacity(self.done.len()),
            hi: Vec::with_capacity(self.done.len()),
            n: Vec::with_capacity(self.done.len()),
            q: Vec::with_capacity(self.done.len()),
            inexact: Vec::new(),
        };
        for (k, b) in self.done.iter().enumerate() {
            let mut q = b.q;
            let gaps = b.long.iter().filter(|s| s.dt > gap_s).count();
            for s in b.long.iter().filter(|s| s.dt > gap_s) {
                q -= s.q;
            }
            // Two kept and both gaps: a third may hide behind them.
            if gaps == 2 && b.n > 3 {
                l.inexact.push(k);
            }
            l.t0.push(b.t0);
            l.t1.push(b.t1);
            l.lo.push(b.lo as f32);
            l.hi.push(b.hi as f32);
            l.n.push(b.n as f64);
            l.q.push(q);
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 300 000 samples at 1 ms of 1 mA, one sample at 500 mA, and a 10 s gap: after the merges
    /// the spike is still some bucket's maximum, the charges add up to the trapezoid (the gap's
    /// step taken out), and no more than CAP buckets are kept.
    #[test]
    fn spikes_survive_and_charges_add_up() {
        let mut p = Pyramid::default();
        let n = 300_000usize;
        let t: Vec<f64> = (0..n)
            .map(|k| k as f64 * 1e-3 + if k >= 200_000 { 10.0 } else { 0.0 })
            .collect();
        let mut i = vec![1.0; n];
        i[123_457] = 500.0;
        for c in 0..(n / 1000) {
            p.push(&t[c * 1000..(c + 1) * 1000], &i[c * 1000..(c + 1) * 1000]);
        }
        let l = p.finish(0.5);
        assert!(
            l.t0.len() <= CAP && l.per >= 4,
            "{} buckets of {}",
            l.t0.len(),
            l.per
        );
        assert_eq!(l.hi.iter().cloned().fold(0.0f32, f32::max), 500.0);
        assert_eq!(l.n.iter().sum::<f64>(), n as f64);
        // Trapezoid by hand: (n − 2) steps of 1 ms at 1 mA, the spike adds 499 mA × 1 ms, the
        // gap's step is out.
        let want = (n - 2) as f64 * 1e-3 + 499.0 * 1e-3;
        let got: f64 = l.q.iter().sum();
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        assert!(l.inexact.is_empty());
    }
}
