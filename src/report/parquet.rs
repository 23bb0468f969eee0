//! events.parquet and summary.parquet, written with polars (zstd).

use super::BatchReport;
use crate::error::{Error, Result};
use polars::prelude::*;

fn write(df: &mut DataFrame) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(df)
        .map_err(|e| Error::output("parquet", format!("cannot encode: {e}")))?;
    Ok(buf)
}

fn frame(cols: Vec<Column>) -> Result<DataFrame> {
    DataFrame::new_infer_height(cols)
        .map_err(|e| Error::output("parquet", format!("cannot build a table: {e}")))
}

/// One row per event.
pub fn events(r: &BatchReport) -> Result<Vec<u8>> {
    let mut file = Vec::new();
    let mut group = Vec::new();
    let mut label = Vec::new();
    let mut index = Vec::new();
    let mut bursts = Vec::new();
    let mut f64s: [Vec<f64>; 12] = Default::default();
    let mut bytes = Vec::new();
    for o in &r.files {
        let Some(x) = &o.result else { continue };
        for e in &x.attribution.events {
            file.push(o.file.clone());
            group.push(o.group.clone());
            label.push(e.label.clone());
            index.push(e.index as u32);
            bursts.push(e.bursts.len() as u32);
            for (k, v) in [
                e.start_s,
                e.end_s,
                e.duration_ms,
                e.width_ms,
                e.peak_ma,
                e.excess_charge_ma_ms,
                e.charge_ma_ms,
                e.energy_mj,
                x.detection.baseline_ma,
                x.detection.supply_v,
                x.detection.noise_ma,
                x.ingest.sample_interval_s,
            ]
            .into_iter()
            .enumerate()
            {
                f64s[k].push(v);
            }
            bytes.push(o.bytes_per_message);
        }
    }
    let names = [
        "start_s",
        "end_s",
        "duration_ms",
        "width_ms",
        "peak_ma",
        "excess_charge_ma_ms",
        "charge_ma_ms",
        "energy_mj",
        "baseline_ma",
        "supply_v",
        "noise_ma",
        "sample_interval_s",
    ];
    let mut cols = vec![
        Column::new("file".into(), file),
        Column::new("group".into(), group),
        Column::new("label".into(), label),
        Column::new("event_index".into(), index),
        Column::new("bursts".into(), bursts),
    ];
    for (n, v) in names.iter().zip(f64s) {
        cols.push(Column::new((*n).into(), v));
    }
    cols.push(Column::new("bytes_per_message".into(), bytes));
    write(&mut frame(cols)?)
}

/// One row per group and label, the same columns as summary.csv.
pub fn summary(r: &BatchReport) -> Result<Vec<u8>> {
    let st = &r.summaries.label_stats;
    let s = |f: &dyn Fn(&crate::summarize::LabelStats) -> Option<f64>| -> Vec<Option<f64>> {
        st.iter().map(f).collect()
    };
    let cols = vec![
        Column::new(
            "group".into(),
            st.iter().map(|x| x.group.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "label".into(),
            st.iter().map(|x| x.label.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "n".into(),
            st.iter().map(|x| x.n as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "mean_excess_charge_ma_ms".into(),
            s(&|x| Some(x.excess_charge_ma_ms.mean)),
        ),
        Column::new(
            "sd_excess_charge_ma_ms".into(),
            s(&|x| x.excess_charge_ma_ms.sd),
        ),
        Column::new(
            "ci95_low_excess_charge_ma_ms".into(),
            s(&|x| x.excess_charge_ma_ms.ci95_low),
        ),
        Column::new(
            "ci95_high_excess_charge_ma_ms".into(),
            s(&|x| x.excess_charge_ma_ms.ci95_high),
        ),
        Column::new("mean_duration_ms".into(), s(&|x| Some(x.duration_ms.mean))),
        Column::new("mean_energy_mj".into(), s(&|x| Some(x.energy_mj.mean))),
        Column::new(
            "median_excess_charge_ma_ms".into(),
            s(&|x| Some(x.excess_charge_ma_ms.median)),
        ),
        Column::new(
            "min_excess_charge_ma_ms".into(),
            s(&|x| Some(x.excess_charge_ma_ms.min)),
        ),
        Column::new(
            "max_excess_charge_ma_ms".into(),
            s(&|x| Some(x.excess_charge_ma_ms.max)),
        ),
        Column::new("sd_duration_ms".into(), s(&|x| x.duration_ms.sd)),
        Column::new("mean_width_ms".into(), s(&|x| Some(x.width_ms.mean))),
        Column::new("sd_energy_mj".into(), s(&|x| x.energy_mj.sd)),
        Column::new("ci95_low_energy_mj".into(), s(&|x| x.energy_mj.ci95_low)),
        Column::new("ci95_high_energy_mj".into(), s(&|x| x.energy_mj.ci95_high)),
    ];
    write(&mut frame(cols)?)
}

/// One row per packet-capture exchange (empty when no file had a capture).
pub fn exchanges(r: &BatchReport) -> Result<Vec<u8>> {
    let mut file = Vec::new();
    let mut group = Vec::new();
    let mut protocol = Vec::new();
    let mut phase = Vec::new();
    let mut start = Vec::new();
    let mut end = Vec::new();
    let mut packets = Vec::new();
    let mut bytes = Vec::new();
    let mut burst = Vec::new();
    let mut charge = Vec::new();
    let mut energy = Vec::new();
    for o in &r.files {
        let Some(p) = o.result.as_ref().and_then(|x| x.capture.as_ref()) else {
            continue;
        };
        for e in &p.exchanges {
            file.push(o.file.clone());
            group.push(o.group.clone());
            protocol.push(e.protocol.to_string());
            phase.push(e.phase.to_string());
            start.push(e.start_s);
            end.push(e.end_s);
            packets.push(e.packets);
            bytes.push(e.bytes);
            burst.push(e.burst_index.map(|b| b as u32));
            charge.push(e.excess_charge_ma_ms);
            energy.push(e.energy_mj);
        }
    }
    let cols = vec![
        Column::new("file".into(), file),
        Column::new("group".into(), group),
        Column::new("protocol".into(), protocol),
        Column::new("phase".into(), phase),
        Column::new("start_s".into(), start),
        Column::new("end_s".into(), end),
        Column::new("packets".into(), packets),
        Column::new("bytes".into(), bytes),
        Column::new("burst_index".into(), burst),
        Column::new("excess_charge_ma_ms".into(), charge),
        Column::new("energy_mj".into(), energy),
    ];
    write(&mut frame(cols)?)
}

/// windows.parquet: one row per phase window per file (cut ones too, flagged).
pub fn windows(r: &BatchReport) -> Result<Vec<u8>> {
    let (mut file, mut group, mut label) = (Vec::new(), Vec::new(), Vec::new());
    let (mut index, mut samples, mut cut, mut bursts) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut f64s: [Vec<f64>; 10] = Default::default();
    for o in &r.files {
        let Some(x) = &o.result else { continue };
        for w in &x.windows {
            file.push(o.file.clone());
            group.push(o.group.clone());
            label.push(w.label.clone());
            index.push(w.index as u32);
            samples.push(w.samples);
            cut.push(w.cut);
            bursts.push(w.bursts.len() as u32);
            for (v, x) in f64s.iter_mut().zip([
                w.start_s,
                w.end_s,
                w.duration_ms,
                w.charge_ma_ms,
                w.excess_charge_ma_ms,
                w.energy_mj,
                w.mean_ma,
                w.peak_ma,
                w.mean_mw,
                x.detection.baseline_ma,
            ]) {
                v.push(x);
            }
        }
    }
    let names = [
        "start_s",
        "end_s",
        "duration_ms",
        "charge_ma_ms",
        "excess_charge_ma_ms",
        "energy_mj",
        "mean_ma",
        "peak_ma",
        "mean_mw",
        "baseline_ma",
    ];
    let mut cols = vec![
        Column::new("file".into(), file),
        Column::new("group".into(), group),
        Column::new("label".into(), label),
        Column::new("index".into(), index),
    ];
    for (n, v) in names.iter().zip(f64s) {
        cols.push(Column::new((*n).into(), v));
    }
    cols.push(Column::new("samples".into(), samples));
    cols.push(Column::new("cut".into(), cut));
    cols.push(Column::new("bursts".into(), bursts));
    write(&mut frame(cols)?)
}
