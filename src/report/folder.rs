//! A batch report folder: build the report from the files' outcomes, write every output into a
//! folder that appears whole or not at all, and read one back (for `merge`, `plot` and `diff`).

use super::{html, markdown, parquet, phases_csv, summary_csv, windows_csv};
use crate::batch::BatchReport;
use crate::error::{Error, Result};
use crate::output::AtomicDir;
use crate::plot::budget::BudgetChart;
use crate::plot::charts::{
    BatteryChart, BatteryData, CompareChart, DistributionChart, GalleryChart, WindowsChart,
};
use crate::plot::gallery::{empty_panel, panels};
use crate::plot::render;

/// The charts a report folder holds: (file, caption).
pub const CHARTS: &[(&str, &str)] = &[
    (
        "compare.png",
        "Energy per event for each group, with 95% confidence intervals",
    ),
    ("battery.png", "Battery life against message interval"),
    (
        "distribution.png",
        "Excess charge of every message, per group",
    ),
    (
        "gallery.png",
        "The events of one trace per group, integrated area filled",
    ),
    (
        "windows.png",
        "Energy per phase window, stacked per group, with 95% confidence intervals",
    ),
    (
        "budget.png",
        "Where the power goes, and battery life (or mean current) against the main class's \
         period, for one trace per group",
    ),
];

/// Some file had a packet capture.
pub fn has_pcap(r: &BatchReport) -> bool {
    r.files
        .iter()
        .any(|f| f.result.as_ref().is_some_and(|x| x.capture.is_some()))
}

/// Some file had phase windows.
pub fn has_windows(r: &BatchReport) -> bool {
    r.files
        .iter()
        .any(|f| f.result.as_ref().is_some_and(|x| !x.windows.is_empty()))
}

/// Write every output of the report into `out` and commit it: report.json, report.md,
/// summary.csv, the Parquet tables, the charts, and report.html with the charts inlined.
pub fn write(r: &BatchReport, out: AtomicDir) -> Result<()> {
    // Compact: it holds every file's whole analysis (7 MB for 1000 small files pretty-printed,
    // half that compact); tools read it, `jq .` shows it to people.
    let json = serde_json::to_string(r).map_err(|e| Error::output("report.json", e.to_string()))?;
    out.write("report.json", (json + "\n").as_bytes())?;
    out.write("report.md", markdown::render(r).as_bytes())?;
    out.write("summary.csv", summary_csv(r).as_bytes())?;
    out.write("events.parquet", &parquet::events(r)?)?;
    out.write("summary.parquet", &parquet::summary(r)?)?;
    if has_pcap(r) {
        out.write("phases.csv", phases_csv(r).as_bytes())?;
        out.write("exchanges.parquet", &parquet::exchanges(r)?)?;
    }
    if has_windows(r) {
        out.write("windows.csv", windows_csv(r).as_bytes())?;
        out.write("windows.parquet", &parquet::windows(r)?)?;
    }
    let dir = out.path().display().to_string();
    let mut images = Vec::new();
    for (name, caption) in CHARTS {
        let path = format!("{dir}/{name}");
        // Charts with nothing to show are left out (a windows-only run has no message costs).
        let events = r
            .summaries
            .label_stats
            .iter()
            .any(|x| x.label == r.settings.label || x.label == r.settings.first_label);
        let empty = match *name {
            "windows.png" => !has_windows(r),
            "budget.png" => budget_chart(r).0.is_empty(),
            "compare.png" | "battery.png" | "distribution.png" => !events,
            _ => false,
        };
        if empty {
            continue;
        }
        let drawn = match *name {
            "compare.png" => render(&path, (1600, 800), &CompareChart(r)),
            "battery.png" => render(
                &path,
                (1600, 900),
                &BatteryChart(&BatteryData { report: r }),
            ),
            "distribution.png" => render(&path, (1400, 800), &DistributionChart(r)),
            "windows.png" => render(&path, (1600, 900), &WindowsChart(r)),
            "budget.png" => {
                let c = budget_chart(r);
                render(&path, (1600, 60 + 420 * c.0.len() as u32), &c)
            }
            _ => gallery(r).and_then(|g| {
                let rows = g.panels.len().div_ceil(g.columns.max(1)).max(1) as u32;
                render(&path, (1800, 60 + 230 * rows), &g)
            }),
        };
        match drawn
            .and_then(|()| std::fs::read(&path).map_err(|e| Error::output(&path, e.to_string())))
        {
            Ok(png) => images.push(html::Image {
                name: name.to_string(),
                caption: caption.to_string(),
                png,
            }),
            Err(e) => eprintln!("warning: {name} not drawn: {e}"),
        }
    }
    out.write("report.html", html::render(r, &images).as_bytes())?;
    out.commit()
}

/// The budget chart of one trace per group: the first whose budget has a recurring class.
pub fn budget_chart(r: &BatchReport) -> BudgetChart<'_> {
    let mut rows: Vec<(String, &crate::analysis::Analysis)> = Vec::new();
    for f in &r.files {
        let Some(x) = &f.result else { continue };
        let recurs = x.budget.as_ref().is_some_and(|b| b.shares.len() > 1);
        if recurs && !rows.iter().any(|(g, _)| *g == f.group) {
            rows.push((f.group.clone(), x));
        }
    }
    BudgetChart(rows)
}

/// A gallery of one trace per group (the first with excerpts): one row per group, one panel
/// per event, from the excerpts kept in the results.
pub fn gallery(r: &BatchReport) -> Result<GalleryChart> {
    let mut rows = Vec::new();
    let mut seen = Vec::new();
    for f in &r.files {
        let Some(x) = &f.result else {
            continue;
        };
        if seen.contains(&f.group) || x.excerpts.is_empty() {
            continue;
        }
        seen.push(f.group.clone());
        rows.push(panels(x, &format!("{} ", f.group)));
    }
    // One row per group: pad short rows with empty panels.
    let columns = rows.iter().map(Vec::len).max().unwrap_or(1);
    let mut all = Vec::new();
    for mut row in rows {
        row.resize_with(columns, empty_panel);
        all.append(&mut row);
    }
    if all.is_empty() {
        return Err(Error::usage("no events to draw"));
    }
    Ok(GalleryChart {
        title: "Events of one trace per group; the filled area is the excess charge over idle"
            .into(),
        panels: all,
        columns,
    })
}
