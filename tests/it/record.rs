//! `record` against a simulated PPK2 on a pseudo-terminal (`shuntscope::ppk2::Simulator`): the
//! device's encoding of a known profile, decoded back and checked against the profile itself,
//! never against an earlier run. Nothing here touches real hardware.

use super::common::{bin, f, TempDir};
use shuntscope::ppk2::{SimConfig, Simulator};
use shuntscope::{DutPower, Mode, RecordOptions};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// The metadata's shunt resistors, read by hand from the simulator's block (R0…R4).
const R: [f64; 5] = [1003.3506, 101.5865, 10.3027, 0.9636, 0.0564];
/// One ADC count in A on range r: 4 × 1.8 V / 163840 / R[r] (the field is × 4).
fn step_a(r: usize) -> f64 {
    4.0 * 1.8 / 163_840.0 / R[r]
}

const FLOOR_A: f64 = 5e-6;
/// Every 100 ms (10 000 samples) a 10 ms burst (samples 2000..3000 of the period), D0 high
/// during it, D3 toggling every sample.
fn profile(burst_ma: f64) -> shuntscope::ppk2::Profile {
    Arc::new(move |k: u64| {
        let toggle = ((k & 1) as u8) << 3;
        if (2000..3000).contains(&(k % 10_000)) {
            (burst_ma * 1e-3, 1 | toggle)
        } else {
            (FLOOR_A, toggle)
        }
    })
}

fn opts(sim: &Simulator, out: &std::path::Path, seconds: f64) -> RecordOptions {
    RecordOptions {
        port: Some(sim.path.clone()),
        duration_s: Some(seconds),
        output: out.to_str().unwrap().to_string(),
        mode: Mode::Source,
        source_mv: Some(3000),
        dut_power: DutPower::On,
        spike_filter: false,
        average: 1,
        stall_s: 5.0,
    }
}

/// (time_s, µA, D0, D3) of every sample in a .ppk2 file.
fn samples(path: &std::path::Path) -> Vec<(f64, f64, f64, f64)> {
    let mut r = shuntscope::read(path.to_str().unwrap(), &Default::default(), None).unwrap();
    let names = r.names().to_vec();
    let d = names.iter().filter(|n| n.starts_with('D')).count();
    assert_eq!(d, 8, "{names:?}");
    let mut out = Vec::new();
    let mut c = shuntscope::Chunk::default();
    while r.next_chunk(&mut c).unwrap() {
        for k in 0..c.len() {
            out.push((
                c.time_s[k],
                c.value[k] * 1e3,
                c.digital[k * 8],
                c.digital[k * 8 + 3],
            ));
        }
    }
    out
}

/// metadata.json of a .ppk2 archive.
fn metadata(path: &std::path::Path) -> serde_json::Value {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let names: Vec<String> = z.file_names().map(String::from).collect();
    for want in ["session.raw", "metadata.json", "minimap.raw"] {
        assert!(names.iter().any(|n| n == want), "{names:?}");
    }
    serde_json::from_reader(z.by_name("metadata.json").unwrap()).unwrap()
}

#[test]
fn decodes_the_profile_logic_and_charge() {
    let tmp = TempDir::new();
    let sim = Simulator::start(SimConfig::new(profile(8.0))).unwrap();
    let out = tmp.path("run.ppk2");
    let rec = shuntscope::record(&opts(&sim, &out, 0.5), &AtomicBool::new(false)).unwrap();
    let log = sim.stop();
    assert_eq!(rec.ended, shuntscope::Ended::Duration);
    assert_eq!((rec.samples, rec.lost_samples), (50_000, 0));
    // The commands, in the app's order: stop, metadata, source mode, 3000 mV, DUT on, start.
    let ops: Vec<u8> = log.commands.iter().map(|c| c[0]).collect();
    assert_eq!(
        &ops[..6],
        &[0x07, 0x19, 0x11, 0x0d, 0x0c, 0x06],
        "{:?}",
        log.commands
    );
    assert_eq!(log.commands[2], vec![0x11, 2]);
    // 3000 mV: 3000 − 800 + 32 = 2232 = 8·256 + 184 → [0x0d, 3 + 8, 184].
    assert_eq!(log.commands[3], vec![0x0d, 11, 184]);
    let s = samples(&out);
    assert_eq!(s.len(), 50_000);
    for (k, &(t, ua, d0, d3)) in s.iter().enumerate() {
        assert!(
            (t - k as f64 * 1e-5).abs() < 1e-9,
            "time of sample {k}: {t}"
        );
        let burst = (2000..3000).contains(&(k % 10_000));
        // One ADC count times the slope of the calibration at the value (8 mA is on range 1,
        // where GS1 = 112.789 and GI1 = 0.9695: dI/dx = 2·GS1·x + GI1 ≈ 2.1 at x ≈ 5 mA).
        let (want, tol) = if burst {
            (8000.0, 2.2 * step_a(1) * 1e6)
        } else {
            (5.0, step_a(0) * 1e6)
        };
        assert!(
            (ua - want).abs() <= tol,
            "sample {k}: {ua} µA, want {want} ± {tol}"
        );
        assert_eq!(d0, if burst { 1.0 } else { 0.0 }, "D0 of sample {k}");
        assert_eq!(d3, (k & 1) as f64, "D3 of sample {k}");
    }
    // The analysis: five bursts of (8 − 0.005) mA × 10 ms = 79.95 mA·ms each.
    let a = super::common::analyze_json(&out, &[]);
    let bursts = a["bursts"].as_array().unwrap();
    assert_eq!(bursts.len(), 5, "{a}");
    // The recording states its source-meter voltage: energies at 3.0 V, said so.
    assert_eq!(a["supply_v"], 3.0);
    let said = a["input"]["assumptions"].to_string();
    assert!(said.contains("source-meter voltage"), "{said}");
    for b in bursts {
        let q = f(&b["excess_charge_ma_ms"]);
        assert!((q - 79.95).abs() < 0.05, "{q}");
    }
}

#[test]
fn a_lost_byte_and_split_writes_cost_one_sample() {
    let tmp = TempDir::new();
    let mut cfg = SimConfig::new(profile(8.0));
    cfg.split_writes = true;
    cfg.drop_byte_at = vec![12_345];
    let sim = Simulator::start(cfg).unwrap();
    let out = tmp.path("run.ppk2");
    let rec = shuntscope::record(&opts(&sim, &out, 0.3), &AtomicBool::new(false)).unwrap();
    drop(sim);
    assert_eq!(rec.lost_samples, 1, "{:?}", rec.gaps);
    assert!((rec.gaps[0].at_s - 0.12345).abs() < 1e-9, "{:?}", rec.gaps);
    let s = samples(&out);
    // Every sample but the damaged one, each at its own time and value.
    assert_eq!(s.len(), 29_999);
    let missing: Vec<u64> = {
        let have: std::collections::HashSet<u64> =
            s.iter().map(|x| (x.0 * 1e5).round() as u64).collect();
        (0..30_000).filter(|k| !have.contains(k)).collect()
    };
    assert_eq!(missing, vec![12_345]);
    for &(t, ua, _, d3) in &s {
        let k = (t * 1e5).round() as u64;
        let want = if (2000..3000).contains(&(k % 10_000)) {
            8000.0
        } else {
            5.0
        };
        assert!((ua - want).abs() < want * 0.01, "sample {k}: {ua}");
        if k == 12_344 {
            // The byte before the lost one may be the one lost: its logic inputs are unknown.
            assert!(d3.is_nan(), "{d3}");
        } else {
            assert_eq!(d3, (k & 1) as f64, "sample {k}");
        }
    }
    let m = metadata(&out);
    assert_eq!(m["formatVersion"], 2);
    assert_eq!(m["metadata"]["samplesPerSecond"], 100000.0);
    assert_eq!(m["recording"]["lost_samples"], 1);
    assert_eq!(m["recording"]["ended"]["reason"], "duration");
}

#[test]
fn a_counter_gap_is_a_gap_never_integrated_across() {
    let tmp = TempDir::new();
    let mut cfg = SimConfig::new(profile(8.0));
    // 37 samples never sent, in the middle of the third burst (samples 22000..23000).
    cfg.skip = vec![(22_500, 37)];
    let sim = Simulator::start(cfg).unwrap();
    let out = tmp.path("gap.ppk2");
    let rec = shuntscope::record(&opts(&sim, &out, 0.5), &AtomicBool::new(false)).unwrap();
    drop(sim);
    assert_eq!(rec.lost_samples, 37);
    assert_eq!(rec.gaps.len(), 1);
    assert!((rec.gaps[0].at_s - 0.225).abs() < 1e-9, "{:?}", rec.gaps);
    // The time base is not shifted: the sample after the gap is at 0.22537 s.
    let s = samples(&out);
    assert_eq!(s.len(), 50_000 - 37);
    let after = s.iter().find(|x| x.0 > 0.225).unwrap();
    assert!((after.0 - 0.22537).abs() < 1e-9, "{}", after.0);
    // The analysis flags the gap and integrates nothing across it: the third burst's charge
    // is short by the 38 intervals that touch the gap (37 samples lost = 38 × 10 µs).
    let a = super::common::analyze_json(&out, &[]);
    let gaps = a["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{}", a["gaps"]);
    assert!((f(&gaps[0]["start_s"]) - 0.22499).abs() < 1e-6);
    assert!((f(&gaps[0]["end_s"]) - 0.22537).abs() < 1e-6);
    let total: f64 = a["bursts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| (0.2..0.3).contains(&f(&b["start_s"])))
        .map(|b| f(&b["excess_charge_ma_ms"]))
        .sum();
    let want = 79.95 - 38.0 * 0.01 * 7.995;
    assert!((total - want).abs() < 0.05, "{total} vs {want}");
}

#[test]
fn the_spike_filter_is_the_apps() {
    let tmp = TempDir::new();
    // The first sample on a new range reads 1.4× its current (a switching transient).
    let record = |filter: bool, name: &str| {
        let mut cfg = SimConfig::new(profile(8.0));
        cfg.switch_spike = 1.4;
        let sim = Simulator::start(cfg).unwrap();
        let out = tmp.path(name);
        let mut o = opts(&sim, &out, 0.2);
        o.spike_filter = filter;
        shuntscope::record(&o, &AtomicBool::new(false)).unwrap();
        samples(&out)
    };
    let raw = record(false, "raw.ppk2");
    let filtered = record(true, "filtered.ppk2");
    // Unfiltered: the transient is there, 11.2 mA at the burst's first sample, 7 µA after it.
    assert!((raw[2000].1 - 11_200.0).abs() < 5.0, "{}", raw[2000].1);
    assert!((raw[3000].1 - 7.0).abs() < 0.2, "{}", raw[3000].1);
    // Filtered: the app's rule computed here from the unfiltered samples: for three samples
    // after a switch, an exponential average of weight 0.18 (kept over every sample).
    let mut avg = raw[0].1;
    for k in 1..raw.len() {
        avg = 0.18 * raw[k].1 + 0.82 * avg;
        let switched = [2000, 3000, 12_000, 13_000]
            .iter()
            .any(|&s| (s..s + 3).contains(&k));
        let want = if switched { avg } else { raw[k].1 };
        assert!(
            (filtered[k].1 - want).abs() <= 1e-4 * want.abs().max(1.0),
            "sample {k}: {} vs {want}",
            filtered[k].1
        );
    }
    assert!(
        filtered[2000].1 < 8000.0,
        "the transient is gone: {}",
        filtered[2000].1
    );
}

#[test]
fn averaging_on_the_host() {
    let tmp = TempDir::new();
    let sim = Simulator::start(SimConfig::new(profile(8.0))).unwrap();
    let out = tmp.path("avg.ppk2");
    let mut o = opts(&sim, &out, 0.2);
    o.average = shuntscope::parse_average("10ks").unwrap();
    let rec = shuntscope::record(&o, &AtomicBool::new(false)).unwrap();
    assert_eq!(
        (rec.average, rec.samples, rec.rate_hz),
        (10, 2000, 10_000.0)
    );
    let s = samples(&out);
    assert_eq!(s.len(), 2000);
    // Sample 200 averages device samples 2000..2010: all burst; D3 toggled within it (0.5).
    assert!((s[200].1 - 8000.0).abs() < 5.0);
    assert_eq!((s[200].2, s[200].3), (1.0, 0.5));
    assert!((s[199].1 - 5.0).abs() < 0.05);
    assert_eq!(metadata(&out)["metadata"]["samplesPerSecond"], 10000.0);
    assert!(shuntscope::parse_average("30ks").is_err());
}

/// A `record` child process against `sim`, with extra flags.
fn spawn(sim: &Simulator, out: &std::path::Path, extra: &[&str]) -> std::process::Child {
    bin()
        .args(["record", "--ppk2", &sim.path, "--source-mv", "3000", "-o"])
        .arg(out)
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn ctrl_c_keeps_a_valid_file() {
    let tmp = TempDir::new();
    let mut cfg = SimConfig::new(profile(8.0));
    cfg.realtime = true;
    let sim = Simulator::start(cfg).unwrap();
    let out = tmp.path("stopped.ppk2");
    let child = spawn(&sim, &out, &[]);
    // Wait until the device streams, then a little more.
    let t0 = std::time::Instant::now();
    while sim.log().samples < 50_000 && t0.elapsed().as_secs() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let m = metadata(&out);
    assert_eq!(m["recording"]["ended"]["reason"], "interrupted");
    let n = m["recording"]["samples"].as_u64().unwrap();
    assert!(n >= 50_000, "{n}");
    assert_eq!(samples(&out).len() as u64, n);
}

#[test]
fn a_vanished_device_is_an_error_and_a_valid_file() {
    let tmp = TempDir::new();
    let mut cfg = SimConfig::new(profile(8.0));
    cfg.vanish_after = Some(30_000);
    let sim = Simulator::start(cfg).unwrap();
    let out = tmp.path("cut.ppk2");
    let o = spawn(&sim, &out, &["--duration", "10s"])
        .wait_with_output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let last = err.lines().last().unwrap();
    assert!(
        last.contains("stopped after 0.300 s") && last.contains("cut.ppk2"),
        "{err}"
    );
    let m = metadata(&out);
    assert_eq!(m["recording"]["ended"]["reason"], "device-vanished");
    assert_eq!(samples(&out).len(), 30_000);
}

#[test]
fn analyze_and_diff_in_the_same_step() {
    let tmp = TempDir::new();
    let base = tmp.path("base.ppk2");
    {
        let sim = Simulator::start(SimConfig::new(profile(8.0))).unwrap();
        let o = spawn(
            &sim,
            &base,
            &["--duration", "0.5s", "--analyze", "-f", "json"],
        )
        .wait_with_output()
        .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let a: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(a["bursts"].as_array().unwrap().len(), 5);
        // Source mode at 3000 mV: energies at 3.0 V, not the 5 V default.
        assert_eq!(a["supply_v"], 3.0);
    }
    // Same firmware: the gate passes.
    let same = tmp.path("same.ppk2");
    let sim = Simulator::start(SimConfig::new(profile(8.0))).unwrap();
    let b = base.to_str().unwrap();
    let o = spawn(&sim, &same, &["--duration", "0.5s", "--diff", b])
        .wait_with_output()
        .unwrap();
    drop(sim);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // 25% more current in each burst: a regression, exit 1, JUnit written.
    let worse = tmp.path("worse.ppk2");
    let junit = tmp.path("power.xml");
    let sim = Simulator::start(SimConfig::new(profile(10.0))).unwrap();
    let j = junit.to_str().unwrap();
    let args = [
        "--duration",
        "0.5s",
        "--fail-above",
        "5%",
        "--junit",
        j,
        "--diff",
        b,
    ];
    let o = spawn(&sim, &worse, &args).wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("regression"), "{text}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<failure"), "{xml}");
}

#[test]
fn usage_errors_name_what_is_missing() {
    let tmp = TempDir::new();
    let out = tmp.path("x.ppk2");
    let o = bin()
        .args(["record", "--ppk2", "/dev/null-ppk2", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("--source-mv") && err.contains("--ampere"),
        "{err}"
    );
    let o = bin()
        .args(["record", "--ppk2", "/dev/null-ppk2", "--ampere", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/dev/null-ppk2") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!out.exists());
    let o = bin().args(["record", "--list"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("port\tserial_number\tfirmware"));
    let o = bin()
        .args(["record", "--ampere", "--average", "30ks", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}
