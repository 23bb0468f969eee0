//! Loggers with clock-time and text columns (issue 23, part 3): a real TC66C USB-meter log with
//! ISO 8601 time stamps and text columns, checked against tests/fixtures/logger_expected.py (csv
//! and datetime only); generated INA226-style and epoch-millisecond logs against closed forms.

use crate::common::*;

const TC66C: &str = "tests/fixtures/tc66c-logger_pqcenergypi_iso-time_text-cols.csv";

#[test]
fn a_usb_meter_log_with_iso_times_and_text_columns() {
    let p = repo(TC66C);
    let a = analyze_json(&p, &["--unit", "A"]);
    assert_eq!(a["format"], "logger");
    assert_eq!(a["samples"], 18);
    assert_eq!(f(&a["first_time_s"]), 0.0);
    assert_eq!(a["input"]["start_time"], "2025-05-07T13:32:31.876637");
    let t = &a["totals"];
    // logger_expected.py
    assert!((f(&t["duration_s"]) - 17.024878).abs() < 1e-9);
    assert!((f(&t["charge_ma_ms"]) - 16311416.60165).abs() < 1e-9 * 16311416.60165);
    // The meter's Volt column is the measured supply.
    assert!((f(&t["energy_mj"]) - 83462.60518677617).abs() < 1e-9 * 83462.6);
    assert!(a["input"]["supply_column"]
        .as_str()
        .unwrap()
        .contains("Volt"));
    let scaling = a["input"]["scaling"].to_string();
    assert!(
        scaling.contains("\\\"Algorithm\\\"") && scaling.contains("Experiment_ID"),
        "{scaling}"
    );

    // Without a unit for `Current`, one line that says what to give.
    let out = run(&["analyze", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("column 8 \"Current\"") && err.contains("--unit"),
        "{err}"
    );
    // A text column named as time: the column, the line and the text, no advice already taken.
    let out = run(&[
        "analyze",
        p.to_str().unwrap(),
        "--time-col",
        "Algorithm",
        "--unit",
        "A",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains(":2:")
            && err.contains("column 3 \"Algorithm\"")
            && err.contains("ML-KEM-1024"),
        "{err}"
    );
    assert!(!err.contains("--time-col"), "{err}");
    let out = run(&[
        "analyze",
        p.to_str().unwrap(),
        "--value-col",
        "Experiment_ID",
        "--unit",
        "A",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("column 4 \"Experiment_ID\"") && err.contains("expected a number"),
        "{err}"
    );
}

/// An INA226 board over BLE: `device_timestamp` (HH:MM:SS, whole seconds) and `pc_timestamp`
/// (date and microseconds) beside numbers; samples arrive in packets (5 samples 2 ms apart,
/// then 190 ms). The finer clock is the time; with I = 20 + 4t mA the trapezoid is exact:
/// ∫ I dt = 20T + 2T² mA·s.
#[test]
fn an_ina226_log_with_two_clock_columns_takes_the_finer() {
    let mut text = String::from("device_timestamp,pc_timestamp,bus_voltage_V,current_mA,note\n");
    let mut times = Vec::new();
    for p in 0..60 {
        for j in 0..5 {
            times.push(p as f64 * 0.2 + j as f64 * 0.002);
        }
    }
    // 2025-11-27 02:02:22.068064 plus t, written as a clock would.
    let base_us: i64 = (2 * 3600 + 2 * 60 + 22) * 1_000_000 + 68_064;
    for &t in &times {
        let us = base_us + (t * 1e6).round() as i64;
        let (s, frac) = (us / 1_000_000, us % 1_000_000);
        let clock = format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
        let tt = (us - base_us) as f64 / 1e6;
        text += &format!(
            "{clock},2025-11-27 {clock}.{frac:06},3.3,{:?},ok\n",
            20.0 + 4.0 * tt
        );
    }
    let dir = TempDir::new();
    let p = dir.write("ina226.csv", text.as_bytes());
    let a = analyze_json(&p, &["--baseline-ma", "20", "--threshold-ma", "1000"]);
    assert_eq!(a["input"]["start_time"], "2025-11-27T02:02:22.068064");
    let assumed = a["input"]["assumptions"].to_string();
    assert!(
        assumed.contains("\\\"pc_timestamp\\\", the finest"),
        "{assumed}"
    );
    let t_end = *times.last().unwrap();
    let want = (20.0 * t_end + 2.0 * t_end * t_end) * 1e3;
    let q = f(&a["totals"]["charge_ma_ms"]);
    assert!((q - want).abs() < 1e-6 * want, "{q} vs {want}");
    assert!(a["gaps"].as_array().unwrap().is_empty(), "{}", a["gaps"]);
    assert!((f(&a["totals"]["duration_s"]) - t_end).abs() < 1e-9);
}

/// Epoch milliseconds with a text column; and a time of day alone, with a zone-free clock.
#[test]
fn epoch_milliseconds_and_times_of_day() {
    let mut epoch = String::from("ts,state,current_ma\n");
    let mut tod = String::from("time;phase;current_ma\n");
    for k in 0..100 {
        let ms = 1_764_208_942_000i64 + k * 10;
        epoch += &format!(
            "{ms},{},{}\n",
            if k % 2 == 0 { "rx" } else { "tx" },
            5 + k % 3
        );
        tod += &format!(
            "13:00:{:02}.{:03};idle;{}\n",
            k / 10,
            (k % 10) * 100,
            5 + k % 3
        );
    }
    let dir = TempDir::new();
    let a = analyze_json(&dir.write("epoch.csv", epoch.as_bytes()), &[]);
    assert_eq!(a["input"]["start_time"], "2025-11-27T02:02:22Z");
    assert_eq!(f(&a["first_time_s"]), 0.0);
    // Epoch values are scaled as numbers: 1.76e9 s carries ±0.24 µs of float rounding.
    assert!((f(&a["totals"]["duration_s"]) - 0.99).abs() < 1e-6);
    let b = analyze_json(&dir.write("tod.csv", tod.as_bytes()), &[]);
    assert_eq!(b["input"]["start_time"], "13:00:00");
    assert!((f(&b["totals"]["duration_s"]) - 9.9).abs() < 1e-9);
    assert!((f(&b["sample_interval_s"]) - 0.1).abs() < 1e-9);
}
