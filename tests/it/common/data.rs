//! Test helpers that need neither the binary nor the library: temporary folders, numbers from
//! JSON, closed-form bursts, deterministic noise. Shared by the integration tests and the
//! crate's own tests (src/tests/), which include this file.
#![allow(dead_code)]

use std::fmt::Write;
use std::path::PathBuf;

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

/// A pcap (raw IPv4, link type 101) built byte by byte: (time_s, from_client, seq, flags, payload).
pub fn raw_pcap(packets: &[(f64, bool, u32, u8, Vec<u8>)]) -> Vec<u8> {
    raw_pcap_from(packets, [10, 0, 0, 2])
}

/// [`raw_pcap`] with another client address.
pub fn raw_pcap_from(packets: &[(f64, bool, u32, u8, Vec<u8>)], client: [u8; 4]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(0xa1b2_c3d4u32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(4u16.to_le_bytes());
    out.extend([0u8; 8]);
    out.extend(65535u32.to_le_bytes());
    out.extend(101u32.to_le_bytes());
    for (t, from_client, seq, flags, payload) in packets {
        let (src, dst, sp, dp) = if *from_client {
            (client, [10, 0, 0, 1], 40000u16, 1884u16)
        } else {
            ([10, 0, 0, 1], client, 1884, 40000)
        };
        let total = 20 + 20 + payload.len();
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
        ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        ip.extend(src);
        ip.extend(dst);
        let mut tcp = Vec::new();
        tcp.extend(sp.to_be_bytes());
        tcp.extend(dp.to_be_bytes());
        tcp.extend(seq.to_be_bytes());
        tcp.extend(0u32.to_be_bytes());
        tcp.extend([0x50, *flags, 0xff, 0xff, 0, 0, 0, 0]);
        let frame: Vec<u8> = [ip, tcp, payload.clone()].concat();
        let sec = t.floor() as u32;
        let usec = ((t - t.floor()) * 1e6).round() as u32;
        out.extend(sec.to_le_bytes());
        out.extend(usec.to_le_bytes());
        out.extend((frame.len() as u32).to_le_bytes());
        out.extend((frame.len() as u32).to_le_bytes());
        out.extend(frame);
    }
    out
}

/// 400 000 rows (~7 MB: two 4 MiB blocks, each cut into parts) at 100 kS/s; 30 ms bursts every
/// 100 ms, so many block and part boundaries fall inside bursts.
pub fn streaming_trace() -> String {
    let mut noise = Noise::new(3);
    let mut text = String::from("time_s,voltage_v\n");
    for k in 0..400_000u64 {
        let t_ms = k as f64 * 0.01;
        let phase = t_ms % 100.0;
        let i = 170.0 + burst_ma(64.0, 30.0, 0.3, 0.5, phase - 20.0);
        let v = i * 0.47 / 1e3 + 1.5e-3 * noise.normal();
        writeln!(text, "{:.5},{:.6}", t_ms / 1e3, v).unwrap();
    }
    text
}

/// A PPK2 session of `n` samples at 100 kS/s: 2 mA, with a 30 mA step of 500 samples (D0
/// high, two bits a channel as the format has them) every second.
/// A PPK2 session of `n` samples at 100 kS/s, deflated: 2000 µA idle, 32000 µA for 500 samples
/// from sample 50 000 of every 100 000, D0 high over the same samples.
pub fn large_ppk2(path: &std::path::Path, n: usize) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(std::io::BufWriter::new(f));
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    z.start_file("metadata.json", o).unwrap();
    let meta =
        br#"{"metadata": {"samplesPerSecond": 100000, "startSystemTime": 0}, "formatVersion": 2}"#;
    std::io::Write::write_all(&mut z, meta).unwrap();
    z.start_file("session.raw", o).unwrap();
    let mut block = Vec::with_capacity(6 * 100_000);
    for start in (0..n).step_by(100_000) {
        block.clear();
        for k in start..(start + 100_000).min(n) {
            let on = (50_000..50_500).contains(&(k % 100_000));
            let i: f32 = if on { 32000.0 } else { 2000.0 };
            block.extend_from_slice(&i.to_le_bytes());
            // Two bits a channel: every channel low (01), D0 high (10) during the step.
            let word: u16 = if on { 0x5556 } else { 0x5555 };
            block.extend_from_slice(&word.to_le_bytes());
        }
        std::io::Write::write_all(&mut z, &block).unwrap();
    }
    z.finish().unwrap();
}
