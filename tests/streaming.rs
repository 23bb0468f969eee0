//! The fast path (parallel block parsing, pipelined detection, sampled survey) against a simple
//! reference path (line-by-line `str::parse`, one `Detector::push` over the whole trace): burst
//! count exactly, charges to 1e-9 relative, on a trace whose blocks and parts cut through bursts.

mod common;
use common::*;
use shuntscope::detect::{settle_samples, DetectParams, Detector};
use std::fmt::Write;

/// 400 000 rows (~7 MB: two 4 MiB blocks, each cut into parts) at 100 kS/s; 30 ms bursts every
/// 100 ms, so many block and part boundaries fall inside bursts.
fn trace() -> String {
    let mut noise = Noise::new(3);
    let mut text = String::from("time_s,voltage_v\n");
    for k in 0..400_000u64 {
        let t_ms = k as f64 * 0.01;
        let phase = t_ms % 100.0;
        let i = 170.0 + burst_ma(64.0, 30.0, 0.3, 0.5, phase - 20.0);
        let v = i * 0.47 / 1e3 + 1.5e-3 * noise.normal();
        writeln!(text, "{:.5},{:.6}", t_ms / 1e3, v).unwrap();
    }
    text
}

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
    let text = trace();
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
    let text = trace();
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
            let mut cmd = bin();
            cmd.args(["analyze", p.to_str().unwrap(), "-f", "json", "-q"]);
            cmd.args(["--mmap-min-bytes", mmap_min]);
            if !simd {
                cmd.arg("--no-simd");
            }
            cmd.args(flag);
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
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
    let text = trace();
    let dir = TempDir::new();
    let p = dir.write("long.csv", text.as_bytes());
    let out = bin()
        .args(["analyze", p.to_str().unwrap(), "-f", "json", "-q"])
        .args(["--survey-full-bytes", "1000000"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    compare(&a, &reference(&text, &a));
    // The sampled baseline is the full one to within a small fraction of the noise.
    let full = analyze_json(&p, &[]);
    assert!((f(&a["baseline_ma"]) - f(&full["baseline_ma"])).abs() < 0.05 * f(&full["noise_ma"]));
}

/// Run `analyze` on `path` with the file memory-mapped (`mmap`, whatever its size) or read,
/// with extra arguments; (exit code, stdout, stderr).
fn analyze_with(path: &str, mmap: bool, extra: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = bin();
    cmd.args(["analyze", path, "-f", "json", "-q", "--mmap-min-bytes", "0"]);
    cmd.args(extra);
    if !mmap {
        cmd.arg("--no-mmap");
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Long lines and very short rows: the mapped path cuts its blocks as the read path does, and
/// reports the same errors on the same lines.
#[test]
fn mapped_path_long_lines_and_short_rows() {
    let dir = TempDir::new();
    // A 2 MiB line after 100 000 rows (line 100 002): refused on that line either way.
    let mut text = String::from("time_s,current_ma\n");
    for k in 0..100_000 {
        writeln!(text, "{:.5},{:.2}", k as f64 * 1e-5, 170.0).unwrap();
    }
    let mut bytes = text.clone().into_bytes();
    bytes.extend(std::iter::repeat_n(b'7', 2 << 20));
    bytes.extend(b"\n1.00000,170.00\n");
    let p = dir.write("overlong.csv", &bytes);
    for mmap in [true, false] {
        let (code, _, err) = analyze_with(p.to_str().unwrap(), mmap, &[]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("line is longer than 1 MiB"), "{err}");
        assert!(err.contains("100002"), "mmap {mmap}: {err}");
    }
    // A 600 kB line (shorter than the limit, longer than a block of short rows): one field
    // where two are expected, on line 100 002.
    let mut bytes = text.into_bytes();
    bytes.extend(std::iter::repeat_n(b'7', 600 << 10));
    bytes.extend(b"\n1.00000,170.00\n");
    let p = dir.write("long.csv", &bytes);
    let errs: Vec<String> = [true, false]
        .iter()
        .map(|&mmap| {
            let (code, _, err) = analyze_with(p.to_str().unwrap(), mmap, &[]);
            assert_eq!(code, Some(2), "{err}");
            assert!(err.contains("100002"), "mmap {mmap}: {err}");
            err
        })
        .collect();
    assert_eq!(errs[0], errs[1]);
    // After two-byte rows (blocks shrink to about 512 kB), a 700 kB line is still a line: an
    // error about its fields on its own line, not "longer than 1 MiB".
    let mut bytes = "3\n".repeat(600_000).into_bytes();
    bytes.extend(std::iter::repeat_n(b'7', 700 << 10));
    bytes.extend(b"x\n3\n");
    let p = dir.write("short-then-long.csv", &bytes);
    let args = ["--sample-interval", "10us", "--unit", "mA"];
    let errs: Vec<String> = [true, false]
        .iter()
        .map(|&mmap| {
            let (code, _, err) = analyze_with(p.to_str().unwrap(), mmap, &args);
            assert_eq!(code, Some(2), "{err}");
            assert!(!err.contains("longer than"), "mmap {mmap}: {err}");
            assert!(err.contains("600001"), "mmap {mmap}: {err}");
            err
        })
        .collect();
    assert_eq!(errs[0], errs[1]);
    // Two-byte rows (one value, implied time): blocks sized in rows, same numbers either way.
    let mut noise = Noise::new(5);
    let rows: String = (0..3_000_000)
        .map(|k| {
            let burst = k % 50_000 < 400;
            let level = if burst {
                8
            } else {
                3 + (noise.normal() > 1.0) as u8
            };
            format!("{level}\n")
        })
        .collect();
    let p = dir.write("short.csv", rows.as_bytes());
    let (code_m, out_m, err_m) = analyze_with(p.to_str().unwrap(), true, &args);
    let (code_r, out_r, _) = analyze_with(p.to_str().unwrap(), false, &args);
    assert_eq!((code_m, code_r), (Some(0), Some(0)), "{err_m}");
    assert_eq!(out_m, out_r);
    let a: serde_json::Value = serde_json::from_str(&out_m).unwrap();
    assert_eq!(a["samples"], 3_000_000);
    assert_eq!(a["bursts"].as_array().unwrap().len(), 60);
}

/// A mapped file that another program shortens while it is read: one line naming the file and
/// exit code 2, not a bare "Bus error" (Linux). The test runs itself again as a child process,
/// which installs the binary's SIGBUS policy, maps the file, shortens it itself, then reads.
#[cfg(target_os = "linux")]
#[test]
fn a_mapped_file_shortened_while_read_is_a_clear_error() {
    const CHILD: &str = "SHUNTSCOPE_TEST_CHILD_SHRINK";
    if let Ok(spec) = std::env::var(CHILD) {
        let (mmap, path) = spec.split_once(':').unwrap();
        shrink_while_reading(path, mmap == "mmap");
        return;
    }
    let text = trace();
    let dir = TempDir::new();
    let run = |name: &str, mode: &str| {
        let p = dir.write(name, text.as_bytes());
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "a_mapped_file_shortened_while_read_is_a_clear_error",
                "--exact",
                "--test-threads=1",
            ])
            .env(CHILD, format!("{mode}:{}", p.display()))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = run("shrinks.csv", "mmap");
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("shrinks.csv") && err.contains("shortened"),
        "{err}"
    );
    assert!(err.contains("--no-mmap"), "{err}");
    // Read instead of mapped, the shortened file reads to its new end without a signal.
    let (code, err) = run("reads.csv", "read");
    assert_eq!(code, Some(0), "{err}");
}

/// The child's part: map (or read) `path`, shorten it to half, read every chunk.
#[cfg(target_os = "linux")]
fn shrink_while_reading(path: &str, mmap: bool) {
    use shuntscope::ingest::{IngestOptions, Source};
    shuntscope::ingest::mapguard::install();
    let opts = IngestOptions {
        mmap_min_bytes: 0,
        no_mmap: !mmap,
        ..IngestOptions::default()
    };
    let source = Source::open(path, &opts).unwrap();
    let mut reader = source.reader().unwrap();
    let size = std::fs::metadata(path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(size / 2)
        .unwrap();
    let mut chunk = shuntscope::trace::Chunk::default();
    // A read file ends early or with an error; a mapped one must not get here.
    while let Ok(true) = reader.next_chunk(&mut chunk) {}
}
