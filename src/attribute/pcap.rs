//! Attribute from a packet capture: align the capture's clock with the trace's, tie each
//! exchange to the burst that holds its first packet, and sum bytes, charge and energy per
//! protocol and phase.
//!
//! Clocks: trace time = packet time (s since the capture's first packet) + `offset_s`.
//! The offset is estimated by matching the starts of packet clusters (exchanges that begin less
//! than 50 ms apart) to burst starts: every cluster–burst pair votes for an offset (1 ms bins),
//! the best-voted offsets are scored by how many clusters land inside a burst (then by how close
//! they land to burst starts), and the winner is refined by the median residual. Cost:
//! O(clusters × bursts) for the votes, capped at 2000 × 2000.

use super::{event_of, Attribution, AttributionSource};
use crate::capture::exchange::{exchanges_of_hosts, Exchange, Phase};
use crate::capture::{CaptureInfo, PortMap, Protocol};
use crate::detect::Burst;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What `--pcap` and its companions ask for.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PcapOptions {
    pub path: String,
    /// `PROTOCOL=PORT` mappings on top of 80, 443, 1883, 8883.
    pub ports: Vec<String>,
    /// Given offset, s (None: estimate).
    pub offset_s: Option<f64>,
    /// How far outside a burst a first packet may fall and still belong to it, ms.
    pub tolerance_ms: f64,
    /// Keep only packets to or from these addresses (the device's), when any.
    #[serde(default)]
    pub hosts: Vec<String>,
}

/// One exchange as reported: times on the trace's clock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExchangeRow {
    pub protocol: Protocol,
    pub phase: Phase,
    /// Trace clock, s.
    pub start_s: f64,
    pub end_s: f64,
    /// Capture clock (s since its first packet).
    pub capture_start_s: f64,
    pub packets: u64,
    pub bytes: u64,
    /// Its first packet's frame number, 1-based as Wireshark counts.
    pub first_frame: u64,
    pub connection: Option<usize>,
    pub burst_index: Option<usize>,
    /// Its share of the burst's excess charge: ∫(I − idle) dt over its stretch of the burst, mA·ms.
    pub excess_charge_ma_ms: Option<f64>,
    pub energy_mj: Option<f64>,
}

/// Totals of one protocol and phase.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseRow {
    pub protocol: Protocol,
    pub phase: Phase,
    pub exchanges: usize,
    pub packets: u64,
    pub bytes: u64,
    pub bytes_per_exchange: f64,
    /// Exchanges tied to a burst.
    pub attributed: usize,
    /// Bytes of the attributed exchanges.
    pub attributed_bytes: u64,
    pub excess_charge_ma_ms: f64,
    pub energy_mj: f64,
    /// Energy of the attributed exchanges over their bytes, µJ/B (None without any).
    pub energy_uj_per_byte: Option<f64>,
}

/// The capture's part of an analysis. Field names are a contract (README).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PcapReport {
    pub file: String,
    pub container: String,
    pub packets: u64,
    pub bytes: u64,
    /// Packets left out by `--pcap-host`.
    #[serde(default)]
    pub filtered_out: u64,
    pub capture_duration_s: f64,
    /// Trace time = capture time + offset_s.
    pub offset_s: f64,
    pub offset_source: OffsetSource,
    /// RMS of burst start − (cluster start + offset) over the clusters that open a burst, ms.
    pub residual_ms: Option<f64>,
    /// Packet clusters, and how many opened a burst.
    pub clusters: usize,
    pub matched_clusters: usize,
    pub exchanges: Vec<ExchangeRow>,
    pub phases: Vec<PhaseRow>,
    /// Bursts that no exchange's first packet falls in.
    pub unexplained_bursts: Vec<usize>,
    pub warnings: Vec<String>,
    /// How a burst's charge was split among its exchanges: `integrated` (∫(I − idle) dt over
    /// each exchange's stretch of the burst, trapezoid on the samples) or `time-share` (by the
    /// stretches' lengths, when the trace could not be read again, e.g. from standard input).
    #[serde(default)]
    pub charge_split: ChargeSplit,
}

/// Where a capture's clock offset came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OffsetSource {
    /// Matched packet clusters to burst starts.
    Estimated,
    /// `--pcap-offset`.
    Given,
    /// No cluster fell in a burst; offset 0 assumed.
    None,
}

/// How a burst's charge was split among its exchanges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChargeSplit {
    /// ∫(I − idle) dt over each exchange's stretch, trapezoid on the samples.
    Integrated,
    /// By the stretches' lengths (the trace could not be read again).
    #[default]
    TimeShare,
}

impl std::fmt::Display for OffsetSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            OffsetSource::Estimated => "estimated",
            OffsetSource::Given => "given",
            OffsetSource::None => "none",
        })
    }
}

impl PcapReport {
    /// Mean bytes of the message exchanges (PUBLISH, HTTP request), if any.
    pub fn bytes_per_message(&self) -> Option<f64> {
        let m: Vec<u64> = self
            .exchanges
            .iter()
            .filter(|e| e.phase.is_message())
            .map(|e| e.bytes)
            .collect();
        (!m.is_empty()).then(|| m.iter().sum::<u64>() as f64 / m.len() as f64)
    }
}

/// Exchanges starting less than this apart form one cluster, s.
const CLUSTER_GAP_S: f64 = 0.05;
const MAX_VOTERS: usize = 2000;

/// Starts of the packet clusters, capture clock.
fn clusters(ex: &[Exchange]) -> Vec<f64> {
    let mut starts: Vec<f64> = ex.iter().map(|e| e.start_s).collect();
    starts.sort_by(f64::total_cmp);
    let mut out: Vec<f64> = Vec::new();
    let mut last = f64::NEG_INFINITY;
    for s in starts {
        if s - last > CLUSTER_GAP_S {
            out.push(s);
        }
        last = s;
    }
    out
}

/// The burst holding time `t` (trace clock), allowing `tol_s` either side.
fn burst_at(bursts: &[Burst], t: f64, tol_s: f64) -> Option<usize> {
    // Bursts are in time order and do not overlap.
    let i = bursts.partition_point(|b| b.start_s - tol_s <= t);
    let mut best: Option<(usize, f64)> = None;
    let from = i.saturating_sub(2);
    for (k, b) in bursts.iter().enumerate().take(i + 1).skip(from) {
        let d = if t < b.start_s {
            b.start_s - t
        } else if t > b.end_s {
            t - b.end_s
        } else {
            0.0
        };
        if d <= tol_s && best.map_or(true, |(_, bd)| d < bd) {
            best = Some((k, d));
        }
    }
    best.map(|(k, _)| k)
}

/// (matched clusters, −Σ|residual|) for an offset, and the residuals of clusters that open a
/// burst.
fn score(cl: &[f64], bursts: &[Burst], d: f64, tol_s: f64) -> (usize, f64, Vec<f64>) {
    let mut matched = 0;
    let mut seen = vec![false; bursts.len()];
    let mut res = Vec::new();
    for &c in cl {
        if let Some(k) = burst_at(bursts, c + d, tol_s) {
            matched += 1;
            if !seen[k] {
                seen[k] = true;
                res.push(bursts[k].start_s - (c + d));
            }
        }
    }
    let err: f64 = res.iter().map(|r| r.abs()).sum();
    (matched, -err, res)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Estimate the offset: (offset_s, residual rms s, matched clusters).
pub fn align(cl: &[f64], bursts: &[Burst], tol_s: f64) -> Option<(f64, f64, usize)> {
    if cl.is_empty() || bursts.is_empty() {
        return None;
    }
    let bin = 1e-3;
    let mut votes: HashMap<i64, (u32, f64)> = HashMap::new();
    for &c in cl.iter().take(MAX_VOTERS) {
        for b in bursts.iter().take(MAX_VOTERS) {
            let d = b.start_s - c;
            let e = votes.entry((d / bin).round() as i64).or_insert((0, 0.0));
            e.0 += 1;
            e.1 += d;
        }
    }
    let mut ranked: Vec<(i64, (u32, f64))> = votes.into_iter().collect();
    // Most votes first; ties by bin, so the result does not depend on hashing.
    ranked.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
    let mut best: Option<(usize, f64, f64)> = None;
    for (_, (n, sum)) in ranked.iter().take(32) {
        let d = sum / *n as f64;
        let (m, e, _) = score(cl, bursts, d, tol_s);
        let better = match best {
            None => true,
            Some((bm, be, _)) => m > bm || (m == bm && e > be + 1e-12),
        };
        if better {
            best = Some((m, e, d));
        }
    }
    let (m, _, mut d) = best?;
    if m == 0 {
        return None;
    }
    // Refine twice by the median residual of the clusters that open a burst.
    for _ in 0..2 {
        let (_, _, mut res) = score(cl, bursts, d, tol_s);
        if res.is_empty() {
            break;
        }
        d += median(&mut res);
    }
    let (m, _, res) = score(cl, bursts, d, tol_s);
    let rms = (res.iter().map(|r| r * r).sum::<f64>() / res.len().max(1) as f64).sqrt();
    Some((d, rms, m))
}

/// Read the capture, align it with `bursts` and attribute.
pub fn attribute_pcap(bursts: &[Burst], o: &PcapOptions) -> Result<PcapReport> {
    let ports = PortMap::with(&o.ports)?;
    let hosts = o
        .hosts
        .iter()
        .map(|h| {
            h.trim().parse::<std::net::IpAddr>().map_err(|_| {
                crate::error::Error::usage(format!(
                    "--pcap-host: expected an IPv4 or IPv6 address, found \"{h}\""
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (info, ex) = exchanges_of_hosts(&o.path, &ports, &hosts)?;
    if info.packets == 0 {
        return Err(crate::error::Error::input(
            &o.path,
            format!(
                "no packet to or from {} among its {} packets",
                o.hosts.join(", "),
                info.filtered_out
            ),
        ));
    }
    Ok(report(bursts, o, &info, &ex))
}

/// Tie exchanges to bursts and total them.
pub fn report(
    bursts: &[Burst],
    o: &PcapOptions,
    info: &CaptureInfo,
    ex: &[Exchange],
) -> PcapReport {
    let tol_s = o.tolerance_ms * 1e-3;
    let cl = clusters(ex);
    let mut warnings = Vec::new();
    let (offset_s, source, residual, matched) = match o.offset_s {
        Some(d) => {
            let (m, _, res) = score(&cl, bursts, d, tol_s);
            let rms = (!res.is_empty())
                .then(|| (res.iter().map(|r| r * r).sum::<f64>() / res.len() as f64).sqrt());
            (d, OffsetSource::Given, rms, m)
        }
        None => match align(&cl, bursts, tol_s) {
            Some((d, rms, m)) => (d, OffsetSource::Estimated, Some(rms), m),
            None => {
                warnings.push(format!(
                    "no packet cluster of {} falls in a burst at any offset: cannot align the \
                     clocks (give --pcap-offset); offset 0 assumed",
                    o.path
                ));
                (0.0, OffsetSource::None, None, 0)
            }
        },
    };
    if source == OffsetSource::Estimated && matched * 2 < cl.len() {
        warnings.push(format!(
            "only {matched} of {} packet clusters fall in a burst at the best offset ({offset_s:.4} s): \
             check that the capture and the trace cover the same run",
            cl.len()
        ));
    }
    if info.undecoded > 0 {
        warnings.push(format!(
            "{} of {} frames could not be decoded down to IP (link types {:?}); counted as other",
            info.undecoded, info.packets, info.link_types
        ));
    }
    if info.truncated > 0 {
        warnings.push(format!(
            "{} frames were cut short by the capture's snap length: bytes are the original \
             lengths, but protocol decoding may have lost track",
            info.truncated
        ));
    }
    let mut rows: Vec<ExchangeRow> = ex
        .iter()
        .map(|e| {
            let t = e.start_s + offset_s;
            ExchangeRow {
                protocol: e.protocol,
                phase: e.phase,
                start_s: t,
                end_s: e.end_s + offset_s,
                capture_start_s: e.start_s,
                packets: e.packets,
                bytes: e.bytes,
                first_frame: e.first_packet + 1,
                connection: e.connection,
                burst_index: if source == OffsetSource::None {
                    None
                } else {
                    burst_at(bursts, t, tol_s).map(|k| bursts[k].index)
                },
                excess_charge_ma_ms: None,
                energy_mj: None,
            }
        })
        .collect();
    // Until the trace is read again (`integrate`): each exchange's stretch of its burst as a
    // share of the burst's length, the current taken as even within the burst.
    let pos: HashMap<usize, usize> = bursts
        .iter()
        .enumerate()
        .map(|(k, b)| (b.index, k))
        .collect();
    for (from, to, i) in stretches(&rows, bursts) {
        let Some(b) = rows[i].burst_index.map(|b| &bursts[pos[&b]]) else {
            continue;
        };
        let w = (to - from) / (b.end_s - b.start_s).max(f64::MIN_POSITIVE);
        rows[i].excess_charge_ma_ms = Some(w * b.excess_charge_ma_ms);
        rows[i].energy_mj = Some(w * b.energy_mj);
    }
    let explained: std::collections::HashSet<usize> =
        rows.iter().filter_map(|r| r.burst_index).collect();
    let unexplained_bursts = bursts
        .iter()
        .map(|b| b.index)
        .filter(|i| !explained.contains(i))
        .collect();
    PcapReport {
        file: o.path.clone(),
        container: info.container.clone(),
        packets: info.packets,
        bytes: info.bytes,
        filtered_out: info.filtered_out,
        capture_duration_s: info.duration_s,
        offset_s,
        offset_source: source,
        residual_ms: residual.map(|r| r * 1e3),
        clusters: cl.len(),
        matched_clusters: matched,
        phases: phases(&rows),
        exchanges: rows,
        unexplained_bursts,
        warnings,
        charge_split: ChargeSplit::TimeShare,
    }
}

/// Each exchange's stretch of its burst, trace clock: (from, to, exchange row). The first
/// exchange in a burst starts at the burst's start, the last ends at its end, and each other
/// ends where the next begins.
fn stretches(rows: &[ExchangeRow], bursts: &[Burst]) -> Vec<(f64, f64, usize)> {
    let mut by_burst: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(b) = r.burst_index {
            by_burst.entry(b).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for b in bursts {
        let Some(idx) = by_burst.get_mut(&b.index) else {
            continue;
        };
        idx.sort_by(|&x, &y| rows[x].start_s.total_cmp(&rows[y].start_s));
        for (k, &i) in idx.iter().enumerate() {
            let from = if k == 0 {
                b.start_s
            } else {
                rows[i].start_s.clamp(b.start_s, b.end_s)
            };
            let to = match idx.get(k + 1) {
                Some(&n) => rows[n].start_s.clamp(b.start_s, b.end_s),
                None => b.end_s,
            };
            out.push((from, to.max(from), i));
        }
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// Replace the time-share split by the charge each exchange's stretch really holds:
/// ∫(I − `baseline_ma`) dt by the trapezoid rule on the samples, interpolated at the stretch
/// ends, never across a step longer than `max_step_s` (a gap). `stream` feeds the trace's
/// (time s, current mA) chunks in order. Cost: one more pass over the trace.
pub fn integrate(
    r: &mut PcapReport,
    bursts: &[Burst],
    baseline_ma: f64,
    supply_v: f64,
    max_step_s: f64,
    stream: impl FnOnce(&mut dyn FnMut(&[f64], &[f64])) -> Result<()>,
) -> Result<()> {
    let segs = stretches(&r.exchanges, bursts);
    if segs.is_empty() {
        r.charge_split = ChargeSplit::Integrated;
        return Ok(());
    }
    let mut acc = vec![0.0f64; r.exchanges.len()];
    let mut k = 0usize;
    let mut prev: Option<(f64, f64)> = None;
    stream(&mut |ts: &[f64], is: &[f64]| {
        for (&t, &i) in ts.iter().zip(is) {
            if let Some((t0, i0)) = prev {
                let dt = t - t0;
                if dt > 0.0 && dt <= max_step_s {
                    while k < segs.len() && segs[k].1 <= t0 {
                        k += 1;
                    }
                    let mut j = k;
                    while j < segs.len() && segs[j].0 < t {
                        let (a, b) = (t0.max(segs[j].0), t.min(segs[j].1));
                        if b > a {
                            let at = |x: f64| i0 + (i - i0) * (x - t0) / dt - baseline_ma;
                            acc[segs[j].2] += 0.5 * (at(a) + at(b)) * (b - a) * 1e3;
                        }
                        j += 1;
                    }
                }
            }
            prev = Some((t, i));
        }
    })?;
    for (_, _, i) in &segs {
        let e = &mut r.exchanges[*i];
        e.excess_charge_ma_ms = Some(acc[*i]);
        e.energy_mj = Some(acc[*i] * supply_v / 1e3);
    }
    r.phases = phases(&r.exchanges);
    r.charge_split = ChargeSplit::Integrated;
    Ok(())
}

/// Per protocol and phase totals, in a fixed order.
pub fn phases(rows: &[ExchangeRow]) -> Vec<PhaseRow> {
    let mut map: HashMap<(Protocol, Phase), PhaseRow> = HashMap::new();
    for r in rows {
        let e = map
            .entry((r.protocol, r.phase))
            .or_insert_with(|| PhaseRow {
                protocol: r.protocol,
                phase: r.phase,
                exchanges: 0,
                packets: 0,
                bytes: 0,
                bytes_per_exchange: 0.0,
                attributed: 0,
                attributed_bytes: 0,
                excess_charge_ma_ms: 0.0,
                energy_mj: 0.0,
                energy_uj_per_byte: None,
            });
        e.exchanges += 1;
        e.packets += r.packets;
        e.bytes += r.bytes;
        if let (Some(q), Some(en)) = (r.excess_charge_ma_ms, r.energy_mj) {
            e.attributed += 1;
            e.attributed_bytes += r.bytes;
            e.excess_charge_ma_ms += q;
            e.energy_mj += en;
        }
    }
    let mut out: Vec<PhaseRow> = map.into_values().collect();
    for p in &mut out {
        p.bytes_per_exchange = p.bytes as f64 / p.exchanges as f64;
        p.energy_uj_per_byte =
            (p.attributed_bytes > 0).then(|| p.energy_mj * 1e3 / p.attributed_bytes as f64);
    }
    out.sort_by(|a, b| {
        a.protocol
            .name()
            .cmp(b.protocol.name())
            .then(a.phase.cmp(&b.phase))
    });
    out
}

/// Events from the capture: one per burst that exchanges explain, labelled `connect` when any of
/// its exchanges sets a connection up, else `message` when one is a PUBLISH or request, else
/// `teardown` or `other`. Bursts without exchanges are unexplained.
pub fn events(bursts: &[Burst], r: &PcapReport) -> Attribution {
    let mut phases_of: HashMap<usize, Vec<Phase>> = HashMap::new();
    for e in &r.exchanges {
        if let Some(b) = e.burst_index {
            phases_of.entry(b).or_default().push(e.phase);
        }
    }
    let mut a = Attribution {
        source: AttributionSource::Pcap,
        offset_s: Some(r.offset_s),
        ..Attribution::default()
    };
    for b in bursts {
        match phases_of.get(&b.index) {
            None => a.unexplained_bursts.push(b.index),
            Some(ph) => {
                let label = if ph.iter().any(|p| p.is_setup()) {
                    "connect"
                } else if ph.iter().any(|p| p.is_message()) {
                    "message"
                } else if ph.contains(&Phase::Teardown) {
                    "teardown"
                } else {
                    "other"
                };
                let k = a.events.len();
                a.events.push(event_of(k, label, None, &[b]));
            }
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn burst(index: usize, start_s: f64, end_s: f64) -> Burst {
        Burst {
            index,
            start_s,
            end_s,
            duration_ms: (end_s - start_s) * 1e3,
            width_ms: 0.0,
            peak_ma: 0.0,
            mean_ma: 0.0,
            excess_charge_ma_ms: 100.0,
            charge_ma_ms: 0.0,
            energy_mj: 0.5,
            samples: 10,
            cut_start: false,
            cut_end: false,
            class: None,
        }
    }

    #[test]
    fn stretches_split_by_time() {
        let b = burst(0, 1.0, 1.1);
        let row = |t: f64| ExchangeRow {
            protocol: Protocol::Mqtt,
            phase: Phase::Publish,
            start_s: t,
            end_s: t,
            capture_start_s: t,
            packets: 1,
            bytes: 60,
            first_frame: 1,
            connection: Some(0),
            burst_index: Some(0),
            excess_charge_ma_ms: None,
            energy_mj: None,
        };
        let st = stretches(&[row(1.0005), row(1.06)], &[b]);
        let w: Vec<f64> = st.iter().map(|(f, t, _)| (t - f) / 0.1).collect();
        assert!(
            (w[0] - 0.6).abs() < 1e-9 && (w[1] - 0.4).abs() < 1e-9,
            "{w:?}"
        );
    }

    #[test]
    fn align_finds_a_periodic_offset_not_a_period_off() {
        // A connect and nine messages at 1 s, bursts 0.4372 s later; one extra burst from
        // something else. A shift by one period matches one cluster fewer.
        let cl: Vec<f64> = (0..10).map(|k| k as f64 + 0.001 * (k % 3) as f64).collect();
        let mut bursts: Vec<Burst> = cl
            .iter()
            .enumerate()
            .map(|(k, c)| {
                burst(
                    k,
                    c + 0.4372,
                    c + 0.4372 + if k == 0 { 0.08 } else { 0.006 },
                )
            })
            .collect();
        bursts.push(burst(10, 12.0, 12.01));
        let (d, rms, m) = align(&cl, &bursts, 0.002).unwrap();
        assert!((d - 0.4372).abs() < 1e-9, "{d}");
        assert!(rms < 1e-9);
        assert_eq!(m, 10);
    }
}
