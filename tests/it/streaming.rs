//! Large inputs through the binary: memory-mapped and read paths with long lines and short
//! rows, and a file that another program shortens while it is read (mapped: the binary's
//! SIGBUS guard; read, as a library caller does: an input error). The read paths against a
//! reference detector are the crate's own tests (src/tests/paths.rs).

use crate::common::*;
use std::fmt::Write;

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
    let text = streaming_trace();
    let dir = TempDir::new();
    let run = |name: &str, mode: &str| {
        let p = dir.write(name, text.as_bytes());
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "streaming::a_mapped_file_shortened_while_read_is_a_clear_error",
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
    // Read instead of mapped (a library caller that did not opt in), the shortened file is an
    // input error naming the file, never a shorter trace.
    let (code, err) = run("reads.csv", "read");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("reads.csv") && err.contains("shortened by another program"),
        "{err}"
    );
    assert!(!err.contains("--no-mmap"), "{err}");
}

/// The child's part: opt in to mapped reads (or not), open `path` through the library's
/// reading API, shorten it to half, read every chunk; an error is printed as the binary prints
/// it, with exit code 2.
#[cfg(target_os = "linux")]
fn shrink_while_reading(path: &str, mmap: bool) {
    if mmap {
        shuntscope::allow_mmap();
    }
    let opts = shuntscope::IngestOptions {
        mmap_min_bytes: 0,
        ..shuntscope::IngestOptions::default()
    };
    let mut reader = shuntscope::read(path, &opts, None).unwrap();
    let size = std::fs::metadata(path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(size / 2)
        .unwrap();
    let mut chunk = shuntscope::Chunk::default();
    // A mapped read must not get past the shortened end: the guard ends the process.
    loop {
        match reader.next_chunk(&mut chunk) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                // Straight to stderr: the test harness captures eprintln!, and exit skips it.
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "error: {e}");
                std::process::exit(2);
            }
        }
    }
}
