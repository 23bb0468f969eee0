//! Classes of recurring bursts, their periods and the energy budget (issue 24, items 2–4),
//! against values worked out by hand from a synthetic trace.

use crate::common::*;

/// Sample interval, s (10 kS/s), and the floor, mA.
const DT: f64 = 1e-4;
const FLOOR: f64 = 0.001;

/// 40 s at 10 kS/s:
/// - a 1 µA floor (±1% alternating: its mean is exactly 1 µA);
/// - a one-off start-up at 0.05 s: 5 mA for 10 000 samples (1 s);
/// - class "radio" every 1.0 s from 1.3 s (39 events): 30 samples at 8 mA, two of them glitched
///   up to 16 mA (k = 5, 6) and one down to −3 mA (k = 15), a range switch's signs;
/// - class "sensor" every 4.0 s from 1.7 s (10 events): a 20 mA awake plateau of 2 000 samples
///   with two samples at 60 mA (k = 500, 501), one at −1 mA (k = 1000) and two at 0 (k = 1500,
///   1501).
///
/// Excess charges (trapezoid from the last floor sample before to the first after, edges
/// instantaneous: every sample inside counts one full step of 0.1 ms):
/// - radio: 0.1 × (27 × 8 + 2 × 16 − 3 − 30 × 0.001) = 24.497 mA·ms;
/// - sensor: 0.1 × (1995 × 20 + 2 × 60 − 1 + 0 − 2000 × 0.001) = 4001.7 mA·ms;
/// - start-up: 0.1 × 10 000 × (5 − 0.001) = 4999.0 mA·ms.
fn trace() -> String {
    trace_with(FLOOR, 8.0, 4)
}

/// [`trace`] with another floor (mA, ±1% alternating), radio amplitude (mA; the glitches stay
/// at 16 and −3 mA) and sensor period (s).
pub fn trace_with(floor: f64, radio_ma: f64, sensor_every_s: usize) -> String {
    let n = 400_000usize;
    let mut v: Vec<f64> = (0..n)
        .map(|k| {
            if k % 2 == 0 {
                floor * 1.01
            } else {
                floor * 0.99
            }
        })
        .collect();
    for x in &mut v[500..10_500] {
        *x = 5.0;
    }
    for e in 0..39 {
        let k0 = 13_000 + e * 10_000;
        for (j, x) in v[k0..k0 + 30].iter_mut().enumerate() {
            *x = match j {
                5 | 6 => 16.0,
                15 => -3.0,
                _ => radio_ma,
            };
        }
    }
    for e in 0..40 / sensor_every_s {
        let k0 = 17_000 + e * sensor_every_s * 10_000;
        for (j, x) in v[k0..k0 + 2000].iter_mut().enumerate() {
            *x = match j {
                500 | 501 => 60.0,
                1000 => -1.0,
                1500 | 1501 => 0.0,
                _ => 20.0,
            };
        }
    }
    let mut text = String::from("time_s,current_ma\n");
    for (k, x) in v.iter().enumerate() {
        text += &format!("{:.4},{x}\n", k as f64 * DT);
    }
    text
}

const Q_RADIO: f64 = 0.1 * (27.0 * 8.0 + 2.0 * 16.0 - 3.0 - 30.0 * FLOOR);
const Q_SENSOR: f64 = 0.1 * (1995.0 * 20.0 + 2.0 * 60.0 - 1.0 - 2000.0 * FLOOR);
const Q_START: f64 = 0.1 * 10_000.0 * (5.0 - FLOOR);

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

#[test]
fn classes_periods_and_budget_by_hand() {
    let dir = TempDir::new();
    let file = dir.write("classes.csv", trace().as_bytes());
    let a = analyze_json(
        &file,
        &[
            "--supply-v",
            "3",
            "--at-period",
            "10s",
            "--at-period",
            "2=0.5s",
            "--battery-mah",
            "220",
        ],
    );
    assert_eq!(a["baseline_source"], "floor");
    assert!(close(f(&a["floor_ma"]), FLOOR, 0.01), "{}", a["floor_ma"]);
    // Glitches of either sign never split a wake-up: 1 + 39 + 10 bursts, none negative.
    let bursts = a["bursts"].as_array().unwrap();
    assert_eq!(bursts.len(), 50, "{}", a["bursts"]);
    assert!(bursts.iter().all(|b| f(&b["excess_charge_ma_ms"]) > 0.0));
    // Classes by charge: sensor (10 × 4001.7), start-up (4999.0), radio (39 × 24.497).
    let c = a["classes"].as_array().unwrap();
    assert_eq!(c.len(), 3, "{c:?}");
    let (sensor, start, radio) = (&c[0], &c[1], &c[2]);
    assert_eq!(
        (
            sensor["n"].as_u64(),
            start["n"].as_u64(),
            radio["n"].as_u64()
        ),
        (Some(10), Some(1), Some(39))
    );
    assert!(close(f(&sensor["period_s"]), 4.0, 1e-9), "{sensor}");
    assert!(close(f(&radio["period_s"]), 1.0, 1e-9), "{radio}");
    assert!(f(&radio["period_jitter_s"]) < 1e-9);
    assert!(start["period_s"].is_null() && start["period_jitter_s"].is_null());
    assert!(
        close(f(&sensor["mean_excess_charge_ma_ms"]), Q_SENSOR, 1e-4),
        "{sensor}"
    );
    assert!(
        close(f(&radio["mean_excess_charge_ma_ms"]), Q_RADIO, 1e-4),
        "{radio}"
    );
    assert!(
        close(f(&start["mean_excess_charge_ma_ms"]), Q_START, 1e-4),
        "{start}"
    );
    assert!(close(
        f(&radio["mean_energy_mj"]),
        Q_RADIO * 3.0 / 1e3,
        1e-4
    ));
    assert!(f(&radio["ci_low"]) <= Q_RADIO * 1.0001 && f(&radio["ci_high"]) >= Q_RADIO * 0.9999);
    assert!(close(f(&sensor["peak_ma"]), 60.0, 1e-12));
    let total = f(&a["totals"]["charge_ma_ms"]);
    assert!(close(
        f(&sensor["charge_share"]),
        10.0 * Q_SENSOR / total,
        1e-4
    ));
    for b in bursts {
        let want = if f(&b["duration_ms"]) > 500.0 {
            1
        } else if f(&b["peak_ma"]) > 20.0 {
            0
        } else {
            2
        };
        assert_eq!(b["class"].as_u64(), Some(want), "{b}");
    }

    // The budget: the floor in between, each class at its own period.
    let b = &a["budget"];
    assert!(close(f(&b["floor_ma"]), FLOOR, 0.01));
    assert!(close(f(&b["floor_mw"]), 3.0 * FLOOR, 0.01));
    let at = |q_sensor_per: f64, q_radio_per: f64| {
        FLOOR + Q_SENSOR / q_sensor_per + Q_RADIO / q_radio_per
    };
    let periods = b["periods"].as_array().unwrap();
    let want = [
        (0, 4.0, false, at(4000.0, 1000.0)),
        (2, 1.0, false, at(4000.0, 1000.0)),
        (0, 10.0, true, at(10_000.0, 1000.0)),
        (2, 0.5, true, at(4000.0, 500.0)),
    ];
    assert_eq!(periods.len(), want.len(), "{periods:?}");
    for (p, (class, period, given, mean_ma)) in periods.iter().zip(want) {
        assert_eq!(p["class"].as_u64(), Some(class), "{p}");
        assert!(close(f(&p["period_s"]), period, 1e-9), "{p}");
        assert_eq!(p["given"], given);
        let basis = if given { "given" } else { "median interval" };
        assert_eq!(p["basis"], basis);
        assert!(close(f(&p["mean_ma"]), mean_ma, 1e-4), "{p} vs {mean_ma}");
        let mw = mean_ma * 3.0;
        assert!(
            close(f(&p["energy_per_period_mj"]), mw * period, 1e-4),
            "{p}"
        );
        assert!(close(f(&p["energy_per_day_j"]), mw * 86.4, 1e-4), "{p}");
        assert!(close(f(&p["battery_life_h"]), 220.0 / mean_ma, 1e-4), "{p}");
    }
    let one_off = b["one_off"].as_array().unwrap();
    assert_eq!(one_off.len(), 1);
    assert_eq!(one_off[0]["class"], 1);
    assert!(close(f(&one_off[0]["excess_charge_ma_ms"]), Q_START, 1e-4));
}

/// A period for a class that does not recur is a warning, not a number; `--split` keeps the
/// JS220 event's inner bursts, none with negative excess charge.
#[test]
fn at_period_for_a_one_off_warns_and_split_splits() {
    let dir = TempDir::new();
    let file = dir.write("classes.csv", trace().as_bytes());
    let a = analyze_json(&file, &["--at-period", "1=10s"]);
    let w = a["warnings"].to_string();
    assert!(w.contains("class 1 does not recur"), "{w}");
    let p = repo("tests/fixtures/native/jls_bluejoule_wba25_ble-adv-event_late-signal-defs.jls");
    let split = analyze_json(&p, &["--split"]);
    let bursts = split["bursts"].as_array().unwrap();
    assert!(bursts.len() > 1, "{bursts:?}");
    assert!(
        bursts.iter().all(|b| f(&b["excess_charge_ma_ms"]) > 0.0),
        "{bursts:?}"
    );
}
