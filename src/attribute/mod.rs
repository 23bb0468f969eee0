//! Attribute: bursts become labelled events (a connection set-up, each message), from a
//! schedule, an events file (a device log, [`events_file`]), a marker column's rising edges or a
//! packet capture ([`pcap`]); [`windows`] measures phase windows between markers or given times.
//! Unmatched events and unexplained bursts are kept and reported, never dropped.

pub mod events_file;
pub mod pcap;
pub mod windows;

use crate::detect::Burst;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// Where the labels come from.
#[derive(Debug, Clone)]
pub enum LabelSource {
    /// Every burst is its own event, labelled `burst`.
    Bursts,
    /// Bursts in the first period (counted from the first burst) are `first_label`, later ones
    /// `label`; bursts in the same period form one event.
    Schedule {
        period_s: f64,
        first_label: String,
        label: String,
    },
    /// Rising edges of a marker column in the trace (a GPIO line, PPK2's D0–D7, a second scope
    /// channel): the first edge is `first_label`, later ones `label`; bursts are matched to edges
    /// as to an events file, on the trace's own clock.
    Marker {
        first_label: String,
        label: String,
        tolerance_s: f64,
        window_s: f64,
    },
    /// A `time_s,label` file: each burst goes to the latest event at or before its start
    /// (within `tolerance_s`), if it starts within `window_s` of it.
    EventsFile {
        path: String,
        /// Added to the file's times; None estimates it.
        offset_s: Option<f64>,
        tolerance_s: f64,
        window_s: f64,
    },
}

/// A labelled event: one or more bursts. Charges in mA·ms, energy in mJ.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub index: usize,
    pub label: String,
    /// The event's own time (log line), trace clock, s.
    pub time_s: Option<f64>,
    /// Indices of its bursts.
    pub bursts: Vec<usize>,
    pub start_s: f64,
    pub end_s: f64,
    pub duration_ms: f64,
    pub width_ms: f64,
    pub peak_ma: f64,
    pub excess_charge_ma_ms: f64,
    pub charge_ma_ms: f64,
    pub energy_mj: f64,
}

/// An event from a log that no burst explains; stored as `[time_s, label]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(into = "(f64, String)", from = "(f64, String)")]
pub struct UnmatchedEvent {
    pub time_s: f64,
    pub label: String,
}

impl From<UnmatchedEvent> for (f64, String) {
    fn from(u: UnmatchedEvent) -> Self {
        (u.time_s, u.label)
    }
}

impl From<(f64, String)> for UnmatchedEvent {
    fn from((time_s, label): (f64, String)) -> Self {
        UnmatchedEvent { time_s, label }
    }
}

/// The outcome of attributing one trace's bursts.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Attribution {
    pub source: AttributionSource,
    pub events: Vec<Event>,
    /// Bursts that belong to no event.
    pub unexplained_bursts: Vec<usize>,
    pub unmatched_events: Vec<UnmatchedEvent>,
    /// Events-file clock offset used, s (trace time = log time + offset).
    pub offset_s: Option<f64>,
}

/// Where an attribution's labels came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributionSource {
    /// Every burst its own event.
    #[default]
    Bursts,
    /// A period (`--period`).
    Schedule,
    /// A marker column's rising edges (`--marker-col`).
    Marker,
    /// An events file (`--events`).
    Events,
    /// A packet capture (`--pcap`).
    Pcap,
}

/// Merge bursts into one event.
pub fn event_of(index: usize, label: &str, time_s: Option<f64>, bursts: &[&Burst]) -> Event {
    let start_s = bursts
        .iter()
        .map(|b| b.start_s)
        .fold(f64::INFINITY, f64::min);
    let end_s = bursts
        .iter()
        .map(|b| b.end_s)
        .fold(f64::NEG_INFINITY, f64::max);
    Event {
        index,
        label: label.to_string(),
        time_s,
        bursts: bursts.iter().map(|b| b.index).collect(),
        start_s,
        end_s,
        duration_ms: (end_s - start_s) * 1e3,
        width_ms: bursts.iter().map(|b| b.width_ms).sum(),
        peak_ma: bursts
            .iter()
            .map(|b| b.peak_ma)
            .fold(f64::NEG_INFINITY, f64::max),
        excess_charge_ma_ms: bursts.iter().map(|b| b.excess_charge_ma_ms).sum(),
        charge_ma_ms: bursts.iter().map(|b| b.charge_ma_ms).sum(),
        energy_mj: bursts.iter().map(|b| b.energy_mj).sum(),
    }
}

/// Label the bursts of one trace; `marker_edges_s` are the rising edges of its marker column.
pub fn attribute(
    bursts: &[Burst],
    source: &LabelSource,
    marker_edges_s: &[f64],
) -> Result<Attribution> {
    match source {
        LabelSource::Bursts => Ok(Attribution {
            source: AttributionSource::Bursts,
            events: bursts
                .iter()
                .enumerate()
                .map(|(k, b)| event_of(k, "burst", None, &[b]))
                .collect(),
            ..Attribution::default()
        }),
        LabelSource::Schedule {
            period_s,
            first_label,
            label,
        } => Ok(schedule(bursts, *period_s, first_label, label)),
        LabelSource::Marker {
            first_label,
            label,
            tolerance_s,
            window_s,
        } => {
            let log: Vec<events_file::LogEvent> = marker_edges_s
                .iter()
                .enumerate()
                .map(|(k, &t)| events_file::LogEvent {
                    time_s: t,
                    label: if k == 0 {
                        first_label.clone()
                    } else {
                        label.clone()
                    },
                })
                .collect();
            let mut a = events_file::attribute(bursts, &log, Some(0.0), *tolerance_s, *window_s);
            a.source = AttributionSource::Marker;
            a.offset_s = None;
            Ok(a)
        }
        LabelSource::EventsFile {
            path,
            offset_s,
            tolerance_s,
            window_s,
        } => {
            let log = events_file::read(path)?;
            Ok(events_file::attribute(
                bursts,
                &log,
                *offset_s,
                *tolerance_s,
                *window_s,
            ))
        }
    }
}

/// Group bursts by period, counted from the first burst's start (rounded, so ±half a period of
/// jitter is tolerated).
pub fn schedule(bursts: &[Burst], period_s: f64, first_label: &str, label: &str) -> Attribution {
    let mut events = Vec::new();
    if let Some(first) = bursts.first() {
        let anchor = first.start_s;
        let mut current: Vec<&Burst> = Vec::new();
        let mut current_k = 0i64;
        for b in bursts {
            let k = ((b.start_s - anchor) / period_s).round() as i64;
            if k != current_k && !current.is_empty() {
                let l = if current_k == 0 { first_label } else { label };
                events.push(event_of(events.len(), l, None, &current));
                current.clear();
            }
            current_k = k;
            current.push(b);
        }
        if !current.is_empty() {
            let l = if current_k == 0 { first_label } else { label };
            events.push(event_of(events.len(), l, None, &current));
        }
    }
    Attribution {
        source: AttributionSource::Schedule,
        events,
        ..Attribution::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn burst(index: usize, start_s: f64, excess: f64) -> Burst {
        Burst {
            index,
            start_s,
            end_s: start_s + 0.01,
            duration_ms: 10.0,
            width_ms: 8.0,
            peak_ma: 230.0,
            mean_ma: 200.0,
            excess_charge_ma_ms: excess,
            charge_ma_ms: excess + 1700.0,
            energy_mj: excess * 5e-3,
            samples: 100,
            cut_start: false,
            cut_end: false,
            class: None,
        }
    }

    #[test]
    fn schedule_groups_by_period() {
        // A connect in two parts, then messages with jitter; one period has no burst.
        let b = [
            burst(0, 0.20, 3000.0),
            burst(1, 0.26, 2000.0),
            burst(2, 1.21, 400.0),
            burst(3, 2.19, 410.0),
            burst(4, 4.22, 390.0),
        ];
        let a = schedule(&b, 1.0, "connect", "message");
        let labels: Vec<_> = a.events.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(labels, ["connect", "message", "message", "message"]);
        assert_eq!(a.events[0].bursts, [0, 1]);
        assert_eq!(a.events[0].excess_charge_ma_ms, 5000.0);
        assert_eq!(a.events[3].bursts, [4]);
    }
}
