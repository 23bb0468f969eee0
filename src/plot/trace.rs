//! The trace chart: current against time from a min/max envelope, with the baseline (the sleep
//! floor of a sleeping device), the trigger level, and each burst shaded in its class's colour
//! and labelled with its excess charge. The current axis is logarithmic when the trace spans
//! more than two decades above its floor (values at or below a third of the floor sit on the
//! axis' bottom), else linear; ticks carry their own unit (nA, µA, mA, A).

use super::{color, e, Chart};
use crate::analysis::Analysis;
use crate::capture::exchange::Phase;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The tick colour of an exchange phase (stacked in `Phase::ALL` order).
fn phase_color(k: usize) -> RGBColor {
    match k {
        0..=3 => color([5, 4, 3, 2][k]),
        4 => color(2),
        5 => RGBColor(0, 0, 0),
        _ => RGBColor(128, 128, 128),
    }
}

pub struct TraceChart<'a> {
    pub analysis: &'a Analysis,
    /// (time at column centre, min, max) per pixel column; None where there is no sample.
    pub columns: Vec<Option<(f64, f64, f64)>>,
    pub window: (f64, f64),
    /// Some(true): a logarithmic current axis, Some(false): linear, None: logarithmic when the
    /// trace spans more than two decades above its floor.
    pub log_y: Option<bool>,
}

/// Fill colours of burst classes (palette indices; blue, green and vermillion draw the trace,
/// the floor and the trigger).
const CLASS_COLORS: [usize; 4] = [1, 4, 5, 6];

/// A class's fill colour; bursts without a class take the first.
pub fn class_color(class: Option<usize>) -> RGBColor {
    color(CLASS_COLORS[class.unwrap_or(0) % CLASS_COLORS.len()])
}

/// How the current maps onto the axis: linear, or log₁₀ with values clamped at `min_ma`.
#[derive(Clone, Copy)]
struct YMap {
    log_min_ma: Option<f64>,
}

impl YMap {
    fn y(&self, ma: f64) -> f64 {
        match self.log_min_ma {
            Some(m) => ma.max(m).log10(),
            None => ma,
        }
    }
}

impl TraceChart<'_> {
    /// The envelope's lowest and highest current, mA (±infinity when it is empty).
    fn extremes(&self) -> (f64, f64) {
        self.columns
            .iter()
            .flatten()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
                (lo.min(c.1), hi.max(c.2))
            })
    }

    /// The axis mapping: log when asked, or when the top of the trace is more than 100× its
    /// floor (or baseline).
    fn y_map(&self) -> YMap {
        let d = &self.analysis.detection;
        let reference = d
            .floor_ma
            .filter(|f| *f > 0.0)
            .or((d.baseline_ma > 0.0).then_some(d.baseline_ma));
        let hi = self.extremes().1;
        let log = match (self.log_y, reference) {
            (Some(false), _) | (None, None) => false,
            (None, Some(r)) => hi > 100.0 * r,
            (Some(true), _) => true,
        };
        // A third of the floor, or 1 nA below everything when there is no floor.
        let min = reference.map_or(1e-6, |r| r / 3.0);
        YMap {
            log_min_ma: log.then_some(min),
        }
    }

    /// The current axis: the envelope, the idle level and the trigger level, with margins;
    /// (bottom, top, margin) in mA.
    fn y_range(&self, m: YMap) -> (f64, f64, f64) {
        let a = self.analysis;
        let (lo, hi) = self.extremes();
        let (lo, hi) = if lo.is_finite() && hi.is_finite() {
            (m.y(lo), m.y(hi))
        } else {
            (0.0, 1.0)
        };
        let base = m.y(a.detection.baseline_ma);
        let thr = m.y(a.detection.baseline_ma + a.detection.threshold_ma);
        let pad = ((hi.max(thr) - lo.min(base)) * 0.08).max(1e-9);
        (lo.min(base) - pad, hi.max(thr) + 2.0 * pad, pad)
    }

    /// The envelope as paths: a vertical stroke per column from min to max, joined column to
    /// column through the middles.
    fn envelope_segments(&self, m: YMap) -> Vec<Vec<(f64, f64)>> {
        let mut prev: Option<(f64, f64, f64)> = None;
        let mut segs = Vec::new();
        for c in self
            .columns
            .iter()
            .map(|c| c.map(|(t, lo, hi)| (t, m.y(lo), m.y(hi))))
        {
            match (c, prev) {
                (Some(c), Some(p)) => {
                    segs.push(vec![(c.0, c.1), (c.0, c.2)]);
                    segs.push(vec![(p.0, 0.5 * (p.1 + p.2)), (c.0, 0.5 * (c.1 + c.2))]);
                }
                (Some(c), None) => segs.push(vec![(c.0, c.1), (c.0, c.2)]),
                _ => {}
            }
            prev = c;
        }
        segs
    }
}

impl Chart for TraceChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let a = self.analysis;
        root.fill(&WHITE).map_err(e)?;
        let (t0, t1) = self.window;
        let m = self.y_map();
        let (y0, y1, pad) = self.y_range(m);
        let name = std::path::Path::new(&a.ingest.file)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&a.ingest.file);
        let visible: Vec<_> = a
            .detection
            .bursts
            .iter()
            .filter(|b| b.end_s >= t0 && b.start_s <= t1)
            .collect();
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!(
                    "{name}: {} burst{}, {} {}, {} in bursts",
                    visible.len(),
                    if visible.len() == 1 { "" } else { "s" },
                    idle_word(a),
                    crate::units::fmt_current(a.detection.baseline_ma),
                    crate::units::fmt_charge(
                        visible.iter().map(|b| b.excess_charge_ma_ms).sum::<f64>()
                    )
                ),
                ("sans-serif", 26),
            )
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(t0..t1, y0..y1)
            .map_err(e)?;
        let ticks = |v: &f64| match m.log_min_ma {
            Some(_) => crate::units::fmt_current(10f64.powf(*v)),
            None => crate::units::fmt_sig(*v, 4),
        };
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc(if m.log_min_ma.is_some() {
                "current (log scale)"
            } else {
                "current (mA)"
            })
            .y_label_formatter(&ticks)
            .axis_desc_style(("sans-serif", 20))
            .label_style(("sans-serif", 16))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(e)?;
        self.shade_bursts(&mut chart, &visible, (y0, y1))?;
        shade_windows(&mut chart, a, (t0, t1), (y0, y1))?;
        // The envelope: a vertical stroke per column from min to max, joined column to column.
        let line = color(0).stroke_width(1);
        let segs = self.envelope_segments(m);
        chart
            .draw_series(segs.into_iter().map(|s| PathElement::new(s, line)))
            .map_err(e)?
            .label("current (min/max per pixel)")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color(0).stroke_width(2))
            });
        let base = a.detection.baseline_ma;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(t0, m.y(base)), (t1, m.y(base))],
                color(2).stroke_width(2),
            )))
            .map_err(e)?
            .label(format!(
                "{} {}",
                idle_word(a),
                crate::units::fmt_current(base)
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color(2).stroke_width(2)));
        let thr = m.y(base + a.detection.threshold_ma);
        chart
            .draw_series(DashedLineSeries::new(
                vec![(t0, thr), (t1, thr)],
                8,
                6,
                color(3).stroke_width(2),
            ))
            .map_err(e)?
            .label(format!(
                "burst trigger +{}",
                crate::units::fmt_current(a.detection.threshold_ma)
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color(3).stroke_width(2)));
        // Packet exchanges (--pcap): a tick per exchange at its first packet, coloured by phase.
        if let Some(p) = &a.capture {
            let tick = (y1 - y0) * 0.07;
            for (k, phase) in Phase::ALL.iter().enumerate() {
                let ticks: Vec<f64> = p
                    .exchanges
                    .iter()
                    .filter(|x| x.phase == *phase && x.start_s >= t0 && x.start_s <= t1)
                    .map(|x| x.start_s)
                    .collect();
                if ticks.is_empty() {
                    continue;
                }
                let c = phase_color(k);
                let lo = y0 + tick * (0.2 + 0.12 * k as f64);
                chart
                    .draw_series(ticks.into_iter().map(|t| {
                        PathElement::new(vec![(t, lo), (t, lo + tick)], c.stroke_width(2))
                    }))
                    .map_err(e)?
                    .label(format!("packets: {phase}"))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x + 12, y - 7), (x + 12, y + 7)], c.stroke_width(3))
                    });
            }
        }
        // Labels, as many as fit without overlapping (about one per 110 px).
        let (w, _) = root.dim_in_pixel();
        let min_gap = (t1 - t0) * 110.0 / w.max(1) as f64;
        let mut last = f64::NEG_INFINITY;
        let style = ("sans-serif", 15).into_font().color(&BLACK);
        for b in &visible {
            let x = b.start_s.max(t0);
            if x - last >= min_gap {
                chart
                    .draw_series(std::iter::once(Text::new(
                        crate::units::fmt_charge(b.excess_charge_ma_ms),
                        (x, y1 - pad * 0.4),
                        style.clone(),
                    )))
                    .map_err(e)?;
                last = x;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 16))
            .draw()
            .map_err(e)?;
        Ok(())
    }
}

/// `sleep floor` when the baseline is the floor a device sleeps at, else `idle`.
fn idle_word(a: &Analysis) -> &'static str {
    match a.detection.baseline_source {
        crate::analysis::BaselineSource::Floor => "sleep floor",
        _ => "idle",
    }
}

type Plane<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

impl TraceChart<'_> {
    /// Each visible burst shaded in its class's colour; a legend entry per class (with its
    /// period when it recurs).
    fn shade_bursts<DB: DrawingBackend>(
        &self,
        chart: &mut Plane<'_, DB>,
        visible: &[&crate::detect::Burst],
        (y0, y1): (f64, f64),
    ) -> Result<(), String> {
        let (t0, t1) = self.window;
        let mut classes: Vec<Option<usize>> = visible.iter().map(|b| b.class).collect();
        classes.sort();
        classes.dedup();
        let named = classes.len() > 1 || classes.first().is_some_and(|c| c.is_some());
        for (k, class) in classes.iter().enumerate() {
            let fill = class_color(*class).mix(0.22);
            let series = chart
                .draw_series(visible.iter().filter(|b| b.class == *class).map(|b| {
                    Rectangle::new(
                        [(b.start_s.max(t0), y0), (b.end_s.min(t1), y1)],
                        fill.filled(),
                    )
                }))
                .map_err(e)?;
            // At most six classes in the legend.
            if named && k < 6 {
                let c = class.and_then(|c| self.analysis.detection.classes.get(c));
                let label = match c {
                    Some(c) => format!(
                        "class {}: {} burst{}{}",
                        c.class,
                        c.n,
                        if c.n == 1 { "" } else { "s" },
                        c.period_s
                            .map(|p| format!(", every {}", crate::units::fmt_duration(p)))
                            .unwrap_or_default()
                    ),
                    None => "bursts".into(),
                };
                let col = class_color(*class);
                series.label(label).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 24, y + 6)], col.mix(0.5).filled())
                });
            }
        }
        Ok(())
    }
}

/// Phase windows: shaded, with label and energy at the top.
fn shade_windows<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    a: &Analysis,
    (t0, t1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Result<(), String> {
    let shade = color(4).mix(0.14);
    for w in a
        .windows
        .iter()
        .filter(|w| w.end_s >= t0 && w.start_s <= t1)
    {
        let (x0, x1) = (w.start_s.max(t0), w.end_s.min(t1));
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x0, y0), (x1, y1)],
                shade.filled(),
            )))
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!(
                    "{}: {:.3} mJ{}",
                    w.label,
                    w.energy_mj,
                    if w.cut { " (cut)" } else { "" }
                ),
                (x0, y1 - (y1 - y0) * 0.06),
                ("sans-serif", 17).into_font().color(&color(4).mix(0.95)),
            )))
            .map_err(e)?;
    }
    Ok(())
}
