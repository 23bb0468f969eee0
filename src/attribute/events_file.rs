//! Events files: `time_s,label` rows (a device log), matched to bursts.

use super::{event_of, Attribution, UnmatchedEvent};
use crate::detect::Burst;
use crate::error::{snippet, Error, Result};

/// One logged event.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    pub time_s: f64,
    pub label: String,
}

/// Read `time_s,label` rows; a header, blank lines and `#` comments are skipped.
pub fn read(path: &str) -> Result<Vec<LogEvent>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::input(
            path,
            format!("cannot read: {}", crate::ingest::io_reason(&e)),
        )
    })?;
    let mut out = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (time, label) = t.split_once(',').unwrap_or((t, ""));
        match time.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => out.push(LogEvent {
                time_s: v,
                label: label.trim().trim_matches('"').to_string(),
            }),
            _ if out.is_empty() && k == 0 => continue, // header
            _ => {
                return Err(Error::input(
                    path,
                    format!(
                        "expected time_s,label with a number of seconds first, found \"{}\"",
                        snippet(t, 60)
                    ),
                )
                .at_line(k as u64 + 1))
            }
        }
    }
    out.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    Ok(out)
}

/// Events matched when the log is shifted by `offset`: each burst to the latest event at or
/// before its start + tolerance, if it starts within the window after that event.
fn assign(
    bursts: &[Burst],
    log: &[LogEvent],
    offset: f64,
    tol: f64,
    window: f64,
) -> Vec<Option<usize>> {
    bursts
        .iter()
        .map(|b| {
            let k = log.partition_point(|e| e.time_s + offset <= b.start_s + tol);
            (k > 0 && b.start_s - (log[k - 1].time_s + offset) <= window).then(|| k - 1)
        })
        .collect()
}

/// How well an offset explains the log: (matched events, −Σ residual²).
fn score(bursts: &[Burst], log: &[LogEvent], offset: f64, tol: f64, window: f64) -> (usize, f64) {
    let a = assign(bursts, log, offset, tol, window);
    let mut first = vec![None; log.len()];
    for (bi, e) in a.iter().enumerate() {
        if let Some(e) = e {
            first[*e].get_or_insert(bi);
        }
    }
    let mut matched = 0;
    let mut ss = 0.0;
    for (e, b) in first.iter().enumerate() {
        if let Some(b) = b {
            matched += 1;
            ss += (bursts[*b].start_s - log[e].time_s - offset).powi(2);
        }
    }
    (matched, -ss)
}

/// Estimate the clock offset: among the differences between burst starts and event times,
/// the one that matches the most events with the smallest residuals.
pub fn estimate_offset(bursts: &[Burst], log: &[LogEvent], tol: f64, window: f64) -> f64 {
    let mut best = (0usize, f64::NEG_INFINITY, 0.0);
    for e in log.iter().take(200) {
        for b in bursts.iter().take(2000) {
            let off = b.start_s - e.time_s;
            let (m, s) = score(bursts, log, off, tol, window);
            if (m, s) > (best.0, best.1) {
                best = (m, s, off);
            }
        }
    }
    best.2
}

pub fn attribute(
    bursts: &[Burst],
    log: &[LogEvent],
    offset_s: Option<f64>,
    tol: f64,
    window: f64,
) -> Attribution {
    let offset = offset_s.unwrap_or_else(|| estimate_offset(bursts, log, tol, window));
    let assigned = assign(bursts, log, offset, tol, window);
    let mut groups: Vec<Vec<&Burst>> = vec![Vec::new(); log.len()];
    let mut unexplained = Vec::new();
    for (b, a) in bursts.iter().zip(&assigned) {
        match a {
            Some(e) => groups[*e].push(b),
            None => unexplained.push(b.index),
        }
    }
    let mut events = Vec::new();
    let mut unmatched = Vec::new();
    for (e, g) in log.iter().zip(&groups) {
        if g.is_empty() {
            unmatched.push(UnmatchedEvent {
                time_s: e.time_s + offset,
                label: e.label.clone(),
            });
        } else {
            events.push(event_of(events.len(), &e.label, Some(e.time_s + offset), g));
        }
    }
    Attribution {
        source: super::AttributionSource::Events,
        events,
        unexplained_bursts: unexplained,
        unmatched_events: unmatched,
        offset_s: Some(offset),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::tests::burst;

    fn log(times: &[f64]) -> Vec<LogEvent> {
        times
            .iter()
            .enumerate()
            .map(|(k, &t)| LogEvent {
                time_s: t,
                label: if k == 0 {
                    "connect".into()
                } else {
                    "message".into()
                },
            })
            .collect()
    }

    #[test]
    fn missing_extra_double_and_offset() {
        // Log clock is 100 s behind the trace plus 5 ms of latency before each burst.
        let l = log(&[-99.8, -98.8, -97.8, -96.8, -95.8]);
        let b = [
            burst(0, 0.205, 4000.0),
            burst(1, 1.205, 400.0),
            burst(2, 1.230, 100.0), // a second burst for the same message
            burst(3, 2.205, 400.0),
            // the 4th message has no burst
            burst(4, 3.700, 50.0), // a burst nobody logged, 0.5 s after its nearest event
            burst(5, 4.205, 400.0),
        ];
        let a = attribute(&b, &l, None, 0.05, 0.3);
        assert!(
            (a.offset_s.unwrap() - 100.005).abs() < 1e-9,
            "{:?}",
            a.offset_s
        );
        assert_eq!(a.events.len(), 4);
        assert_eq!(a.events[1].bursts, [1, 2]);
        assert_eq!(a.events[1].excess_charge_ma_ms, 500.0);
        assert_eq!(a.unmatched_events.len(), 1);
        assert!((a.unmatched_events[0].time_s - 3.205).abs() < 1e-9);
        assert_eq!(a.unexplained_bursts, [4]);
        assert_eq!(a.events[0].label, "connect");
    }
}
