//! Gallery panels from results: each event's excerpt (kept in the analysis by the pipeline),
//! never a new read of the trace.

use super::charts::Panel;
use crate::analysis::Analysis;

/// A panel per event that has an excerpt, titled `prefix#index label`.
pub fn panels(a: &Analysis, prefix: &str) -> Vec<Panel> {
    a.excerpts
        .iter()
        .filter_map(|x| {
            let ev = a.attribution.events.iter().find(|e| e.index == x.event)?;
            Some(Panel {
                title: format!("{prefix}#{} {}", ev.index, ev.label),
                columns: x
                    .columns
                    .iter()
                    .map(|[t, lo, hi]| ((t - ev.start_s) * 1e3, *lo, *hi))
                    .collect(),
                baseline_ma: a.detection.baseline_ma,
                start_ms: 0.0,
                end_ms: (ev.end_s - ev.start_s) * 1e3,
                excess_charge_ma_ms: ev.excess_charge_ma_ms,
                duration_ms: ev.duration_ms,
            })
        })
        .collect()
}

/// An empty panel, to pad a gallery's row.
pub fn empty_panel() -> Panel {
    Panel {
        title: String::new(),
        columns: Vec::new(),
        baseline_ma: 0.0,
        start_ms: 0.0,
        end_ms: 0.0,
        excess_charge_ma_ms: f64::NAN,
        duration_ms: f64::NAN,
    }
}
