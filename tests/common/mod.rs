//! Helpers shared by the integration tests: run the real binary, write files, read JSON.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shuntscope"))
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run shuntscope")
}

/// Run `analyze FILE -f json EXTRA...` and parse the JSON; panics with stderr on failure.
pub fn analyze_json(file: &Path, extra: &[&str]) -> serde_json::Value {
    let f = file.to_str().unwrap();
    let mut args = vec!["analyze", f, "-f", "json", "-q"];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(
        out.status.success(),
        "analyze {f} {extra:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

pub struct TempDir(pub tempfile::TempDir);

impl TempDir {
    pub fn new() -> Self {
        TempDir(tempfile::tempdir().unwrap())
    }
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

pub fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Excess charge of an exponential-rise, exponential-fall burst, mA·ms, computed here from the
/// closed form (independently of the program):
/// A [on − τr (1 − e^{−on/τr})] + A (1 − e^{−on/τr}) τf, times in ms.
pub fn closed_form_excess_ma_ms(amp_ma: f64, on_ms: f64, rise_ms: f64, fall_ms: f64) -> f64 {
    let k = 1.0 - (-on_ms / rise_ms).exp();
    amp_ma * (on_ms - rise_ms * k) + amp_ma * k * fall_ms
}

/// The same burst's excess current at time `tau_ms` after it switches on.
pub fn burst_ma(amp_ma: f64, on_ms: f64, rise_ms: f64, fall_ms: f64, tau_ms: f64) -> f64 {
    if tau_ms < 0.0 {
        0.0
    } else if tau_ms < on_ms {
        amp_ma * (1.0 - (-tau_ms / rise_ms).exp())
    } else {
        amp_ma * (1.0 - (-on_ms / rise_ms).exp()) * (-(tau_ms - on_ms) / fall_ms).exp()
    }
}

/// A tiny deterministic generator for test noise (xorshift64*, Box–Muller).
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Noise(seed.wrapping_mul(2685821657736338717) | 1)
    }
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(2685821657736338717) >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}
