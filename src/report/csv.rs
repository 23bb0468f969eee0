//! CSV: one row per burst, with the trace-level numbers repeated so that files concatenate.

use crate::analysis::Analysis;

pub const COLUMNS: &[&str] = &[
    "file",
    "format",
    "quantity",
    "baseline_ma",
    "noise_ma",
    "threshold_ma",
    "sample_interval_s",
    "index",
    "start_s",
    "end_s",
    "duration_ms",
    "width_ms",
    "peak_ma",
    "mean_ma",
    "excess_charge_ma_ms",
    "charge_ma_ms",
    "energy_mj",
    "samples",
    "cut",
    "class",
];

/// Quote a field if it needs it (RFC 4180).
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The columns of `--every`'s CSV.
pub const EVERY_COLUMNS: &[&str] = &[
    "file",
    "start_s",
    "end_s",
    "mean_ma",
    "charge_ma_ms",
    "energy_mj",
    "partial",
];

/// One row per burst; with `--every`, one row per window instead.
pub fn render(a: &Analysis) -> String {
    if !a.every.is_empty() {
        let mut out = EVERY_COLUMNS.join(",") + "\n";
        for w in &a.every {
            out.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                field(&a.ingest.file),
                w.start_s,
                w.end_s,
                w.mean_ma.map_or(String::new(), |m| m.to_string()),
                w.charge_ma_ms,
                w.energy_mj,
                w.partial
            ));
        }
        return out;
    }
    let mut out = COLUMNS.join(",");
    out.push('\n');
    let q = match a.ingest.quantity {
        crate::trace::Quantity::Voltage => "voltage",
        crate::trace::Quantity::Current => "current",
    };
    for b in &a.detection.bursts {
        let cut = match (b.cut_start, b.cut_end) {
            (true, true) => "both",
            (true, false) => "start",
            (false, true) => "end",
            _ => "",
        };
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            field(&a.ingest.file),
            field(&a.ingest.format),
            q,
            a.detection.baseline_ma,
            a.detection.noise_ma,
            a.detection.threshold_ma,
            a.ingest.sample_interval_s,
            b.index,
            b.start_s,
            b.end_s,
            b.duration_ms,
            b.width_ms,
            b.peak_ma,
            b.mean_ma,
            b.excess_charge_ma_ms,
            b.charge_ma_ms,
            b.energy_mj,
            b.samples,
            cut,
            b.class.map_or(String::new(), |c| c.to_string())
        ));
    }
    out
}
