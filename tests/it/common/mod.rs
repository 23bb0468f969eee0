//! Helpers shared by the integration tests: run the real binary, write files, read JSON. The
//! pure helpers are in `data.rs`, which the crate's own tests (src/tests/) include too.
#![allow(dead_code)]

mod data;
pub use data::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shuntscope"))
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run shuntscope")
}

/// Run `analyze FILE -f json EXTRA...` and parse the JSON; panics with stderr on failure.
pub fn analyze_json(file: &Path, extra: &[&str]) -> serde_json::Value {
    let f = file.to_str().unwrap();
    let mut args = vec!["analyze", f, "-f", "json", "-q"];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(
        out.status.success(),
        "analyze {f} {extra:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}
