//! `batch` and `merge` on the samples and on small generated folders.

use crate::common::*;
use std::collections::HashMap;

fn batch(args: &[&str]) -> std::process::Output {
    let mut all = vec!["batch"];
    all.extend_from_slice(args);
    run(&all)
}

/// summary.csv as rows of column → value.
fn summary_rows(dir: &std::path::Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

fn row<'a>(
    rows: &'a [HashMap<String, String>],
    group: &str,
    label: &str,
) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| r["group"] == group && r["label"] == label)
        .unwrap_or_else(|| panic!("no row {group}/{label}"))
}

fn num(r: &HashMap<String, String>, col: &str) -> f64 {
    r[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col}: {:?}", r[col]))
}

#[test]
fn seed_samples_reproduce_the_seed() {
    let dir = TempDir::new();
    let out = dir.path("report");
    let o = batch(&[
        repo("samples/seed").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for f in [
        "report.md",
        "report.html",
        "report.json",
        "events.parquet",
        "summary.parquet",
        "summary.csv",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let rows = summary_rows(&out);
    for col in [
        "group",
        "label",
        "n",
        "mean_excess_charge_ma_ms",
        "sd_excess_charge_ma_ms",
        "ci95_low_excess_charge_ma_ms",
        "ci95_high_excess_charge_ma_ms",
        "mean_duration_ms",
        "mean_energy_mj",
    ] {
        assert!(rows[0].contains_key(col), "summary.csv lacks {col}");
    }
    let msg = |g: &str| num(row(&rows, g, "message"), "mean_excess_charge_ma_ms");
    // The seed's ordering of the steady cost.
    assert!(msg("HTTPS") > msg("HTTP") && msg("HTTP") > msg("MQTTS") && msg("MQTTS") > msg("MQTT"));
    for g in ["HTTP", "HTTPS", "MQTT", "MQTTS"] {
        let c = row(&rows, g, "connect");
        assert_eq!(num(c, "n"), 1.0);
        assert_eq!(num(row(&rows, g, "message"), "n"), 9.0);
        // About 64 mA × 70–80 ms.
        let q = num(c, "mean_excess_charge_ma_ms");
        assert!((64.0 * 65.0..64.0 * 88.0).contains(&q), "{g} connect {q}");
        // Energy at the manifest's 5 V.
        assert!((num(c, "mean_energy_mj") - q * 5.0 / 1e3).abs() < 1e-9 * q);
    }
    // The lesson is in the report, in numbers.
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("idle current"), "{md}");
    assert!(md.contains("more than 10%"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let spread = f(&json["summaries"]["lesson"]["life_spread"][0][1]);
    assert!(
        spread < 0.01,
        "at 1 s the protocol changes battery life by {spread}"
    );
    // A second run refuses to overwrite; --force replaces.
    let o = batch(&[
        repo("samples/seed").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    let o = batch(&[
        repo("samples/seed").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--force",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn statistics_match_an_independent_computation() {
    let dir = TempDir::new();
    let out = dir.path("r");
    let o = batch(&[
        repo("samples/seed").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let rows = summary_rows(&out);
    for file in json["files"].as_array().unwrap() {
        let group = file["group"].as_str().unwrap();
        let x: Vec<f64> = file["result"]["attribution"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["label"] == "message")
            .map(|e| f(&e["excess_charge_ma_ms"]))
            .collect();
        assert_eq!(x.len(), 9);
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        // t(0.975, 8) = 2.306004 from tables.
        let half = 2.306004 * sd / n.sqrt();
        let r = row(&rows, group, "message");
        assert!((num(r, "mean_excess_charge_ma_ms") - mean).abs() < 1e-9 * mean);
        assert!((num(r, "sd_excess_charge_ma_ms") - sd).abs() < 1e-9 * sd);
        assert!((num(r, "ci95_low_excess_charge_ma_ms") - (mean - half)).abs() < 1e-5 * mean);
        assert!((num(r, "ci95_high_excess_charge_ma_ms") - (mean + half)).abs() < 1e-5 * mean);
    }
}

#[test]
fn a_corrupt_file_is_reported_and_the_rest_goes_on() {
    let dir = TempDir::new();
    let folder = dir.path("run/protoA");
    std::fs::create_dir_all(&folder).unwrap();
    for (name, seed) in [("a1.csv", "1"), ("a2.csv", "2")] {
        let o = run(&[
            "synth",
            "--burst",
            "0.1:6:64",
            "--burst",
            "1.1:6:64",
            "--burst",
            "2.1:6:64",
            "--duration",
            "3s",
            "--seed",
            seed,
            "-o",
            folder.join(name).to_str().unwrap(),
        ]);
        assert!(o.status.success());
        std::fs::remove_file(folder.join(format!("{name}.truth.json"))).unwrap();
    }
    std::fs::write(
        folder.join("broken.csv"),
        "time_s,current_ma\n0,1\n0.001,abc\n0.002,3\n",
    )
    .unwrap();
    let out = dir.path("report");
    let o = batch(&[
        dir.path("run").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--period",
        "1s",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("broken.csv:3:2:"), "{err}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("Files that failed") && md.contains("broken.csv"));
    let rows = summary_rows(&out);
    // Group from the folder name; both good files counted (2 × 2 messages).
    assert_eq!(num(row(&rows, "protoA", "message"), "n"), 4.0);
}

#[test]
fn shards_merge_into_the_whole() {
    let dir = TempDir::new();
    let seed = repo("samples/seed");
    let whole = dir.path("whole");
    assert!(batch(&[
        seed.to_str().unwrap(),
        "--out",
        whole.to_str().unwrap(),
        "-q"
    ])
    .status
    .success());
    for i in 1..=3 {
        let o = batch(&[
            seed.to_str().unwrap(),
            "--out",
            dir.path(&format!("s{i}")).to_str().unwrap(),
            "--shard",
            &format!("{i}/3"),
            "-q",
        ]);
        assert!(o.status.success());
    }
    let merged = dir.path("merged");
    let o = run(&[
        "merge",
        "--out",
        merged.to_str().unwrap(),
        dir.path("s1").to_str().unwrap(),
        dir.path("s2").to_str().unwrap(),
        dir.path("s3").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Report:"));
    // --no-summary: the same folder, nothing on standard output (for scripts).
    let quiet = dir.path("merged-quiet");
    let o = run(&[
        "merge",
        "--no-summary",
        "--out",
        quiet.to_str().unwrap(),
        dir.path("s1").to_str().unwrap(),
        dir.path("s2").to_str().unwrap(),
        dir.path("s3").to_str().unwrap(),
    ]);
    assert!(o.status.success() && o.stdout.is_empty(), "{o:?}");
    assert_eq!(
        std::fs::read_to_string(quiet.join("summary.csv")).unwrap(),
        std::fs::read_to_string(merged.join("summary.csv")).unwrap()
    );
    let o = batch(&[
        seed.to_str().unwrap(),
        "--out",
        dir.path("quiet").to_str().unwrap(),
        "-q",
        "--no-summary",
    ]);
    assert!(o.status.success() && o.stdout.is_empty(), "{o:?}");
    assert!(dir.path("quiet").join("summary.csv").exists());
    assert_eq!(
        std::fs::read_to_string(whole.join("summary.csv")).unwrap(),
        std::fs::read_to_string(merged.join("summary.csv")).unwrap()
    );
}

#[test]
fn events_parquet_has_one_row_per_event() {
    use polars::prelude::*;
    let dir = TempDir::new();
    let out = dir.path("r");
    assert!(batch(&[
        repo("samples/seed").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q"
    ])
    .status
    .success());
    let df = ParquetReader::new(std::fs::File::open(out.join("events.parquet")).unwrap())
        .finish()
        .unwrap();
    assert_eq!(df.height(), 40);
    for c in [
        "file",
        "group",
        "label",
        "start_s",
        "duration_ms",
        "excess_charge_ma_ms",
        "energy_mj",
    ] {
        assert!(df.column(c).is_ok(), "events.parquet lacks {c}");
    }
    let s = ParquetReader::new(std::fs::File::open(out.join("summary.parquet")).unwrap())
        .finish()
        .unwrap();
    assert_eq!(s.height(), 8);
}

#[test]
fn events_file_with_a_clock_offset() {
    // Bursts at 0.2, 1.2, 2.2 s; a device log whose clock is 1000 s ahead, with one extra
    // logged event that has no burst.
    let dir = TempDir::new();
    let folder = dir.path("run/dev");
    std::fs::create_dir_all(&folder).unwrap();
    let trace = folder.join("t.csv");
    assert!(run(&[
        "synth",
        "--burst",
        "0.2:6:64",
        "--burst",
        "1.2:30:64",
        "--burst",
        "2.2:6:64",
        "--duration",
        "3.5s",
        "-o",
        trace.to_str().unwrap()
    ])
    .status
    .success());
    std::fs::remove_file(folder.join("t.csv.truth.json")).unwrap();
    let log = dir.write(
        "log.csv",
        b"time_s,label\n1000.199,connect\n1001.199,publish\n1002.199,publish\n1003.199,publish\n",
    );
    let out = dir.path("r");
    let o = batch(&[
        dir.path("run").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--events",
        log.to_str().unwrap(),
        "--label",
        "publish",
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let a = &json["files"][0]["result"]["attribution"];
    assert!(
        (f(&a["offset_s"]) + 999.999).abs() < 0.002,
        "{}",
        a["offset_s"]
    );
    assert_eq!(a["events"].as_array().unwrap().len(), 3);
    assert_eq!(a["unmatched_events"].as_array().unwrap().len(), 1);
    let rows = summary_rows(&out);
    assert_eq!(num(row(&rows, "dev", "publish"), "n"), 2.0);
}

#[test]
fn html_escapes_everything_from_files_and_manifests() {
    let dir = TempDir::new();
    let run_dir = dir.path("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    let t = run_dir.join("a.csv");
    assert!(run(&[
        "synth",
        "--burst",
        "0.2:6:64",
        "--burst",
        "1.2:6:64",
        "--duration",
        "2s",
        "-o",
        t.to_str().unwrap()
    ])
    .status
    .success());
    std::fs::remove_file(run_dir.join("a.csv.truth.json")).unwrap();
    std::fs::write(
        run_dir.join("manifest.csv"),
        "file,group,payload,options\na.csv,\"<script>alert('x')</script>&\",\"<img src=x onerror=1>\",--period 1s\n",
    )
    .unwrap();
    let out = dir.path("r");
    let o = batch(&[
        run_dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("<script>") && !html.contains("<img src=x"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("src=\"//"));
}

#[test]
fn marker_column_starts_events() {
    // 1 kHz... no: 10 kS/s, 4 s. Bursts (+64 mA, 6 ms) at 0.2, 1.2 and 2.2 s; marker pulses
    // (D0 high for 2 ms) at 0.195, 1.195 and 3.195 s. So: connect and one message; an edge
    // with no burst (3.195 s); a burst with no edge (2.2 s).
    let mut text = String::from("time_s,current_ma,D0\n");
    for k in 0..40_000 {
        let t = k as f64 * 1e-4;
        let i = 100.0
            + [0.2, 1.2, 2.2]
                .iter()
                .map(|s| burst_ma(64.0, 6.0, 0.3, 0.5, (t - s) * 1e3))
                .sum::<f64>();
        let m = [0.195, 1.195, 3.195]
            .iter()
            .any(|s| t >= *s && t < s + 0.002) as u8;
        text.push_str(&format!("{t:.4},{i:.5},{m}\n"));
    }
    let dir = TempDir::new();
    let folder = dir.path("run/dev");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("m.csv"), text).unwrap();
    let out = dir.path("r");
    let o = batch(&[
        dir.path("run").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--marker-col",
        "D0",
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let a = &json["files"][0]["result"]["attribution"];
    assert_eq!(a["source"], "marker");
    let ev = a["events"].as_array().unwrap();
    assert_eq!(ev.len(), 2);
    assert_eq!(
        (ev[0]["label"].as_str(), ev[1]["label"].as_str()),
        (Some("connect"), Some("message"))
    );
    // Closed form: 64 × (6 − 0.3 (1 − e^-20)) + 64 (1 − e^-20) × 0.5 = 380.8 mA·ms.
    let truth = closed_form_excess_ma_ms(64.0, 6.0, 0.3, 0.5);
    assert!((f(&ev[1]["excess_charge_ma_ms"]) - truth).abs() < 0.01 * truth);
    assert_eq!(a["unmatched_events"].as_array().unwrap().len(), 1);
    assert!((f(&a["unmatched_events"][0][0]) - 3.195).abs() < 1e-3);
    assert_eq!(a["unexplained_bursts"], serde_json::json!([2]));
}

/// Three groups whose idle currents differ (161.7, 179.9, 164.8 mA) and whose messages cost the
/// same: the lesson must not both say the choice changes battery life by about 10% and that it
/// never does. One definition (message cost at a common idle current) for every number, and the
/// idle difference named as such.
#[test]
fn lesson_with_unequal_idle_currents_is_consistent() {
    let dir = TempDir::new();
    for (g, idle, seed) in [
        ("A", "161.7", "1"),
        ("B", "179.9", "2"),
        ("C", "164.8", "3"),
    ] {
        let folder = dir.path(&format!("runs/{g}"));
        std::fs::create_dir_all(&folder).unwrap();
        let out = folder.join("t.csv");
        let o = run(&[
            "synth",
            "--every",
            "1s",
            "--at",
            "0.25",
            "--on-ms",
            "6",
            "--first-on-ms",
            "80",
            "--duration",
            "10s",
            "--baseline-ma",
            idle,
            "--seed",
            seed,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::remove_file(folder.join("t.csv.truth.json")).unwrap();
    }
    let out = dir.path("report");
    let o = batch(&[
        dir.path("runs").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--period",
        "1s",
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let lesson = &json["summaries"]["lesson"];
    let text = lesson["text"].as_str().unwrap();
    // Messages cost the same (6 ms × 64 mA each): at 1 s they move battery life by well under
    // 10%, and with the same definition there is no interval where they move it by more.
    let at_1s = f(&lesson["life_spread"][0][1]);
    assert!(at_1s < 0.02, "{at_1s}: {text}");
    assert!(lesson["crossover_interval_s"].is_null(), "{text}");
    assert!(text.contains("At no interval"), "{text}");
    // The idle currents are named as what makes the difference: (179.9 − 161.7) / 179.9 = 10.1%.
    assert!(
        text.contains("idle currents differ (161.7 to 179.9 mA)"),
        "{text}"
    );
    assert!(
        text.contains("10.1% from the idle currents alone"),
        "{text}"
    );
    assert!(text.contains("makes most of the difference"), "{text}");
}

/// `batch --views` writes one view page per file into the report's views/ folder, in the
/// files' order, and changes nothing else: report.json is byte for byte the one without it.
#[test]
fn views_are_one_page_per_file_and_change_nothing_else() {
    let dir = TempDir::new();
    let (with, without) = (dir.path("with"), dir.path("without"));
    for (out, extra) in [(&with, vec!["--views"]), (&without, vec![])] {
        let mut args = vec![
            "batch",
            "samples/seed",
            "--out",
            out.to_str().unwrap(),
            "-q",
            "--no-summary",
        ];
        args.extend(extra);
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_shuntscope"))
            .args(&args)
            .current_dir(repo("."))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let mut pages: Vec<String> = std::fs::read_dir(with.join("views"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    assert_eq!(
        pages,
        [
            "0000-http.csv.html",
            "0001-https.csv.html",
            "0002-mqtt.csv.html",
            "0003-mqtts.csv.html"
        ]
    );
    for p in &pages {
        let html = std::fs::read_to_string(with.join("views").join(p)).unwrap();
        assert!(html.contains("default-src 'none'") && html.contains("shuntscopeView"));
    }
    assert!(!without.join("views").exists());
    assert_eq!(
        std::fs::read(with.join("report.json")).unwrap(),
        std::fs::read(without.join("report.json")).unwrap()
    );
}
