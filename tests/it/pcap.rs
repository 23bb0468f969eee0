//! Packet captures: exchanges checked against frame lists read by hand off tshark's dissection
//! (the committed *.tshark.tsv files, written by tshark 4.0 in scripts/capture-samples.sh), clock
//! alignment against known offsets, and the seed's ordering of bytes per message.

use crate::common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

const PAIRED: &str = "samples/paired";

/// frame number → frame.len, from a tshark field dump (first column frame.number, third
/// frame.len).
fn tshark_lengths(tsv: &Path) -> HashMap<u64, u64> {
    let text = std::fs::read_to_string(tsv).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].parse().unwrap(), f[2].parse().unwrap())
        })
        .collect()
}

/// Expected exchanges: (phase, frames), the frames read by hand off tshark's dissection.
type Spec = Vec<(&'static str, Vec<u64>)>;

fn range(a: u64, b: u64) -> Vec<u64> {
    (a..=b).collect()
}

/// Ten request/response pairs of `n` frames each, the first starting at `first`.
fn repeated(phase: &'static str, first: u64, n: u64, count: u64) -> Spec {
    (0..count)
        .map(|k| (phase, range(first + k * n, first + k * n + n - 1)))
        .collect()
}

fn expected(proto: &str) -> Spec {
    let mut s: Spec = vec![("tcp-handshake", range(1, 3))];
    match proto {
        // 4 CONNECT, 5 ACK, 6 CONNACK, 7 ACK; PUBLISH + ACK pairs; 28 DISCONNECT … 32 last ACK.
        "mqtt" => {
            s.push(("connect", range(4, 7)));
            s.extend(repeated("publish", 8, 2, 10));
            s.push(("teardown", range(28, 32)));
        }
        // 4 ClientHello … 9 server session tickets (TLS 1.3); 10 first client record (CONNECT)
        // … 14; record + ACK pairs; 35 DISCONNECT record, 37 close_notify, 39 FIN … 41 RST.
        "mqtts" => {
            s.push(("tls-handshake", range(4, 9)));
            s.push(("connect", range(10, 14)));
            s.extend(repeated("publish", 15, 2, 10));
            s.push(("teardown", range(35, 41)));
        }
        // 4 POST, 5 ACK, 6 200, 7 ACK; then POST, 200, ACK; 35 FIN … 37.
        "http" => {
            s.push(("request", range(4, 7)));
            s.extend(repeated("request", 8, 3, 9));
            s.push(("teardown", range(35, 37)));
        }
        // TLS 1.2: 4 ClientHello … 9 server CCS + Finished; record, record, ACK; 40 alert … 44.
        "https" => {
            s.push(("tls-handshake", range(4, 9)));
            s.extend(repeated("request", 10, 3, 10));
            s.push(("teardown", range(40, 44)));
        }
        _ => unreachable!(),
    }
    s
}

/// (phase, first frame, packets, bytes) from a spec and tshark's lengths.
fn counted(spec: &Spec, len: &HashMap<u64, u64>) -> Vec<(String, u64, u64, u64)> {
    spec.iter()
        .map(|(ph, frames)| {
            (
                ph.to_string(),
                frames[0],
                frames.len() as u64,
                frames.iter().map(|f| len[f]).sum(),
            )
        })
        .collect()
}

fn offsets() -> HashMap<String, f64> {
    let text = std::fs::read_to_string(format!("{PAIRED}/offsets.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].to_string(), f[2].parse().unwrap())
        })
        .collect()
}

fn analyze_pcap(proto: &str, extra: &[&str]) -> Value {
    let trace = format!("{PAIRED}/{proto}.csv");
    let pcap = format!("{PAIRED}/{proto}.pcap");
    let mut args = vec!["--pcap", pcap.as_str()];
    args.extend_from_slice(extra);
    analyze_json(Path::new(&trace), &args)
}

#[test]
fn exchanges_match_the_hand_read_tshark_frames() {
    for proto in ["mqtt", "mqtts", "http", "https"] {
        let len = tshark_lengths(Path::new(&format!("{PAIRED}/{proto}.tshark.tsv")));
        let want = counted(&expected(proto), &len);
        let j = analyze_pcap(proto, &[]);
        let p = &j["pcap"];
        let got: Vec<(String, u64, u64, u64)> = p["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(e["protocol"], proto);
                (
                    e["phase"].as_str().unwrap().to_string(),
                    e["first_frame"].as_u64().unwrap(),
                    e["packets"].as_u64().unwrap(),
                    e["bytes"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, want, "{proto}");
        // Every packet in exactly one exchange: the totals are tshark's.
        assert_eq!(p["packets"].as_u64().unwrap(), len.len() as u64, "{proto}");
        assert_eq!(
            p["bytes"].as_u64().unwrap(),
            len.values().sum::<u64>(),
            "{proto}"
        );
        let frames: u64 = got.iter().map(|g| g.2).sum();
        assert_eq!(frames, len.len() as u64, "{proto}");
    }
}

#[test]
fn alignment_recovers_the_known_offsets() {
    let known = offsets();
    for proto in ["mqtt", "mqtts", "http", "https"] {
        let p = &analyze_pcap(proto, &[])["pcap"];
        let want = known[&format!("{proto}.pcap")];
        let got = p["offset_s"].as_f64().unwrap();
        assert!((got - want).abs() < 1e-3, "{proto}: {got} vs {want}");
        assert_eq!(p["offset_source"], "estimated");
        assert!(p["residual_ms"].as_f64().unwrap() < 1.0);
        assert_eq!(p["unexplained_bursts"].as_array().unwrap().len(), 0);
        // Every exchange is in a burst.
        for e in p["exchanges"].as_array().unwrap() {
            assert!(e["burst_index"].is_u64(), "{proto}: {e}");
        }
    }
}

#[test]
fn alignment_of_a_trace_made_from_tshark_times() {
    // Bursts at tshark's packet times (clusters 50 ms apart) + 4.0321 s; the MQTT connect 70 ms,
    // the rest 3 ms; a stray burst that no packet explains at 1.5 s.
    let text = std::fs::read_to_string(format!("{PAIRED}/mqtt.tshark.tsv")).unwrap();
    let times: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
        .collect();
    let offset = 4.0321;
    let mut starts = vec![times[0]];
    for w in times.windows(2) {
        if w[1] - w[0] > 0.05 {
            starts.push(w[1]);
        }
    }
    let dir = TempDir::new();
    let trace = dir.path("t.csv");
    let mut args: Vec<String> = vec![
        "synth".into(),
        "-o".into(),
        trace.to_str().unwrap().into(),
        "--si".into(),
        "--sample-interval".into(),
        "50us".into(),
        "--duration".into(),
        "15.5s".into(),
        "--burst".into(),
        "1.5:4:50".into(),
    ];
    for (k, s) in starts.iter().enumerate() {
        args.push("--burst".into());
        args.push(format!(
            "{:.6}:{}:64",
            s + offset,
            if k == 0 { 70 } else { 3 }
        ));
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(run(&argv).status.success());
    let pcap = format!("{PAIRED}/mqtt.pcap");
    let j = analyze_json(&trace, &["--pcap", &pcap]);
    let p = &j["pcap"];
    let got = p["offset_s"].as_f64().unwrap();
    assert!((got - offset).abs() < 1e-3, "{got}");
    let stray: Vec<u64> = p["unexplained_bursts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(stray, vec![0], "the 1.5 s burst is the first");
    // A given offset is used as given; a wrong one leaves every exchange without a burst.
    let p = &analyze_json(&trace, &["--pcap", &pcap, "--pcap-offset", "100"])["pcap"];
    assert_eq!(p["offset_s"].as_f64().unwrap(), 100.0);
    assert_eq!(p["offset_source"], "given");
    assert!(p["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["burst_index"].is_null()));
}

#[test]
fn json_contract_names() {
    let j = analyze_pcap("mqtt", &[]);
    let p = j["pcap"].as_object().unwrap();
    for k in ["offset_s", "residual_ms", "exchanges"] {
        assert!(p.contains_key(k), "pcap.{k}");
    }
    for e in p["exchanges"].as_array().unwrap() {
        let e = e.as_object().unwrap();
        for k in [
            "protocol",
            "phase",
            "start_s",
            "packets",
            "bytes",
            "burst_index",
        ] {
            assert!(e.contains_key(k), "exchange.{k}");
        }
    }
    // start_s is on the trace's clock: the first exchange starts at the first packet + offset.
    let first = &p["exchanges"][0];
    assert!((first["start_s"].as_f64().unwrap() - p["offset_s"].as_f64().unwrap()).abs() < 1e-12);
}

#[test]
fn batch_orders_bytes_per_message_like_the_seed() {
    let dir = TempDir::new();
    let out = dir.path("report");
    let o = run(&["batch", PAIRED, "--out", out.to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let bytes = |g: &str| -> f64 {
        r["summaries"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["group"] == g)
            .unwrap()["bytes_per_message"]
            .as_f64()
            .unwrap()
    };
    let (https, http, mqtts, mqtt) = (bytes("HTTPS"), bytes("HTTP"), bytes("MQTTS"), bytes("MQTT"));
    assert!(
        https > http && http > mqtts && mqtts > mqtt,
        "{https} {http} {mqtts} {mqtt}"
    );
    // MQTT: every PUBLISH + its ACK is 114 + 66 bytes (tshark), the last 116 + 66.
    assert!((mqtt - (9.0 * 180.0 + 182.0) / 10.0).abs() < 1e-9, "{mqtt}");
    // The capture labels the bursts: one connect and ten messages for MQTT.
    let csv = std::fs::read_to_string(out.join("phases.csv")).unwrap();
    assert!(csv.starts_with("group,protocol,phase,exchanges,packets,bytes,"));
    assert!(csv.contains("\nMQTT,mqtt,publish,10,20,1802,"), "{csv}");
    assert!(out.join("exchanges.parquet").is_file());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Packets and cost per protocol phase"));
}

#[test]
fn bad_captures_fail_with_the_file_named() {
    let dir = TempDir::new();
    let trace = format!("{PAIRED}/mqtt.csv");
    let not = dir.write("not.pcap", b"time_s,value\n0,1\n");
    let o = run(&["analyze", &trace, "--pcap", not.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("not.pcap") && e.contains("not a pcap or pcapng"),
        "{e}"
    );
    // Cut short in the middle of a packet record.
    let full = std::fs::read(format!("{PAIRED}/mqtt.pcap")).unwrap();
    let cut = dir.write("cut.pcap", &full[..full.len() - 30]);
    let o = run(&["analyze", &trace, "--pcap", cut.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("cut.pcap") && e.contains("ends inside"), "{e}");
    let o = run(&[
        "analyze",
        &trace,
        "--pcap",
        &format!("{PAIRED}/mqtt.pcap"),
        "--port",
        "mqtt:1884",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("PROTOCOL=PORT"));
    let o = run(&["analyze", &trace, "--pcap", "/nonexistent/x.pcap"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn batch_pcap_flag_and_manifest_options() {
    let dir = TempDir::new();
    // --pcap with one trace.
    let out = dir.path("one");
    let o = run(&[
        "batch",
        &format!("{PAIRED}/mqtt.csv"),
        "--pcap",
        &format!("{PAIRED}/mqtt.pcap"),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read_to_string(out.join("phases.csv"))
        .unwrap()
        .contains("\npaired,mqtt,publish,10,"));
    // --pcap with several traces is refused, before any work.
    let o = run(&[
        "batch",
        PAIRED,
        "--pcap",
        &format!("{PAIRED}/mqtt.pcap"),
        "--out",
        dir.path("many").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--pcap names one capture"));
    // A manifest whose options name the capture and remap a port: MQTT on 1883 read as
    // "https" is a different classification, so the option must have been applied.
    std::fs::create_dir(dir.path("mdir")).unwrap();
    dir.write(
        "mdir/manifest.csv",
        format!(
            "file,group,pcap,options\n{root}/{PAIRED}/mqtt.csv,M,,--pcap {root}/{PAIRED}/mqtt.pcap --port https=1883 --pcap-offset 0.7363\n",
            root = env!("CARGO_MANIFEST_DIR")
        )
        .as_bytes(),
    );
    let out = dir.path("m");
    let o = run(&[
        "batch",
        dir.path("mdir").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let p = &r["files"][0]["result"]["pcap"];
    assert_eq!(p["offset_source"], "given");
    assert_eq!(p["exchanges"][0]["protocol"], "https");
}

#[test]
fn plot_marks_the_exchanges() {
    let dir = TempDir::new();
    let png = dir.path("t.png");
    let base = run(&[
        "plot",
        &format!("{PAIRED}/https.csv"),
        "--window",
        "0.5s..0.62s",
        "-o",
        png.to_str().unwrap(),
    ]);
    assert!(base.status.success());
    let without = std::fs::read(&png).unwrap();
    let png2 = dir.path("t2.png");
    let o = run(&[
        "plot",
        &format!("{PAIRED}/https.csv"),
        "--pcap",
        &format!("{PAIRED}/https.pcap"),
        "--window",
        "0.5s..0.62s",
        "-o",
        png2.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let with = std::fs::read(&png2).unwrap();
    assert!(with.starts_with(b"\x89PNG"));
    assert_ne!(
        with, without,
        "the capture's ticks and legend change the picture"
    );
}

#[test]
fn inspect_reads_a_capture_on_its_own() {
    let o = run(&[
        "inspect",
        "tests/fixtures/pcap/mqtt-1884-sll2.pcap",
        "--port",
        "mqtt=1884",
        "-f",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["packets"], 39);
    assert_eq!(j["container"], "pcap");
    let publishes = j["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["phase"] == "publish")
        .count();
    assert_eq!(
        publishes, 6,
        "three sent, three delivered to the subscriber"
    );
    let o = run(&["inspect", &format!("{PAIRED}/mqtts.pcap")]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("tls-handshake") && text.contains("41 packets"),
        "{text}"
    );
}

#[test]
fn host_filter_keeps_the_devices_packets() {
    // Two clients of one broker: 10.0.0.2 (the device) and 10.0.0.9, each SYN, SYN-ACK, ACK,
    // CONNECT (16 bytes of MQTT), later the other one's.
    let conn = |t0: f64| -> Vec<(f64, bool, u32, u8, Vec<u8>)> {
        vec![
            (t0, true, 1000, 0x02, vec![]),
            (t0 + 0.001, false, 5000, 0x12, vec![]),
            (t0 + 0.002, true, 1001, 0x10, vec![]),
            (
                t0 + 0.003,
                true,
                1001,
                0x18,
                [vec![0x10, 14], vec![0; 14]].concat(),
            ),
        ]
    };
    let mut bytes = raw_pcap_from(&conn(0.0), [10, 0, 0, 2]);
    bytes.extend_from_slice(&raw_pcap_from(&conn(1.0), [10, 0, 0, 9])[24..]);
    let dir = TempDir::new();
    let pcap = dir.write("two.pcap", &bytes);
    let trace = format!("{PAIRED}/mqtt.csv");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "--pcap",
            pcap.to_str().unwrap(),
            "--port",
            "mqtt=1884",
            "--pcap-offset",
            "0",
        ];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let all = args(&[]);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let p = &analyze_json(Path::new(&trace), &all)["pcap"];
    assert_eq!(p["packets"], 8);
    assert_eq!(p["exchanges"].as_array().unwrap().len(), 4);
    let one = args(&["--pcap-host", "10.0.0.2"]);
    let one: Vec<&str> = one.iter().map(String::as_str).collect();
    let p = &analyze_json(Path::new(&trace), &one)["pcap"];
    assert_eq!(p["packets"], 4);
    assert_eq!(p["filtered_out"], 4);
    assert_eq!(p["bytes"], 3 * 40 + 40 + 16);
    let phases: Vec<&str> = p["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["phase"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["tcp-handshake", "connect"]);
    // Frame numbers stay the capture's.
    assert_eq!(p["exchanges"][1]["first_frame"], 4);
}

#[test]
fn exchange_charge_is_integrated_on_the_samples() {
    // A near-rectangular burst (rise and fall 1 µs) of 64 mA from 1.000 s for 10 ms, no noise;
    // a TCP handshake from packet time 0 and an MQTT CONNECT at 4 ms, offset 1 s. The handshake
    // holds 64 mA × 4 ms = 256 mA·ms, the CONNECT 64 mA × 6 ms = 384 mA·ms (closed form).
    let dir = TempDir::new();
    let trace = dir.path("rect.csv");
    let o = run(&[
        "synth",
        "-o",
        trace.to_str().unwrap(),
        "--si",
        "--sample-interval",
        "10us",
        "--duration",
        "2s",
        "--burst",
        "1.0:10:64",
        "--rise-ms",
        "0.001",
        "--fall-ms",
        "0.001",
        "--noise",
        "0",
        "--adc-step",
        "0",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pk: Vec<(f64, bool, u32, u8, Vec<u8>)> = vec![
        (0.000, true, 1000, 0x02, vec![]),
        (0.001, false, 5000, 0x12, vec![]),
        (0.002, true, 1001, 0x10, vec![]),
        (
            0.004,
            true,
            1001,
            0x18,
            [vec![0x10, 12], vec![0; 12]].concat(),
        ),
        (0.005, false, 5001, 0x18, vec![0x20, 2, 0, 0]),
    ];
    let pcap = dir.write("c.pcap", &raw_pcap(&pk));
    let j = analyze_json(
        &trace,
        &[
            "--pcap",
            pcap.to_str().unwrap(),
            "--port",
            "mqtt=1884",
            "--pcap-offset",
            "1.0",
        ],
    );
    let p = &j["pcap"];
    assert_eq!(p["charge_split"], "integrated");
    let ex = p["exchanges"].as_array().unwrap();
    let q = |k: usize| ex[k]["excess_charge_ma_ms"].as_f64().unwrap();
    assert_eq!(ex[0]["phase"], "tcp-handshake");
    assert_eq!(ex[1]["phase"], "connect");
    assert!((q(0) - 256.0).abs() < 0.005 * 256.0, "{}", q(0));
    assert!((q(1) - 384.0).abs() < 0.005 * 384.0, "{}", q(1));
    // Together they are the burst's own excess charge.
    let burst = j["bursts"][0]["excess_charge_ma_ms"].as_f64().unwrap();
    assert!(
        (q(0) + q(1) - burst).abs() < 1e-9 * burst,
        "{} vs {burst}",
        q(0) + q(1)
    );
    // energy = charge × supply (5 V): mA·ms × V = µJ.
    assert!((ex[1]["energy_mj"].as_f64().unwrap() - q(1) * 5.0 / 1e3).abs() < 1e-12);
}
