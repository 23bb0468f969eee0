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
