//! The `shuntscope` binary: parse the command line, run one command, map errors to exit codes
//! (0 ok, 1 analysis found problems, 2 bad input or usage). Process-wide policy lives here: the
//! SIGBUS handler for memory-mapped inputs that shrink while read.

mod cli;
mod cmd;

use clap::Parser;
use cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    shuntscope::ingest::mapguard::install();
    let result = match &cli.command {
        Command::Analyze(a) => cmd::analyze::run(a),
        Command::Synth(a) => cmd::synth::run(a),
        Command::Batch(a) => cmd::batch::run(a),
        Command::Merge(a) => cmd::batch::merge(a),
        Command::Diff(a) => cmd::diff::run(a),
        Command::Plot(a) => cmd::plot::run(a),
        Command::Formats => cmd::formats::run(),
        Command::Inspect(a) => cmd::inspect::inspect(a),
        Command::Convert(a) => cmd::inspect::convert(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
