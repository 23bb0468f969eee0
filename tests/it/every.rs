//! `--every`: averages over fixed windows from the first sample (issue 24, item 5), against
//! closed forms.

use crate::common::*;

/// I = 2 + 0.4t mA sampled every 3 ms over [0, 24.999] s (so window edges fall inside steps and
/// the trapezoid is exact), windows of 10 s: ∫ over [a, b] = 2(b − a) + 0.2(b² − a²) mA·s;
/// the last window, [20, 24.999], is partial. Energy at the constant 3.3 V.
#[test]
fn every_window_by_the_closed_form() {
    let n = 8334; // 0 .. 24.999 s
    let mut text = String::from("time_s,current_ma\n");
    for k in 0..n {
        let t = k as f64 * 0.003;
        text += &format!("{t:.3},{:?}\n", 2.0 + 0.4 * ((t * 1e3).round() / 1e3));
    }
    let dir = TempDir::new();
    let p = dir.write("ramp.csv", text.as_bytes());
    let a = analyze_json(&p, &["--every", "10s", "--supply-v", "3.3"]);
    let w = a["every"].as_array().unwrap();
    assert_eq!(w.len(), 3);
    let end = (n - 1) as f64 * 0.003;
    let q = |a: f64, b: f64| 2.0 * (b - a) + 0.2 * (b * b - a * a);
    for (k, (lo, hi)) in [(0.0, 10.0), (10.0, 20.0), (20.0, end)]
        .into_iter()
        .enumerate()
    {
        let x = &w[k];
        assert!(
            (f(&x["start_s"]) - lo).abs() < 1e-12 && (f(&x["end_s"]) - hi).abs() < 1e-9,
            "{x}"
        );
        let want = q(lo, hi);
        assert!(
            (f(&x["charge_ma_ms"]) - want * 1e3).abs() < 1e-9 * want * 1e3,
            "{x} vs {want}"
        );
        assert!((f(&x["mean_ma"]) - want / (hi - lo)).abs() < 1e-9, "{x}");
        assert!((f(&x["energy_mj"]) - 3.3 * want).abs() < 1e-9 * want, "{x}");
        assert_eq!(x["partial"], k == 2, "{x}");
    }
    // The windows add up to the whole trace.
    let sum: f64 = w.iter().map(|x| f(&x["charge_ma_ms"])).sum();
    assert!((sum - f(&a["totals"]["charge_ma_ms"])).abs() < 1e-9 * sum);
    // --format csv --every: one row per window, the contract's columns.
    let out = run(&[
        "analyze",
        p.to_str().unwrap(),
        "--every",
        "10s",
        "-f",
        "csv",
        "-q",
    ]);
    let csv = String::from_utf8_lossy(&out.stdout);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("file,start_s,end_s,mean_ma,charge_ma_ms,energy_mj,partial")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3);
    assert!(
        rows[2].ends_with(",true") && rows[0].ends_with(",false"),
        "{csv}"
    );
    // Without --every the JSON has no `every`.
    assert!(analyze_json(&p, &[]).get("every").is_none());
    let bad = run(&["analyze", p.to_str().unwrap(), "--every", "0s"]);
    assert_eq!(bad.status.code(), Some(2));
}
