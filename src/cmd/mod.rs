//! One file per subcommand: short glue between the CLI and the library.

pub mod analyze;
pub mod batch;
pub mod diff;
pub mod formats;
pub mod inspect;
pub mod plot;
pub mod synth;

use crate::cli::{Cli, Command};
use shuntscope::error::Result;

/// Run the command the command line names: its exit code, or the error.
pub fn dispatch(cli: &Cli) -> Result<i32> {
    match &cli.command {
        Command::Analyze(a) => analyze::run(a),
        Command::Synth(a) => synth::run(a),
        Command::Batch(a) => batch::run(a),
        Command::Merge(a) => batch::merge(a),
        Command::Diff(a) => diff::run(a),
        Command::Plot(a) => plot::run(a),
        Command::Formats => formats::run(),
        Command::Inspect(a) => inspect::inspect(a),
        Command::Convert(a) => inspect::convert(a),
    }
}
