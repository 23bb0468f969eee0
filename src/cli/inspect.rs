//! `shuntscope inspect FILE` and `shuntscope convert FILE -o OUT`: how a file is read, and the
//! normalised trace.

use super::args::{ConvertArgs, InspectArgs};
use crate::calibrate::Calibration;
use crate::error::{Error, Result};
use crate::output::AtomicFile;
use crate::report::OutputFormat;
use crate::trace::Chunk;
use crate::units::fmt_duration;
use std::io::Write;

/// Does the file start like a pcap or pcapng capture?
fn is_capture(path: &str) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && matches!(
            u32::from_le_bytes(magic),
            0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 | 0x0a0d_0d0a
        )
}

/// A capture on its own: packets grouped into exchanges, times on the capture's clock.
fn inspect_capture(a: &InspectArgs) -> Result<i32> {
    use crate::attribute::pcap::{attribute_pcap, PcapOptions};
    let o = PcapOptions {
        path: a.file.clone(),
        ports: a.ports.clone(),
        offset_s: Some(0.0),
        tolerance_ms: 0.0,
        hosts: Vec::new(),
    };
    let r = attribute_pcap(&[], &o)?;
    let text = match a.format {
        OutputFormat::Json => {
            serde_json::to_string_pretty(&r)
                .map_err(|e| Error::usage(format!("cannot encode JSON: {e}")))?
                + "\n"
        }
        _ => {
            let mut s = String::new();
            crate::report::table::pcap(&mut s, &r, false);
            s
        }
    };
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(0)
}

pub fn inspect(a: &InspectArgs) -> Result<i32> {
    if a.file != "-" && is_capture(&a.file) {
        return inspect_capture(a);
    }
    let ins = crate::read::inspect(&a.file, &a.ingest.options())?;
    let unit = ins.unit;
    if a.format == OutputFormat::Json {
        let s = serde_json::to_string_pretty(&ins).map_err(|e| Error::usage(e.to_string()))?;
        println!("{s}");
        return Ok(0);
    }
    let i = &ins.input;
    println!("file       {}", ins.file);
    println!("format     {} ({})", ins.format, ins.format_description);
    println!("dialect    {}", i.read_as());
    println!(
        "columns    {}",
        i.columns
            .iter()
            .enumerate()
            .map(|(k, c)| format!("{} \"{c}\"", k + 1))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("time       {}", i.time_source);
    println!(
        "value      {} in {} ({:?}, read as {unit})",
        i.value_column, i.value_unit, i.quantity
    );
    for s in &i.scaling {
        println!("scaling    {s}");
    }
    for s in &i.assumptions {
        println!("assumed    {s}");
    }
    println!(
        "samples    {} from {} s to {} s, median interval {}",
        ins.samples,
        ins.first_time_s,
        ins.last_time_s,
        fmt_duration(ins.median_interval_s)
    );
    println!(
        "first      {} s  {} {unit}",
        ins.first_time_s, ins.first_value
    );
    println!(
        "last       {} s  {} {unit}",
        ins.last_time_s, ins.last_value
    );
    println!("range      {} to {} {unit}", ins.min_value, ins.max_value);
    if ins.empty_cells_skipped > 0 {
        println!(
            "skipped    {} rows with an empty value cell",
            ins.empty_cells_skipped
        );
    }
    Ok(0)
}

pub fn convert(a: &ConvertArgs) -> Result<i32> {
    crate::output::refuse_existing(&a.output, a.force)?;
    let cal = a.shunt_ohms.map(|r| Calibration {
        shunt_ohms: r,
        ..Calibration::default()
    });
    let mut reader = crate::read::read(&a.file, &a.ingest.options(), cal)?;
    let names = reader.names().to_vec();
    let (value_name, digital) = (names[1].as_str(), &names[2..]);
    let nd = digital.len();
    let lower = a.output.to_ascii_lowercase();
    let mut chunk = Chunk::default();
    if lower.ends_with(".parquet") {
        use polars::prelude::*;
        let file = AtomicFile::create(&a.output)?;
        let mut fields = vec![
            Field::new("time_s".into(), DataType::Float64),
            Field::new(value_name.into(), DataType::Float64),
        ];
        for d in digital {
            fields.push(Field::new(d.as_str().into(), DataType::Float64));
        }
        let schema = Schema::from_iter(fields);
        let mut file = file;
        let err = |e: PolarsError| Error::output(&a.output, format!("cannot write Parquet: {e}"));
        {
            let mut w = ParquetWriter::new(file.writer())
                .with_compression(ParquetCompression::Zstd(None))
                .batched(&schema)
                .map_err(err)?;
            while reader.next_chunk(&mut chunk)? {
                let mut cols = vec![
                    Column::new("time_s".into(), std::mem::take(&mut chunk.time_s)),
                    Column::new(value_name.into(), std::mem::take(&mut chunk.value)),
                ];
                for (k, d) in digital.iter().enumerate() {
                    let v: Vec<Option<f64>> = chunk
                        .digital
                        .iter()
                        .skip(k)
                        .step_by(nd)
                        .map(|x| (!x.is_nan()).then_some(*x))
                        .collect();
                    cols.push(Column::new(d.as_str().into(), v));
                }
                let df = DataFrame::new_infer_height(cols).map_err(err)?;
                w.write_batch(&df).map_err(err)?;
            }
            w.finish().map_err(err)?;
        }
        file.commit()?;
    } else if lower.ends_with(".csv") {
        let mut file = AtomicFile::create(&a.output)?;
        let mut header = format!("time_s,{value_name}");
        for d in digital {
            header.push(',');
            header.push_str(&crate::report::csv::field(d));
        }
        writeln!(file.writer(), "{header}").map_err(|e| file.err(e))?;
        let mut line = String::with_capacity(64);
        while reader.next_chunk(&mut chunk)? {
            for (k, (t, v)) in chunk.time_s.iter().zip(&chunk.value).enumerate() {
                use std::fmt::Write as _;
                line.clear();
                let _ = write!(line, "{t},{v}");
                for d in chunk.digital.iter().skip(k * nd).take(nd) {
                    if d.is_nan() {
                        line.push(',');
                    } else {
                        let _ = write!(line, ",{d}");
                    }
                }
                line.push('\n');
                file.writer()
                    .write_all(line.as_bytes())
                    .map_err(|e| file.err(e))?;
            }
        }
        file.commit()?;
    } else {
        return Err(Error::usage(format!(
            "-o {}: the output must end in .csv or .parquet",
            a.output
        )));
    }
    Ok(0)
}
