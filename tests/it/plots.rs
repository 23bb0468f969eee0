//! Charts: valid PNG (or SVG) files of the size asked for, for every kind.

use crate::common::*;

/// Width and height from a PNG's signature and IHDR chunk, read by hand.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!(&bytes[bytes.len() - 8..bytes.len() - 4], b"IEND");
    (w, h)
}

#[test]
fn trace_plots_at_the_size_asked_for() {
    let dir = TempDir::new();
    let mqtt = repo("samples/seed/mqtt.csv");
    for (args, size) in [
        (vec![], (1600, 900)),
        (vec!["--size", "800x450"], (800, 450)),
        (vec!["--window", "0.2s..0.4s"], (1600, 900)),
        (vec!["--burst", "3", "--size", "640x480"], (640, 480)),
        (
            vec!["--kind", "gallery", "--period", "1s", "--size", "1200x900"],
            (1200, 900),
        ),
    ] {
        let out = dir.path("t.png");
        let mut all = vec![
            "plot",
            mqtt.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--force",
        ];
        all.extend(args.iter().copied());
        let o = run(&all);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(png_size(&std::fs::read(&out).unwrap()), size, "{args:?}");
    }
    // A Nano screen, and SVG.
    let o = run(&[
        "plot",
        repo("samples/nano/https_message.CSV").to_str().unwrap(),
        "--sample-interval",
        "50us",
        "--zero-px",
        "20",
        "--svg",
        "-o",
        dir.path("n.png").to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let svg = std::fs::read_to_string(dir.path("n.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("mA"));
    // A burst that does not exist is a usage error.
    let o = run(&[
        "plot",
        mqtt.to_str().unwrap(),
        "--burst",
        "99",
        "-o",
        dir.path("x.png").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn report_charts() {
    let dir = TempDir::new();
    let rep = dir.path("rep");
    let o = run(&[
        "batch",
        repo("samples/seed").to_str().unwrap(),
        "--out",
        rep.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success());
    // The batch report embeds its charts: inlined as data: URIs, the same bytes as the PNG
    // files beside it, so report.html alone shows them.
    let html = std::fs::read_to_string(rep.join("report.html")).unwrap();
    for f in [
        "compare.png",
        "battery.png",
        "distribution.png",
        "gallery.png",
        "budget.png",
    ] {
        let png = std::fs::read(rep.join(f)).unwrap();
        png_size(&png);
        let at = html
            .find(&format!(
                "<figure id=\"{f}\"><img src=\"data:image/png;base64,"
            ))
            .unwrap_or_else(|| panic!("{f} not embedded"));
        let b64 = &html[at..].split("base64,").nth(1).unwrap();
        let b64 = &b64[..b64.find('"').unwrap()];
        assert_eq!(
            base64_decode(b64),
            png,
            "{f}: the inlined bytes differ from the file"
        );
        assert!(
            !html.contains(&format!("src=\"{f}\"")),
            "{f} linked, not inlined"
        );
    }
    assert!(
        html.contains("img-src data:;"),
        "the Content-Security-Policy allows data: images and nothing else"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external resources"
    );
    for kind in ["compare", "battery", "distribution", "gallery", "budget"] {
        let out = dir.path(&format!("{kind}.png"));
        let o = run(&[
            "plot",
            rep.to_str().unwrap(),
            "--kind",
            kind,
            "--size",
            "1000x700",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(
            o.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(png_size(&std::fs::read(&out).unwrap()), (1000, 700));
    }
}

/// Standard base64 (RFC 4648, with padding), decoded here independently of the program.
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a') as u32 + 26,
            b'0'..=b'9' => (c - b'0') as u32 + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let mut out = Vec::new();
    for quad in s.as_bytes().chunks(4) {
        let pad = quad.iter().filter(|&&c| c == b'=').count();
        let n = quad
            .iter()
            .map(|&c| if c == b'=' { 0 } else { val(c) })
            .fold(0u32, |a, v| (a << 6) | v);
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    out
}

/// A sleeping device's trace spans five decades: a logarithmic current axis by default, with
/// its ticks in µA and mA; `--linear-y` and `--log-y` choose; the seed's awake board stays
/// linear. The budget chart of a trace draws.
#[test]
fn log_axis_when_the_trace_spans_decades() {
    let dir = TempDir::new();
    let thread = repo("tests/fixtures/native/ppk2_threadascon_thread-sed_aes-20dbm.ppk2");
    let mqtt = repo("samples/seed/mqtt.csv");
    let svg = |file: &std::path::Path, extra: &[&str]| -> String {
        let out = dir.path("axis.svg");
        let mut args = vec![
            "plot",
            file.to_str().unwrap(),
            "--svg",
            "--force",
            "-q",
            "-o",
        ];
        args.push(out.to_str().unwrap());
        args.extend_from_slice(extra);
        let o = run(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read_to_string(&out).unwrap()
    };
    let log = svg(&thread, &[]);
    assert!(log.contains("log scale") && log.contains("µA") && log.contains("sleep floor"));
    assert!(!svg(&thread, &["--linear-y"]).contains("log scale"));
    assert!(!svg(&mqtt, &[]).contains("log scale"));
    assert!(svg(&mqtt, &["--log-y"]).contains("log scale"));
    let o = run(&[
        "plot",
        mqtt.to_str().unwrap(),
        "--log-y",
        "--linear-y",
        "-o",
        dir.path("x.png").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let out = dir.path("budget.png");
    let o = run(&[
        "plot",
        mqtt.to_str().unwrap(),
        "--kind",
        "budget",
        "--battery-mah",
        "2000",
        "--at-period",
        "10s",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(png_size(&std::fs::read(&out).unwrap()), (1600, 900));
}
