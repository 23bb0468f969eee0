//! Gallery panels: the samples around each event, read in one more pass over the trace.

use super::charts::Panel;
use super::envelope::Envelope;
use crate::analysis::{stream_file, AnalyzeOptions};
use crate::error::Result;

/// What a panel shows of one event.
#[derive(Debug, Clone)]
pub struct EventWindow {
    pub title: String,
    pub start_s: f64,
    pub end_s: f64,
    pub excess_charge_ma_ms: f64,
    pub duration_ms: f64,
}

/// Columns per panel.
const PANEL_COLUMNS: usize = 160;

/// Read `path` once and build a panel for each event (margins of 25% of its length, at least
/// 1 ms, on each side). Memory: one small envelope per panel.
pub fn panels(
    path: &str,
    opts: &AnalyzeOptions,
    baseline_ma: f64,
    events: &[EventWindow],
) -> Result<Vec<Panel>> {
    let windows: Vec<(f64, f64)> = events
        .iter()
        .map(|e| {
            let pad = ((e.end_s - e.start_s) * 0.25).max(1e-3);
            (e.start_s - pad, e.end_s + pad)
        })
        .collect();
    let mut envs: Vec<Envelope> = windows
        .iter()
        .map(|w| Envelope::new(PANEL_COLUMNS * 2, Some(*w), 0.0))
        .collect();
    stream_file(path, opts, |t, i| {
        let (Some(&first), Some(&last)) = (t.first(), t.last()) else {
            return;
        };
        for (env, w) in envs.iter_mut().zip(&windows) {
            if w.1 >= first && w.0 <= last {
                env.push(t, i);
            }
        }
    })?;
    Ok(events
        .iter()
        .zip(envs)
        .map(|(ev, env)| Panel {
            title: ev.title.clone(),
            columns: env
                .columns(PANEL_COLUMNS)
                .into_iter()
                .flatten()
                .map(|(t, lo, hi)| ((t - ev.start_s) * 1e3, lo, hi))
                .collect(),
            baseline_ma,
            start_ms: 0.0,
            end_ms: (ev.end_s - ev.start_s) * 1e3,
            excess_charge_ma_ms: ev.excess_charge_ma_ms,
            duration_ms: ev.duration_ms,
        })
        .collect())
}
