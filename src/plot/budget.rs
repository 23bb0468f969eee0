//! The budget chart of one trace per row: on the left, where the mean power goes (the floor
//! and each recurring class at its own period, one-offs left out); on the right, the battery
//! life (or, without `--battery-mah`, the mean current) against the period of the main class,
//! with the measured and the asked-for periods marked.

use super::trace::class_color;
use super::{color, e, Chart};
use crate::analysis::{main_class, Analysis, Budget};
use crate::units::{fmt_current, fmt_duration, fmt_hours};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Rows of (label, analysis); the label names the group in a batch report ("" for one trace).
pub struct BudgetChart<'a>(pub Vec<(String, &'a Analysis)>);

impl Chart for BudgetChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(e)?;
        let rows = root.split_evenly((self.0.len().max(1), 1));
        for ((label, a), area) in self.0.iter().zip(rows) {
            let Some(b) = &a.budget else { continue };
            let name = std::path::Path::new(a.file())
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(a.file());
            let title = if label.is_empty() {
                name.to_string()
            } else {
                format!("{label} ({name})")
            };
            let (left, right) = area.split_horizontally(area.dim_in_pixel().0 * 45 / 100);
            shares(&left, &title, b)?;
            life(&right, a, b)?;
        }
        Ok(())
    }
}

/// Horizontal bars: each part's share of the mean power, labelled with its power and period.
fn shares<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    b: &Budget,
) -> Result<(), String> {
    let n = b.shares.len();
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "{title}: mean {}",
                crate::units::fmt_sig(b.mean_mw, 4) + " mW"
            ),
            ("sans-serif", 22),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(10)
        .build_cartesian_2d(0.0..118.0, 0.0..n as f64)
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("share of the mean power (%), one-offs left out")
        .axis_desc_style(("sans-serif", 16))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    for (k, s) in b.shares.iter().enumerate() {
        let y = (n - 1 - k) as f64;
        let fill = match s.class {
            None => color(2),
            Some(c) => class_color(Some(c)),
        };
        let pct = 100.0 * s.share;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, y + 0.15), (pct.max(0.3), y + 0.85)],
                fill.mix(0.8).filled(),
            )))
            .map_err(e)?;
        let what = match (s.class, s.period_s) {
            (None, _) => format!("floor {}", fmt_current(s.mean_ma)),
            (Some(c), Some(p)) => format!("class {c} every {}", fmt_duration(p)),
            (Some(c), None) => format!("class {c}"),
        };
        let text = format!(
            "{what}: {:.1}% ({} mW)",
            pct,
            crate::units::fmt_sig(s.mean_mw, 3)
        );
        chart
            .draw_series(std::iter::once(Text::new(
                text,
                (pct.max(0.3) + 1.0, y + 0.62),
                ("sans-serif", 15).into_font().color(&BLACK),
            )))
            .map_err(e)?;
    }
    Ok(())
}

/// Battery life (or mean current) against the main class's period, log–log, over two decades
/// around its own period, with the periods of the budget's rows marked.
fn life<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    a: &Analysis,
    b: &Budget,
) -> Result<(), String> {
    let Some(main) = main_class(&a.detection.classes) else {
        area.draw(&Text::new(
            "no class of bursts recurs: no period to vary",
            (30, 60),
            ("sans-serif", 18).into_font().color(&BLACK),
        ))
        .map_err(e)?;
        return Ok(());
    };
    let own = b
        .shares
        .iter()
        .find(|s| s.class == Some(main.class))
        .and_then(|s| s.period_s)
        .unwrap_or(1.0);
    let marked: Vec<f64> = b
        .periods
        .iter()
        .filter(|p| p.class == main.class)
        .map(|p| p.period_s)
        .collect();
    let lo = marked.iter().copied().fold(own / 10.0, f64::min) / 1.5;
    let hi = marked.iter().copied().fold(own * 10.0, f64::max) * 3.0;
    let battery = b.battery_mah.is_some();
    // The curve: battery life in h, or the mean current in mA.
    let value = |p: f64| -> Option<f64> {
        let (ma, mw) = b.mean_at(main.class, p)?;
        if battery {
            b.life_h(mw)
        } else {
            Some(ma)
        }
    };
    let points: Vec<(f64, f64)> = (0..=80)
        .map(|k| lo * (hi / lo).powf(k as f64 / 80.0))
        .filter_map(|p| Some((p, value(p)?)))
        .filter(|(_, v)| *v > 0.0 && v.is_finite())
        .collect();
    let (vmin, vmax) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, z), p| {
            (a.min(p.1), z.max(p.1))
        });
    if !(vmin.is_finite() && vmax > 0.0) {
        return Ok(());
    }
    // At least a decade, so that a flat curve (an awake device) still has ticks.
    let widen = if vmax / vmin < 7.0 { 3.0 } else { 1.5 };
    let (v0, v1) = (vmin / widen, vmax * widen);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "{} against the period of class {} ({} mA·ms an event)",
                if battery {
                    "battery life"
                } else {
                    "mean current"
                },
                main.class,
                crate::units::fmt_sig(main.mean_excess_charge_ma_ms, 3)
            ),
            ("sans-serif", 20),
        )
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(90)
        .build_cartesian_2d((lo..hi).log_scale(), (v0..v1).log_scale())
        .map_err(e)?;
    let fmt_v = |v: &f64| {
        if battery {
            fmt_hours(*v)
        } else {
            fmt_current(*v)
        }
    };
    chart
        .configure_mesh()
        .x_desc("period (s)")
        .x_label_formatter(&|p| super::fmt_seconds(*p))
        .y_label_formatter(&fmt_v)
        .axis_desc_style(("sans-serif", 16))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    chart
        .draw_series(LineSeries::new(points, color(0).stroke_width(3)))
        .map_err(e)?;
    for p in std::iter::once(own).chain(marked) {
        let Some(v) = value(p) else { continue };
        chart
            .draw_series(std::iter::once(Circle::new((p, v), 6, color(3).filled())))
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("{}: {}", super::fmt_seconds(p), fmt_v(&v)),
                (p * 1.08, v),
                ("sans-serif", 15).into_font().color(&BLACK),
            )))
            .map_err(e)?;
    }
    Ok(())
}
