//! Seeed DSO Nano v3 (e-Design firmware) CSV: `TRACK   2.0V*1,` then one screen pixel (0–199,
//! 25 px per division) per line, CRLF, NUL padding at the end.
//!
//! The file stores neither the time base nor the ground level: the user gives `--sample-interval`
//! and `--zero-px` (the pixel row of 0 V). Volts = (px − zero_px) × V/div / 25 × probe factor.

use super::{Delimiter, Head, IngestOptions, Layout, TimeBase};
use crate::error::{Error, Result};
use crate::trace::Quantity;
use crate::units::{fmt_duration, parse_unit, Dim};

pub const NAME: &str = "dso-nano-v3";
/// The DSO Quad writes the same format with four channels (C and D digital).
pub const QUAD_NAME: &str = "dso-quad";
/// Screen pixels per vertical division.
pub const PX_PER_DIV: f64 = 25.0;

pub fn score(head: &Head) -> u8 {
    let mut lines = head.lines.iter().filter(|l| !l.text.trim().is_empty());
    let (Some(first), Some(second)) = (lines.next(), lines.next()) else {
        return 0;
    };
    let s = second.text.trim().trim_end_matches(',');
    if first.text.starts_with("TRACK")
        && !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit() || b == b',')
    {
        95
    } else {
        0
    }
}

/// Parse `TRACK   2.0V*1,` into (volts per division, probe factor).
pub fn parse_track(text: &str) -> Option<(f64, f64)> {
    // `TRACK   2.0V*1` (Nano) or `TRACK1 200mV` (Quad, one cell per channel).
    let rest = text
        .trim()
        .strip_prefix("TRACK")?
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim();
    let field = rest.split(',').next()?.trim();
    let (vdiv, probe) = match field.split_once('*') {
        Some((v, p)) => (v.trim(), p.trim().parse::<f64>().ok()?),
        None => (field, 1.0),
    };
    let split = vdiv.find(|c: char| c.is_alphabetic() || c == 'µ')?;
    let value: f64 = vdiv[..split].trim().parse().ok()?;
    let unit = parse_unit(&vdiv[split..])?;
    (unit.dim == Dim::Voltage && value > 0.0 && probe > 0.0)
        .then_some((value * unit.to_base, probe))
}

pub fn layout(head: &Head, file: &str, opts: &IngestOptions) -> Result<Layout> {
    let first = head
        .lines
        .iter()
        .find(|l| !l.text.trim().is_empty())
        .ok_or_else(|| Error::input(file, "the file is empty"))?;
    // DSO Quad: one `TRACKn <V/div>` cell per channel; --channel picks one (default 1).
    let cells: Vec<&str> = first
        .text
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let quad = cells.len() > 1;
    let channel = match &opts.value_col {
        Some(c) => c
            .trim()
            .trim_start_matches("TRACK")
            .trim_start_matches("CH")
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1 && *n <= cells.len())
            .ok_or_else(|| {
                Error::usage(format!(
                    "--channel {c}: this file has channels 1 to {}",
                    cells.len()
                ))
            })?,
        None => 1,
    };
    let cell = cells
        .get(channel - 1)
        .copied()
        .unwrap_or(first.text.as_str());
    let (vdiv, probe) = parse_track(cell).ok_or_else(|| {
        Error::input(
            file,
            format!(
                "expected a DSO Nano header such as \"TRACK   2.0V*1,\", found \"{}\"",
                crate::error::snippet(&first.text, 40)
            ),
        )
        .at_line(first.number)
    })?;
    let missing: Vec<&str> = [
        opts.sample_interval_s
            .is_none()
            .then_some("--sample-interval (the time between samples, e.g. 50us)"),
        opts.zero_px
            .is_none()
            .then_some("--zero-px (the pixel row of 0 V, 0-199)"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !missing.is_empty() {
        return Err(Error::input(
            file,
            format!(
                "DSO Nano v3 files store no time base and no ground level: give {}",
                missing.join(" and ")
            ),
        ));
    }
    let interval_s = opts.sample_interval_s.unwrap_or_default();
    let zero_px = opts.zero_px.unwrap_or_default();
    let volts_per_px = vdiv * probe / PX_PER_DIV;
    let time = TimeBase::Implied {
        start_s: 0.0,
        interval_s,
    };
    Ok(Layout {
        format: if quad { QUAD_NAME } else { NAME },
        delimiter: Delimiter::Byte(b','),
        decimal_comma: false,
        data_line: first.number + 1,
        columns: if quad {
            cells.iter().map(|c| c.to_string()).collect()
        } else {
            vec!["pixel".into()]
        },
        time,
        time_label: format!("implied: one sample every {} (--sample-interval)", fmt_duration(interval_s)),
        value_index: channel - 1,
        value_scale: volts_per_px,
        value_offset: -zero_px * volts_per_px,
        value_label: "screen pixel (0-199)".into(),
        value_unit: "px".into(),
        quantity: Quantity::Voltage,
        assumptions: Vec::new(),
        reorder: false,
        time_is_datetime: false,
        clock_origin_s: 0,
        start_time: None,
        digital: Vec::new(),
        value_minus: None,
        supply: None,
        window_index: None,
        digital_words: false,
        units: Vec::new(),
        default_supply: None,
        constant_supply_v: None,
        marker_index: None,
        scaling: vec![format!(
            "{} V/div × probe {probe} / {PX_PER_DIV} px per div = {:.6} V per pixel; 0 V at pixel {zero_px}",
            vdiv, volts_per_px
        )],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_header() {
        assert_eq!(parse_track("TRACK   2.0V*1,"), Some((2.0, 1.0)));
        assert_eq!(parse_track("TRACK   20mV*10,"), Some((0.02, 10.0)));
        assert_eq!(parse_track("TRACK 0.5V,"), Some((0.5, 1.0)));
        assert_eq!(parse_track("TRACK   xV*1,"), None);
        assert_eq!(parse_track("TRACK1 200mV"), Some((0.2, 1.0)));
        assert_eq!(parse_track("TRACK3"), None);
    }
}
