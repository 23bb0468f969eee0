//! `shuntscope diff OLD NEW`: compare two batch reports (or batch two folders of traces with the
//! same flags, then compare), print a table, JSON or Markdown, optionally JUnit XML; exit 1 on
//! any regression.

use super::args::DiffArgs;
use crate::diff::{diff_gated, Verdict};
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
    let (metric, gate) = crate::diff::metric_and_gate(&a.metric);
    let d = diff_gated(&a.old, &old, &a.new, &new, metric, a.fail_above, &gate);
    if !d.rows.iter().any(|r| r.old_n > 0 && r.new_n > 0) {
        let groups = |side: Verdict| {
            let mut g: Vec<&str> = d
                .rows
                .iter()
                .filter(|r| r.verdict == side)
                .map(|r| r.group.as_str())
                .collect();
            g.dedup();
            if g.is_empty() {
                "none".to_string()
            } else {
                g.join(", ")
            }
        };
        return Err(Error::usage(format!(
            "nothing to compare: no group of {} pairs with one of {} (old groups: {}; new \
             groups: {}). Groups pair by their folder's path relative to each compared folder \
             (a flat folder is one group), or by a manifest's group column: give both sides the \
             same subfolders or group names",
            a.old,
            a.new,
            groups(Verdict::Gone),
            groups(Verdict::New)
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
