//! Record from a Nordic PPK2 into a .ppk2 file: set the mode, the regulator and the DUT's
//! power, stream 100 000 samples a second, decode them as Nordic's app does and write them as
//! they come. Memory stays flat; a recording ended by its duration, by an interrupt or by the
//! device going away is a valid file with a note of why it ended (`recording.ended` in its
//! metadata.json).
//!
//! protocol (commands, metadata, the sample word, the current formula, the spike filter) →
//! decode (framing, counter gaps, averaging) → writer (the .ppk2 archive); device finds and
//! opens the port; sim is a PPK2 on a pseudo-terminal for tests and benchmarks.

pub mod decode;
pub mod device;
pub mod protocol;
pub mod sim;
pub mod writer;

use crate::error::{Error, Result};
use decode::{Averager, Decoder, Gap};
use protocol::cmd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Who powers the device under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The PPK2 supplies the device at `source_mv` and measures its current.
    Source,
    /// The PPK2 measures the current of an external supply in series.
    Ampere,
}

/// `--dut-power`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DutPower {
    On,
    Off,
    /// Off, then on once the recording runs: the boot is in the recording.
    Cycle,
}

/// What to record.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// Serial port; None: the only PPK2 connected.
    pub port: Option<String>,
    /// Length in seconds of device time (100 000 samples a second); None: until stopped.
    pub duration_s: Option<f64>,
    pub output: String,
    pub mode: Mode,
    /// Regulator voltage (mV): the supply in source mode, the logic reference in ampere mode.
    pub source_mv: Option<u32>,
    pub dut_power: DutPower,
    pub spike_filter: bool,
    /// Samples averaged into one (1: the full 100 kS/s).
    pub average: u32,
    /// Seconds without data after which the device counts as stalled.
    pub stall_s: f64,
}

/// Why a recording ended.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason", content = "detail")]
pub enum Ended {
    Duration,
    Interrupted,
    /// The port failed (unplugged, reset): the error.
    DeviceVanished(String),
    /// The port stayed open but sent nothing.
    Stalled(String),
}

/// What was recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recording {
    pub file: String,
    pub port: String,
    pub mode: Mode,
    pub source_mv: f64,
    pub ended: Ended,
    /// Samples at 100 kS/s in the time base (received and lost).
    pub device_samples: u64,
    /// Samples in the file (after averaging).
    pub samples: u64,
    pub rate_hz: f64,
    pub duration_s: f64,
    pub lost_samples: u64,
    pub gaps: Vec<GapAt>,
    pub gap_count: u64,
    pub skipped_bytes: u64,
    pub resyncs: u64,
    pub spike_filter: bool,
    pub average: u32,
    pub metadata: protocol::Metadata,
    /// Wall-clock seconds from the start command to the end.
    pub wall_s: f64,
}

/// A gap of lost samples, in seconds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GapAt {
    pub at_s: f64,
    pub lost_samples: u64,
    pub duration_s: f64,
}

impl GapAt {
    fn of(g: &Gap) -> GapAt {
        let dt = 1.0 / protocol::RATE_HZ as f64;
        GapAt {
            at_s: g.at_sample as f64 * dt,
            lost_samples: g.lost_samples,
            duration_s: g.lost_samples as f64 * dt,
        }
    }
}

/// Parse `--average`: a rate (`10ks`, `10kS/s`, `1000`, `100Hz`) that divides 100 kS/s;
/// returns the samples averaged into one.
pub fn parse_average(text: &str) -> std::result::Result<u32, String> {
    let t = text.trim().to_ascii_lowercase();
    let t = ["s/s", "sps", "hz", "s"]
        .iter()
        .find_map(|s| t.strip_suffix(s))
        .unwrap_or(&t);
    let (num, mult) = match t.strip_suffix('k') {
        Some(n) => (n, 1e3),
        None => (t, 1.0),
    };
    let rate = num
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("`{text}` is not a sample rate (10ks, 1000, 100Hz)"))?
        * mult;
    let n = protocol::RATE_HZ as f64 / rate;
    if rate.is_nan() || rate <= 0.0 || n < 1.0 || (n - n.round()).abs() > 1e-9 {
        return Err(format!(
            "`{text}`: the rate must divide 100 kS/s evenly (100ks, 50ks, 10ks, 1ks, 100, 1, …)"
        ));
    }
    Ok(n.round() as u32)
}

/// Record as `opts` says until the duration is reached, `stop` is set (Ctrl-C) or the device
/// goes away. The file is written in every one of those cases; a device that went away is
/// `Ended::DeviceVanished` in the result, not an error.
pub fn record(opts: &RecordOptions, stop: &AtomicBool) -> Result<Recording> {
    record_with(opts, stop, &mut |_, _| {}, &mut |_, _| {})
}

/// [`record`], calling `started(port, metadata)` once the device has answered and the stream
/// is about to start, and `progress(seconds recorded, samples lost)` about once a second.
pub fn record_with(
    opts: &RecordOptions,
    stop: &AtomicBool,
    started: &mut dyn FnMut(&str, &protocol::Metadata),
    progress: &mut dyn FnMut(f64, u64),
) -> Result<Recording> {
    let port_name = device::choose(opts.port.as_deref())?;
    let mut dev = device::Device::open(&port_name)?;
    let meta = dev.metadata()?;
    started(&port_name, &meta);
    let vdd = opts
        .source_mv
        .map(|v| v as f64)
        .or(meta.vdd_mv)
        .unwrap_or(3000.0);
    // The app's order: the power mode, the regulator, the DUT's power, then the stream.
    dev.send(&[
        cmd::SET_POWER_MODE,
        if opts.mode == Mode::Source { 2 } else { 1 },
    ])?;
    dev.send(&protocol::regulator_command(vdd as u32))?;
    let dut_on_first = opts.dut_power == DutPower::On;
    dev.send(&[cmd::DEVICE_RUNNING_SET, dut_on_first as u8])?;
    if opts.dut_power == DutPower::Cycle {
        std::thread::sleep(Duration::from_millis(500));
    }
    let rate_hz = protocol::RATE_HZ as f64 / opts.average as f64;
    let want = opts
        .duration_s
        .map(|d| (d * protocol::RATE_HZ as f64).round() as u64);
    let large = want.map_or(true, |n| n * 6 / opts.average as u64 > 3 << 30);
    let start_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut out = writer::Ppk2Writer::create(&opts.output, rate_hz, start_ms, large)?;
    let mut decoder = Decoder::new(meta.modifiers.clone(), vdd, opts.spike_filter);
    let mut avg = Averager::new(opts.average);
    dev.send(&[cmd::AVERAGE_START])?;
    if opts.dut_power == DutPower::Cycle {
        dev.send(&[cmd::DEVICE_RUNNING_SET, 1])?;
    }
    let t0 = Instant::now();
    let mut buf = vec![0u8; 1 << 16];
    let mut taken = 0u64;
    let mut write_err: Option<Error> = None;
    // A write that failed (a full disk) ends the recording at once.
    let failed = std::cell::Cell::new(false);
    let mut sink = |s: decode::Sample| {
        if want.is_some_and(|n| taken >= n) || write_err.is_some() {
            return;
        }
        taken += 1;
        if let Some((ua, bits)) = avg.push(s) {
            if let Err(e) = out.push(ua, bits) {
                write_err = Some(e);
                failed.set(true);
            }
        }
    };
    let mut last_data = Instant::now();
    let mut last_progress = Instant::now();
    let ended = loop {
        if last_progress.elapsed() >= Duration::from_secs(1) {
            last_progress = Instant::now();
            let st = &decoder.stats;
            progress(
                st.samples as f64 / protocol::RATE_HZ as f64,
                st.lost_samples,
            );
        }
        if stop.load(Ordering::Relaxed) || failed.get() {
            break Ended::Interrupted;
        }
        if want.is_some_and(|n| decoder.stats.samples >= n) {
            break Ended::Duration;
        }
        match dev.read(&mut buf) {
            Ok(0) => {
                let idle = last_data.elapsed().as_secs_f64();
                if idle > opts.stall_s {
                    break Ended::Stalled(format!("it sent nothing for {idle:.1} s"));
                }
            }
            Ok(n) => {
                last_data = Instant::now();
                decoder.push(&buf[..n], &mut sink);
            }
            Err(e) => break Ended::DeviceVanished(e.to_string()),
        }
    };
    let _ = dev.send(&[cmd::AVERAGE_STOP]);
    decoder.finish(&mut sink);
    if let Some(e) = write_err {
        return Err(e);
    }
    let st = &decoder.stats;
    let device_samples = st.samples.min(want.unwrap_or(u64::MAX));
    let rec = Recording {
        file: opts.output.clone(),
        port: port_name,
        mode: opts.mode,
        source_mv: vdd,
        ended,
        device_samples,
        samples: out.samples(),
        rate_hz,
        duration_s: out.samples() as f64 / rate_hz,
        lost_samples: st
            .gaps
            .iter()
            .filter(|g| g.at_sample < device_samples)
            .map(|g| g.lost_samples.min(device_samples - g.at_sample))
            .sum(),
        gaps: st
            .gaps
            .iter()
            .filter(|g| g.at_sample < device_samples)
            .map(GapAt::of)
            .collect(),
        gap_count: st.gap_count,
        skipped_bytes: st.skipped_bytes,
        resyncs: st.resyncs,
        spike_filter: opts.spike_filter,
        average: opts.average,
        metadata: meta,
        wall_s: t0.elapsed().as_secs_f64(),
    };
    let mut note = serde_json::to_value(&rec).map_err(|e| Error::internal(e.to_string()))?;
    note["createdBy"] = format!("shuntscope {}", env!("CARGO_PKG_VERSION")).into();
    out.finish(note)?;
    Ok(rec)
}

impl Recording {
    /// One line a gap, then one line of totals; for standard error.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for g in self.gaps.iter().take(20) {
            s += &format!(
                "gap: {} samples ({:.3} ms) lost at {:.5} s: not integrated across\n",
                g.lost_samples,
                g.duration_s * 1e3,
                g.at_s
            );
        }
        if self.gap_count as usize > self.gaps.len().min(20) {
            s += &format!("… {} gaps in all\n", self.gap_count);
        }
        let why = match &self.ended {
            Ended::Duration => "its duration was reached".to_string(),
            Ended::Interrupted => "it was interrupted".to_string(),
            Ended::DeviceVanished(e) => format!("the PPK2 went away ({e})"),
            Ended::Stalled(e) => format!("the PPK2 stalled ({e})"),
        };
        s += &format!(
            "recorded {:.3} s ({} samples at {} S/s) from {} into {}; {} samples lost; ended \
             because {why}\n",
            self.duration_s, self.samples, self.rate_hz, self.port, self.file, self.lost_samples
        );
        s
    }
}
