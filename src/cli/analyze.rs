//! `shuntscope analyze FILE`: one trace through the pipeline, its bursts, events and totals.

use super::args::AnalyzeArgs;
use crate::error::Result;
use crate::pipeline::run_file;
use crate::report;

pub fn run(args: &AnalyzeArgs) -> Result<i32> {
    let settings = args.settings.settings();
    if let Some(v) = &args.view {
        crate::output::refuse_existing(v, args.force)?;
    }
    // With --view the page's pyramid is built in the analysis' own pass.
    let analysis = match &args.view {
        Some(v) => {
            let t = crate::view::trace(&args.file, &settings)?;
            let page = crate::view::page(std::slice::from_ref(&t))?;
            crate::output::write_atomic(v, page.as_bytes())?;
            t.analysis
        }
        None => run_file(&args.file, &settings)?,
    };
    super::print_warnings(&analysis, args.quiet);
    let text = report::render(&analysis, args.format)?;
    match &args.output {
        Some(path) => {
            crate::output::refuse_existing(path, args.force)?;
            crate::output::write_atomic(path, text.as_bytes())?
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            // A closed pipe (| head) is not an error worth a message.
            let _ = out.write_all(text.as_bytes());
        }
    }
    Ok(0)
}
