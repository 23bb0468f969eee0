//! The `shuntscope` binary: everything is in [`shuntscope::cli`] (the Python wheel's command
//! runs the same code). Exit codes: 0 done, 1 regression found, 2 bad input or usage, 3
//! internal fault.

fn main() {
    std::process::exit(shuntscope::cli::main(std::env::args_os().skip(1)));
}
