//! Synthetic traces with known ground truth: bursts with exponential rise and fall on a baseline,
//! Gaussian noise and ADC steps, and each burst's excess charge in closed form.
//!
//! A burst switched on at `t0` for `on_s` with amplitude `A`, rise time constant `τr` and fall
//! time constant `τf` draws, above the baseline,
//! `A (1 − e^{−τ/τr})` while on and `A (1 − e^{−on/τr}) e^{−(τ−on)/τf}` after, so its excess charge is
//! `A [on − τr (1 − e^{−on/τr})] + A (1 − e^{−on/τr}) τf`.

use serde::Serialize;

/// One burst of the pattern.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BurstSpec {
    pub start_s: f64,
    /// How long the load is switched on, s.
    pub on_s: f64,
    pub amplitude_ma: f64,
    /// Rise time constant, s.
    pub rise_s: f64,
    /// Fall time constant, s.
    pub fall_s: f64,
}

impl BurstSpec {
    /// Current above the baseline at time `t`, mA.
    #[inline]
    pub fn excess_ma(&self, t: f64) -> f64 {
        let tau = t - self.start_s;
        if tau < 0.0 {
            0.0
        } else if tau < self.on_s {
            self.amplitude_ma * (1.0 - (-tau / self.rise_s).exp())
        } else {
            let top = self.amplitude_ma * (1.0 - (-self.on_s / self.rise_s).exp());
            top * (-(tau - self.on_s) / self.fall_s).exp()
        }
    }

    /// The burst's excess charge in closed form, mA·ms.
    pub fn excess_charge_ma_ms(&self) -> f64 {
        let k = 1.0 - (-self.on_s / self.rise_s).exp();
        let a = self.amplitude_ma;
        (a * (self.on_s - self.rise_s * k) + a * k * self.fall_s) * 1e3
    }

    /// When the burst has decayed to a negligible level (1e-12 of its amplitude), s.
    pub fn settled_s(&self) -> f64 {
        self.start_s + self.on_s + 28.0 * self.fall_s
    }
}

/// A small, seedable generator (SplitMix64) with normal deviates by Box–Muller.
/// Hand-written: ten lines, deterministic across platforms and versions.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal.
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// The seed experiment's protocols.
pub const PRESETS: &[&str] = &["http", "https", "mqtt", "mqtts"];

/// The seed's pattern for one protocol: ten messages at 1 s intervals from `first_s`, the first
/// one the connection set-up. Durations from the seed's scope readings; amplitude 64 mA ± 3.
pub fn preset(name: &str, first_s: f64, rng: &mut Rng) -> Option<Vec<BurstSpec>> {
    let (connect_ms, steady_ms): (f64, (f64, f64)) = match name {
        "http" => (80.0, (5.5, 6.5)),
        "https" => (80.0, (5.0, 30.0)),
        "mqtt" => (70.0, (0.5, 1.0)),
        "mqtts" => (70.0, (4.5, 5.5)),
        _ => return None,
    };
    let mut out = Vec::new();
    for k in 0..10 {
        let on_ms = if k == 0 {
            connect_ms + rng.range(-2.0, 2.0)
        } else {
            rng.range(steady_ms.0, steady_ms.1)
        };
        out.push(BurstSpec {
            start_s: first_s + k as f64 + rng.range(-0.02, 0.02),
            on_s: on_ms / 1e3,
            amplitude_ma: 64.0 + rng.range(-3.0, 3.0),
            rise_s: 0.3e-3,
            fall_s: 0.5e-3,
        });
    }
    Some(out)
}

/// The current at time `t`: baseline plus every burst, mA (bursts sorted by start).
pub fn current_ma(baseline_ma: f64, bursts: &[BurstSpec], t: f64) -> f64 {
    let mut i = baseline_ma;
    for b in bursts {
        if b.start_s > t {
            break;
        }
        if t < b.settled_s() {
            i += b.excess_ma(t);
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_matches_fine_integration() {
        let b = BurstSpec {
            start_s: 0.01,
            on_s: 0.006,
            amplitude_ma: 64.0,
            rise_s: 0.3e-3,
            fall_s: 0.5e-3,
        };
        // Midpoint rule with 1 ns steps, independent of the closed form.
        let n = 40_000_000u64;
        let dt = 0.04 / n as f64;
        let s: f64 = (0..n)
            .map(|k| b.excess_ma((k as f64 + 0.5) * dt))
            .sum::<f64>()
            * dt
            * 1e3;
        assert!(
            (s - b.excess_charge_ma_ms()).abs() < 1e-6 * s,
            "{s} vs {}",
            b.excess_charge_ma_ms()
        );
        // Long on-time: about A × on.
        let long = BurstSpec { on_s: 1.0, ..b };
        assert!((long.excess_charge_ma_ms() - 64_000.0).abs() / 64_000.0 < 1e-3);
    }

    #[test]
    fn rng_is_sane() {
        let mut r = Rng::new(1);
        let v: Vec<f64> = (0..100_000).map(|_| r.normal()).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.02);
    }
}
