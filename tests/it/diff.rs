//! `shuntscope diff`: a 12% rise in burst current is flagged as a regression, a second sample
//! from the same distribution passes, the JUnit XML is shaped as CI reporters read it, and a
//! merged report diffs as the unsharded one.

use crate::common::*;

/// A folder `dir/name/dev/` of `files` synthetic traces: ten bursts at 1 s, the first a
/// 80 ms connection set-up, `amp_ma` high, seeds from `seed`.
fn traces(dir: &TempDir, name: &str, amp_ma: f64, seed: u64, files: u64) -> String {
    let folder = dir.path(&format!("{name}/dev"));
    std::fs::create_dir_all(&folder).unwrap();
    for k in 0..files {
        let out = folder.join(format!("t{k}.csv"));
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
            "--amp-ma",
            &amp_ma.to_string(),
            "--seed",
            &(seed + k).to_string(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::remove_file(folder.join(format!("t{k}.csv.truth.json"))).unwrap();
    }
    dir.path(name).to_str().unwrap().to_string()
}

fn diff_json(old: &str, new: &str, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut args = vec!["diff", old, new, "-f", "json", "--period", "1s"];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(
        matches!(o.status.code(), Some(0) | Some(1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), serde_json::from_slice(&o.stdout).unwrap())
}

fn row<'a>(d: &'a serde_json::Value, label: &str) -> &'a serde_json::Value {
    d["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"] == "dev" && r["label"] == label)
        .unwrap()
}

#[test]
fn a_twelve_percent_rise_is_a_regression_and_a_resample_is_not() {
    let dir = TempDir::new();
    let old = traces(&dir, "old", 64.0, 1, 3);
    let up = traces(&dir, "up", 64.0 * 1.12, 10, 3);
    let again = traces(&dir, "again", 64.0, 20, 3);
    let (code, d) = diff_json(&old, &up, &[]);
    assert_eq!(code, Some(1), "{d}");
    let m = row(&d, "message");
    assert_eq!(m["verdict"], "regression", "{m}");
    assert_eq!(
        (m["old_n"].as_u64(), m["new_n"].as_u64()),
        (Some(27), Some(27))
    );
    // Excess charge scales with the amplitude: the ratio is 1.12 within the noise.
    assert!((f(&m["ratio"]) - 1.12).abs() < 0.01, "{m}");
    assert!(f(&m["ratio_ci_low"]) > 1.0 && f(&m["ratio_ci_high"]) > f(&m["ratio"]));
    assert!(f(&m["p_value"]) < 1e-6);
    assert!(d["regressions"].as_u64().unwrap() >= 1);
    // The same distribution again: no regression, exit 0.
    let (code, d) = diff_json(&old, &again, &[]);
    assert_eq!(code, Some(0), "{d}");
    let m = row(&d, "message");
    assert_ne!(m["verdict"], "regression", "{m}");
    assert!((f(&m["ratio"]) - 1.0).abs() < 0.01, "{m}");
    assert_eq!(d["regressions"], 0);
    // Above a 15% limit the rise is not a regression.
    let (code, d) = diff_json(&old, &up, &["--fail-above", "15%"]);
    assert_eq!(code, Some(0));
    assert_ne!(row(&d, "message")["verdict"], "regression");
    // --metric energy and duration compare those instead.
    let (_, d) = diff_json(&old, &up, &["--metric", "duration"]);
    assert_eq!(d["metric"], "duration");
}

#[test]
fn junit_and_markdown_for_ci() {
    let dir = TempDir::new();
    let old = traces(&dir, "old", 64.0, 1, 2);
    let up = traces(&dir, "up", 64.0 * 1.12, 10, 2);
    let xml_path = dir.path("diff.xml");
    let o = run(&[
        "diff",
        &old,
        &up,
        "--period",
        "1s",
        "-f",
        "md",
        "--junit",
        xml_path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(
        md.contains("| group | label |") && md.contains("**regression**"),
        "{md}"
    );
    // Shaped as JUnit reporters read it: testsuites > testsuite > testcase (classname, name),
    // a failure per regression, counts that add up.
    let text = std::fs::read_to_string(&xml_path).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 1);
    let suite = suites[0];
    assert_eq!(suite.tag_name().name(), "testsuite");
    let cases: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
    assert!(cases.iter().all(|c| c.tag_name().name() == "testcase"
        && c.attribute("classname").is_some()
        && c.attribute("name").is_some()));
    let tests: usize = suite.attribute("tests").unwrap().parse().unwrap();
    let failures: usize = suite.attribute("failures").unwrap().parse().unwrap();
    assert_eq!(tests, cases.len());
    let failed: Vec<_> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.tag_name().name() == "failure"))
        .collect();
    assert_eq!(failed.len(), failures);
    assert!(
        failed
            .iter()
            .any(|c| c.attribute("classname") == Some("dev")
                && c.attribute("name") == Some("message"))
    );
    assert_eq!(root.attribute("failures"), suite.attribute("failures"));
}

#[test]
fn merged_reports_diff_as_the_unsharded_one() {
    let dir = TempDir::new();
    let old = traces(&dir, "old", 64.0, 1, 4);
    let up = traces(&dir, "up", 64.0 * 1.12, 10, 2);
    let report = |args: &[&str]| {
        let o = run(args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let whole = dir.path("whole");
    report(&[
        "batch",
        &old,
        "--out",
        whole.to_str().unwrap(),
        "--period",
        "1s",
        "-q",
    ]);
    let mut shards = Vec::new();
    for i in 1..=2 {
        let s = dir.path(&format!("shard{i}"));
        report(&[
            "batch",
            &old,
            "--out",
            s.to_str().unwrap(),
            "--period",
            "1s",
            "-q",
            "--shard",
            &format!("{i}/2"),
        ]);
        shards.push(s.to_str().unwrap().to_string());
    }
    let merged = dir.path("merged");
    report(&[
        "merge",
        "--out",
        merged.to_str().unwrap(),
        &shards[0],
        &shards[1],
    ]);
    let (_, a) = diff_json(whole.to_str().unwrap(), &up, &[]);
    let (_, b) = diff_json(merged.to_str().unwrap(), &up, &[]);
    assert_eq!(a["rows"], b["rows"]);
    assert_eq!(a["regressions"], b["regressions"]);
}

#[test]
fn bad_input_is_exit_code_2() {
    let o = run(&["diff", "/no/such/folder", "/no/such/other"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    let o = run(&["diff", "a", "b", "--fail-above", "lots"]);
    assert_eq!(o.status.code(), Some(2));
}

/// The row of `kind` whose label starts with `label`.
fn row_of<'a>(d: &'a serde_json::Value, kind: &str, label: &str) -> &'a serde_json::Value {
    d["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind && r["label"].as_str().unwrap().starts_with(label))
        .unwrap_or_else(|| panic!("no {kind} row {label}: {d}"))
}

/// A flat folder `before/` against a flat folder `after/` (the groups pair although the
/// folders' names differ), one file each: the floor doubles (1 → 2 µA), the radio class's
/// charge rises (8 → 9.6 mA: 0.1 × (27 × 9.6 + 29 − 30 × 0.002) = 28.814 against 24.497
/// mA·ms), the sensor comes every 2 s instead of 4. Each row's ratio against the closed form.
#[test]
fn floor_classes_and_budget_against_the_closed_form() {
    let dir = TempDir::new();
    std::fs::create_dir_all(dir.path("before")).unwrap();
    std::fs::create_dir_all(dir.path("after")).unwrap();
    let old = crate::classes::trace_with(0.001, 8.0, 4);
    let new = crate::classes::trace_with(0.002, 9.6, 2);
    dir.write("before/device.csv", old.as_bytes());
    dir.write("after/device-v2.csv", new.as_bytes());
    let (b, a) = (dir.path("before"), dir.path("after"));
    let o = run(&[
        "diff",
        b.to_str().unwrap(),
        a.to_str().unwrap(),
        "-f",
        "json",
        "--supply-v",
        "3",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let close = |r: &serde_json::Value, want: f64, tol: f64| {
        let got = f(&r["ratio"]);
        assert!(
            (got - want).abs() <= tol * want,
            "{r}: ratio {got}, want {want}"
        );
    };
    let floor = row_of(&d, "floor", "floor");
    close(floor, 2.0, 0.01);
    assert_eq!(floor["verdict"], "regression");
    assert_eq!(floor["gates"], true);
    assert!(floor["basis"].as_str().unwrap().contains("batch means"));
    // Radio: peak 16 mA (the glitch), 3.1 ms; its charge and (unchanged) period.
    let q = |amp: f64, fl: f64| 0.1 * (27.0 * amp + 29.0 - 30.0 * fl);
    let radio = row_of(&d, "class", "class 16");
    assert!(!radio["label"].as_str().unwrap().contains("period"));
    close(radio, q(9.6, 0.002) / q(8.0, 0.001), 1e-3);
    assert_eq!(
        (radio["old_n"].as_u64(), radio["new_n"].as_u64()),
        (Some(39), Some(39))
    );
    assert_eq!(radio["gates"], false);
    let radio_period = row_of(
        &d,
        "class",
        &format!("{} period_s", radio["label"].as_str().unwrap()),
    );
    close(radio_period, 1.0, 1e-9);
    assert_eq!(radio_period["verdict"], "same");
    // Sensor: 60 mA peak, 200 ms; the same charge, half the period.
    let sensor_label = d["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .find(|l| l.starts_with("class 60"))
        .unwrap()
        .to_string();
    let sensor = row_of(&d, "class", &sensor_label);
    let qs = |fl: f64| 0.1 * (1995.0 * 20.0 + 120.0 - 1.0 - 2000.0 * fl);
    close(sensor, qs(0.002) / qs(0.001), 1e-4);
    let period = row_of(&d, "class", &format!("{sensor_label} period_s"));
    close(period, 0.5, 1e-9);
    // Twice as often costs more: a regression (not gated by default).
    assert_eq!(period["verdict"], "regression");
    // The budget with every class at its own period: floor + Q_s / T_s + Q_r / T_r.
    let budget = |fl: f64, amp: f64, ts: f64| fl + qs(fl) / (ts * 1e3) + q(amp, fl) / 1e3;
    let want = budget(0.002, 9.6, 2.0) / budget(0.001, 8.0, 4.0);
    close(row_of(&d, "budget", "budget: every class"), want, 1e-3);
    // The answer first, and the group pairs as one.
    let summary = d["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("mean current") && summary.ends_with("a regression"),
        "{summary}"
    );
    assert!(d["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["old_n"].as_u64() > Some(0)));
    // --metric chooses what gates: classes alone now; the floor no longer does.
    let o = run(&[
        "diff",
        b.to_str().unwrap(),
        a.to_str().unwrap(),
        "-f",
        "json",
        "--metric",
        "charge,class",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["gate"], serde_json::json!(["class"]));
    assert_eq!(row_of(&d, "class", "class 16")["gates"], true);
    assert_eq!(row_of(&d, "floor", "floor")["gates"], false);
    // The radio's charge and the sensor's halved period.
    assert_eq!(d["regressions"], 2, "{d}");
}

/// The Thread device's .ppk2 against itself: every row the same, exit 0.
#[test]
fn a_real_recording_against_itself_is_the_same() {
    let p = repo("tests/fixtures/native/ppk2_threadascon_thread-sed_aes-20dbm.ppk2");
    let p = p.to_str().unwrap();
    let o = run(&["diff", p, p, "-f", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = d["rows"].as_array().unwrap();
    assert!(
        rows.iter().any(|r| r["kind"] == "floor") && rows.iter().any(|r| r["label"] == "mean_ma")
    );
    for r in rows {
        assert_eq!(r["verdict"], "same", "{r}");
    }
}

/// Folders whose groups cannot pair (two differently named subfolders a side): an error that
/// says how to make them pair, exit 2, never a silent exit 0.
#[test]
fn nothing_pairs_is_an_error_that_says_how() {
    let dir = TempDir::new();
    for (side, groups) in [("old", ["a", "b"]), ("new", ["c", "d"])] {
        for g in groups {
            let folder = dir.path(&format!("{side}/{g}"));
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::copy(repo("samples/seed/mqtt.csv"), folder.join("mqtt.csv")).unwrap();
        }
    }
    let o = run(&[
        "diff",
        dir.path("old").to_str().unwrap(),
        dir.path("new").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("nothing to compare") && e.contains("a, b") && e.contains("pair"),
        "{e}"
    );
}
