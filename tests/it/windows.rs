//! Phase windows: a closed-form rectangular current under a marker, windows whose edges fall
//! between samples, a marker high at the trace's start and end, given windows, and the real
//! Rigol NB-IoT recording checked against an independent computation written here.

use crate::common::*;

/// 1 kS/s, 1 s: 5 mA idle, 50 mA from sample 200 to 500; the marker is 1 on the same samples,
/// so its crossings of 0.5 fall between samples (at 0.1995 s and 0.5005 s); supply 3.3 V.
fn rectangle(dir: &TempDir) -> std::path::PathBuf {
    let mut text = String::from("Time (s),Current (mA),Supply (V),GPIO\n");
    for k in 0..=1000u32 {
        let on = (200..=500).contains(&k);
        let i = if on { 50.0 } else { 5.0 };
        text.push_str(&format!("{:.3},{i},3.3,{}\n", k as f64 / 1e3, on as u8));
    }
    dir.write("rect.csv", text.as_bytes())
}

fn window(a: &serde_json::Value, k: usize) -> &serde_json::Value {
    &a["windows"][k]
}

fn close(got: &serde_json::Value, want: f64, what: &str) {
    let g = f(got);
    assert!(
        (g - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: {g} vs {want}"
    );
}

#[test]
fn rectangular_current_under_a_marker_closed_form() {
    let dir = TempDir::new();
    let p = rectangle(&dir);
    let a = analyze_json(
        &p,
        &[
            "--window-col",
            "GPIO",
            "--supply-col",
            "Supply",
            "--baseline-ma",
            "5",
            "--window-labels",
            "send",
        ],
    );
    assert_eq!(a["windows"].as_array().unwrap().len(), 1);
    let w = window(&a, 0);
    // Edges interpolated between samples: 0.1995 s and 0.5005 s; the current there is the
    // midpoint, 27.5 mA. Charge: 2 × 0.0005 s × (27.5 + 50)/2 + 0.3 s × 50 = 15.03875 mA·s.
    close(&w["start_s"], 0.1995, "start");
    close(&w["end_s"], 0.5005, "end");
    close(&w["duration_ms"], 301.0, "duration");
    close(&w["charge_ma_ms"], 15038.75, "charge");
    close(&w["excess_charge_ma_ms"], 15038.75 - 5.0 * 301.0, "excess");
    close(&w["energy_mj"], 3.3 * 15.03875, "energy");
    close(&w["mean_ma"], 15038.75 / 301.0, "mean");
    close(&w["mean_mw"], 3.3 * 15038.75 / 301.0, "mean power");
    close(&w["peak_ma"], 50.0, "peak");
    assert_eq!(w["samples"], 301);
    assert_eq!(w["cut"], false);
    assert_eq!(w["label"], "send");
    assert_eq!(w["bursts"], serde_json::json!([0]));
    // Without the supply column: charge × --supply-v.
    let b = analyze_json(
        &p,
        &[
            "--window-col",
            "GPIO",
            "--supply-v",
            "3",
            "--baseline-ma",
            "5",
        ],
    );
    close(&window(&b, 0)["energy_mj"], 3.0 * 15.03875, "energy at 3 V");
    assert_eq!(window(&b, 0)["label"], "window");
}

#[test]
fn given_windows_and_a_windows_file() {
    let dir = TempDir::new();
    let p = rectangle(&dir);
    // 0.25..0.45 s lies inside the plateau: 0.2 s × 50 mA = 10 mA·s exactly; 0.1995..0.2005
    // straddles the rising step: 0.0005 × (27.5 + 5)/2 + 0.0005 × (50 + 27.5)/2... computed
    // on the samples at 0.199 (5) and 0.200 (50): I(0.1995) = 27.5, I(0.2005) = 50.
    let a = analyze_json(
        &p,
        &["--window", "0.25s..0.45s", "--window", "0.1995..0.2005"],
    );
    assert_eq!(a["windows"].as_array().unwrap().len(), 2);
    close(&window(&a, 0)["start_s"], 0.1995, "sorted by start");
    close(
        &window(&a, 0)["charge_ma_ms"],
        1e3 * (0.0005 * (27.5 + 50.0) / 2.0 + 0.0005 * 50.0),
        "straddle",
    );
    close(&window(&a, 1)["charge_ma_ms"], 10_000.0, "plateau");
    // A file of windows, shifted onto the trace's clock by --events-offset.
    let w = dir.write(
        "w.csv",
        b"start_s,end_s,label\n1.25,1.45,tx\n0.0,0.1,idle\n",
    );
    let b = analyze_json(
        &p,
        &["--windows", w.to_str().unwrap(), "--events-offset", "-1"],
    );
    let ws = b["windows"].as_array().unwrap();
    assert_eq!(ws.len(), 2);
    // In time order: -1..-0.9 s (before the trace: cut), then 0.25..0.45 s.
    assert_eq!(
        (ws[0]["label"].as_str(), ws[1]["label"].as_str()),
        (Some("idle"), Some("tx"))
    );
    assert_eq!(ws[0]["cut"], true);
    close(&ws[1]["charge_ma_ms"], 10_000.0, "tx");
    assert_eq!(ws[1]["cut"], false);
}

#[test]
fn a_marker_high_at_the_start_and_end_is_cut() {
    let dir = TempDir::new();
    let mut text = String::from("time_s,current_ma,D0\n");
    for k in 0..=100u32 {
        let m = (k <= 10 || k >= 90) as u8;
        text.push_str(&format!("{:.2},10,{m}\n", k as f64 / 100.0));
    }
    let p = dir.write("edges.csv", text.as_bytes());
    let a = analyze_json(&p, &["--window-col", "D0", "--window-labels", "a,b,c"]);
    let ws = a["windows"].as_array().unwrap();
    assert_eq!(ws.len(), 2);
    assert_eq!(
        (ws[0]["cut"].as_bool(), ws[1]["cut"].as_bool()),
        (Some(true), Some(true))
    );
    close(&ws[0]["start_s"], 0.0, "start");
    close(&ws[0]["end_s"], 0.105, "end");
    close(&ws[1]["start_s"], 0.895, "start");
    close(&ws[1]["end_s"], 1.0, "end");
    // Three labels, two windows: a warning says so.
    assert!(a["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["code"] == "windows"));
}

/// The Rigol NB-IoT recording: CH3 is the firmware's GPIO (about 0.1 V idle, −3.1 V while the
/// phase runs: active low), current (CH1 − CH2) / 0.47 Ω, power current × CH1. Computed here:
/// crossings of −1.5 V interpolated, trapezoid inside, interpolated values at both ends.
#[test]
fn rigol_phase_by_an_independent_computation() {
    let text = std::fs::read_to_string(repo(
        "tests/fixtures/rigol-ds1000z_3ch_noX_nbiot-payload.csv",
    ))
    .unwrap();
    let mut lines = text.lines().skip(1);
    let units: Vec<f64> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(3)
        .take(2)
        .map(|x| x.parse().unwrap())
        .collect();
    let (start, inc) = (units[0], units[1]);
    let rows: Vec<[f64; 3]> = lines
        .map(|l| {
            let c: Vec<f64> = l.split(',').take(3).map(|x| x.parse().unwrap()).collect();
            [c[0], c[1], c[2]]
        })
        .collect();
    let t = |n: usize| start + n as f64 * inc;
    let i = |n: usize| (rows[n][0] - rows[n][1]) / 0.47 * 1e3;
    let p = |n: usize| i(n) * rows[n][0];
    let level = -1.5;
    let inside = |n: usize| rows[n][2] <= level;
    // Find the phases.
    let mut phases = Vec::new();
    let mut open: Option<f64> = None;
    for n in 1..rows.len() {
        if inside(n) != inside(n - 1) {
            let (a, b) = (rows[n - 1][2], rows[n][2]);
            let tc = t(n - 1) + (level - a) / (b - a) * inc;
            match open.take() {
                Some(s) => phases.push((s, tc)),
                None => open = Some(tc),
            }
        }
    }
    assert_eq!(phases.len(), 1, "one phase in this recording");
    let (ts, te) = phases[0];
    // Integrate: clipped trapezoid of the linear interpolation on each step.
    let (mut q, mut e) = (0.0, 0.0);
    for n in 1..rows.len() {
        let (a, b) = (t(n - 1).max(ts), t(n).min(te));
        if b <= a {
            continue;
        }
        let lerp =
            |f: &dyn Fn(usize) -> f64, x: f64| f(n - 1) + (f(n) - f(n - 1)) * (x - t(n - 1)) / inc;
        q += 0.5 * (lerp(&i, a) + lerp(&i, b)) * (b - a);
        e += 0.5 * (lerp(&p, a) + lerp(&p, b)) * (b - a);
    }
    let a = analyze_json(
        &repo("tests/fixtures/rigol-ds1000z_3ch_noX_nbiot-payload.csv"),
        &[
            "--value-col",
            "CH1-CH2",
            "--supply-col",
            "CH1",
            "--window-col",
            "CH3",
            "--window-threshold",
            "-1.5",
            "--window-polarity",
            "low",
            "--window-labels",
            "packet",
        ],
    );
    let ws = a["windows"].as_array().unwrap();
    assert_eq!(ws.len(), 1);
    let w = &ws[0];
    assert_eq!(w["label"], "packet");
    close(&w["start_s"], ts, "start");
    close(&w["end_s"], te, "end");
    close(&w["charge_ma_ms"], q * 1e3, "charge");
    close(&w["energy_mj"], e, "energy");
    assert_eq!(w["cut"], false);
}

#[test]
fn batch_summarises_windows_per_group_and_label() {
    let dir = TempDir::new();
    for g in ["A", "B"] {
        let folder = dir.path(&format!("runs/{g}"));
        std::fs::create_dir_all(&folder).unwrap();
        for k in 0..3u32 {
            let mut text = String::from("Time (s),Current (mA),GPIO\n");
            let amp = if g == "A" { 50.0 } else { 60.0 } + k as f64;
            for s in 0..=1000u32 {
                let on = (200..=500).contains(&s);
                let i = if on { amp } else { 5.0 };
                text.push_str(&format!("{:.3},{i},{}\n", s as f64 / 1e3, on as u8));
            }
            std::fs::write(folder.join(format!("t{k}.csv")), text).unwrap();
        }
    }
    let out = dir.path("report");
    let o = run(&[
        "batch",
        dir.path("runs").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--window-col",
        "GPIO",
        "--window-labels",
        "send",
        "--supply-v",
        "3",
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("windows.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with(
        "group,label,n,mean_energy_mj,sd_energy_mj,ci_low_energy_mj,ci_high_energy_mj,mean_charge_ma_ms,mean_duration_ms,mean_mw"
    ));
    let cols: Vec<&str> = header.split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2);
    let get = |r: &Vec<&str>, c: &str| -> f64 {
        r[cols.iter().position(|x| *x == c).unwrap()]
            .parse()
            .unwrap()
    };
    // Group A: amplitudes 50, 51, 52 mA → charge 15.03875 + 0.301 × k... computed as in the
    // closed form: 2 × 0.0005 × (amp + 5)/2 ... per file; here the mean of the three.
    let charge = |amp: f64| 1e3 * (2.0 * 0.0005 * ((amp + 5.0) / 2.0 + amp) / 2.0 + 0.3 * amp);
    let want_a = (charge(50.0) + charge(51.0) + charge(52.0)) / 3.0;
    assert_eq!(rows[0][0], "A");
    assert_eq!(get(&rows[0], "n"), 3.0);
    assert!((get(&rows[0], "mean_charge_ma_ms") - want_a).abs() < 1e-9 * want_a);
    assert!((get(&rows[0], "mean_energy_mj") - 3.0 * want_a / 1e3).abs() < 1e-9 * want_a);
    assert!(out.join("windows.parquet").is_file());
    assert!(out.join("windows.png").is_file());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("Energy per phase window") && md.contains("Groups compared phase by phase"),
        "{md}"
    );
    // The groups differ by 10 mA on 50: resolved, B costlier.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let c = &json["summaries"]["window_comparisons"][0];
    assert_eq!((c["a"].as_str(), c["b"].as_str()), (Some("B"), Some("A")));
    assert!(c["resolved"].as_bool().unwrap());
}
