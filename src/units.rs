//! Units: parsing durations given on the command line and units named in file headers.
//!
//! Base units inside shuntscope: time in seconds, voltage in volts, current in milliamperes.

use crate::error::{Error, Result};

/// The physical dimension a column carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dim {
    Time,
    Voltage,
    Current,
    /// A sample number (Rigol's `Sequence`), turned into time by the format.
    Index,
}

/// A unit: its dimension, the factor to the base unit (s, V or mA) and how the file spelled it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Unit {
    pub dim: Dim,
    /// Multiply a value in this unit by `to_base` to get s, V or mA.
    pub to_base: f64,
    pub symbol: String,
}

impl Unit {
    pub fn new(dim: Dim, to_base: f64, symbol: &str) -> Self {
        Unit {
            dim,
            to_base,
            symbol: symbol.to_string(),
        }
    }
}

/// Parse a unit as headers write it: `s`, `ms`, `us`, `µs`, `Second`, `mV`, `Volt`, `A`, `mA`, `uA`, `Sequence`...
/// Returns `None` for anything else (including channel names such as `CH1`).
pub fn parse_unit(text: &str) -> Option<Unit> {
    let raw = text.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    if raw.is_empty() || raw.len() > 16 {
        return None;
    }
    let lower = raw.to_lowercase().replace(['µ', 'μ'], "u").replace(' ', "");
    let (dim, scale) = match lower.as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => (Dim::Time, 1.0),
        "ms" | "msec" | "millisecond" | "milliseconds" => (Dim::Time, 1e-3),
        "us" | "usec" | "microsecond" | "microseconds" => (Dim::Time, 1e-6),
        "ns" | "nsec" | "nanosecond" | "nanoseconds" => (Dim::Time, 1e-9),
        "min" | "minute" | "minutes" => (Dim::Time, 60.0),
        "h" | "hour" | "hours" => (Dim::Time, 3600.0),
        "v" | "volt" | "volts" => (Dim::Voltage, 1.0),
        "mv" | "millivolt" | "millivolts" => (Dim::Voltage, 1e-3),
        "uv" | "microvolt" | "microvolts" => (Dim::Voltage, 1e-6),
        "a" | "amp" | "amps" | "ampere" | "amperes" => (Dim::Current, 1e3),
        "ma" | "milliamp" | "milliamps" | "milliampere" | "milliamperes" => (Dim::Current, 1.0),
        "ua" | "microamp" | "microamps" | "microampere" | "microamperes" => (Dim::Current, 1e-3),
        "na" | "nanoamp" | "nanoamps" | "nanoampere" | "nanoamperes" => (Dim::Current, 1e-6),
        "sequence" | "samples" | "sample" | "index" => (Dim::Index, 1.0),
        _ => return None,
    };
    Some(Unit::new(dim, scale, raw))
}

/// Parse a duration: a plain number is seconds; `100us`, `0.1ms`, `1s`, `2min` carry their unit.
pub fn parse_duration_s(text: &str) -> Result<f64> {
    let s = parse_time_s(text)?;
    if s <= 0.0 {
        return Err(Error::usage(format!(
            "a duration must be positive and finite, found \"{text}\""
        )));
    }
    Ok(s)
}

/// Parse a point in time like a duration, but zero and negative values are allowed.
pub fn parse_time_s(text: &str) -> Result<f64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(t.len());
    // "1e" followed by a unit letter is unlikely; keep exponent handling simple.
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| {
        Error::usage(format!(
            "expected a duration such as 0.001, 100us, 0.1ms or 1s, found \"{text}\""
        ))
    })?;
    let scale = if unit.trim().is_empty() {
        1.0
    } else {
        match parse_unit(unit) {
            Some(u) if u.dim == Dim::Time => u.to_base,
            _ => {
                return Err(Error::usage(format!(
                    "unknown time unit \"{}\" in \"{text}\": use s, ms, us or ns",
                    unit.trim()
                )))
            }
        }
    };
    // Divide by 10^k rather than multiply by 10^-k (not exact in binary): `10us` is then the
    // double nearest 1e-5, as `1e-5` is.
    let inv = (1.0 / scale).round();
    let s = if scale < 1.0 && inv * scale == 1.0 {
        value / inv
    } else {
        value * scale
    };
    if !s.is_finite() {
        return Err(Error::usage(format!(
            "expected a finite time, found \"{text}\""
        )));
    }
    Ok(s)
}

/// Format seconds with a readable unit (`100 µs`, `6.00 ms`, `1.200 s`).
pub fn fmt_duration(s: f64) -> String {
    let a = s.abs();
    if a == 0.0 {
        "0 s".into()
    } else if a < 1e-6 {
        format!("{:.3} ns", s * 1e9)
    } else if a < 1e-3 {
        format!("{:.3} µs", s * 1e6)
    } else if a < 1.0 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{s:.3} s")
    }
}

/// Hours as `12.3 h` or `4.1 d`.
pub fn fmt_hours(h: f64) -> String {
    if !h.is_finite() {
        "–".into()
    } else if h >= 48.0 {
        format!("{:.1} d", h / 24.0)
    } else {
        format!("{h:.1} h")
    }
}

/// A current in the unit that suits it with `digits` significant digits (at least 1):
/// `170.205 mA`, `892.947 nA`.
pub fn fmt_current_digits(ma: f64, digits: usize) -> String {
    let (v, unit) = current_unit(ma);
    format!("{} {unit}", fmt_sig(v, digits.max(1)))
}

/// A current (mA) in the unit that suits it: the value in that unit, and the unit.
fn current_unit(ma: f64) -> (f64, &'static str) {
    let a = ma.abs();
    if a >= 1e3 {
        (ma / 1e3, "A")
    } else if a >= 1.0 || a == 0.0 {
        (ma, "mA")
    } else if a >= 1e-3 {
        (ma * 1e3, "µA")
    } else {
        (ma * 1e6, "nA")
    }
}

/// A current in the unit that suits it: `0.912 µA`, `12.4 nA`, `280.1 µA`, `31.94 mA`, `1.2 A`.
pub fn fmt_current(ma: f64) -> String {
    let (v, unit) = current_unit(ma);
    let decimals = if v.abs() >= 100.0 {
        1
    } else if v.abs() >= 10.0 {
        2
    } else {
        3
    };
    format!("{v:.decimals$} {unit}")
}

/// A charge in the unit that suits it: `12.3 mA·ms`, `4.56 µA·ms`, `789 nA·ms` (three
/// significant digits; mA·ms = µC).
pub fn fmt_charge(ma_ms: f64) -> String {
    let a = ma_ms.abs();
    let (v, unit) = if a >= 1.0 || a == 0.0 {
        (ma_ms, "mA·ms")
    } else if a >= 1e-3 {
        (ma_ms * 1e3, "µA·ms")
    } else {
        (ma_ms * 1e6, "nA·ms")
    };
    format!("{} {unit}", fmt_sig(v, 3))
}

/// A number with `digits` significant digits, without an exponent between 1e-6 and 1e9
/// (`0.001234`, `12.34`, `12345`).
pub fn fmt_sig(v: f64, digits: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let mag = v.abs().log10().floor() as i64;
    if !(-6..9).contains(&mag) {
        return format!("{v:.*e}", digits.saturating_sub(1));
    }
    let decimals = (digits as i64 - 1 - mag).max(0) as usize;
    format!("{v:.decimals$}")
}

/// Text for people with no negative zeros: a number shown as `-0`, `-0.0000` (a negative that
/// rounds to zero at the shown precision, or −0.0) loses its sign. In a padded column the `-`
/// becomes a space, so alignment holds; elsewhere it is dropped. Cost: one pass over the text.
pub fn clean_negative_zeros(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut k = 0;
    while k < b.len() {
        if b[k] == b'-' && b.get(k + 1) == Some(&b'0') {
            let before = k.checked_sub(1).map(|j| b[j]);
            let starts = !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.');
            let mut j = k + 2;
            if b.get(j) == Some(&b'.') && b.get(j + 1) == Some(&b'0') {
                j += 1;
                while b.get(j) == Some(&b'0') {
                    j += 1;
                }
            }
            let ends = !b
                .get(j)
                .is_some_and(|c| c.is_ascii_digit() || *c == b'.' || *c == b'e' || *c == b'E');
            if starts && ends {
                out.push_str(&text[last..k]);
                let padded = before == Some(b' ') && k >= 2 && b[k - 2] == b' ';
                if padded {
                    out.push(' ');
                }
                last = k + 1;
                k = j;
                continue;
            }
        }
        k += 1;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currents_in_their_own_unit() {
        assert_eq!(fmt_current(0.07383), "73.83 µA");
        assert_eq!(fmt_current(0.0000126), "12.60 nA");
        assert_eq!(fmt_current(0.0009), "900.0 nA");
        assert_eq!(fmt_current(0.2836), "283.6 µA");
        assert_eq!(fmt_current(31.94), "31.94 mA");
        assert_eq!(fmt_current(170.2), "170.2 mA");
        assert_eq!(fmt_current(1234.0), "1.234 A");
        assert_eq!(fmt_current(-0.0036), "-3.600 µA");
        assert_eq!(fmt_current(0.0), "0.000 mA");
    }

    #[test]
    fn negative_zeros_print_as_zero() {
        let c = clean_negative_zeros;
        assert_eq!(
            c("excess -0.0000 mA·ms = -0.00000 mJ"),
            "excess 0.0000 mA·ms = 0.00000 mJ"
        );
        assert_eq!(c("   -0.0000  -0.0003"), "    0.0000  -0.0003");
        assert_eq!(
            c("(-0.0%) -0 x-0.0 2026-01-02 -0.01 -0e5 -05"),
            "(0.0%) 0 x-0.0 2026-01-02 -0.01 -0e5 -05"
        );
        assert_eq!(c("mean -0.0000 mA"), "mean 0.0000 mA");
        assert_eq!(c("-0.000"), "0.000");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_s("0.001").unwrap(), 0.001);
        assert!((parse_duration_s("100us").unwrap() - 1e-4).abs() < 1e-18);
        assert!((parse_duration_s("0.1ms").unwrap() - 1e-4).abs() < 1e-18);
        assert!((parse_duration_s("50µs").unwrap() - 5e-5).abs() < 1e-18);
        assert_eq!(parse_duration_s("1s").unwrap(), 1.0);
        assert_eq!(parse_duration_s("2min").unwrap(), 120.0);
        assert!(parse_duration_s("abc").is_err());
        assert!(parse_duration_s("-1ms").is_err());
        assert!(parse_duration_s("1 parsec").is_err());
    }

    #[test]
    fn units() {
        assert_eq!(parse_unit("uA").unwrap().to_base, 1e-3);
        assert_eq!(parse_unit("µA").unwrap().dim, Dim::Current);
        assert_eq!(parse_unit("A").unwrap().to_base, 1e3);
        assert_eq!(parse_unit("mV").unwrap().to_base, 1e-3);
        assert_eq!(parse_unit("Volt").unwrap().dim, Dim::Voltage);
        assert_eq!(parse_unit("Second").unwrap().dim, Dim::Time);
        assert_eq!(parse_unit("Sequence").unwrap().dim, Dim::Index);
        assert!(parse_unit("CH1").is_none());
    }
}
