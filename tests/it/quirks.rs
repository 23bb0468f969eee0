//! Every input quirk the table reader handles, each on the same hand-computed trace.
//!
//! The trace: 20 samples 1 ms apart; 10 mA everywhere except samples 4, 5 and 6 at 30 mA.
//! By hand (trapezoid rule): one burst from 3 ms to 7 ms, excess
//! 10 + 20 + 20 + 10 = 60 mA·ms, charge 60 + 4 × 10 = 100 mA·ms, peak 30 mA;
//! the whole trace: 19 ms × 10 mA + 60 = 250 mA·ms.

use crate::common::*;

const CURRENT_MA: [f64; 20] = [
    10.0, 10.0, 10.0, 10.0, 30.0, 30.0, 30.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0,
    10.0, 10.0, 10.0, 10.0,
];

/// Rows of the trace: `fmt(time_ms, current_ma)` each, joined by `eol`.
fn rows(eol: &str, fmt: impl Fn(f64, f64) -> String) -> String {
    CURRENT_MA
        .iter()
        .enumerate()
        .map(|(k, &i)| fmt(k as f64, i) + eol)
        .collect()
}

fn expect_hand_numbers(a: &serde_json::Value, what: &str) {
    assert_eq!(f(&a["samples"]), 20.0, "{what}: samples");
    assert!(
        (f(&a["sample_interval_s"]) - 0.001).abs() < 1e-12,
        "{what}: interval"
    );
    assert!(
        (f(&a["baseline_ma"]) - 10.0).abs() < 1e-9,
        "{what}: baseline {}",
        a["baseline_ma"]
    );
    let b = a["bursts"].as_array().unwrap();
    assert_eq!(b.len(), 1, "{what}: bursts {b:?}");
    let b = &b[0];
    assert!(
        (f(&b["start_s"]) - 0.003).abs() < 1e-12,
        "{what}: start {}",
        b["start_s"]
    );
    assert!((f(&b["end_s"]) - 0.007).abs() < 1e-12, "{what}: end");
    assert!(
        (f(&b["duration_ms"]) - 4.0).abs() < 1e-9,
        "{what}: duration"
    );
    assert!(
        (f(&b["excess_charge_ma_ms"]) - 60.0).abs() < 1e-9,
        "{what}: excess {}",
        b["excess_charge_ma_ms"]
    );
    assert!(
        (f(&b["charge_ma_ms"]) - 100.0).abs() < 1e-9,
        "{what}: charge"
    );
    assert!((f(&b["peak_ma"]) - 30.0).abs() < 1e-9, "{what}: peak");
    assert!((f(&b["mean_ma"]) - 25.0).abs() < 1e-9, "{what}: mean");
    assert!(
        (f(&b["energy_mj"]) - 0.3).abs() < 1e-12,
        "{what}: energy at 5 V"
    );
    assert!(
        (f(&a["totals"]["charge_ma_ms"]) - 250.0).abs() < 1e-9,
        "{what}: total charge"
    );
    assert!(
        (f(&a["totals"]["duration_s"]) - 0.019).abs() < 1e-12,
        "{what}: duration"
    );
    assert_eq!(a["totals"]["bursts"], 1);
    assert!((f(&a["totals"]["burst_excess_charge_ma_ms"]) - 60.0).abs() < 1e-9);
}

fn check(name: &str, content: &[u8], extra: &[&str]) -> serde_json::Value {
    let dir = TempDir::new();
    let p = dir.write(name, content);
    let a = analyze_json(&p, extra);
    expect_hand_numbers(&a, name);
    a
}

#[test]
fn comma_lf_seconds_and_milliamps() {
    let text = "time_s,current_ma\n".to_string() + &rows("\n", |t, i| format!("{},{}", t / 1e3, i));
    let a = check("a.csv", text.as_bytes(), &[]);
    assert_eq!(a["format"], "table");
    assert_eq!(a["quantity"], "current");
    assert_eq!(a["input"]["time_source"], "column 1 \"time_s\" in s");
    assert_eq!(a["input"]["value_column"], "column 2 \"current_ma\"");
}

#[test]
fn semicolon_and_decimal_comma() {
    let text = "Time (ms);Current (mA)\n".to_string()
        + &rows("\n", |t, i| format!("{:.1};{:.2}", t, i).replace('.', ","));
    let a = check("b.csv", text.as_bytes(), &[]);
    assert_eq!(a["input"]["dialect"], "semicolon, decimal comma");
}

#[test]
fn tab_crlf_microseconds() {
    let text =
        "t [us]\tI [mA]\r\n".to_string() + &rows("\r\n", |t, i| format!("{}\t{}", t * 1e3, i));
    check("c.tsv", text.as_bytes(), &[]);
}

#[test]
fn spaces_bare_cr_microamps() {
    let text = "Timestamp(ms)  Current(uA)\r".to_string()
        + &rows("\r", |t, i| format!("  {:.3}   {}", t, i * 1e3));
    let a = check("d.txt", text.as_bytes(), &[]);
    assert_eq!(a["input"]["dialect"], "spaces");
    assert_eq!(a["input"]["value_unit"], "uA");
}

#[test]
fn comments_and_units_row_in_another_language() {
    // German headers: only the units row says which column is what.
    let text = "# exported by some logger\n; second comment style\n\nZeit,Strom\n(ms),(mA)\n"
        .to_string()
        + &rows("\n", |t, i| format!("{t},{i}"));
    let a = check("e.csv", text.as_bytes(), &[]);
    assert_eq!(a["input"]["data_line"], 6);
}

#[test]
fn brackets_are_the_only_clue() {
    let text = "Czas [s];Prąd [mA]\n".to_string()
        + &rows("\n", |t, i| format!("{};{}", t / 1e3, i).replace('.', ","));
    check("h.csv", text.as_bytes(), &[]);
}

#[test]
fn trailing_separators_and_nul_padding() {
    let mut bytes = ("time_s,current_ma,\n".to_string()
        + &rows("\r\n", |t, i| format!("{},{},", t / 1e3, i)))
        .into_bytes();
    bytes.extend_from_slice(b"\r\n\r\n");
    bytes.extend(std::iter::repeat_n(0u8, 300));
    check("f.csv", &bytes, &[]);
}

#[test]
fn voltage_across_the_shunt() {
    // Shunt (mV) on 0.47 Ω: V = I × 0.47.
    let text =
        "Time (ms),Shunt (mV)\n".to_string() + &rows("\n", |t, i| format!("{t},{}", i * 0.47));
    let a = check("g.csv", text.as_bytes(), &[]);
    assert_eq!(a["quantity"], "voltage");
    // voltage_v with a 10:1 sense amplifier and a 5 mV offset: V = (I × R × 10) + 5 mV.
    let text = "time_s,voltage_v\n".to_string()
        + &rows("\n", |t, i| {
            format!("{},{}", t / 1e3, (i * 0.1 * 10.0 + 5.0) / 1e3)
        });
    check(
        "g2.csv",
        text.as_bytes(),
        &["--shunt-ohms", "0.1", "--gain", "10", "--offset-mv", "5"],
    );
}

#[test]
fn keysight_style_units_row_with_channel_names() {
    let text = "x-axis,1\nsecond,Volt\n".to_string()
        + &rows("\n", |t, i| {
            format!("{:+.6E},{:+.6E}", t / 1e3, i * 0.47 / 1e3)
        });
    check("k.csv", text.as_bytes(), &[]);
}

#[test]
fn time_implied_by_sample_interval() {
    let text = "I [mA]\n".to_string() + &rows("\n", |_, i| format!("{i}"));
    for interval in ["0.001", "1ms", "1000us"] {
        check("j.csv", text.as_bytes(), &["--sample-interval", interval]);
    }
    // Without it: an error that says what to give.
    let dir = TempDir::new();
    let p = dir.write("j.csv", text.as_bytes());
    let out = run(&["analyze", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--sample-interval"));
}

#[test]
fn rigol_ds1000z_start_and_increment() {
    let text = "X,CH1,Start,Increment,\nSequence,Volt,0.000000e+00,1.000000e-03\n".to_string()
        + &rows("\n", |t, i| format!("{},{:.6e},", t as u64, i * 0.47 / 1e3));
    let a = check("r.csv", text.as_bytes(), &[]);
    assert_eq!(a["format"], "rigol-ds1000z");
}

#[test]
fn overrides_name_columns_and_units() {
    // Nothing in the header says what is what.
    let text = "idx,a,b\n".to_string()
        + &rows("\n", |t, i| format!("{},{},{}", t as u64 + 100, t, i * 1e3));
    let dir = TempDir::new();
    let p = dir.write("o.csv", text.as_bytes());
    let out = run(&["analyze", p.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = check(
        "o.csv",
        text.as_bytes(),
        &[
            "--time-col",
            "a",
            "--time-unit",
            "ms",
            "--value-col",
            "3",
            "--unit",
            "uA",
        ],
    );
    assert_eq!(a["input"]["value_column"], "column 3 \"b\"");
}

#[test]
fn fixed_baseline_and_threshold() {
    let text = "time_s,current_ma\n".to_string() + &rows("\n", |t, i| format!("{},{}", t / 1e3, i));
    let a = check(
        "z.csv",
        text.as_bytes(),
        &["--baseline-ma", "10", "--threshold-ma", "15"],
    );
    assert_eq!(a["baseline_source"], "given");
    assert_eq!(f(&a["threshold_ma"]), 15.0);
    // A threshold above the burst finds nothing, and says so.
    let dir = TempDir::new();
    let p = dir.write("z.csv", text.as_bytes());
    let a = analyze_json(&p, &["--threshold-ma", "25"]);
    assert_eq!(a["bursts"].as_array().unwrap().len(), 0);
    assert!(a["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["code"] == "no-bursts"));
}

#[test]
fn csv_and_table_outputs_carry_the_same_numbers() {
    let text = "time_s,current_ma\n".to_string() + &rows("\n", |t, i| format!("{},{}", t / 1e3, i));
    let dir = TempDir::new();
    let p = dir.write("o.csv", text.as_bytes());
    let out = run(&["analyze", p.to_str().unwrap(), "--format", "csv"]);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert!((col("excess_charge_ma_ms").parse::<f64>().unwrap() - 60.0).abs() < 1e-9);
    assert!((col("duration_ms").parse::<f64>().unwrap() - 4.0).abs() < 1e-9);
    assert!(lines.next().is_none());
    let out = run(&["analyze", p.to_str().unwrap()]);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("60.0000"), "{table}");
    assert!(table.contains("baseline   10.0000 mA"), "{table}");
    // -o writes the same atomically.
    let o = dir.path("out.json");
    let out = run(&[
        "analyze",
        p.to_str().unwrap(),
        "-f",
        "json",
        "-o",
        o.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let a: serde_json::Value = serde_json::from_slice(&std::fs::read(&o).unwrap()).unwrap();
    expect_hand_numbers(&a, "out.json");
}

#[test]
fn json_contract_names() {
    // The names automated checks read (issue: core analyze). Add freely; rename none.
    let text = "time_s,current_ma\n".to_string() + &rows("\n", |t, i| format!("{},{}", t / 1e3, i));
    let a = check("contract.csv", text.as_bytes(), &[]);
    for k in [
        "file",
        "format",
        "quantity",
        "samples",
        "sample_interval_s",
        "baseline_ma",
        "noise_ma",
        "threshold_ma",
        "bursts",
        "totals",
        "warnings",
    ] {
        assert!(a.get(k).is_some(), "missing {k}");
    }
    for k in [
        "index",
        "start_s",
        "end_s",
        "duration_ms",
        "peak_ma",
        "mean_ma",
        "excess_charge_ma_ms",
        "charge_ma_ms",
        "energy_mj",
    ] {
        assert!(a["bursts"][0].get(k).is_some(), "missing bursts[].{k}");
    }
    for k in [
        "duration_s",
        "mean_ma",
        "charge_ma_ms",
        "burst_excess_charge_ma_ms",
        "bursts",
    ] {
        assert!(a["totals"].get(k).is_some(), "missing totals.{k}");
    }
    assert!(a["warnings"].is_array());
}

#[test]
fn merge_gap_and_min_burst() {
    // Two 2 ms bursts 3 ms apart, 20 mA over 10 mA, 1 ms steps. By hand: each burst's excess is
    // 10 + 20 + 10 = 40 mA·ms (triangle up, 1 ms plateau, triangle down).
    let i = [
        10., 10., 30., 30., 10., 10., 10., 30., 30., 10., 10., 10., 10., 10., 10., 10.,
    ];
    let text: String = "time_s,current_ma\n".to_string()
        + &i.iter()
            .enumerate()
            .map(|(k, v)| format!("{},{v}\n", k as f64 / 1e3))
            .collect::<String>();
    let dir = TempDir::new();
    let p = dir.write("m.csv", text.as_bytes());
    let a = analyze_json(&p, &[]);
    let b = a["bursts"].as_array().unwrap();
    assert_eq!(b.len(), 2);
    assert!((f(&b[0]["excess_charge_ma_ms"]) - 40.0).abs() < 1e-9);
    let a = analyze_json(&p, &["--merge-gap-ms", "3.5"]);
    let b = a["bursts"].as_array().unwrap();
    assert_eq!(b.len(), 1, "{b:?}");
    assert!((f(&b[0]["excess_charge_ma_ms"]) - 80.0).abs() < 1e-9);
    assert!((f(&b[0]["duration_ms"]) - 8.0).abs() < 1e-9);
    let a = analyze_json(&p, &["--min-burst-ms", "3.5"]);
    assert_eq!(a["bursts"].as_array().unwrap().len(), 0);
    assert_eq!(a["totals"]["dropped_short"], 2);
}

/// Issue 23's small things: a flat trace (no bursts: sums of nothing are −0.0 in floating
/// point) prints a plain 0, `plot` takes `-q` as every command does, and `inspect` of a session
/// file says what it is instead of a text dialect.
#[test]
fn no_negative_zeros_plot_quiet_and_session_dialect() {
    let dir = TempDir::new();
    let mut text = String::from("time_s,current_ma\n");
    for k in 0..2000 {
        text += &format!(
            "{},{}\n",
            k as f64 * 1e-3,
            5.0 + if k % 2 == 0 { 0.01 } else { -0.01 }
        );
    }
    let p = dir.write("flat.csv", text.as_bytes());
    let out = run(&["analyze", p.to_str().unwrap(), "-q"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        table.contains("0 bursts, excess 0.0000 mA·ms = 0.00000 mJ"),
        "{table}"
    );
    assert!(!table.contains("-0.0"), "{table}");
    let png = dir.path("flat.png");
    let out = run(&[
        "plot",
        p.to_str().unwrap(),
        "-o",
        png.to_str().unwrap(),
        "-q",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty() && png.is_file());
    let ppk2 = repo("tests/fixtures/native/ppk2_bthome-presence_test01.ppk2");
    let out = run(&["inspect", ppk2.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    let dialect = text.lines().find(|l| l.starts_with("dialect")).unwrap();
    assert!(
        dialect.contains("binary session") && dialect.contains("ZIP"),
        "{dialect}"
    );
    assert!(
        !dialect.contains("comma") && !dialect.contains("line"),
        "{dialect}"
    );
}

/// Samples delivered in packets (as BLE and USB loggers deliver them): 10 samples 1 ms apart,
/// then a 100 ms pause, 200 times, with one real 5 s outage after packet 99. The current is
/// linear, I(t) = 10 + 2t mA, so the trapezoid rule is exact and the charge is closed form:
/// ∫ I dt over [0, T] less the outage [g0, g1], 10T + T² − (g1 − g0)(10 + g0 + g1) mA·s. The
/// pauses (10% of the steps, 100× the median) are samples; only the outage is a gap, and the
/// warning says how long and names --max-gap; `--max-gap 10s` integrates across it too.
#[test]
fn packet_delivered_samples_are_not_gaps() {
    let mut times = Vec::new();
    let mut t0 = 0.0f64;
    let mut g0 = 0.0;
    for p in 0..200 {
        for j in 0..10 {
            times.push(((t0 + j as f64 * 1e-3) * 1e3).round() / 1e3);
        }
        t0 += 0.109;
        if p == 99 {
            g0 = *times.last().unwrap();
            t0 += 5.0;
        }
    }
    let mut text = String::from("time_s,current_ma\n");
    for &t in &times {
        text += &format!("{t:.3},{:?}\n", 10.0 + 2.0 * t);
    }
    // The outage is the one step over a second; the packet pause after it is 100 ms.
    let g1 = *times.iter().find(|&&t| t > g0 + 1.0).unwrap();
    let dir = TempDir::new();
    let p = dir.write("packets.csv", text.as_bytes());
    let t_end = *times.last().unwrap();
    let full = 10.0 * t_end + t_end * t_end;
    let outage = (g1 - g0) * (10.0 + g0 + g1);
    let a = analyze_json(&p, &["--baseline-ma", "10", "--threshold-ma", "1000"]);
    let q = f(&a["totals"]["charge_ma_ms"]);
    let want = (full - outage) * 1e3;
    assert!((q - want).abs() < 1e-9 * want, "{q} vs {want}");
    assert_eq!(a["gaps"].as_array().unwrap().len(), 1, "{}", a["gaps"]);
    let warning = a["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "gap")
        .expect("a gap warning");
    let m = warning["message"].as_str().unwrap();
    assert!(
        m.contains("1 gap(s)") && m.contains("--max-gap") && m.contains("left out"),
        "{m}"
    );
    assert!(
        m.contains(&format!("{:.3}", g1 - g0)) || m.contains("5.0"),
        "{m}"
    );
    let b = analyze_json(
        &p,
        &[
            "--baseline-ma",
            "10",
            "--threshold-ma",
            "1000",
            "--max-gap",
            "10s",
        ],
    );
    let q = f(&b["totals"]["charge_ma_ms"]);
    assert!(
        (q - full * 1e3).abs() < 1e-9 * full * 1e3,
        "{q} vs {}",
        full * 1e3
    );
    assert!(b["gaps"].as_array().unwrap().is_empty());
}
