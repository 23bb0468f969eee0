//! The `shuntscope` binary: parse the command line, run one command, map errors to exit codes
//! (0 ok, 1 analysis found problems, 2 bad input or usage). Process-wide policy lives here: the
//! SIGBUS handler for memory-mapped inputs that shrink while read.

mod cli;
mod cmd;

use clap::Parser;
use cli::Cli;

fn main() {
    let cli = Cli::parse();
    shuntscope::ingest::mapguard::install();
    match cmd::dispatch(&cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
