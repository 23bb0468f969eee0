//! The error corpus in tests/bad/: each broken file gets its one-line error, naming the file,
//! with exit code 2 (expectations in tests/bad/EXPECTED.tsv). Large adversarial inputs are
//! generated here rather than committed.

use crate::common::*;
use std::io::Write;

fn expect_error(path: &str, needle: &str, extra: &[&str]) {
    let mut args = vec!["analyze", path];
    args.extend_from_slice(extra);
    let out = run(&args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{path}: {err}");
    assert_eq!(
        err.lines().count(),
        1,
        "{path}: one line expected, got {err}"
    );
    let name = std::path::Path::new(path)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        err.starts_with(&format!("error: {path}")),
        "{path}: must name the file first: {err}"
    );
    assert!(err.contains(needle), "{name}: expected {needle:?} in {err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn error_corpus() {
    let dir = repo("tests/bad");
    let table = std::fs::read_to_string(dir.join("EXPECTED.tsv")).unwrap();
    let mut n = 0;
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let extra: Vec<&str> = cols
            .get(2)
            .map(|s| s.split_whitespace().collect())
            .unwrap_or_default();
        expect_error(dir.join(cols[0]).to_str().unwrap(), cols[1], &extra);
        n += 1;
    }
    // Every file in tests/bad has an expectation.
    let files = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != "EXPECTED.tsv")
        .count();
    assert_eq!(
        n, files,
        "a file in tests/bad without an expectation, or the reverse"
    );
}

#[test]
fn overlong_line_and_many_columns() {
    let dir = TempDir::new();
    let mut long = b"time_s,current_ma\n0,1\n".to_vec();
    long.extend(std::iter::repeat_n(b'9', 2 << 20));
    long.push(b'\n');
    let p = dir.write("overlong.csv", &long);
    expect_error(p.to_str().unwrap(), "line is longer than 1 MiB", &[]);
    // 200 000 columns: the header alone is longer than the head the formats see.
    let header: Vec<String> = (0..200_000).map(|i| format!("c{i}")).collect();
    let row = vec!["1"; 200_000].join(",");
    let p = dir.write(
        "wide.csv",
        format!("{}\n{row}\n{row}\n", header.join(",")).as_bytes(),
    );
    expect_error(
        p.to_str().unwrap(),
        ":1: no line ends in the first 64 KiB",
        &[],
    );
}

#[test]
fn decompression_bomb_is_refused() {
    // 200 MB of zeros gzip to about 200 kB: over 100× their size, so refused as a bomb after
    // at most 64 MiB of output.
    let dir = TempDir::new();
    let p = dir.path("bomb.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&p).unwrap(),
        flate2::Compression::best(),
    );
    let zeros = vec![b'0'; 1 << 20];
    for _ in 0..200 {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap();
    expect_error(p.to_str().unwrap(), "decompression bomb", &[]);
}
