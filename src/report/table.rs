//! Aligned text for people: what was read, how, and one row per burst.

use crate::analysis::Analysis;
use crate::trace::Quantity;
use crate::units::fmt_duration;
use std::fmt::Write;

/// Cells as aligned text: each column right-aligned to its widest cell, two spaces apart; a
/// line per row, the header first.
pub fn aligned(header: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            std::iter::once(&header[c])
                .chain(rows.iter().map(|r| &r[c]))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut s = line(header) + "\n";
    for r in rows {
        s.push_str(&line(r));
        s.push('\n');
    }
    crate::units::clean_negative_zeros(&s)
}

pub fn render(a: &Analysis) -> String {
    let mut s = String::new();
    let i = &a.ingest.input;
    let _ = writeln!(s, "file       {}", a.ingest.file);
    let _ = writeln!(s, "format     {} ({})", a.ingest.format, i.read_as());
    let _ = writeln!(s, "time       {}", i.time_source);
    let q = match a.ingest.quantity {
        Quantity::Voltage => "voltage",
        Quantity::Current => "current",
    };
    let _ = writeln!(s, "value      {} in {} ({q})", i.value_column, i.value_unit);
    let _ = writeln!(s, "current    {}", a.ingest.calibration_text);
    for note in &i.scaling {
        let _ = writeln!(s, "scaling    {note}");
    }
    for note in &i.assumptions {
        let _ = writeln!(s, "assumed    {note}");
    }
    let _ = writeln!(
        s,
        "samples    {} over {:.6} s, one every {}",
        a.ingest.samples,
        a.detection.totals.duration_s,
        fmt_duration(a.ingest.sample_interval_s)
    );
    let _ = writeln!(
        s,
        "baseline   {} ({}), noise {} rms{}",
        crate::units::fmt_current_digits(a.detection.baseline_ma, 6),
        match a.detection.baseline_source {
            crate::analysis::BaselineSource::Auto => "estimated",
            crate::analysis::BaselineSource::Given => "given",
            crate::analysis::BaselineSource::Floor => "the sleep floor",
        },
        crate::units::fmt_current(a.detection.noise_ma),
        a.detection
            .quantisation_ma
            .map(|q| format!(", steps of {}", crate::units::fmt_current(q)))
            .unwrap_or_default()
    );
    if !a.detection.states.is_empty() {
        let states: Vec<String> = a
            .detection
            .states
            .iter()
            .map(|st| {
                format!(
                    "{} ({:.1}% of the time, {:.1}% of the charge)",
                    crate::units::fmt_current(st.level_ma),
                    100.0 * st.time_share,
                    100.0 * st.charge_share
                )
            })
            .collect();
        let _ = writeln!(s, "states     {}", states.join("; "));
    }
    if let (Some(f), Some(sd)) = (a.detection.floor_ma, a.detection.floor_sd_ma) {
        let _ = writeln!(
            s,
            "floor      {} ± {}",
            crate::units::fmt_current(f),
            crate::units::fmt_current(sd)
        );
    }
    let _ = writeln!(
        s,
        "threshold  +{} above the baseline to start a burst, tail below +{}",
        crate::units::fmt_current(a.detection.threshold_ma),
        crate::units::fmt_current(a.detection.release_ma)
    );
    let _ = writeln!(s);
    bursts(&mut s, &a.detection.bursts);
    let t = &a.detection.totals;
    let _ = writeln!(s);
    let supply = match &a.ingest.input.supply_column {
        Some(c) => format!("with the supply measured ({c})"),
        None => format!("at {} V", a.detection.supply_v),
    };
    let _ = writeln!(
        s,
        "totals     {} bursts, excess {:.4} mA·ms = {:.5} mJ {supply}; all charge {:.3} mA·ms, mean {:.4} mA; bursts are {:.3}% of the charge",
        t.bursts,
        t.burst_excess_charge_ma_ms,
        t.burst_energy_mj,
        t.charge_ma_ms,
        t.mean_ma,
        100.0 * t.burst_share
    );
    let _ = writeln!(
        s,
        "energy     {:.5} mJ in all, mean power {:.4} mW{}",
        t.energy_mj,
        t.mean_mw,
        match &a.ingest.input.supply_column {
            Some(_) => String::new(),
            None => format!(
                " (at a constant {} V, not measured: see `assumed`)",
                a.detection.supply_v
            ),
        }
    );
    if !a.detection.classes.is_empty() {
        let _ = writeln!(s);
        classes(&mut s, &a.detection.classes);
    }
    if let Some(b) = &a.budget {
        let _ = writeln!(s);
        budget(&mut s, b);
    }
    if !a.windows.is_empty() {
        let _ = writeln!(s);
        windows(&mut s, &a.windows);
    }
    if !a.every.is_empty() {
        let _ = writeln!(s);
        every(&mut s, &a.every);
    }
    if let Some(p) = &a.capture {
        let _ = writeln!(s);
        pcap(&mut s, p, true);
    }
    s
}

/// One row per burst.
fn bursts(s: &mut String, bursts: &[crate::detect::Burst]) {
    let _ = writeln!(
        s,
        "{:>5} {:>5} {:>11} {:>10} {:>10} {:>10} {:>10} {:>14} {:>14} {:>10} {:>8}",
        "burst",
        "class",
        "start_s",
        "dur_ms",
        "width_ms",
        "peak_ma",
        "mean_ma",
        "excess_ma_ms",
        "charge_ma_ms",
        "energy_mj",
        "samples"
    );
    for b in bursts {
        let flag = if b.cut_start || b.cut_end { " cut" } else { "" };
        let _ = writeln!(
            s,
            "{:>5} {:>5} {:>11.6} {:>10.3} {:>10} {:>10} {:>10} {:>14} {:>14} {:>10} {:>8}{flag}",
            b.index,
            b.class.map_or("–".to_string(), |c| c.to_string()),
            b.start_s,
            b.duration_ms,
            sig(b.width_ms),
            sig(b.peak_ma),
            sig(b.mean_ma),
            sig(b.excess_charge_ma_ms),
            sig(b.charge_ma_ms),
            sig(b.energy_mj),
            b.samples
        );
    }
}

/// Five significant digits.
fn sig(v: f64) -> String {
    crate::units::fmt_sig(v, 5)
}

/// The classes of bursts, one row each.
fn classes(s: &mut String, cs: &[crate::analysis::Class]) {
    let _ = writeln!(
        s,
        "{:>5} {:>6} {:>11} {:>11} {:>12} {:>25} {:>11} {:>10} {:>8}",
        "class",
        "n",
        "period_s",
        "jitter_s",
        "dur_ms",
        "excess_ma_ms (95% CI)",
        "energy_mj",
        "peak_ma",
        "charge"
    );
    for c in cs {
        let ci = match (c.ci_low, c.ci_high) {
            (Some(lo), Some(hi)) => format!(
                "{} ({}–{})",
                sig(c.mean_excess_charge_ma_ms),
                sig(lo),
                sig(hi)
            ),
            _ => sig(c.mean_excess_charge_ma_ms),
        };
        let opt = |v: Option<f64>| v.map_or("–".to_string(), |p| format!("{p:.6}"));
        let _ = writeln!(
            s,
            "{:>5} {:>6} {:>11} {:>11} {:>12} {ci:>25} {:>11} {:>10} {:>7.2}%{}",
            c.class,
            c.n,
            opt(c.period_s),
            opt(c.period_jitter_s),
            sig(c.mean_duration_ms),
            sig(c.mean_energy_mj),
            sig(c.peak_ma),
            100.0 * c.charge_share,
            if c.recurs() { "" } else { "  does not recur" }
        );
    }
}

/// The energy budget: the floor, the mean, each period.
fn budget(s: &mut String, b: &crate::analysis::Budget) {
    use crate::units::{fmt_current, fmt_hours};
    let life = |h: Option<f64>| {
        h.map(|h| format!(", battery {}", fmt_hours(h)))
            .unwrap_or_default()
    };
    let _ = writeln!(
        s,
        "budget     floor {} = {} mW; mean {} = {} mW at {} V{}{}",
        fmt_current(b.floor_ma),
        sig(b.floor_mw),
        fmt_current(b.mean_ma),
        sig(b.mean_mw),
        sig(b.supply_v),
        b.battery_mah
            .map(|m| format!(" ({m} mAh at {} V)", sig(b.battery_v.unwrap_or(b.supply_v))))
            .unwrap_or_default(),
        life(b.battery_life_h)
    );
    for p in &b.periods {
        let _ = writeln!(
            s,
            "           class {} every {} s ({}): {} mJ per period, mean {}, {} J a day{}",
            p.class,
            sig(p.period_s),
            if p.given { "given" } else { "measured" },
            sig(p.energy_per_period_mj),
            fmt_current(p.mean_ma),
            sig(p.energy_per_day_j),
            life(p.battery_life_h)
        );
    }
    for o in &b.one_off {
        let _ = writeln!(
            s,
            "           class {} does not recur ({} burst{}, {} mA·ms, {} mJ): left out of the periods",
            o.class,
            o.n,
            if o.n == 1 { "" } else { "s" },
            sig(o.excess_charge_ma_ms),
            sig(o.energy_mj)
        );
    }
}

/// `--every`'s windows, one row each.
fn every(s: &mut String, ws: &[crate::analysis::EveryWindow]) {
    let _ = writeln!(
        s,
        "{:>5} {:>12} {:>12} {:>12} {:>16} {:>12}",
        "every", "start_s", "end_s", "mean_ma", "charge_ma_ms", "energy_mj"
    );
    for (k, w) in ws.iter().enumerate() {
        let mean = w.mean_ma.map_or("–".to_string(), |m| format!("{m:.4}"));
        let _ = writeln!(
            s,
            "{k:>5} {:>12.6} {:>12.6} {mean:>12} {:>16.4} {:>12.5}{}",
            w.start_s,
            w.end_s,
            w.charge_ma_ms,
            w.energy_mj,
            if w.partial { "  partial" } else { "" }
        );
    }
}

/// The phase windows, one row each.
fn windows(s: &mut String, ws: &[crate::attribute::windows::Window]) {
    let _ = writeln!(
        s,
        "{:>6} {:<12} {:>12} {:>12} {:>11} {:>14} {:>14} {:>11} {:>10} {:>9} {:>8}",
        "window",
        "label",
        "start_s",
        "end_s",
        "dur_ms",
        "charge_ma_ms",
        "excess_ma_ms",
        "energy_mj",
        "mean_mw",
        "peak_ma",
        "samples"
    );
    for w in ws {
        let _ = writeln!(
            s,
            "{:>6} {:<12} {:>12.6} {:>12.6} {:>11.3} {:>14.4} {:>14.4} {:>11.5} {:>10.3} {:>9.3} {:>8}{}",
            w.index,
            w.label,
            w.start_s,
            w.end_s,
            w.duration_ms,
            w.charge_ma_ms,
            w.excess_charge_ma_ms,
            w.energy_mj,
            w.mean_mw,
            w.peak_ma,
            w.samples,
            if w.cut { "  cut by the trace's edge" } else { "" }
        );
    }
}

/// The capture's section: alignment (with `clock`), exchanges, totals per protocol and phase.
pub fn pcap(s: &mut String, p: &crate::attribute::pcap::PcapReport, clock: bool) {
    let _ = writeln!(
        s,
        "capture    {} ({}, {} packets, {} bytes over {:.3} s)",
        p.file, p.container, p.packets, p.bytes, p.capture_duration_s
    );
    if clock {
        let _ = writeln!(
        s,
        "clock      trace time = packet time + {:.6} s ({}){}; {} of {} packet clusters in a burst",
        p.offset_s,
        p.offset_source,
        p.residual_ms
            .map(|r| format!(", residuals {r:.3} ms rms"))
            .unwrap_or_default(),
        p.matched_clusters,
        p.clusters
    );
        let _ = writeln!(
            s,
            "charge     each exchange's stretch of its burst, {}",
            if p.charge_split == crate::attribute::pcap::ChargeSplit::Integrated {
                "integrated on the samples"
            } else {
                "split by time (the trace could not be read twice)"
            }
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<9} {:<14} {:>11} {:>7} {:>7} {:>6} {:>14} {:>10}",
        "protocol", "phase", "start_s", "packets", "bytes", "burst", "excess_ma_ms", "energy_mj"
    );
    for e in &p.exchanges {
        let _ = writeln!(
            s,
            "{:<9} {:<14} {:>11.6} {:>7} {:>7} {:>6} {:>14} {:>10}",
            e.protocol,
            e.phase,
            e.start_s,
            e.packets,
            e.bytes,
            e.burst_index.map(|b| b.to_string()).unwrap_or("–".into()),
            e.excess_charge_ma_ms
                .map(|q| format!("{q:.4}"))
                .unwrap_or("–".into()),
            e.energy_mj.map(|q| format!("{q:.5}")).unwrap_or("–".into()),
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<9} {:<14} {:>9} {:>7} {:>7} {:>9} {:>14} {:>10} {:>8}",
        "protocol",
        "phase",
        "exchanges",
        "packets",
        "bytes",
        "B/exch",
        "excess_ma_ms",
        "energy_mj",
        "uJ/B"
    );
    for r in &p.phases {
        let _ = writeln!(
            s,
            "{:<9} {:<14} {:>9} {:>7} {:>7} {:>9.1} {:>14.4} {:>10.5} {:>8}",
            r.protocol,
            r.phase,
            r.exchanges,
            r.packets,
            r.bytes,
            r.bytes_per_exchange,
            r.excess_charge_ma_ms,
            r.energy_mj,
            r.energy_uj_per_byte
                .map(|u| format!("{u:.3}"))
                .unwrap_or("–".into())
        );
    }
    if !p.unexplained_bursts.is_empty() {
        let list: Vec<String> = p.unexplained_bursts.iter().map(|b| b.to_string()).collect();
        let _ = writeln!(s, "\nbursts no packet explains: {}", list.join(", "));
    }
}
