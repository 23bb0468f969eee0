//! Battery-powered devices (issue 24, item 1 and item 6): the levels the current dwells at, the
//! sleep floor as the baseline of a sleeping device, and the same answer from a .ppk2 and the
//! app's CSV export of a window of it.

use crate::common::*;

/// 20 s at 10 kS/s: a 1 µA floor (±1% alternating) and a 20 mA plateau of 500 samples every
/// second (5% of the time), one-sample edges. The floor is the baseline; each wake-up's excess
/// charge is (20 − 0.001) mA × (499 steps + two half steps) × 0.1 ms = 999.95 mA·ms.
#[test]
fn a_sleeping_device_is_measured_above_its_floor() {
    let mut text = String::from("time_s,current_ma\n");
    for k in 0..200_000u32 {
        let on = (k % 10_000) >= 2_000 && (k % 10_000) < 2_500;
        let i = if on {
            20.0
        } else if k % 2 == 0 {
            0.00101
        } else {
            0.00099
        };
        text += &format!("{:.4},{i}\n", k as f64 * 1e-4);
    }
    let dir = TempDir::new();
    let a = analyze_json(&dir.write("sleepy.csv", text.as_bytes()), &[]);
    assert_eq!(a["baseline_source"], "floor");
    assert!(
        (f(&a["floor_ma"]) - 0.001).abs() < 1e-6,
        "{}",
        a["floor_ma"]
    );
    assert!((f(&a["baseline_ma"]) - 0.001).abs() < 1e-6);
    assert!(f(&a["floor_sd_ma"]) < 2e-5);
    let states = a["states"].as_array().unwrap();
    assert_eq!(states.len(), 2, "{states:?}");
    assert!((f(&states[0]["level_ma"]) - 0.001).abs() < 2e-5);
    assert!(
        (f(&states[0]["time_share"]) - 0.95).abs() < 0.01,
        "{states:?}"
    );
    assert!((f(&states[1]["level_ma"]) - 20.0).abs() < 1e-9);
    assert!((f(&states[1]["time_share"]) - 0.05).abs() < 0.01);
    // The charge share of the plateau: 20 × 0.05 / (20 × 0.05 + 0.001 × 0.95).
    let share = 1.0 / (1.0 + 0.00095);
    assert!(
        (f(&states[1]["charge_share"]) - share).abs() < 2e-3,
        "{states:?}"
    );
    let bursts = a["bursts"].as_array().unwrap();
    assert_eq!(bursts.len(), 20);
    for b in bursts {
        let q = f(&b["excess_charge_ma_ms"]);
        assert!((q - 999.95).abs() < 1e-3, "{q}");
    }
    let assumed = a["input"]["assumptions"].to_string();
    assert!(assumed.contains("the sleep floor"), "{assumed}");
}

/// The ESP32 doorbell is awake most of the capture and sleeps at about 74 µA at the end: the
/// floor is its deep sleep, not the awake level.
#[test]
fn the_doorbell_floor_is_its_deep_sleep() {
    let a = analyze_json(
        &repo("tests/fixtures/native/ppk2_capsicum_esp32-doorbell_no-led.ppk2"),
        &[],
    );
    let floor = f(&a["floor_ma"]);
    assert!((floor - 0.074).abs() < 0.05 * 0.074, "{floor}");
    assert_eq!(a["baseline_source"], "floor");
    // The seed's board never sleeps: today's baseline, one state.
    let s = analyze_json(&repo("samples/seed/mqtt.csv"), &[]);
    assert_eq!(s["baseline_source"], "auto");
    assert_eq!(s["states"].as_array().unwrap().len(), 1);
}

/// The Power Profiler app's CSV export of a window of a .ppk2 gives the same floor (within 5%)
/// and the same wake-up charge (within 0.5%) as the .ppk2's wake-up in that window.
#[test]
fn a_ppk2_and_its_csv_export_agree() {
    let p = analyze_json(
        &repo("tests/fixtures/native/ppk2_threadascon_thread-sed_aes-20dbm.ppk2"),
        &[],
    );
    let c = analyze_json(
        &repo("tests/fixtures/ppk2-app-export_threadascon_thread-sed_aes-20dbm_window.csv"),
        &[],
    );
    let (fp, fc) = (f(&p["floor_ma"]), f(&c["floor_ma"]));
    assert!((fc - fp).abs() < 0.05 * fp, "{fc} vs {fp}");
    assert!((fp - 0.008).abs() < 0.05 * 0.008, "{fp}");
    let cb = c["bursts"].as_array().unwrap();
    assert_eq!(cb.len(), 1, "{}", c["bursts"]);
    let (t0, t1) = (
        f(&c["first_time_s"]),
        f(&c["first_time_s"]) + f(&c["totals"]["duration_s"]),
    );
    let inside: Vec<&serde_json::Value> = p["bursts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| {
            f(&b["start_s"]) >= t0 && f(&b["end_s"]) <= t1 && f(&b["excess_charge_ma_ms"]) > 1.0
        })
        .collect();
    assert_eq!(inside.len(), 1);
    let (qp, qc) = (
        f(&inside[0]["excess_charge_ma_ms"]),
        f(&cb[0]["excess_charge_ma_ms"]),
    );
    assert!((qc - qp).abs() < 0.005 * qp, "{qc} vs {qp}");
}

/// One BLE advertising event recorded by a JS220 (range-switch glitches down to −13.7 mA inside
/// it): one wake-up, no negative excess charge, its energy from the recorded 1.8 V — within 5%
/// of the whole capture's 18.709 µJ (expected.py's trapezoid of V·I; the floor's share of 6 ms
/// at about 1 µA is 0.01 µJ). `--merge-gap-ms 0` still splits it as before.
#[test]
fn a_ble_event_is_one_wake_up() {
    let p = repo("tests/fixtures/native/jls_bluejoule_wba25_ble-adv-event_late-signal-defs.jls");
    let a = analyze_json(&p, &[]);
    assert_eq!(a["baseline_source"], "floor");
    let bursts = a["bursts"].as_array().unwrap();
    assert_eq!(bursts.len(), 1, "{}", a["bursts"]);
    assert!(f(&bursts[0]["excess_charge_ma_ms"]) > 0.0);
    let e = f(&bursts[0]["energy_mj"]);
    assert!(
        e > 0.95 * 0.018709074764369484 && e < 1.0001 * 0.018709074764369484,
        "{e}"
    );
    let split = analyze_json(&p, &["--merge-gap-ms", "0"]);
    assert!(split["bursts"].as_array().unwrap().len() > 1);
}
