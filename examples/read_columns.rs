//! The library's reading API: stream a trace's normalised columns and report what was read and
//! how fast. `cargo run --release --example read_columns -- samples/seed/mqtt.csv [SHUNT_OHMS]`

use shuntscope::{read, Calibration, Chunk, IngestOptions};
use std::time::Instant;

fn main() -> shuntscope::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or_else(|| shuntscope::Error::usage("usage: read_columns FILE [SHUNT_OHMS]"))?;
    // With a shunt resistance, a voltage trace is read as current (I = V / R).
    let calibration = match args.next() {
        Some(r) => Some(Calibration {
            shunt_ohms: r
                .parse()
                .map_err(|_| shuntscope::Error::usage(format!("{r}: not a resistance in Ω")))?,
            ..Calibration::default()
        }),
        None => None,
    };
    let started = Instant::now();
    let mut reader = read(&path, &IngestOptions::default(), calibration)?;
    let mut chunk = Chunk::default();
    let (mut samples, mut sum) = (0u64, 0.0);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    while reader.next_chunk(&mut chunk)? {
        samples += chunk.value.len() as u64;
        for &v in &chunk.value {
            sum += v;
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let s = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let names = reader.names();
    println!("columns  {}", names.join(", "));
    println!(
        "{}  {samples} samples, mean {:.6}, min {lo}, max {hi}",
        names[1],
        sum / samples.max(1) as f64
    );
    println!(
        "read in {s:.3} s: {:.0} MB/s, {:.1} ns a sample",
        bytes as f64 / 1e6 / s,
        s * 1e9 / samples.max(1) as f64
    );
    Ok(())
}
