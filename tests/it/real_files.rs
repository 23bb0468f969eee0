//! Real instrument exports (tests/fixtures, provenance in PROVENANCE.md). Expected numbers were
//! read off the files by hand (grep, awk, od), not produced by shuntscope.

use crate::common::*;

fn fixture(name: &str) -> std::path::PathBuf {
    repo(&format!("tests/fixtures/{name}"))
}

#[test]
fn dso_nano_v3_data16() {
    // 4094 rows `ddd,` between the TRACK header and NUL padding; pixels 038..085; 2.0 V/div, ×1.
    // With 0 V at pixel 0 and a 1 Ω shunt: 80 mV per pixel → 80 mA per pixel; peak 85 px = 6800 mA.
    let a = analyze_json(
        &fixture("dso-nano-v3_DATA16.CSV"),
        &[
            "--sample-interval",
            "1ms",
            "--zero-px",
            "0",
            "--shunt-ohms",
            "1",
        ],
    );
    assert_eq!(a["format"], "dso-nano-v3");
    assert_eq!(a["samples"], 4094);
    assert!((f(&a["totals"]["duration_s"]) - 4.093).abs() < 1e-9);
    let peak = a["bursts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| f(&b["peak_ma"]))
        .fold(f64::MIN, f64::max);
    assert!((peak - 6800.0).abs() < 1e-6, "peak {peak}");
    // A ground level at pixel 38 makes the lowest samples 0 V.
    let a = analyze_json(
        &fixture("dso-nano-v3_DATA16.CSV"),
        &[
            "--sample-interval",
            "1ms",
            "--zero-px",
            "38",
            "--shunt-ohms",
            "1",
        ],
    );
    let peak = a["bursts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| f(&b["peak_ma"]))
        .fold(f64::MIN, f64::max);
    assert!((peak - (85.0 - 38.0) * 80.0).abs() < 1e-6);
}

#[test]
fn dso_nano_without_time_base_or_ground() {
    let p = fixture("dso-nano-v3_DATA16.CSV");
    let p = p.to_str().unwrap();
    for (args, names, not) in [
        (vec![], vec!["--sample-interval", "--zero-px"], None),
        (
            vec!["--zero-px", "20"],
            vec!["--sample-interval"],
            Some("--zero-px"),
        ),
        (
            vec!["--sample-interval", "1ms"],
            vec!["--zero-px"],
            Some("--sample-interval"),
        ),
    ] {
        let mut all = vec!["analyze", p];
        all.extend(args);
        let out = run(&all);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("dso-nano-v3_DATA16.CSV"), "{err}");
        for n in names {
            assert!(err.contains(n), "{err}");
        }
        if let Some(n) = not {
            assert!(!err.contains(n), "{err}");
        }
    }
}

#[test]
fn rigol_ds1000z_two_channels() {
    // 1200 rows, X = 0..1199, Start -1.64e-05, Increment 2e-07.
    let a = analyze_json(&fixture("rigol-ds1000z_2ch.csv"), &[]);
    assert_eq!(a["format"], "rigol-ds1000z");
    assert_eq!(a["samples"], 1200);
    assert!((f(&a["sample_interval_s"]) - 2e-7).abs() < 1e-15);
    assert!((f(&a["totals"]["duration_s"]) - 1199.0 * 2e-7).abs() < 1e-12);
    assert_eq!(a["input"]["value_column"], "column 2 \"CH1\"");
    let b = analyze_json(&fixture("rigol-ds1000z_2ch.csv"), &["--value-col", "CH2"]);
    assert_eq!(b["input"]["value_column"], "column 3 \"CH2\"");
}

#[test]
fn rigol_ds1000z_one_channel() {
    // First 3000 lines: 2 header lines and 2998 rows; Increment 2e-09.
    let a = analyze_json(&fixture("rigol-ds1000z_1ch_head3000.csv"), &[]);
    assert_eq!(a["samples"], 2998);
    assert!((f(&a["sample_interval_s"]) - 2e-9).abs() < 1e-18);
}

#[test]
fn rigol_ds1000e_units_row() {
    // `Time,X(CH1),X(CH2),` / `Second,Volt,Volt,`; 600 rows from -9.5999989e-05 to 5.0300121e-04.
    let a = analyze_json(&fixture("rigol-ds1000e_2ch.csv"), &[]);
    assert_eq!(a["samples"], 600);
    assert!((f(&a["totals"]["duration_s"]) - (5.0300121e-04 + 9.5999989e-05)).abs() < 1e-12);
    assert!((f(&a["sample_interval_s"]) - 1e-6).abs() < 1e-12);
    assert_eq!(a["quantity"], "voltage");
}

#[test]
fn keysight_engineering_notation_and_empty_last_row() {
    // 1000 rows; the last, `+998.000E-06,,`, has no values: skipped and reported.
    let a = analyze_json(&fixture("keysight-mso7034a_2ch.csv"), &[]);
    assert_eq!(a["samples"], 999);
    assert!((f(&a["totals"]["duration_s"]) - (996e-6 + 1e-3)).abs() < 1e-12);
    assert!((f(&a["sample_interval_s"]) - 2e-6).abs() < 1e-12);
    let w = a["warnings"].as_array().unwrap();
    let e = w
        .iter()
        .find(|w| w["code"] == "empty-cells")
        .expect("empty-cells warning");
    assert!(e["message"].as_str().unwrap().contains("line 1002"));
}

#[test]
fn siglent_metadata_block() {
    // 11 metadata lines of uneven width, `Second,Volt` on line 12, then 2988 rows with a leading space.
    let a = analyze_json(&fixture("siglent-sds1202xe_head3000.csv"), &[]);
    assert_eq!(a["samples"], 2988);
    assert!((f(&a["totals"]["duration_s"]) - 0.005974).abs() < 1e-12);
    assert_eq!(a["input"]["data_line"], 13);
}

#[test]
fn tektronix_key_value_block() {
    // 20-line key/value block, blank `,,` lines, `Label,,`, `TIME,CH1,CH2`, then 2979 rows.
    // The unit is only in the metadata ("Vertical Units,V,V").
    let a = analyze_json(&fixture("tektronix-mdo4104c_head3000.csv"), &[]);
    assert_eq!(a["format"], "tektronix");
    assert_eq!(a["samples"], 2979);
    assert_eq!(a["input"]["value_unit"], "V");
    assert!((f(&a["totals"]["duration_s"]) - (4.03e-4 - 3.4344e-4)).abs() < 1e-12);
    assert!((f(&a["sample_interval_s"]) - 2e-8).abs() < 1e-15);
}

#[test]
fn saleae_and_joulescope_units_from_the_format() {
    // Saleae analog exports are in volts: `Time [s],ADC,FUENTE CORRIENTE`, first row
    // 0.000067442,-0.012,-0.011; 2999 rows.
    let a = analyze_json(&fixture("saleae-logic2-analog_head3000.csv"), &[]);
    assert_eq!(a["format"], "saleae-logic2");
    assert_eq!(a["samples"], 2999);
    assert_eq!(a["quantity"], "voltage");
    // Joulescope statistics: `#time,current,voltage,...` in SI units, 2 Hz, 21 rows; current in A.
    let a = analyze_json(&fixture("joulescope-ui_statistics.csv"), &[]);
    assert_eq!(a["format"], "joulescope");
    assert_eq!(a["samples"], 21);
    assert!((f(&a["sample_interval_s"]) - 0.5).abs() < 1e-12);
    assert_eq!(a["quantity"], "current");
    // Trapezoid mean of the current column × 1000, computed with awk over the file:
    // 433.459825 mA.
    assert!(
        (f(&a["totals"]["mean_ma"]) - 433.459825).abs() < 1e-6,
        "{}",
        a["totals"]["mean_ma"]
    );
}

#[test]
fn every_fixture_is_detected_as_its_format() {
    for (file, format, extra) in [
        (
            "dso-nano-v3_DATA16.CSV",
            "dso-nano-v3",
            vec!["--sample-interval", "1ms", "--zero-px", "0"],
        ),
        ("rigol-ds1000z_2ch.csv", "rigol-ds1000z", vec![]),
        ("rigol-ds1000z_1ch_head3000.csv", "rigol-ds1000z", vec![]),
        ("rigol-ds1000e_2ch.csv", "rigol-ds1000e", vec![]),
        (
            "keysight-mso7034a_2ch.csv",
            "keysight-infiniivision",
            vec![],
        ),
        ("tektronix-mdo4104c_head3000.csv", "tektronix", vec![]),
        ("siglent-sds1202xe_head3000.csv", "siglent-sds", vec![]),
        ("saleae-logic2-analog_head3000.csv", "saleae-logic2", vec![]),
        ("joulescope-ui_statistics.csv", "joulescope", vec![]),
    ] {
        let p = fixture(file);
        let mut args = vec!["inspect", p.to_str().unwrap(), "-f", "json"];
        args.extend(extra);
        let out = run(&args);
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(a["format"], format, "{file}");
    }
}

#[test]
fn inspect_shows_first_and_last_samples() {
    // Rigol DS1000Z 2ch: first row `0,8.00e-02,8.00e-01,` at Start -1.64e-05 s; last row
    // `1199,8.00e-02,0.00e+00,` at -1.64e-05 + 1199 × 2e-07 s.
    let out = run(&[
        "inspect",
        fixture("rigol-ds1000z_2ch.csv").to_str().unwrap(),
        "-f",
        "json",
    ]);
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["samples"], 1200);
    assert!((f(&a["first_time_s"]) + 1.64e-5).abs() < 1e-15);
    assert!((f(&a["last_time_s"]) - (-1.64e-5 + 1199.0 * 2e-7)).abs() < 1e-15);
    assert_eq!(f(&a["first_value"]), 0.08);
    assert_eq!(f(&a["last_value"]), 0.08);
    // CH2 through --channel: first 8.00e-01, last 0.00e+00.
    let out = run(&[
        "inspect",
        fixture("rigol-ds1000z_2ch.csv").to_str().unwrap(),
        "-f",
        "json",
        "--channel",
        "CH2",
    ]);
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((f(&a["first_value"]), f(&a["last_value"])), (0.8, 0.0));
    // The table form names the format and the columns.
    let out = run(&[
        "inspect",
        fixture("rigol-ds1000z_2ch.csv").to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("rigol-ds1000z") && text.contains("\"CH2\""),
        "{text}"
    );
}

#[test]
fn first_and_last_samples_of_every_real_file() {
    // (file, extra args, samples, first time s, last time s, first value, last value), values
    // in V (or mA for current files), read off the files by hand with grep/head/tail.
    type Case<'a> = (&'a str, Vec<&'a str>, u64, f64, f64, f64, f64);
    let cases: Vec<Case> = vec![
        (
            "keysight-mso7034a_2ch.csv",
            vec![],
            999,
            -1.0e-3,
            996e-6,
            -249.982e-6,
            2.499750018,
        ),
        (
            "rigol-ds1000e_2ch.csv",
            vec![],
            600,
            -9.5999989e-05,
            5.0300121e-04,
            0.0,
            1.6,
        ),
        (
            "rigol-ds1000z_1ch_head3000.csv",
            vec![],
            2998,
            -3e-5,
            -3e-5 + 2997.0 * 2e-9,
            182.0,
            124.0,
        ),
        (
            "siglent-sds1202xe_head3000.csv",
            vec![],
            2988,
            0.0,
            0.005974,
            1.16,
            1.38,
        ),
        (
            "tektronix-mdo4104c_head3000.csv",
            vec![],
            2979,
            -4.03e-4,
            -3.4344e-4,
            4.96,
            5.04,
        ),
        (
            "saleae-logic2-analog_head3000.csv",
            vec![],
            2999,
            0.000067442,
            59.96006744,
            -0.012,
            0.274,
        ),
        (
            "joulescope-ui_statistics.csv",
            vec![],
            21,
            0.0,
            10.0,
            399.422,
            475.491,
        ),
        // Nano: pixels 083 and 045; 2 V/div → 0.08 V per pixel with 0 V at pixel 0.
        (
            "dso-nano-v3_DATA16.CSV",
            vec!["--sample-interval", "1ms", "--zero-px", "0"],
            4094,
            0.0,
            4.093,
            83.0 * 0.08,
            45.0 * 0.08,
        ),
    ];
    for (file, extra, n, t0, t1, v0, v1) in cases {
        let p = fixture(file);
        let mut args = vec!["inspect", p.to_str().unwrap(), "-f", "json"];
        args.extend(extra);
        let out = run(&args);
        assert!(out.status.success(), "{file}");
        let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * y.abs().max(1e-6);
        assert_eq!(a["samples"], n, "{file}");
        assert!(
            close(f(&a["first_time_s"]), t0),
            "{file}: first time {}",
            a["first_time_s"]
        );
        assert!(
            close(f(&a["last_time_s"]), t1),
            "{file}: last time {}",
            a["last_time_s"]
        );
        assert!(
            close(f(&a["first_value"]), v0),
            "{file}: first value {}",
            a["first_value"]
        );
        assert!(
            close(f(&a["last_value"]), v1),
            "{file}: last value {}",
            a["last_value"]
        );
    }
}

/// The shape reader (SIMD) and the scalar parser read every real export to the same JSON (that
/// the shape reader takes rows of such layouts is checked in the reader's unit tests).
#[test]
fn real_files_read_the_same_with_and_without_the_shape_reader() {
    for (file, extra) in [
        (
            "dso-nano-v3_DATA16.CSV",
            vec!["--sample-interval", "1ms", "--zero-px", "0"],
        ),
        ("rigol-ds1000z_2ch.csv", vec![]),
        ("rigol-ds1000z_1ch_head3000.csv", vec![]),
        ("rigol-ds1000e_2ch.csv", vec![]),
        ("keysight-mso7034a_2ch.csv", vec![]),
        ("tektronix-mdo4104c_head3000.csv", vec![]),
        ("siglent-sds1202xe_head3000.csv", vec![]),
        ("saleae-logic2-analog_head3000.csv", vec![]),
        ("joulescope-ui_statistics.csv", vec![]),
    ] {
        let p = fixture(file);
        let json = |simd: bool| {
            let mut cmd = bin();
            cmd.args(["analyze", p.to_str().unwrap(), "-f", "json", "-q"]);
            if !simd {
                cmd.arg("--no-simd");
            }
            cmd.args(&extra);
            let out = cmd.output().unwrap();
            (out.status.code(), out.stdout, out.stderr)
        };
        assert_eq!(json(true), json(false), "{file}");
    }
}
