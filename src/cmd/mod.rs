//! One file per subcommand: short glue between the CLI and the library.

pub mod analyze;
pub mod batch;
pub mod diff;
pub mod formats;
pub mod inspect;
pub mod plot;
pub mod synth;
