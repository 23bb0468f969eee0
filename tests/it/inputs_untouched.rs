//! Reading never writes to the input: every command that reads traces and captures leaves
//! their bytes, their modification times and their folder exactly as they were, mapped or read.

use crate::common::*;
use std::path::Path;
use std::time::SystemTime;

/// Every file in `dir`, with its bytes and modification time.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>, SystemTime)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let m = std::fs::metadata(&p).unwrap();
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
                m.modified().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn no_command_writes_to_its_inputs() {
    let inputs = TempDir::new();
    for name in ["mqtts.csv", "mqtts.pcap"] {
        let bytes = std::fs::read(repo(&format!("samples/paired/{name}"))).unwrap();
        inputs.write(name, &bytes);
    }
    let dir = inputs.0.path();
    let before = snapshot(dir);
    let out = TempDir::new();
    let trace = inputs.path("mqtts.csv");
    let t = trace.to_str().unwrap();
    let pcap = inputs.path("mqtts.pcap");
    let o = |name: &str| out.path(name).to_str().unwrap().to_string();
    let runs: Vec<Vec<String>> = vec![
        vec![
            "analyze".into(),
            t.into(),
            "-q".into(),
            "--mmap-min-bytes".into(),
            "0".into(),
        ],
        vec!["analyze".into(), t.into(), "--no-mmap".into()],
        vec![
            "analyze".into(),
            t.into(),
            "--pcap".into(),
            pcap.to_str().unwrap().into(),
            "--mmap-min-bytes".into(),
            "0".into(),
        ],
        vec!["inspect".into(), t.into()],
        vec!["inspect".into(), pcap.to_str().unwrap().into()],
        vec!["convert".into(), t.into(), "-o".into(), o("c.parquet")],
        vec!["plot".into(), t.into(), "-o".into(), o("p.png")],
        vec![
            "plot".into(),
            t.into(),
            "--kind".into(),
            "gallery".into(),
            "-o".into(),
            o("g.png"),
        ],
        vec![
            "batch".into(),
            dir.to_str().unwrap().into(),
            "--out".into(),
            o("report"),
            "-q".into(),
        ],
    ];
    for args in runs {
        let r = bin().args(&args).output().unwrap();
        assert!(
            r.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(snapshot(dir) == before, "{args:?} changed the input folder");
    }
}
