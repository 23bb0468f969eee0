//! The fast read path (parallel block parsing, memory-mapped or read, the SSE4.1 shape reader
//! or the scalar parser, pipelined detection, sampled survey) against a simple reference path
//! (line-by-line `str::parse`, one `Detector::push` over the whole trace): burst count exactly,
//! charges to 1e-9 relative, on a trace whose blocks and parts cut through bursts.

use super::analyze_json;
use super::data::*;
use crate::detect::{settle_samples, DetectParams, Detector};

fn reference(text: &str, a: &serde_json::Value) -> Detector {
    let interval_s = f(&a["sample_interval_s"]);
    let threshold_ma = f(&a["threshold_ma"]);
    let mut det = Detector::new(DetectParams {
        baseline_ma: f(&a["baseline_ma"]),
        threshold_ma,
        release_ma: f(&a["release_ma"]),
        merge_gap_s: 0.0,
        min_burst_s: 0.0,
        gap_s: 3.0 * interval_s,
        interval_s,
        noise_ma: f(&a["noise_ma"]),
        settle_samples: settle_samples(interval_s),
    });
    let (mut t, mut i) = (Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let (a, b) = line.split_once(',').unwrap();
        t.push(a.parse::<f64>().unwrap());
        i.push(b.parse::<f64>().unwrap() * 1000.0 / 0.47);
    }
    det.push(&t, &i);
    det.finish()
}

fn compare(a: &serde_json::Value, r: &Detector) {
    let got = a["bursts"].as_array().unwrap();
    assert_eq!(got.len(), r.bursts.len());
    assert!(got.len() >= 35, "{}", got.len());
    for (g, w) in got.iter().zip(&r.bursts) {
        let rel = |x: f64, y: f64| (x - y).abs() / y.abs().max(1e-300);
        assert!(rel(f(&g["excess_charge_ma_ms"]), w.excess_charge_ma_ms) < 1e-9);
        assert!(rel(f(&g["charge_ma_ms"]), w.charge_ma_ms) < 1e-9);
        // Every path of the parser (shape reader, SWAR, fast-float2) is correctly rounded, as
        // str::parse: the burst edges' time stamps are the same numbers.
        assert_eq!(f(&g["start_s"]), w.start_s);
        assert_eq!(f(&g["end_s"]), w.end_s);
    }
    assert!(rel_ok(f(&a["totals"]["charge_ma_ms"]), r.charge_mas * 1e3));
}

fn rel_ok(x: f64, y: f64) -> bool {
    (x - y).abs() <= 1e-9 * y.abs()
}

#[test]
fn fast_path_agrees_with_reference() {
    let text = streaming_trace();
    let dir = TempDir::new();
    let p = dir.write("long.csv", text.as_bytes());
    let a = analyze_json(&p, &[]);
    compare(&a, &reference(&text, &a));
    assert_eq!(a["samples"], 400_000);
}

/// Every way of reading the file (memory-mapped or read, shape reader or scalar parser, LF or
/// CRLF line ends) gives the reference's bursts, and the same JSON to the byte.
#[test]
fn mapped_read_simd_and_scalar_paths_agree() {
    // This test process opts in to mapped reads, as the binary does.
    crate::allow_mmap();
    let text = streaming_trace();
    let dir = TempDir::new();
    let mut first: Option<Vec<u8>> = None;
    for crlf in [false, true] {
        let body = if crlf {
            text.replace('\n', "\r\n")
        } else {
            text.clone()
        };
        let p = dir.write(if crlf { "crlf.csv" } else { "lf.csv" }, body.as_bytes());
        for (mmap_min, simd, flag) in [
            ("0", true, None),
            ("0", false, None),
            ("0", true, Some("--no-mmap")),
            ("99999999999", false, None),
        ] {
            let mut flags = vec!["--mmap-min-bytes", mmap_min];
            if !simd {
                flags.push("--no-simd");
            }
            flags.extend(flag);
            let a = analyze_json(&p, &flags);
            compare(&a, &reference(&text, &a));
            assert_eq!(a["samples"], 400_000);
            // The same numbers whichever path read them (file names aside).
            let mut a = a;
            a["file"] = serde_json::Value::Null;
            a["input"]["file"] = serde_json::Value::Null;
            let bytes = serde_json::to_vec(&a).unwrap();
            match &first {
                None => first = Some(bytes),
                Some(f) => assert!(f == &bytes, "crlf {crlf}, mmap_min {mmap_min}, simd {simd}"),
            }
        }
    }
}

#[test]
fn sampled_survey_path_agrees_with_reference() {
    // Force the large-file survey (windows spread over the file) on this 7 MB trace.
    let text = streaming_trace();
    let dir = TempDir::new();
    let p = dir.write("long.csv", text.as_bytes());
    let a = analyze_json(&p, &["--survey-full-bytes", "1000000"]);
    compare(&a, &reference(&text, &a));
    // The sampled baseline is the full one to within a small fraction of the noise.
    let full = analyze_json(&p, &[]);
    assert!((f(&a["baseline_ma"]) - f(&full["baseline_ma"])).abs() < 0.05 * f(&full["noise_ma"]));
}
