//! Native session files (PPK2, sigrok, JLS), the Rigol three-channel export without an X
//! column, differential channels and a measured supply. Expected numbers come from an
//! independent reading: tests/fixtures/native/expected.py (zipfile and struct only) for the
//! session files, the CSV parsed here for the Rigol file, closed forms for the energies.

use crate::common::*;

fn fixture(name: &str) -> std::path::PathBuf {
    repo(&format!("tests/fixtures/{name}"))
}

fn inspect_json(path: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let p = path.to_str().unwrap();
    let mut args = vec!["inspect", p, "-f", "json"];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(
        out.status.success(),
        "inspect {p}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Expect {
    file: &'static str,
    extra: &'static [&'static str],
    samples: u64,
    interval_s: f64,
    first: f64,
    last: f64,
    min: f64,
    max: f64,
    unit: &'static str,
}

/// Values printed by tests/fixtures/native/expected.py.
const EXPECT: &[Expect] = &[
    Expect {
        file: "native/ppk2_bthome-presence_test01.ppk2",
        extra: &[],
        samples: 798260,
        interval_s: 0.0001,
        first: 0.23306100463867188,
        last: 0.0006450024843215942,
        min: 5.784415826201439e-05,
        max: 8.07352880859375,
        unit: "mA",
    },
    Expect {
        file: "native/sigrok_demo_incremental_8ch_4analog.sr",
        extra: &["--channel", "A1"],
        samples: 100,
        interval_s: 1e-06,
        first: 0.0,
        last: -3.090169906616211,
        min: -10.0,
        max: 10.0,
        unit: "V",
    },
    Expect {
        file: "native/sigrok_ds2408_2analog.sr",
        extra: &["--channel", "CH2"],
        samples: 6269,
        interval_s: 2e-06,
        first: 0.07421875,
        last: 0.0751953125,
        min: -0.0009765625,
        max: 0.0751953125,
        unit: "V",
    },
    Expect {
        file: "native/sigrok_tektronix-isf_RTC_2analog.sr",
        extra: &[],
        samples: 100000,
        interval_s: 2e-08,
        first: 4.960000038146973,
        last: 4.960000038146973,
        min: -0.23999999463558197,
        max: 5.440000057220459,
        unit: "V",
    },
    Expect {
        file: "native/joulescope_generated-by-pyjls-0.17_current-voltage.jls",
        extra: &[],
        samples: 50000,
        interval_s: 1e-05,
        first: 2.0000122021883726,
        last: 2.004199894145131,
        min: 1.9549778662621975,
        max: 52.02912539243698,
        unit: "mA",
    },
    Expect {
        file: "native/joulescope_generated-by-pyjls-0.17_current-voltage.jls",
        extra: &["--channel", "voltage"],
        samples: 50000,
        interval_s: 1e-05,
        first: 3.2983202934265137,
        last: 3.299253463745117,
        min: 3.273214101791382,
        max: 3.300143241882324,
        unit: "V",
    },
];

#[test]
fn session_files_read_exactly() {
    for e in EXPECT {
        let j = inspect_json(&fixture(e.file), e.extra);
        let what = format!("{} {:?}", e.file, e.extra);
        assert_eq!(j["samples"], e.samples, "{what}");
        assert_eq!(j["unit"], e.unit, "{what}");
        for (key, want) in [
            ("first_value", e.first),
            ("last_value", e.last),
            ("min_value", e.min),
            ("max_value", e.max),
        ] {
            let got = f(&j[key]);
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1e-9),
                "{what}: {key} {got} vs {want}"
            );
        }
        let dt = f(&j["median_interval_s"]);
        assert!(
            (dt - e.interval_s).abs() < 1e-9 * e.interval_s,
            "{what}: {dt}"
        );
        let last_t = f(&j["last_time_s"]);
        let want_t = (e.samples - 1) as f64 * e.interval_s;
        assert!((last_t - want_t).abs() < 1e-9 * want_t, "{what}: {last_t}");
    }
}

#[test]
fn sessions_are_found_by_content_not_name() {
    let dir = TempDir::new();
    let bytes = std::fs::read(fixture("native/sigrok_ds2408_2analog.sr")).unwrap();
    let p = dir.write("capture.csv", &bytes);
    let j = inspect_json(&p, &[]);
    assert_eq!(j["format"], "sigrok-session");
    assert_eq!(j["samples"], 6269);
}

#[test]
fn logic_channels_are_markers() {
    // D0 of the sigrok demo toggles every sample: 50 rising edges (expected.py reads the
    // logic chunk); each rising edge starts an event, so batch-style labelling sees 50 edges.
    let a = analyze_json(
        &fixture("native/sigrok_demo_incremental_8ch_4analog.sr"),
        &[
            "--channel",
            "A0",
            "--marker-col",
            "D0",
            "--threshold-ma",
            "1000",
        ],
    );
    assert_eq!(a["marker_edges_s"].as_array().unwrap().len(), 50);
    let a = analyze_json(
        &fixture("native/sigrok_demo_incremental_8ch_4analog.sr"),
        &[
            "--channel",
            "A0",
            "--marker-col",
            "D2",
            "--threshold-ma",
            "1000",
        ],
    );
    assert_eq!(a["marker_edges_s"].as_array().unwrap().len(), 12);
    // PPK2: no logic probe was connected; every channel's two bits read 10 (0xAAAA: high),
    // so D0 is constantly 1 (expected.py) and never rises.
    let a = analyze_json(
        &fixture("native/ppk2_bthome-presence_test01.ppk2"),
        &["--marker-col", "D0"],
    );
    assert!(a.get("marker_edges_s").is_none(), "{}", a["marker_edges_s"]);
}

#[test]
fn convert_writes_digital_channels_of_a_session() {
    let dir = TempDir::new();
    let out = dir.path("demo.csv");
    let o = run(&[
        "convert",
        fixture("native/sigrok_demo_incremental_8ch_4analog.sr")
            .to_str()
            .unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("time_s,voltage_v,D0,D1"), "{header}");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 100);
    // Sample 1: A0 = -10 + ... read by hand from expected.py's dump; D0 = 1, D1 = 0, D2 = 1.
    let r1: Vec<&str> = rows[1].split(',').collect();
    assert_eq!((r1[2], r1[3], r1[4]), ("1", "0", "1"), "{}", rows[1]);
}

#[test]
fn an_unknown_zip_archive_and_binary_data_get_one_clear_line() {
    let dir = TempDir::new();
    let p = dir.path("notes.zip");
    {
        let f = std::fs::File::create(&p).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        z.start_file("hello.txt", o).unwrap();
        std::io::Write::write_all(&mut z, b"hello").unwrap();
        z.finish().unwrap();
    }
    let out = run(&["analyze", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("a ZIP archive, not a known session file (.ppk2, .sr)"),
        "{err}"
    );
    // Random bytes: the message is printable text, never the bytes themselves.
    let mut x = 0x9e3779b97f4a7c15u64;
    let junk: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
        .collect();
    let p = dir.write("junk.bin", &junk);
    let out = run(&["inspect", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).expect("the message is UTF-8");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("binary data"), "{err}");
    assert!(
        err.chars().all(|c| c == '\n' || !c.is_control()),
        "control characters in {err:?}"
    );
}

/// Rigol DS1000Z, three channels, no X column: rows are `CH1,CH2,CH3,` and sample n is at
/// Start + n × Increment. Parsed here, independently.
fn rigol_rows() -> (f64, f64, Vec<[f64; 3]>) {
    let text = std::fs::read_to_string(fixture("rigol-ds1000z_3ch_noX_nbiot-payload.csv")).unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("CH1,CH2,CH3,Start,Increment"));
    let units: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (start, inc) = (units[3].parse().unwrap(), units[4].parse().unwrap());
    let rows = lines
        .map(|l| {
            let c: Vec<f64> = l
                .split(',')
                .take(3)
                .map(|x| x.trim().parse().unwrap())
                .collect();
            [c[0], c[1], c[2]]
        })
        .collect();
    (start, inc, rows)
}

#[test]
fn rigol_three_channels_without_x_read_by_channel_name() {
    let (start, inc, rows) = rigol_rows();
    assert_eq!((start, inc, rows.len()), (-5.995, 0.01, 1200));
    let p = fixture("rigol-ds1000z_3ch_noX_nbiot-payload.csv");
    for (k, ch) in ["CH1", "CH2", "CH3"].iter().enumerate() {
        let j = inspect_json(&p, &["--channel", ch]);
        assert_eq!(j["format"], "rigol-ds1000z", "{ch}");
        assert_eq!(j["samples"], 1200, "{ch}");
        assert_eq!(f(&j["first_time_s"]), start, "{ch}");
        assert!((f(&j["last_time_s"]) - (start + 1199.0 * inc)).abs() < 1e-12);
        assert_eq!(f(&j["first_value"]), rows[0][k], "{ch}");
        assert_eq!(f(&j["last_value"]), rows[1199][k], "{ch}");
        // By number too.
        let n = (k + 1).to_string();
        let j2 = inspect_json(&p, &["--value-col", &n]);
        assert_eq!(j2["first_value"], j["first_value"], "{ch}");
    }
}

#[test]
fn rigol_differential_channel_and_supply_by_hand() {
    let (start, inc, rows) = rigol_rows();
    let r = 0.47;
    // Current over the shunt between CH1 and CH2, power as current × CH1: trapezoid on the
    // samples, computed here.
    let t = |n: usize| start + n as f64 * inc;
    let i = |row: &[f64; 3]| (row[0] - row[1]) / r * 1e3;
    let (mut q, mut e) = (0.0, 0.0);
    for n in 1..rows.len() {
        let dt = t(n) - t(n - 1);
        q += 0.5 * (i(&rows[n - 1]) + i(&rows[n])) * dt;
        e += 0.5 * (i(&rows[n - 1]) * rows[n - 1][0] + i(&rows[n]) * rows[n][0]) * dt;
    }
    for expr in ["CH1-CH2", "1-2"] {
        let a = analyze_json(
            &fixture("rigol-ds1000z_3ch_noX_nbiot-payload.csv"),
            &["--value-col", expr, "--supply-col", "CH1"],
        );
        assert_eq!(a["input"]["value_expression"], expr);
        assert!(a["input"]["value_column"].as_str().unwrap().contains("CH2"));
        assert_eq!(a["samples"], 1200);
        let got_q = f(&a["totals"]["charge_ma_ms"]) / 1e3;
        assert!((got_q - q).abs() < 1e-9 * q.abs(), "{expr}: {got_q} vs {q}");
        let got_e = f(&a["totals"]["energy_mj"]);
        assert!((got_e - e).abs() < 1e-9 * e.abs(), "{expr}: {got_e} vs {e}");
        let covered = f(&a["totals"]["covered_s"]);
        assert!((f(&a["totals"]["mean_mw"]) - e / covered).abs() < 1e-9 * e.abs());
    }
    // Without a supply column: energy from the constant supply.
    let a = analyze_json(
        &fixture("rigol-ds1000z_3ch_noX_nbiot-payload.csv"),
        &["--value-col", "CH1-CH2", "--supply-v", "4"],
    );
    let got = f(&a["totals"]["energy_mj"]);
    assert!(
        (got - 4.0 * q).abs() < 1e-9 * q.abs(),
        "{got} vs {}",
        4.0 * q
    );
    assert!((f(&a["totals"]["mean_mw"]) - f(&a["totals"]["mean_ma"]) * 4.0).abs() < 1e-9);
}

/// The closed form of the step-and-droop recording (scripts/make-jls-fixture.py writes it as
/// JLS; the CSV test below writes the same signal as a table): idle I0, a burst of A from t1 to
/// t2 with one-sample edges, the supply drooping linearly from V0 by ΔV over the burst, held
/// through the fall and recovered over one sample. Every piece between samples is linear in
/// V·I, so the trapezoid rule is exact. Returns (burst excess energy, total energy) in mJ.
#[allow(clippy::too_many_arguments)]
fn step_droop_closed_form(
    i0: f64,
    a: f64,
    v0: f64,
    dv: f64,
    t1: f64,
    t2: f64,
    dt: f64,
    t: f64,
) -> (f64, f64) {
    let excess = a * (v0 * dt / 2.0 + (v0 - dv / 2.0) * (t2 - t1) + (v0 - dv) * dt / 2.0);
    let v_integral = v0 * t - dv / 2.0 * (t2 - t1) - dv * dt - dv / 2.0 * dt;
    (excess, i0 * v_integral + excess)
}

#[test]
fn measured_supply_energy_matches_the_closed_form() {
    let (excess, total) = step_droop_closed_form(15.625, 125.0, 3.25, 0.25, 0.3, 0.35, 1e-4, 1.0);
    // As JLS, written by the reference writer: the voltage signal is the supply by default.
    let a = analyze_json(
        &fixture("native/generated_step-droop.jls"),
        &["--baseline-ma", "15.625", "--threshold-ma", "5"],
    );
    let b = &a["bursts"][0];
    assert_eq!(a["bursts"].as_array().unwrap().len(), 1);
    assert!(
        (f(&b["energy_mj"]) - excess).abs() < 1e-6 * excess,
        "{}",
        b["energy_mj"]
    );
    assert!((f(&a["totals"]["energy_mj"]) - total).abs() < 1e-6 * total);
    assert!(a["input"]["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s.as_str().unwrap().contains("supply voltage measured")));
    // --supply-v replaces the measured voltage with a constant.
    let c = analyze_json(
        &fixture("native/generated_step-droop.jls"),
        &[
            "--baseline-ma",
            "15.625",
            "--threshold-ma",
            "5",
            "--supply-v",
            "3.25",
        ],
    );
    let q = f(&c["bursts"][0]["excess_charge_ma_ms"]);
    assert!((f(&c["bursts"][0]["energy_mj"]) - q * 3.25 / 1e3).abs() < 1e-9);
    // The same signal as a CSV table with a supply column named on the command line.
    let mut text = String::from("Time (s),Current (mA),Supply (V)\n");
    for k in 0..=10_000u32 {
        let i = if (3000..=3500).contains(&k) {
            140.625
        } else {
            15.625
        };
        let v = match k {
            3000..=3500 => 3.25 - 0.25 * (k - 3000) as f64 / 500.0,
            3501 => 3.0,
            _ => 3.25,
        };
        text.push_str(&format!("{:.4},{i},{v:?}\n", k as f64 / 1e4));
    }
    let dir = TempDir::new();
    let p = dir.write("droop.csv", text.as_bytes());
    let d = analyze_json(
        &p,
        &[
            "--baseline-ma",
            "15.625",
            "--threshold-ma",
            "5",
            "--supply-col",
            "Supply",
        ],
    );
    assert!((f(&d["bursts"][0]["energy_mj"]) - excess).abs() < 1e-9 * excess);
    assert!((f(&d["totals"]["energy_mj"]) - total).abs() < 1e-9 * total);
    assert!((f(&d["totals"]["mean_mw"]) - total / 1.0).abs() < 1e-9 * total);
}

#[test]
fn every_command_takes_session_files() {
    let dir = TempDir::new();
    let ppk = fixture("native/ppk2_bthome-presence_test01.ppk2");
    let png = dir.path("p.png");
    let o = run(&["plot", ppk.to_str().unwrap(), "-o", png.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // batch finds session files in folders.
    let folder = dir.path("runs/dev");
    std::fs::create_dir_all(&folder).unwrap();
    for name in [
        "sigrok_ds2408_2analog.sr",
        "joulescope_generated-by-pyjls-0.17_current-voltage.jls",
    ] {
        std::fs::copy(fixture(&format!("native/{name}")), folder.join(name)).unwrap();
    }
    let out = dir.path("report");
    let o = run(&[
        "batch",
        dir.path("runs").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let formats: Vec<&str> = j["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["result"]["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["jls", "sigrok-session"]);
    let o = run(&["formats"]);
    let text = String::from_utf8(o.stdout).unwrap();
    for name in ["ppk2-session", "sigrok-session", "jls"] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} not listed"
        );
    }
}

#[test]
fn a_units_row_repeating_volt_is_never_an_error() {
    let dir = TempDir::new();
    let p = dir.write(
        "units.csv",
        b"Second,Volt,Volt\n0,1,2\n0.1,1,2.5\n0.2,1.1,2\n",
    );
    let j = inspect_json(&p, &[]);
    assert_eq!(f(&j["first_value"]), 1.0);
    let j = inspect_json(&p, &["--value-col", "3"]);
    assert_eq!(f(&j["first_value"]), 2.0);
    assert_eq!(f(&j["max_value"]), 2.5);
    // Asking for "Volt" by name is ambiguous: one line that says to use a number.
    let out = run(&["inspect", p.to_str().unwrap(), "--value-col", "Volt"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("appears twice") && err.contains("by number"),
        "{err}"
    );
}

/// A session larger than the read-ahead and copy thresholds: inflated on its own thread in
/// pass 1, read from the inflated copy in pass 2. Each burst is a 30 mA step 500 samples long
/// with one-sample edges: 30 mA × 500 × 0.01 ms = 150 mA·ms exactly under the trapezoid rule.
#[test]
fn a_large_session_is_inflated_once_and_read_exactly() {
    let dir = TempDir::new();
    let p = dir.path("large.ppk2");
    let n = 3_000_000;
    large_ppk2(&p, n);
    let a = analyze_json(
        &p,
        &[
            "--baseline-ma",
            "2",
            "--threshold-ma",
            "5",
            "--marker-col",
            "D0",
        ],
    );
    let bursts = a["bursts"].as_array().unwrap();
    assert_eq!(bursts.len(), 30);
    for (k, b) in bursts.iter().enumerate() {
        let q = f(&b["excess_charge_ma_ms"]);
        assert!((q - 150.0).abs() < 1e-9, "burst {k}: {q}");
        let t = f(&b["start_s"]);
        assert!((t - (0.5 + k as f64)).abs() < 2e-5, "burst {k} at {t}");
    }
    assert_eq!(a["attribution"]["events"].as_array().unwrap().len(), 30);
    let total_ma_ms = f(&a["totals"]["charge_ma_ms"]);
    let expect = 2.0 * (n - 1) as f64 * 0.01 + 30.0 * 150.0;
    assert!(
        (total_ma_ms - expect).abs() < 1e-6 * expect,
        "{total_ma_ms} vs {expect}"
    );

    // A damaged stream in a large member: one line, exit 2, whichever thread finds it.
    let mut bytes = std::fs::read(&p).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let bad = dir.write("damaged.ppk2", &bytes);
    let out = run(&["analyze", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("session.raw") && err.contains("damaged"),
        "{err}"
    );
}

/// JLS checks each chunk's header and payload with CRC-32C: one flipped bit in a sample is an
/// error naming the chunk, not a wrong number.
#[test]
fn a_damaged_jls_file_is_an_error_not_wrong_numbers() {
    let src = fixture("native/joulescope_generated-by-pyjls-0.17_current-voltage.jls");
    let bytes = std::fs::read(&src).unwrap();
    let dir = TempDir::new();
    for (name, at) in [("payload.jls", bytes.len() / 2), ("header.jls", 32 + 20)] {
        let mut b = bytes.clone();
        b[at] ^= 0x04;
        let p = dir.write(name, &b);
        let out = run(&["analyze", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("CRC-32C") && err.contains("damaged"), "{err}");
    }
}

/// NaN samples in a session (a PPK2 app's dropped samples, Joulescope's missing data) are
/// skipped as a gap in time, never integrated, and the warning names the sample, not a line.
#[test]
fn nan_samples_in_a_session_are_a_named_gap() {
    let dir = TempDir::new();
    let p = dir.path("nan.ppk2");
    {
        let f = std::fs::File::create(&p).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("metadata.json", o).unwrap();
        let meta = br#"{"metadata": {"samplesPerSecond": 1000}, "formatVersion": 2}"#;
        std::io::Write::write_all(&mut z, meta).unwrap();
        z.start_file("session.raw", o).unwrap();
        let mut raw = Vec::new();
        for k in 0..5000u32 {
            let i = if (100..103).contains(&k) {
                f32::NAN
            } else {
                2000.0
            };
            raw.extend_from_slice(&i.to_le_bytes());
            raw.extend_from_slice(&0u16.to_le_bytes());
        }
        std::io::Write::write_all(&mut z, &raw).unwrap();
        z.finish().unwrap();
    }
    let a = analyze_json(&p, &["--baseline-ma", "2", "--threshold-ma", "1"]);
    assert_eq!(a["samples"], 4997);
    let warnings: Vec<&str> = a["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["message"].as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("3 samples without a value (NaN)") && w.contains("sample 100")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("from 0.099 s to 0.103 s")),
        "{warnings:?}"
    );
    // 2 mA over 4.999 s less the 4 ms gap: the trapezoid never bridges it.
    let q = f(&a["totals"]["charge_ma_ms"]);
    assert!((q - 2.0 * (4999.0 - 4.0)).abs() < 1e-6, "{q}");
}

/// Burst energy with a measured supply, integrated in the detection pass: two pulses 0.5 ms
/// apart merge into one burst (or stay two), and each burst's `energy_mj` equals a trapezoid
/// of V·(I − baseline) over its own start and end, computed here from the samples written.
#[test]
fn measured_energy_of_merged_and_separate_bursts_by_hand() {
    let dt = 1e-4;
    let (t, i, v): (Vec<f64>, Vec<f64>, Vec<f64>) = (0..4000u32)
        .map(|k| {
            let on =
                (1000..1100).contains(&k) || (1105..1200).contains(&k) || (3000..3050).contains(&k);
            let i = if on { 100.0 + (k % 7) as f64 } else { 10.0 };
            let v = 3.3 + 0.1 * (k as f64 / 50.0).sin();
            (k as f64 * dt, i, v)
        })
        .fold((vec![], vec![], vec![]), |mut a, (t, i, v)| {
            a.0.push(t);
            a.1.push(i);
            a.2.push(v);
            a
        });
    let mut text = String::from("time_s,current_ma,supply_v\n");
    for k in 0..t.len() {
        text.push_str(&format!("{:?},{:?},{:?}\n", t[k], i[k], v[k]));
    }
    let dir = TempDir::new();
    let p = dir.write("two.csv", text.as_bytes());
    let by_hand = |start: f64, end: f64| -> f64 {
        (0..t.len() - 1)
            .filter(|&k| t[k] >= start && t[k + 1] <= end)
            .map(|k| 0.5 * (v[k] * (i[k] - 10.0) + v[k + 1] * (i[k + 1] - 10.0)) * dt)
            .sum()
    };
    for (merge, want) in [("1", 2), ("0", 3)] {
        let a = analyze_json(
            &p,
            &[
                "--baseline-ma",
                "10",
                "--threshold-ma",
                "20",
                "--supply-col",
                "supply_v",
                "--merge-gap-ms",
                merge,
            ],
        );
        let bursts = a["bursts"].as_array().unwrap();
        assert_eq!(bursts.len(), want, "merge gap {merge} ms");
        for b in bursts {
            let e = by_hand(f(&b["start_s"]), f(&b["end_s"]));
            let got = f(&b["energy_mj"]);
            assert!(
                (got - e).abs() < 1e-9 * e.abs(),
                "merge {merge}: {got} vs {e}"
            );
        }
        let total: f64 = (0..t.len() - 1)
            .map(|k| 0.5 * (v[k] * i[k] + v[k + 1] * i[k + 1]) * dt)
            .sum();
        assert!((f(&a["totals"]["energy_mj"]) - total).abs() < 1e-9 * total);
    }
}

/// PPK2 digital channels hold two bits each (`01` low, `10` high, `11` toggled, `00`
/// undefined): a session written by tests/fixtures/native/make_ppk2_gpio.py (zipfile and struct
/// only) converts to the values that script wrote down independently, and D0 as a marker gives
/// its three rising edges (a lone toggled sample is one), an undefined stretch none.
#[test]
fn ppk2_digital_channels_are_two_bits_each() {
    let p = fixture("native/generated_gpio-pattern.ppk2");
    let want =
        std::fs::read_to_string(fixture("native/generated_gpio-pattern.expected.csv")).unwrap();
    let dir = TempDir::new();
    let out = dir.path("gpio.csv");
    let done = run(&["convert", p.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let got = std::fs::read_to_string(&out).unwrap();
    let (got, want): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    assert_eq!(got[0], want[0]);
    assert_eq!(got.len(), 1001);
    for (k, (g, w)) in got.iter().zip(&want).enumerate().skip(1) {
        let (g, w): (Vec<&str>, Vec<&str>) = (g.split(',').collect(), w.split(',').collect());
        assert_eq!(g.len(), w.len(), "line {}", k + 1);
        for (c, (a, b)) in g.iter().zip(&w).enumerate() {
            if b.is_empty() {
                assert!(
                    a.is_empty(),
                    "line {} column {c}: {a}, undefined expected",
                    k + 1
                );
            } else {
                let (a, b): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
                assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "line {} column {c}: {a} vs {b}",
                    k + 1
                );
            }
        }
    }
    // Edges 40 ms apart: a tolerance under that (the default lets a burst start 50 ms early).
    let a = analyze_json(
        &p,
        &[
            "--marker-col",
            "D0",
            "--baseline-ma",
            "1",
            "--threshold-ma",
            "2",
            "--tolerance-ms",
            "1",
        ],
    );
    let edges: Vec<f64> = a["marker_edges_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    assert_eq!(edges, vec![0.01, 0.05, 0.08]);
    // The two steps are events at their edges; the lone toggle has no burst to explain it.
    let events = a["attribution"]["events"].as_array().unwrap();
    let times: Vec<f64> = events.iter().map(|e| f(&e["time_s"])).collect();
    assert_eq!(times, vec![0.01, 0.05], "{}", a["attribution"]);
    // 5 mA over samples 101-198 (97 steps of 0.1 ms) and a one-step edge at each end:
    // 5 × 9.7 + 2 × ½ × 5 × 0.1 = 49.0 mA·ms.
    for e in events {
        assert!((f(&e["excess_charge_ma_ms"]) - 49.0).abs() < 1e-9, "{e}");
    }
    let a = analyze_json(
        &p,
        &[
            "--marker-col",
            "D2",
            "--baseline-ma",
            "1",
            "--threshold-ma",
            "2",
        ],
    );
    assert!(a.get("marker_edges_s").is_none(), "{}", a["marker_edges_s"]);
}

/// JLS signal definitions anywhere in the file. The generated file (scripts/make-jls-fixture.py,
/// pyjls) defines `voltage` after the current's data chunks: its energy is the closed form of
/// the step-and-droop signal, from the recorded supply. The real EM•Scope recording (a BLE
/// advertising event at 1.8 V) defines `voltage` and `power` after data: all three signals and
/// their source are found, and the energy is expected.py's trapezoid of V·I (18.709 µJ; at the
/// 5 V a reader without the voltage assumed, it was 51.9 µJ).
#[test]
fn jls_signals_defined_after_data_are_found() {
    let (excess, total) = step_droop_closed_form(15.625, 125.0, 3.25, 0.25, 0.3, 0.35, 1e-4, 1.0);
    let late = fixture("native/generated_late-defs.jls");
    let a = analyze_json(&late, &["--baseline-ma", "15.625", "--threshold-ma", "5"]);
    assert_eq!(
        a["input"]["columns"],
        serde_json::json!(["current", "voltage"])
    );
    assert!((f(&a["bursts"][0]["energy_mj"]) - excess).abs() < 1e-6 * excess);
    assert!((f(&a["totals"]["energy_mj"]) - total).abs() < 1e-6 * total);

    let real = fixture("native/jls_bluejoule_wba25_ble-adv-event_late-signal-defs.jls");
    let i = inspect_json(&real, &[]);
    assert_eq!(
        i["input"]["columns"],
        serde_json::json!(["current", "voltage", "power"])
    );
    assert_eq!(i["samples"], 6000);
    let scaling = i["input"]["scaling"][0].as_str().unwrap();
    assert!(
        scaling.contains("voltage (V, 1000000 S/s, from source 1 \"mysource\""),
        "{scaling}"
    );
    let a = analyze_json(&real, &["--supply-col", "voltage"]);
    let want_mj = 0.018709074764369484; // expected.py
    assert!(
        (f(&a["totals"]["energy_mj"]) - want_mj).abs() < 1e-9 * want_mj,
        "{}",
        a["totals"]
    );
    let assumed = a["input"]["assumptions"].to_string();
    assert!(!assumed.contains("constant"), "{assumed}");
    // By default too: the recorded voltage is the supply.
    let b = analyze_json(&real, &[]);
    assert_eq!(b["totals"]["energy_mj"], a["totals"]["energy_mj"]);
    // A constant supply is said to be one, in the JSON and in the table's energy line.
    let c = analyze_json(&real, &["--supply-v", "5"]);
    assert!(c["input"]["assumptions"]
        .to_string()
        .contains("energy at a constant 5 V (--supply-v)"));
    let t = run(&["analyze", real.to_str().unwrap(), "-q", "--supply-v", "5"]);
    let table = String::from_utf8_lossy(&t.stdout);
    let line = table.lines().find(|l| l.starts_with("energy")).unwrap();
    assert!(line.contains("at a constant 5 V, not measured"), "{line}");
    // Every signal can be the value: convert --channel voltage writes the supply in V.
    let dir = TempDir::new();
    let out = dir.path("v.csv");
    let o = run(&[
        "convert",
        real.to_str().unwrap(),
        "--channel",
        "voltage",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("time_s,voltage_v"));
    let first: f64 = lines
        .next()
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!((first - 1.8027317523956299).abs() < 1e-12, "{first}"); // expected.py
    assert_eq!(text.lines().count(), 6001);
}
