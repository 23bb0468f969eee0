//! Measurement-quality diagnostics: each appears, with its numbers, on a trace that has the
//! problem, and not on one that does not.

use crate::common::*;
use std::fmt::Write;

/// 2 s at 10 kS/s, 100 mA idle with 0.5 mA noise, a 50 mA × 20 ms burst every 200 ms;
/// `shape(t_s, i_ma) -> i_ma` distorts it.
fn trace(shape: impl Fn(f64, f64) -> f64) -> String {
    let mut noise = Noise::new(11);
    let mut text = String::from("time_s,current_ma\n");
    for k in 0..20_000 {
        let t = k as f64 * 1e-4;
        let i =
            100.0 + burst_ma(50.0, 20.0, 0.3, 0.5, (t % 0.2) * 1e3 - 50.0) + 0.5 * noise.normal();
        writeln!(text, "{t:.4},{:.4}", shape(t, i)).unwrap();
    }
    text
}

fn codes(text: &str) -> Vec<String> {
    let dir = TempDir::new();
    let p = dir.write("q.csv", text.as_bytes());
    let a = analyze_json(&p, &[]);
    a["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            format!(
                "{}: {}",
                w["code"].as_str().unwrap(),
                w["message"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_clean_trace_has_no_warnings() {
    assert!(
        codes(&trace(|_, i| i)).is_empty(),
        "{:?}",
        codes(&trace(|_, i| i))
    );
}

#[test]
fn clipping_at_the_top_rail() {
    let w = codes(&trace(|_, i| i.min(130.0)));
    assert!(
        w.iter()
            .any(|w| w.starts_with("clipping") && w.contains("130.0000")),
        "{w:?}"
    );
}

#[test]
fn baseline_drift() {
    // The idle current rises 3 mA over the capture (6 σ).
    let w = codes(&trace(|t, i| i + 1.5 * t));
    assert!(w.iter().any(|w| w.starts_with("baseline-drift")), "{w:?}");
}

#[test]
fn coarse_adc_steps() {
    // 5 mA steps against 50 mA bursts: 10%.
    let w = codes(&trace(|_, i| (i / 5.0).round() * 5.0));
    assert!(
        w.iter()
            .any(|w| w.starts_with("coarse-quantisation") && w.contains("5.000 mA")),
        "{w:?}"
    );
}

#[test]
fn sample_rate_change() {
    // The second half sampled at half the rate.
    let text: String = trace(|_, i| i)
        .lines()
        .enumerate()
        .filter(|(k, _)| *k <= 10_000 || k % 2 == 0)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let w = codes(&text);
    assert!(
        w.iter()
            .any(|w| w.starts_with("irregular-sampling") && w.contains("change of sample rate")),
        "{w:?}"
    );
}
