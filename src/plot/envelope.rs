//! A min/max envelope of a stream of samples, one bin per sliver of time, built chunk by
//! chunk in bounded memory: when the bins run out, neighbours merge (min of mins, max of
//! maxes), so no extreme sample is ever lost, whatever the trace's length.

/// Streaming min/max bins over `[t0, t1)`.
#[derive(Debug, Clone)]
pub struct Envelope {
    t0: f64,
    t1: f64,
    bin_s: f64,
    /// 1 / bin_s: a multiply per sample instead of a divide.
    per_s: f64,
    cap: usize,
    bins: Vec<(f64, f64)>,
    last_t: f64,
}

impl Envelope {
    /// `cap` bins at most (use at least twice the pixel width); `window` limits the time range.
    pub fn new(cap: usize, window: Option<(f64, f64)>, first_bin_s: f64) -> Envelope {
        let (t0, t1) = window.unwrap_or((f64::NAN, f64::INFINITY));
        let bin_s = match window {
            Some((a, b)) if b > a => (b - a) / cap as f64,
            _ => first_bin_s.max(1e-12),
        };
        Envelope {
            t0,
            t1,
            bin_s,
            per_s: 1.0 / bin_s,
            cap: cap.max(4),
            bins: Vec::new(),
            last_t: f64::NAN,
        }
    }

    /// Add samples. Cost: a multiply and a few compares per sample.
    pub fn push(&mut self, time_s: &[f64], value: &[f64]) {
        for (&t, &v) in time_s.iter().zip(value) {
            if self.t0.is_nan() {
                self.t0 = t;
            }
            if t < self.t0 || t >= self.t1 {
                continue;
            }
            let mut idx = ((t - self.t0) * self.per_s) as usize;
            while idx >= self.cap {
                self.merge();
                idx = ((t - self.t0) * self.per_s) as usize;
            }
            if idx >= self.bins.len() {
                self.bins
                    .resize(idx + 1, (f64::INFINITY, f64::NEG_INFINITY));
            }
            let b = &mut self.bins[idx];
            b.0 = b.0.min(v);
            b.1 = b.1.max(v);
            self.last_t = t;
        }
    }

    fn merge(&mut self) {
        let merged: Vec<(f64, f64)> = self
            .bins
            .chunks(2)
            .map(|c| {
                c.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, b| {
                    (a.0.min(b.0), a.1.max(b.1))
                })
            })
            .collect();
        self.bins = merged;
        self.bin_s *= 2.0;
        self.per_s = 1.0 / self.bin_s;
    }

    /// The time span covered, s.
    pub fn span(&self) -> (f64, f64) {
        let end = if self.t1.is_finite() {
            self.t1
        } else {
            self.last_t
        };
        (self.t0, end)
    }

    /// `columns` (time at the column's centre, min, max); empty columns (gaps) are None.
    pub fn columns(&self, columns: usize) -> Vec<Option<(f64, f64, f64)>> {
        let (a, b) = self.span();
        if b.partial_cmp(&a) != Some(std::cmp::Ordering::Greater) || columns == 0 {
            return Vec::new();
        }
        let w = (b - a) / columns as f64;
        let mut out = vec![None; columns];
        for (k, &(lo, hi)) in self.bins.iter().enumerate() {
            if lo > hi {
                continue;
            }
            let mid = self.t0 + (k as f64 + 0.5) * self.bin_s;
            let c = (((mid - a) / w) as usize).min(columns - 1);
            let e = out[c].get_or_insert((a + (c as f64 + 0.5) * w, lo, hi));
            e.1 = e.1.min(lo);
            e.2 = e.2.max(hi);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_spike_survives_twenty_million_samples() {
        let mut e = Envelope::new(4096, None, 1e-6);
        let n = 20_000_000usize;
        let t: Vec<f64> = (0..n).map(|k| k as f64 * 1e-5).collect();
        let mut v = vec![10.0; n];
        v[12_345_678] = 99.0;
        v[7] = -5.0;
        for (tc, vc) in t.chunks(65_536).zip(v.chunks(65_536)) {
            e.push(tc, vc);
        }
        let cols = e.columns(1600);
        let max = cols.iter().flatten().map(|c| c.2).fold(f64::MIN, f64::max);
        let min = cols.iter().flatten().map(|c| c.1).fold(f64::MAX, f64::min);
        assert_eq!((min, max), (-5.0, 99.0));
        // The spike lands in the column of its time.
        let spike_t = 12_345_678.0 * 1e-5;
        let c = cols.iter().flatten().find(|c| c.2 == 99.0).unwrap();
        assert!((c.0 - spike_t).abs() < 200.0 / 1600.0);
        // Only that column reaches it.
        assert_eq!(cols.iter().flatten().filter(|c| c.2 == 99.0).count(), 1);
    }
}
