//! `shuntscope diff OLD NEW`: compare two batch reports (or batch two folders of traces with the
//! same flags, then compare), print a table, JSON or Markdown, optionally JUnit XML; exit 1 on
//! any regression.

use super::args::DiffArgs;
use crate::diff::diff;
use crate::error::{Error, Result};
use crate::pipeline::FileOutcome;
use crate::report::diff as render;

/// The files of a report folder, or of a folder of traces run through batch (failures
/// printed).
fn outcomes(input: &str, a: &DiffArgs) -> Result<Vec<FileOutcome>> {
    let files = crate::diff::outcomes(input, &a.settings.settings(), a.jobs.unwrap_or(0))?;
    for f in &files {
        if let Some(e) = &f.error {
            eprintln!("failed: {e}");
        }
    }
    Ok(files)
}

pub fn run(a: &DiffArgs) -> Result<i32> {
    let old = outcomes(&a.old, a)?;
    let new = outcomes(&a.new, a)?;
    let d = diff(&a.old, &old, &a.new, &new, a.metric, a.fail_above);
    if d.rows.is_empty() {
        return Err(Error::usage(format!(
            "no events in {} or {}: nothing to compare",
            a.old, a.new
        )));
    }
    let text = match a.format.as_str() {
        "json" => render::json(&d),
        "md" => render::markdown(&d),
        _ => render::table(&d),
    };
    if let Some(j) = &a.junit {
        crate::output::write_atomic(j, render::junit(&d).as_bytes())?;
    }
    match &a.output {
        Some(o) => crate::output::write_atomic(o, text.as_bytes())?,
        None => {
            use std::io::Write;
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    Ok(if d.regressions > 0 { 1 } else { 0 })
}
