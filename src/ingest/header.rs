//! Reading header cells: names, units in brackets or parentheses or after `_`, and what a column is.

use crate::units::{parse_unit, Dim, Unit};

/// Split a header cell into its name and unit: `Time (ms)`, `t [us]`, `Current(uA)`, `time_s`,
/// `Shunt (mV)`, `Second`. A cell that is only a unit (`Second`, `microseconds`) keeps the unit as name.
pub fn split_name_unit(cell: &str) -> (String, Option<Unit>) {
    let c = cell.trim().trim_matches('"').trim();
    for (open, close) in [('(', ')'), ('[', ']')] {
        if c.ends_with(close) {
            if let Some(i) = c.rfind(open) {
                let inner = &c[i + open.len_utf8()..c.len() - close.len_utf8()];
                if let Some(u) = parse_unit(inner) {
                    return (c[..i].trim().to_string(), Some(u));
                }
            }
        }
    }
    if let Some(i) = c.rfind('_') {
        if i > 0 {
            if let Some(u) = parse_unit(&c[i + 1..]) {
                return (c[..i].to_string(), Some(u));
            }
        }
    }
    if let Some(i) = c.rfind(' ') {
        if let Some(u) = parse_unit(&c[i + 1..]).filter(|_| c[i + 1..].len() >= 2) {
            return (c[..i].trim().to_string(), Some(u));
        }
    }
    if c.chars().count() >= 2 {
        if let Some(u) = parse_unit(c) {
            return (c.to_string(), Some(u));
        }
    }
    (c.to_string(), None)
}

/// A cell of a units row under the header: `Second`, `Volt`, `(ms)`, `[mA]`.
pub fn unit_cell(cell: &str) -> Option<Unit> {
    let c = cell.trim().trim_matches('"').trim();
    let inner = c
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .or_else(|| c.strip_prefix('[').and_then(|s| s.strip_suffix(']')))
        .unwrap_or(c);
    parse_unit(inner)
}

fn key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Does the name say "time" (in English or another common language)?
pub fn is_time_name(name: &str) -> bool {
    matches!(
        key(name).as_str(),
        "time"
            | "t"
            | "timestamp"
            | "xaxis"
            | "x"
            | "zeit"
            | "tiempo"
            | "temps"
            | "tempo"
            | "czas"
            | "tijd"
            | "tid"
            | "aika"
            | "elapsed"
            | "sec"
            | "seconds"
            | "reltime"
            | "relativetime"
    )
}

/// Does the name say "current"?
pub fn is_current_name(name: &str) -> bool {
    matches!(
        key(name).as_str(),
        "current"
            | "i"
            | "strom"
            | "corriente"
            | "courant"
            | "corrente"
            | "stroom"
            | "prad"
            | "curr"
            | "iload"
            | "ibus"
            | "main"
            | "usb"
            | "aux"
    )
}

/// Does the name say "voltage" or name a scope channel?
pub fn is_voltage_name(name: &str) -> bool {
    let k = key(name);
    matches!(
        k.as_str(),
        "voltage"
            | "volt"
            | "v"
            | "u"
            | "shunt"
            | "vshunt"
            | "spannung"
            | "tension"
            | "tensione"
            | "napiecie"
            | "1"
            | "2"
            | "3"
            | "4"
    ) || (k.starts_with("ch") && k[2..].chars().all(|c| c.is_ascii_digit()) && k.len() > 2)
        || (k.starts_with("channel") && k.len() <= 8)
}

/// Is this a unit of the given dimension?
pub fn has_dim(unit: &Option<Unit>, dim: Dim) -> bool {
    unit.as_ref().map(|u| u.dim == dim).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_units() {
        let cases = [
            ("time_s", "time", Some(1.0)),
            ("Time (ms)", "Time", Some(1e-3)),
            ("t [us]", "t", Some(1e-6)),
            ("Timestamp(ms)", "Timestamp", Some(1e-3)),
            ("voltage_v", "voltage", Some(1.0)),
            ("Shunt (mV)", "Shunt", Some(1e-3)),
            ("Current(uA)", "Current", Some(1e-3)),
            ("I [mA]", "I", Some(1.0)),
            ("Strom [µA]", "Strom", Some(1e-3)),
            ("CH1", "CH1", None),
            ("X(CH1)", "X(CH1)", None),
            ("Second", "Second", Some(1.0)),
        ];
        for (cell, name, scale) in cases {
            let (n, u) = split_name_unit(cell);
            assert_eq!(n, name, "{cell}");
            assert_eq!(u.map(|u| u.to_base), scale, "{cell}");
        }
        assert!(is_time_name("Zeit"));
        assert!(is_time_name("x-axis"));
        assert!(is_voltage_name("CH2"));
        assert!(is_current_name("Main"));
        assert!(!is_voltage_name("CHx"));
    }
}
