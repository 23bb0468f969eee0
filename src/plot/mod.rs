//! Render: PNG (or SVG) charts with plotters. Text uses a bundled DejaVu Sans through ab_glyph,
//! so charts render the same on a machine with no fonts installed. Colours are the Okabe–Ito
//! palette, safe for colour-blind readers.

pub mod budget;
pub mod charts;
pub mod gallery;
pub mod trace;

use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Register the bundled font once per process.
pub fn init_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            let _ = plotters::style::register_font("sans-serif", style, FONT);
        }
    });
}

/// Okabe–Ito: distinguishable with every common colour-vision deficiency.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(240, 228, 66),  // yellow
];

pub fn color(k: usize) -> RGBColor {
    PALETTE[k % PALETTE.len()]
}

/// Width and height from `1600x900`.
pub fn parse_size(s: &str) -> Result<(u32, u32)> {
    let bad = || {
        Error::usage(format!(
            "--size: expected WIDTHxHEIGHT such as 1600x900, found \"{s}\""
        ))
    };
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (
        w.trim().parse().map_err(|_| bad())?,
        h.trim().parse().map_err(|_| bad())?,
    );
    if !(64..=20_000).contains(&w) || !(64..=20_000).contains(&h) {
        return Err(bad());
    }
    Ok((w, h))
}

/// A chart that can draw itself on any plotters backend.
pub trait Chart {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String>;
}

/// Draw `chart` into `target` (PNG, or SVG when the name ends in .svg), atomically: into a
/// temporary file beside it, then renamed.
pub fn render<C: Chart>(target: &str, size: (u32, u32), chart: &C) -> Result<()> {
    init_font();
    let path = Path::new(target);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::output(target, format!("cannot create its folder: {e}")))?;
    let svg = target.to_ascii_lowercase().ends_with(".svg");
    let tmp = tempfile::Builder::new()
        .prefix(".shuntscope-")
        .suffix(if svg { ".svg" } else { ".png" })
        .tempfile_in(dir)
        .map_err(|e| Error::output(target, format!("cannot create a temporary file: {e}")))?;
    let drawn = if svg {
        let root = SVGBackend::new(tmp.path(), size).into_drawing_area();
        chart
            .draw(&root)
            .and_then(|_| root.present().map_err(|e| e.to_string()))
    } else {
        let root = BitMapBackend::new(tmp.path(), size).into_drawing_area();
        chart
            .draw(&root)
            .and_then(|_| root.present().map_err(|e| e.to_string()))
    };
    drawn.map_err(|e| Error::output(target, format!("cannot draw: {e}")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(target)
        .map_err(|e| Error::output(target, format!("cannot move into place: {}", e.error)))?;
    Ok(())
}

/// Map any drawing error to text.
pub fn e<E: std::fmt::Display>(err: E) -> String {
    err.to_string()
}

/// `1.20 s`, `350 ms`: a compact time for tick labels.
pub fn fmt_seconds(s: f64) -> String {
    let a = s.abs();
    if a == 0.0 {
        "0".into()
    } else if a < 1e-3 {
        format!("{:.0} µs", s * 1e6)
    } else if a < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else if a < 10.0 {
        format!("{s:.2} s")
    } else if a < 120.0 {
        format!("{s:.0} s")
    } else if a < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.0} h", s / 3600.0)
    }
}
