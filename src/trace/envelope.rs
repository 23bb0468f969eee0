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

    /// Add samples (time non-decreasing, as readers give them). Cost: about two compares per
    /// sample: the bin of a run's first sample is computed, the rest of the run (up to just
    /// short of the bin's end) is only compared against its edges, and its min and max taken
    /// over the slice; samples next to an edge take the exact computation.
    pub fn push(&mut self, time_s: &[f64], value: &[f64]) {
        let n = time_s.len().min(value.len());
        let mut k = 0;
        while k < n {
            let t = time_s[k];
            if self.t0.is_nan() {
                self.t0 = t;
            }
            if t < self.t0 || t >= self.t1 {
                k += 1;
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
            // Times safely inside this bin (a margin of 1e-9 bin at each edge).
            let safe_lo = self.t0 + (idx as f64 + 1e-9) * self.bin_s;
            let safe_hi = (self.t0 + (idx as f64 + 1.0 - 1e-9) * self.bin_s).min(self.t1);
            let run = time_s[k + 1..n]
                .iter()
                .position(|&u| !(u >= safe_lo && u < safe_hi))
                .unwrap_or(n - k - 1);
            let end = k + 1 + run;
            let (mut lo, mut hi) = self.bins[idx];
            for &v in &value[k..end] {
                lo = lo.min(v);
                hi = hi.max(v);
            }
            self.bins[idx] = (lo, hi);
            self.last_t = time_s[end - 1];
            k = end;
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

    /// The plain definition: each sample's bin computed on its own.
    fn reference(e: &mut Envelope, time_s: &[f64], value: &[f64]) {
        for (&t, &v) in time_s.iter().zip(value) {
            if e.t0.is_nan() {
                e.t0 = t;
            }
            if t < e.t0 || t >= e.t1 {
                continue;
            }
            let mut idx = ((t - e.t0) * e.per_s) as usize;
            while idx >= e.cap {
                e.merge();
                idx = ((t - e.t0) * e.per_s) as usize;
            }
            if idx >= e.bins.len() {
                e.bins.resize(idx + 1, (f64::INFINITY, f64::NEG_INFINITY));
            }
            let b = &mut e.bins[idx];
            b.0 = b.0.min(v);
            b.1 = b.1.max(v);
            e.last_t = t;
        }
    }

    #[test]
    fn runs_give_the_bins_of_the_per_sample_definition() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for case in 0..40 {
            // Irregular steps, repeated times, gaps, samples right on bin edges.
            let n = 20_000 + (rnd() % 20_000) as usize;
            let mut t = vec![0.0; n];
            let mut v = vec![0.0; n];
            // Even cases: steps of 2^-12 s on bins of 2^-8 s, so many samples sit exactly on
            // bin edges; odd ones: decimal steps with rounding.
            let grid = case % 4 < 2;
            let mut now = if grid {
                0.0
            } else {
                (rnd() % 1000) as f64 * 1e-3
            };
            for k in 0..n {
                now += match (grid, rnd() % 10) {
                    (_, 0) => 0.0,
                    (true, _) => (rnd() % 3) as f64 / 4096.0,
                    (false, 1) => 0.05,
                    (false, _) => 1e-5 * (rnd() % 4) as f64,
                };
                t[k] = now;
                v[k] = (rnd() % 10_000) as f64 - 5000.0;
            }
            let window = (case % 2 == 1).then(|| (t[n / 4], t[3 * n / 4]));
            let first_bin = if grid { 1.0 / 256.0 } else { 1e-4 };
            let mut fast = Envelope::new(64 + case, window, first_bin);
            let mut slow = fast.clone();
            let mut k = 0;
            while k < n {
                let m = (k + 1 + (rnd() % 5000) as usize).min(n);
                fast.push(&t[k..m], &v[k..m]);
                reference(&mut slow, &t[k..m], &v[k..m]);
                k = m;
            }
            assert_eq!(fast.bins, slow.bins, "case {case}");
            assert_eq!(fast.last_t, slow.last_t);
            assert_eq!(fast.bin_s, slow.bin_s);
        }
    }

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
