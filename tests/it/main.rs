//! The integration tests, in one binary (one link of polars instead of one per file): each
//! module runs the real `shuntscope` binary or the library's public API on real and generated
//! inputs. Tests that need the crate's internals are unit tests in src/.

mod common;

mod bad_inputs;
mod batch;
mod classes;
mod diff;
mod errors;
mod every;
mod formats;
mod fuzz;
mod ground_truth;
mod inputs_untouched;
mod loggers;
mod lowpower;
mod native;
mod pcap;
mod plots;
mod quality;
mod quirks;
mod real_files;
mod record;
mod seed;
mod streaming;
mod windows;
