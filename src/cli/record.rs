//! `shuntscope record --ppk2 [PORT] --duration 60s -o run.ppk2`: capture from a PPK2, then
//! optionally analyse the recording and gate it against a baseline, as `analyze` and `diff` do.

use super::args::RecordArgs;
use crate::error::{Error, Result};
use crate::record::{self, Ended, Mode, RecordOptions};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// `record --list`: one line a connected PPK2.
fn list() -> Result<i32> {
    let found = record::device::list()?;
    if found.is_empty() {
        eprintln!("no PPK2 connected (no serial port of Nordic's 1915:c00a)");
    }
    println!("port\tserial_number\tfirmware");
    for p in &found {
        println!(
            "{}\t{}\t{}",
            p.port,
            p.serial_number.as_deref().unwrap_or("unknown"),
            p.firmware.as_deref().unwrap_or("unknown")
        );
    }
    Ok(0)
}

fn options(a: &RecordArgs) -> Result<RecordOptions> {
    let Some(output) = a.output.clone() else {
        return Err(Error::usage(
            "record needs the file to write: -o run.ppk2 (or --list to list PPK2s)",
        ));
    };
    if !output.ends_with(".ppk2") {
        return Err(Error::usage(format!(
            "{output}: a recording is a .ppk2 session; name the file *.ppk2"
        )));
    }
    let mode = match (a.ampere, a.source_mv) {
        (true, _) => Mode::Ampere,
        (false, Some(_)) => Mode::Source,
        (false, None) => {
            return Err(Error::usage(
                "choose the PPK2's mode: --source-mv 3300 (it powers the device at 3.3 V) or \
                 --ampere (it measures the current of an external supply)",
            ))
        }
    };
    crate::output::refuse_existing(&output, a.force)?;
    Ok(RecordOptions {
        port: a.ppk2.clone().flatten(),
        duration_s: a.duration,
        output,
        mode,
        source_mv: a.source_mv,
        dut_power: a.dut_power,
        spike_filter: !a.no_spike_filter,
        average: a.average.unwrap_or(1),
        stall_s: a.stall_timeout,
    })
}

/// The analysis settings are checked before recording, not after an hour of it.
fn settings_check(a: &RecordArgs) -> Result<()> {
    a.settings.settings().validate()
}

pub fn run(a: &RecordArgs) -> Result<i32> {
    if a.list {
        return list();
    }
    let opts = options(a)?;
    settings_check(a)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    // Ctrl-C or SIGTERM ends the recording cleanly; a second one ends the process.
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
    });
    let quiet = a.quiet;
    let show_progress = !quiet && std::io::stderr().is_terminal();
    let rec = record::record_with(
        &opts,
        &stop,
        &mut |port, meta| {
            if !quiet {
                eprintln!(
                    "recording{} from the PPK2 on {port} (HW {}) into {} (Ctrl-C stops and keeps \
                 the file)",
                    opts.duration_s
                        .map(|d| format!(" {d} s"))
                        .unwrap_or_default(),
                    meta.hw.as_deref().unwrap_or("unknown"),
                    opts.output
                );
            }
        },
        &mut |secs, lost| {
            if show_progress {
                let of = opts
                    .duration_s
                    .map(|d| format!(" of {d:.0} s"))
                    .unwrap_or_default();
                eprint!("\r{secs:.0} s{of} recorded, {lost} samples lost   ");
            }
        },
    )?;
    if show_progress {
        eprintln!();
    }
    if !a.quiet {
        eprint!("{}", rec.summary());
    }
    match &rec.ended {
        Ended::DeviceVanished(e) | Ended::Stalled(e) => {
            return Err(Error::input(
                &rec.port,
                format!(
                    "the PPK2 stopped after {:.3} s ({e}); the {} samples received are in {}",
                    rec.duration_s, rec.samples, rec.file
                ),
            ))
        }
        Ended::Duration | Ended::Interrupted => {}
    }
    let mut code = 0;
    let settings = a.settings.settings();
    if a.analyze {
        let analysis = crate::pipeline::run_file(&rec.file, &settings)?;
        super::print_warnings(&analysis, a.quiet);
        let text = crate::report::render(&analysis, a.format)?;
        print!("{text}");
    }
    if let Some(base) = &a.diff {
        let diff_args = super::args::DiffArgs::for_record(base, &rec.file, a);
        code = super::diff::run(&diff_args)?;
    }
    Ok(code)
}
