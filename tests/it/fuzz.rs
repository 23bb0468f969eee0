//! Property-based fuzzing (proptest) of the readers and the detector through the library: no
//! input may panic; every failure is an error that names the file. The committed seed corpus
//! (tests/fuzz_corpus/) is replayed every time. Longer runs: PROPTEST_CASES=100000 cargo test
//! --release --test fuzz.

use proptest::prelude::*;
use shuntscope::{run_file, Settings};

fn analyze_bytes(bytes: &[u8], opts: &Settings) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("fuzz.csv");
    std::fs::write(&p, bytes).unwrap();
    let name = p.to_str().unwrap();
    if let Err(e) = run_file(name, opts) {
        let msg = e.to_string();
        assert!(
            msg.starts_with(name) || e.file.is_none(),
            "error does not name the file: {msg}"
        );
        assert!(!msg.contains('\n'));
    }
}

/// Rows that look like traces, with junk mixed in.
fn tablish() -> impl Strategy<Value = Vec<u8>> {
    let cell = prop_oneof![
        "-?[0-9]{1,6}(\\.[0-9]{0,6})?(e-?[0-9])?",
        Just(String::new()),
        Just("nan".to_string()),
        "[a-zA-Z ()\\[\\]µ]{0,8}",
    ];
    let sep = prop_oneof![Just(","), Just(";"), Just("\t"), Just(" ")];
    let eol = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
    (
        prop::collection::vec(prop::collection::vec(cell, 1..5), 0..60),
        sep,
        eol,
    )
        .prop_map(|(rows, sep, eol)| {
            let mut s = String::from("time_s,current_ma\n");
            for r in rows {
                s.push_str(&r.join(sep));
                s.push_str(eol);
            }
            s.into_bytes()
        })
}

proptest! {
    // 200 cases each by default; PROPTEST_CASES sets more for a longer run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
    ))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        analyze_bytes(&bytes, &Settings::default());
    }

    #[test]
    fn table_like_input_never_panics(bytes in tablish()) {
        analyze_bytes(&bytes, &Settings::default());
        let mut o = Settings::default();
        o.ingest.sample_interval_s = Some(1e-3);
        o.ingest.zero_px = Some(10.0);
        analyze_bytes(&bytes, &o);
    }

    #[test]
    fn nano_like_input_never_panics(px in prop::collection::vec(0u16..400, 0..300), vdiv in "[0-9.]{0,4}[mu]?V?") {
        let mut s = format!("TRACK   {vdiv}*1,\r\n");
        for p in px { s.push_str(&format!("{p:03},\r\n")); }
        let mut o = Settings::default();
        o.ingest.sample_interval_s = Some(5e-5);
        o.ingest.zero_px = Some(20.0);
        analyze_bytes(s.as_bytes(), &o);
    }
}

#[test]
fn seed_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_corpus");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        analyze_bytes(&bytes, &Settings::default());
        n += 1;
    }
    assert!(n >= 10);
}
