//! Charts from batch results: protocol comparison, battery life against message interval,
//! distribution of per-message charge, and a gallery of events.

use super::{color, e, fmt_seconds, Chart};
use crate::batch::BatchReport;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The label of category `x` on an axis where categories sit at 0, 1, 2...; none between.
fn category<S: AsRef<str>>(names: &[S], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 {
        names
            .get(i as usize)
            .map(|s| s.as_ref().to_string())
            .unwrap_or_default()
    } else {
        String::new()
    }
}

/// Grouped bars of energy per event, connect and steady messages side by side (each on its own
/// scale: a connection set-up costs tens of times a message), with 95% CI error bars.
pub struct CompareChart<'a>(pub &'a BatchReport);

impl Chart for CompareChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let r = self.0;
        root.fill(&WHITE).map_err(e)?;
        let (title, body) = root.split_vertically(60);
        title
            .draw(&Text::new(
                "Energy per event, mean with 95% confidence interval",
                (20, 15),
                ("sans-serif", 28).into_font(),
            ))
            .map_err(e)?;
        let panels = body.split_evenly((1, 2));
        let groups: Vec<&str> = r
            .summaries
            .groups
            .iter()
            .map(|g| g.group.as_str())
            .collect();
        for (k, label) in [&r.settings.first_label, &r.settings.label]
            .into_iter()
            .enumerate()
        {
            let stats: Vec<_> = groups
                .iter()
                .map(|g| {
                    r.summaries
                        .label_stats
                        .iter()
                        .find(|x| x.group == *g && &x.label == label)
                })
                .collect();
            let top = stats
                .iter()
                .flatten()
                .map(|s| {
                    s.energy_mj
                        .ci95_high
                        .unwrap_or(s.energy_mj.max)
                        .max(s.energy_mj.mean)
                })
                .fold(0.0f64, f64::max)
                * 1.15;
            let top = if top > 0.0 { top } else { 1.0 };
            let n = groups.len().max(1);
            let mut chart = ChartBuilder::on(&panels[k])
                .caption(label, ("sans-serif", 24))
                .margin(20)
                .x_label_area_size(50)
                .y_label_area_size(80)
                .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0.0..top)
                .map_err(e)?;
            let names = groups.clone();
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n)
                .x_label_formatter(&|x| category(&names, *x))
                .y_desc("energy per event (mJ)")
                .axis_desc_style(("sans-serif", 20))
                .label_style(("sans-serif", 17))
                .draw()
                .map_err(e)?;
            for (i, s) in stats.iter().enumerate() {
                let Some(s) = s else { continue };
                let x = i as f64;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.32, 0.0), (x + 0.32, s.energy_mj.mean)],
                        color(i).mix(0.85).filled(),
                    )))
                    .map_err(e)?;
                if let (Some(lo), Some(hi)) = (s.energy_mj.ci95_low, s.energy_mj.ci95_high) {
                    chart
                        .draw_series(std::iter::once(ErrorBar::new_vertical(
                            x,
                            lo.max(0.0),
                            s.energy_mj.mean,
                            hi,
                            BLACK.stroke_width(2),
                            18,
                        )))
                        .map_err(e)?;
                }
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{:.3} mJ (n={})", s.energy_mj.mean, s.n),
                        (x - 0.3, s.energy_mj.mean + top * 0.03),
                        ("sans-serif", 15).into_font(),
                    )))
                    .map_err(e)?;
            }
        }
        Ok(())
    }
}

/// Battery life against message interval, one curve per group, log x axis; the idle-only life
/// as a dashed line, and where the protocol stops mattering (10%).
pub struct BatteryChart<'a>(pub &'a BatteryData<'a>);

pub struct BatteryData<'a> {
    pub report: &'a BatchReport,
}

impl Chart for BatteryChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let r = self.0.report;
        root.fill(&WHITE).map_err(e)?;
        let groups: Vec<_> = r
            .summaries
            .groups
            .iter()
            .filter(|g| g.message_excess_charge_ma_ms.is_some())
            .collect();
        let ints = &r.settings.intervals_s;
        let crossover = r
            .summaries
            .lesson
            .as_ref()
            .and_then(|l| l.crossover_interval_s);
        let lo_t = ints
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .min(0.1)
            .min(crossover.unwrap_or(f64::INFINITY))
            / 2.0;
        let hi_t = ints.iter().copied().fold(0.0f64, f64::max).max(3600.0) * 2.0;
        let cap = r.settings.battery_mah;
        let life = |g: &crate::summarize::GroupSummary, t: f64| {
            cap / (g.baseline_ma + g.message_excess_charge_ma_ms.unwrap_or(0.0) / (t * 1e3))
        };
        let ts: Vec<f64> = (0..=200)
            .map(|k| lo_t * (hi_t / lo_t).powf(k as f64 / 200.0))
            .collect();
        let max_life = groups
            .iter()
            .map(|g| cap / g.baseline_ma)
            .fold(0.0f64, f64::max)
            * 1.1;
        let min_life = groups
            .iter()
            .map(|g| life(g, lo_t))
            .fold(f64::INFINITY, f64::min);
        // A linear life axis from zero: how much the protocol matters is seen as distance.
        let y0 = 0.0;
        let max_life = if max_life > 0.0 && min_life.is_finite() {
            max_life
        } else {
            1.0
        };
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Battery life on {cap:.0} mAh against message interval"),
                ("sans-serif", 28),
            )
            .margin(20)
            .x_label_area_size(55)
            .y_label_area_size(90)
            .build_cartesian_2d((lo_t..hi_t).log_scale(), y0..max_life)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("time between messages")
            .y_desc("battery life (hours)")
            .x_label_formatter(&|x| fmt_seconds(*x))
            .axis_desc_style(("sans-serif", 20))
            .label_style(("sans-serif", 16))
            .draw()
            .map_err(e)?;
        for (k, g) in groups.iter().enumerate() {
            let c = color(k);
            chart
                .draw_series(LineSeries::new(
                    ts.iter().map(|&t| (t, life(g, t))),
                    c.stroke_width(3),
                ))
                .map_err(e)?
                .label(format!(
                    "{}: {:.1} mA·ms per message",
                    g.group,
                    g.message_excess_charge_ma_ms.unwrap_or(0.0)
                ))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
                });
        }
        if let Some(g) = groups.first() {
            let idle = cap / g.baseline_ma;
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(lo_t, idle), (hi_t, idle)],
                    10,
                    6,
                    BLACK.mix(0.6).stroke_width(2),
                ))
                .map_err(e)?
                .label(format!(
                    "idle only ({:.1} mA): {}",
                    g.baseline_ma,
                    crate::units::fmt_hours(idle)
                ))
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], BLACK.mix(0.6).stroke_width(2))
                });
        }
        if let Some(t) = r
            .summaries
            .lesson
            .as_ref()
            .and_then(|l| l.crossover_interval_s)
        {
            if t > lo_t && t < hi_t {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(t, y0), (t, max_life)],
                        6,
                        6,
                        color(3).stroke_width(2),
                    ))
                    .map_err(e)?
                    .label(format!(
                        "protocol changes life by 10% at {}",
                        fmt_seconds(t)
                    ))
                    .legend(|(x, y)| {
                        PathElement::new(vec![(x, y), (x + 24, y)], color(3).stroke_width(2))
                    });
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 17))
            .draw()
            .map_err(e)?;
        Ok(())
    }
}

/// Per-message charge of every event, one strip per group, with a box (quartiles, median).
pub struct DistributionChart<'a>(pub &'a BatchReport);

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (i, f) = (pos.floor() as usize, pos.fract());
    if i + 1 < sorted.len() {
        sorted[i] * (1.0 - f) + sorted[i + 1] * f
    } else {
        sorted[i]
    }
}

impl Chart for DistributionChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let r = self.0;
        root.fill(&WHITE).map_err(e)?;
        let label = &r.settings.label;
        let mut data: Vec<(String, Vec<f64>)> = Vec::new();
        for f in &r.files {
            let Some(x) = &f.result else { continue };
            let vals = x
                .attribution
                .events
                .iter()
                .filter(|e| &e.label == label)
                .map(|e| e.excess_charge_ma_ms);
            match data.iter_mut().find(|(g, _)| *g == f.group) {
                Some((_, v)) => v.extend(vals),
                None => data.push((f.group.clone(), vals.collect())),
            }
        }
        data.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, v) in &mut data {
            v.sort_by(f64::total_cmp);
        }
        let all: Vec<f64> = data
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .filter(|v| *v > 0.0)
            .collect();
        let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = all.iter().copied().fold(0.0f64, f64::max);
        let (lo, hi) = if lo.is_finite() && hi > lo {
            (lo / 1.5, hi * 1.5)
        } else {
            (0.1, 10.0)
        };
        let n = data.len().max(1);
        let names: Vec<String> = data
            .iter()
            .map(|(g, v)| format!("{g} (n={})", v.len()))
            .collect();
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Excess charge per {label}, every event"),
                ("sans-serif", 28),
            )
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (lo..hi).log_scale())
            .map_err(e)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| category(&names, *x))
            .y_desc("excess charge (mA·ms = µC), log scale")
            .y_labels(8)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .axis_desc_style(("sans-serif", 20))
            .label_style(("sans-serif", 17))
            .draw()
            .map_err(e)?;
        for (i, (_, v)) in data.iter().enumerate() {
            let x = i as f64;
            let c = color(i);
            let (q1, q2, q3) = (quantile(v, 0.25), quantile(v, 0.5), quantile(v, 0.75));
            if q1.is_finite() && q1 > 0.0 {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.25, q1), (x + 0.25, q3)],
                        c.mix(0.25).filled(),
                    )))
                    .map_err(e)?;
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x - 0.25, q2), (x + 0.25, q2)],
                        c.stroke_width(3),
                    )))
                    .map_err(e)?;
            }
            // Points, spread sideways by rank so that equal values do not hide each other.
            chart
                .draw_series(
                    v.iter()
                        .enumerate()
                        .filter(|(_, y)| **y > 0.0)
                        .map(|(k, &y)| {
                            let dx = ((k * 7919) % 97) as f64 / 97.0 * 0.36 - 0.18;
                            Circle::new((x + dx, y), 5, c.filled())
                        }),
                )
                .map_err(e)?;
        }
        Ok(())
    }
}

/// One small panel per event: the current over the event with the integrated area filled.
pub struct Panel {
    pub title: String,
    /// (ms from the event start, min, max) per column.
    pub columns: Vec<(f64, f64, f64)>,
    pub baseline_ma: f64,
    pub start_ms: f64,
    pub end_ms: f64,
    pub excess_charge_ma_ms: f64,
    pub duration_ms: f64,
}

pub struct GalleryChart {
    pub title: String,
    pub panels: Vec<Panel>,
    pub columns: usize,
}

impl Chart for GalleryChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(e)?;
        let (title, body) = root.split_vertically(50);
        title
            .draw(&Text::new(
                self.title.clone(),
                (16, 12),
                ("sans-serif", 26).into_font(),
            ))
            .map_err(e)?;
        let cols = self.columns.max(1);
        let rows = self.panels.len().div_ceil(cols).max(1);
        let areas = body.split_evenly((rows, cols));
        for (p, area) in self.panels.iter().zip(areas.iter()) {
            if p.columns.is_empty() {
                continue;
            }
            let lo = p.columns.iter().map(|c| c.1).fold(p.baseline_ma, f64::min);
            let hi = p.columns.iter().map(|c| c.2).fold(p.baseline_ma, f64::max);
            let pad = ((hi - lo) * 0.1).max(1e-9);
            let x0 = p.columns.first().map(|c| c.0).unwrap_or(0.0);
            let x1 = p.columns.last().map(|c| c.0).unwrap_or(1.0).max(x0 + 1e-9);
            let mut chart = ChartBuilder::on(area)
                .caption(p.title.clone(), ("sans-serif", 15))
                .margin(6)
                .x_label_area_size(22)
                .y_label_area_size(42)
                .build_cartesian_2d(x0..x1, (lo - pad)..(hi + 2.5 * pad))
                .map_err(e)?;
            chart
                .configure_mesh()
                .x_labels(4)
                .y_labels(4)
                .label_style(("sans-serif", 11))
                .x_label_formatter(&|x| format!("{x:.0} ms"))
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(e)?;
            let inside: Vec<(f64, f64)> = p
                .columns
                .iter()
                .filter(|c| c.0 >= p.start_ms && c.0 <= p.end_ms)
                .map(|c| (c.0, 0.5 * (c.1 + c.2)))
                .collect();
            chart
                .draw_series(AreaSeries::new(inside, p.baseline_ma, color(1).mix(0.35)))
                .map_err(e)?;
            chart
                .draw_series(
                    p.columns
                        .iter()
                        .map(|c| PathElement::new(vec![(c.0, c.1), (c.0, c.2)], color(0))),
                )
                .map_err(e)?;
            chart
                .draw_series(LineSeries::new(
                    p.columns.iter().map(|c| (c.0, 0.5 * (c.1 + c.2))),
                    color(0),
                ))
                .map_err(e)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x0, p.baseline_ma), (x1, p.baseline_ma)],
                    color(2).stroke_width(1),
                )))
                .map_err(e)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!(
                        "{:.1} mA·ms, {:.1} ms",
                        p.excess_charge_ma_ms, p.duration_ms
                    ),
                    (x0 + (x1 - x0) * 0.03, hi + 2.0 * pad),
                    ("sans-serif", 13).into_font(),
                )))
                .map_err(e)?;
        }
        Ok(())
    }
}

/// Energy per phase window, stacked per group (one segment per phase label, mean over the
/// files' uncut windows), each segment with its 95% CI drawn at its top.
pub struct WindowsChart<'a>(pub &'a BatchReport);

impl Chart for WindowsChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let s = &self.0.summaries.window_stats;
        root.fill(&WHITE).map_err(e)?;
        let mut groups: Vec<&str> = s.iter().map(|w| w.group.as_str()).collect();
        groups.dedup();
        let mut labels: Vec<&str> = Vec::new();
        for w in s {
            if !labels.contains(&w.label.as_str()) {
                labels.push(&w.label);
            }
        }
        let totals: Vec<f64> = groups
            .iter()
            .map(|g| {
                s.iter()
                    .filter(|w| w.group == *g && w.n > 0)
                    .map(|w| {
                        w.energy_mj
                            .ci95_high
                            .unwrap_or(w.energy_mj.mean)
                            .max(w.energy_mj.mean)
                    })
                    .sum::<f64>()
            })
            .collect();
        let top = totals.iter().copied().fold(0.0f64, f64::max) * 1.12;
        let top = if top > 0.0 { top } else { 1.0 };
        let n = groups.len().max(1);
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Energy per phase window, stacked; whiskers: 95% CI of each phase",
                ("sans-serif", 26),
            )
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0.0..top)
            .map_err(e)?;
        let names = groups.clone();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| category(&names, *x))
            .y_desc("energy per window (mJ)")
            .axis_desc_style(("sans-serif", 20))
            .label_style(("sans-serif", 17))
            .draw()
            .map_err(e)?;
        // Whiskers after every bar, so that no bar covers one.
        let mut whiskers = Vec::new();
        for (k, label) in labels.iter().enumerate() {
            let c = color(k);
            let mut bars = Vec::new();
            for (i, g) in groups.iter().enumerate() {
                let below: f64 = labels[..k]
                    .iter()
                    .filter_map(|l| s.iter().find(|w| w.group == *g && w.label == *l && w.n > 0))
                    .map(|w| w.energy_mj.mean)
                    .sum();
                let Some(w) = s
                    .iter()
                    .find(|w| w.group == *g && w.label == *label && w.n > 0)
                else {
                    continue;
                };
                let x = i as f64;
                let m = w.energy_mj.mean;
                bars.push(Rectangle::new(
                    [(x - 0.3, below), (x + 0.3, below + m)],
                    c.mix(0.85).filled(),
                ));
                if let (Some(lo), Some(hi)) = (w.energy_mj.ci95_low, w.energy_mj.ci95_high) {
                    whiskers.push(ErrorBar::new_vertical(
                        x + 0.1 * (k as f64 - 0.5 * labels.len() as f64),
                        below + lo.max(0.0),
                        below + m,
                        below + hi,
                        BLACK.stroke_width(2),
                        12,
                    ));
                }
            }
            chart
                .draw_series(bars)
                .map_err(e)?
                .label(label.to_string())
                .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 16, y + 7)], c.filled()));
        }
        chart.draw_series(whiskers).map_err(e)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 18))
            .draw()
            .map_err(e)?;
        Ok(())
    }
}
