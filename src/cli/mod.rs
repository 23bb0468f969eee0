//! The command line, compiled once: the `shuntscope` binary (`src/main.rs`) and the Python
//! wheel's `shuntscope` command both call [`main`]. `args.rs` holds the clap definitions only;
//! one file per subcommand is short glue between them and the library.
//!
//! Exit codes (also in `--help` and the README): 0 done; 1 the analysis found a regression
//! (`diff`'s gate); 2 bad input or usage (one line naming the file, the line and what was
//! expected); 3 an internal fault (a bug: the line asks for a report).
//!
//! Process-wide policy lives here, not in the library: the SIGBUS guard that makes
//! memory-mapping inputs safe (see [`crate::allow_mmap`]) and the panic hook.

mod analyze;
mod args;
mod batch;
mod diff;
mod formats;
mod inspect;
mod plot;
mod record;
mod synth;

pub use args::Cli;

use crate::error::{Error, Result};
use args::Command;
use clap::Parser;

/// Run the command the command line names: its exit code, or the error. No process-wide
/// policy is set here (see [`main`]).
pub fn dispatch(cli: &Cli) -> Result<i32> {
    match &cli.command {
        Command::Analyze(a) => analyze::run(a),
        Command::Synth(a) => synth::run(a),
        Command::Batch(a) => batch::run(a),
        Command::Merge(a) => batch::merge(a),
        Command::Diff(a) => diff::run(a),
        Command::Plot(a) => plot::run(a),
        Command::View(a) => view(a),
        Command::Record(a) => record::run(a),
        Command::Formats => formats::run(),
        Command::Inspect(a) => inspect::inspect(a),
        Command::Convert(a) => inspect::convert(a),
    }
}

/// The plan of a parsed `batch` command line (its `--out` unused): the jobs another scheduler
/// runs with [`crate::batch::run_job_on`], joined by [`crate::BatchPlan::report`].
pub fn batch_plan(cli: &Cli) -> Result<crate::batch::BatchPlan> {
    match &cli.command {
        Command::Batch(a) => batch::plan(a),
        _ => Err(Error::usage("batch_plan needs a batch command line")),
    }
}

/// `shuntscope view TRACE [TRACE2] -o view.html`.
fn view(a: &args::ViewArgs) -> Result<i32> {
    crate::output::refuse_existing(&a.output, a.force)?;
    let settings = a.settings.settings();
    let mut traces = a
        .traces
        .iter()
        .map(|p| crate::view::trace(p, &settings))
        .collect::<Result<Vec<_>>>()?;
    for t in &traces {
        print_warnings(&t.analysis, a.quiet);
    }
    if traces.len() > 1 {
        crate::view::align(&mut traces, a.align)?;
    }
    let page = crate::view::page(&traces)?;
    crate::output::write_atomic(&a.output, page.as_bytes())?;
    Ok(0)
}

/// Print an analysis' warnings on standard error, one line each, unless `quiet`.
fn print_warnings(a: &crate::analysis::Analysis, quiet: bool) {
    if !quiet {
        for w in &a.warnings {
            eprintln!("warning: {}: {}", a.ingest.file, w.message);
        }
    }
}

/// Parse `argv` (without the program name) as the command line.
pub fn parse<I, T>(argv: I) -> std::result::Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let words = std::iter::once(std::ffi::OsString::from("shuntscope"))
        .chain(argv.into_iter().map(Into::into));
    Cli::try_parse_from(words)
}

/// A long flag of a subcommand, as clap knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The long name without dashes (`shunt-ohms`).
    pub long: String,
    /// Takes a value (else a switch).
    pub takes_value: bool,
    /// May be given more than once.
    pub repeats: bool,
}

/// The long flags of a subcommand (`analyze`, `batch`, ...), `--help` aside: what the Python
/// package's keyword arguments must match (its tests check the typed stubs against this).
pub fn flags(subcommand: &str) -> Option<Vec<Flag>> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let sub = cmd.find_subcommand(subcommand)?;
    Some(
        sub.get_arguments()
            .filter_map(|a| {
                let long = a.get_long()?;
                (long != "help").then(|| Flag {
                    long: long.to_string(),
                    takes_value: a.get_action().takes_values(),
                    repeats: matches!(a.get_action(), clap::ArgAction::Append),
                })
            })
            .collect(),
    )
}

/// The whole program on `argv` (without the program name): parse, opt in to memory-mapped
/// reads (the SIGBUS guard), run, print an error as one line on standard error. Returns the
/// exit code: 0, 1 (regression), 2 (bad input or usage), 3 (internal fault).
pub fn main<I, T>(argv: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match parse(argv) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            // clap: 0 for --help and --version, 2 for usage errors.
            return e.exit_code();
        }
    };
    crate::allow_mmap();
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch(&cli)));
    let result = run.unwrap_or_else(|p| Err(Error::internal(panic_text(p.as_ref()))));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// The text of a panic's payload.
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    let what = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    format!("shuntscope panicked: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_an_internal_error_with_exit_code_3() {
        let p = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
        let e = Error::internal(panic_text(p.as_ref()));
        assert_eq!(e.exit_code(), 3);
        let line = e.to_string();
        assert!(line.contains("shuntscope panicked: boom"), "{line}");
        assert!(line.contains("please report"), "{line}");
    }

    /// No subcommand has two flags of one name (clap checks that only in debug builds, and
    /// release builds then take one of them silently): a flag added to the settings that a
    /// subcommand already had fails here.
    #[test]
    fn no_flag_is_defined_twice() {
        use clap::CommandFactory;
        let cli = args::Cli::command();
        for sub in cli.get_subcommands() {
            let mut seen = std::collections::HashSet::new();
            for a in sub.get_arguments() {
                for name in a
                    .get_long()
                    .into_iter()
                    .chain(a.get_short().map(|c| c.to_string()).as_deref())
                {
                    assert!(
                        seen.insert(name.to_string()),
                        "{}: --{name} twice",
                        sub.get_name()
                    );
                }
            }
        }
    }

    #[test]
    fn flags_of_a_subcommand() {
        let f = flags("analyze").unwrap();
        let shunt = f.iter().find(|f| f.long == "shunt-ohms").unwrap();
        assert!(shunt.takes_value && !shunt.repeats);
        assert!(f.iter().any(|f| f.long == "port" && f.repeats));
        assert!(f.iter().any(|f| f.long == "no-mmap" && !f.takes_value));
        assert!(!f.iter().any(|f| f.long == "help"));
        assert!(flags("no-such-command").is_none());
    }

    #[test]
    fn usage_errors_exit_2() {
        let e = parse(["analyze", "--no-such-flag"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(parse(["--version"]).unwrap_err().exit_code(), 0);
    }
}
