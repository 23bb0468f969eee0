//! Bad input: one line on stderr naming the file (and line, field and column where there is
//! one), exit code 2, never a panic.

use crate::common::*;

/// Run analyze on `content`, expect exit 2 and one line containing every `needle`.
fn expect_error(content: &[u8], extra: &[&str], needles: &[&str]) {
    let dir = TempDir::new();
    let p = dir.write("bad.csv", content);
    let mut args = vec!["analyze", p.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = run(&args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("bad.csv"), "names the file: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in {err}");
    }
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_file() {
    let out = run(&["analyze", "/nonexistent/trace.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "error: /nonexistent/trace.csv: cannot open: no such file"
    );
}

#[test]
fn directory_instead_of_file() {
    let dir = TempDir::new();
    let out = run(&["analyze", dir.0.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("directory"));
}

#[test]
fn empty_file() {
    expect_error(b"", &[], &["empty"]);
    expect_error(b"\r\n\n  \n", &[], &["empty"]);
}

#[test]
fn header_only() {
    expect_error(b"time_s,current_ma\n", &[], &["header", "no data"]);
}

#[test]
fn text_in_a_number() {
    expect_error(
        b"time_s,current_ma\n0.000,1\n0.001,2\n0.002,3\n0.003,abc\n0.004,5\n",
        &[],
        &["bad.csv:5:2:", "column \"current_ma\"", "\"abc\""],
    );
}

#[test]
fn nan_and_inf() {
    let base = "time_s,current_ma\n0.000,1\n0.001,2\n0.002,3\n0.003,4\n";
    for bad in ["nan", "NaN", "inf", "-inf", "∞"] {
        expect_error(
            format!("{base}0.004,{bad}\n0.005,5\n").as_bytes(),
            &[],
            &["bad.csv:6:2:", "finite", "NaN and infinity"],
        );
    }
    expect_error(
        format!("{base}nan,4\n0.005,5\n").as_bytes(),
        &[],
        &["bad.csv:6:1:", "column \"time_s\""],
    );
}

#[test]
fn time_going_backwards() {
    expect_error(
        b"time_s,current_ma\n0.000,1\n0.001,2\n0.002,3\n0.0015,4\n0.003,5\n",
        &[],
        &["bad.csv:5:", "time goes backwards", "line 4"],
    );
}

#[test]
fn single_sample() {
    expect_error(
        b"time_s,current_ma\n0.000,1\n",
        &[],
        &["only one sample", "bad.csv:2:"],
    );
}

#[test]
fn too_few_fields() {
    expect_error(
        b"time_s,current_ma\n0.000,1\n0.001,2\n0.002,3\n0.003\n0.004,5\n",
        &[],
        &["bad.csv:5:", "expected at least 2 fields"],
    );
}

#[test]
fn bad_options() {
    let text = b"time_s,current_ma\n0.000,1\n0.001,2\n0.002,3\n";
    expect_error(
        text,
        &["--value-col", "nope"],
        &["value column \"nope\" not found", "current_ma"],
    );
    let dir = TempDir::new();
    let p = dir.write("ok.csv", text);
    for args in [
        vec!["--shunt-ohms", "0"],
        vec!["--shunt-ohms", "-1"],
        vec!["--sample-interval", "fast"],
        vec!["--unit", "furlong"],
        vec!["--input-format", "nope"],
        vec!["--supply-v", "0"],
    ] {
        let mut all = vec!["analyze", p.to_str().unwrap()];
        all.extend(args.iter().copied());
        let out = run(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn binary_junk() {
    let junk: Vec<u8> = (0..20_000u32)
        .map(|k| (k.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    expect_error(&junk, &[], &[]);
}

#[test]
fn overlong_line_is_refused_in_bounded_memory() {
    // 3 MiB of digits without a line break, after a valid start.
    let mut text = b"time_s,current_ma\n0,1\n0.001,2\n0.002,3\n0.003,4\n".to_vec();
    text.extend(std::iter::repeat_n(b'7', 3 << 20));
    expect_error(&text, &[], &["longer than"]);
}
