//! Instrument exports that are tables with a known header: each format scores its own header
//! and fills in what the file leaves out (a unit, which column is time), then the generic table
//! reader does the rest. Layouts from ../shared/formats (real files and vendors' documentation).

use super::header::unit_cell;
use super::table::{layout_with as hinted, layout_with_block as hinted_block};
use super::{Head, IngestOptions, Layout};
use crate::error::{Error, Result};
use crate::units::{parse_unit, Unit};

/// Lines before the data (and comment lines), trimmed.
fn preamble(head: &Head) -> Vec<&str> {
    let first = head
        .block()
        .map(|b| b.first)
        .unwrap_or(head.lines.len().min(40));
    head.lines[..first].iter().map(|l| l.text.trim()).collect()
}

/// Does a preamble line start with `prefix` (tabs and semicolons read as commas)?
fn any_starts(head: &Head, prefix: &str) -> bool {
    preamble(head)
        .iter()
        .any(|l| l.replace(['\t', ';'], ",").starts_with(prefix))
}

/// Give every column without a unit `unit`, except the first (time).
fn default_units(units: &mut [Option<Unit>], unit: &str) {
    for u in units.iter_mut().skip(1) {
        if u.is_none() {
            *u = parse_unit(unit);
        }
    }
}

pub mod saleae {
    use super::*;
    pub const NAME: &str = "saleae-logic2";
    pub fn score(h: &Head) -> u8 {
        if any_starts(h, "Time [s],") {
            60
        } else {
            0
        }
    }
    pub fn layout(h: &Head, f: &str, o: &IngestOptions) -> Result<Layout> {
        hinted(h, f, o, NAME, |_, u, _, n| {
            default_units(u, "V");
            n.push("Saleae Logic 2 analog exports are in volts".into());
        })
    }
}

pub mod joulescope {
    use super::*;
    pub const NAME: &str = "joulescope";
    pub fn score(h: &Head) -> u8 {
        let hit = h.lines.iter().take(40).any(|l| {
            let t = l.text.trim_start_matches(['#', ' ']).to_ascii_lowercase();
            t.starts_with("time,current,voltage") || (t.starts_with("time,") && t.contains(".i,"))
        });
        if hit {
            70
        } else {
            0
        }
    }
    pub fn layout(h: &Head, f: &str, o: &IngestOptions) -> Result<Layout> {
        hinted(h, f, o, NAME, |names, u, _, n| {
            for (k, name) in names.iter().enumerate().skip(1) {
                let l = name.to_ascii_lowercase();
                if u[k].is_none() {
                    if l == "current" || l.ends_with(".i") {
                        u[k] = parse_unit("A");
                    } else if l == "voltage" || l.ends_with(".v") {
                        u[k] = parse_unit("V");
                    }
                }
            }
            n.push("Joulescope exports are in SI units: current in A".into());
        })
    }
}

pub mod tektronix {
    use super::*;
    pub const NAME: &str = "tektronix";
    pub fn score(h: &Head) -> u8 {
        let p = preamble(h);
        let has = |k: &str| p.iter().any(|l| l.starts_with(k));
        if has("Model,") && has("Sample Interval,") && has("Vertical Units,") {
            80
        } else {
            0
        }
    }
    pub fn layout(h: &Head, f: &str, o: &IngestOptions) -> Result<Layout> {
        let p: Vec<String> = preamble(h).iter().map(|s| s.to_string()).collect();
        let row = |k: &str| -> Vec<String> {
            p.iter()
                .find(|l| l.starts_with(k))
                .map(|l| l.split(',').skip(1).map(|s| s.trim().to_string()).collect())
                .unwrap_or_default()
        };
        let vunits = row("Vertical Units,");
        let probe = row("Probe Attenuation,");
        hinted(h, f, o, NAME, move |_, u, _, n| {
            for (k, unit) in vunits.iter().enumerate() {
                if let Some(slot) = u.get_mut(k + 1) {
                    if slot.is_none() {
                        *slot = unit_cell(unit);
                    }
                }
            }
            n.push(format!(
                "units from the header's Vertical Units ({})",
                vunits.join(", ")
            ));
            if !probe.is_empty() {
                n.push(format!(
                    "the scope reports probe attenuation {}: values are taken as already scaled by it",
                    probe.join(", ")
                ));
            }
        })
    }
}

pub mod siglent {
    use super::*;
    pub const NAME: &str = "siglent-sds";
    pub fn score(h: &Head) -> u8 {
        if any_starts(h, "Record Length,Analog") {
            80
        } else {
            0
        }
    }
    pub fn layout(h: &Head, f: &str, o: &IngestOptions) -> Result<Layout> {
        hinted(h, f, o, NAME, |_, u, _, _| default_units(u, "V"))
    }
}

/// Formats the generic reader already reads right, named so that `inspect` says what they are.
macro_rules! named {
    ($m:ident, $name:expr, $score:expr, $prefix:expr, $unit:expr) => {
        pub mod $m {
            use super::*;
            pub const NAME: &str = $name;
            pub fn score(h: &Head) -> u8 {
                if any_starts(h, $prefix) {
                    $score
                } else {
                    0
                }
            }
            pub fn layout(h: &Head, f: &str, o: &IngestOptions) -> Result<Layout> {
                hinted(h, f, o, NAME, |_, u, _, _| {
                    if let Some(unit) = $unit {
                        default_units(u, unit)
                    }
                })
            }
        }
    };
}

named!(keysight, "keysight-infiniivision", 60, "x-axis,", Some("V"));
named!(rigol_e, "rigol-ds1000e", 60, "Time,X(CH1)", Some("V"));
named!(monsoon, "monsoon", 70, "Time(ms),Main(mA)", None::<&str>);
named!(picoscope, "picoscope", 60, "Time,Channel ", None::<&str>);

pub mod ppk2 {
    use super::*;
    pub const NAME: &str = "ppk2";
    pub fn score(h: &Head) -> u8 {
        if any_starts(h, "Timestamp(ms),Current(uA)") {
            75
        } else {
            0
        }
    }
    pub fn layout(h: &Head, f: &str, o: &IngestOptions) -> Result<Layout> {
        // Digital cells may read `X` or `-`: the block is every line after the header.
        let hi = h
            .lines
            .iter()
            .position(|l| l.text.starts_with("Timestamp(ms)"))
            .ok_or_else(|| {
                Error::input(f, "no PPK2 header (Timestamp(ms),Current(uA),...) found")
            })?;
        if hi + 1 >= h.lines.len() {
            return Err(Error::input(f, "a header line and no data rows"));
        }
        let block = super::super::table::Block {
            delimiter: super::super::Delimiter::Byte(b','),
            decimal_comma: false,
            first: hi + 1,
            fields: h.lines[hi].text.split(',').count(),
            rows: h.lines.len() - hi - 1,
            bad: 0,
        };
        let mut l = hinted_block(h, f, o, NAME, block, |_, _, _, _| {})?;
        if o.read_digital {
            // D0..D7 one column each (the combined `D0-D7` column is left out).
            l.digital = l
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    c.len() == 2 && c.starts_with('D') && c.as_bytes()[1].is_ascii_digit()
                })
                .map(|(i, c)| (i, c.clone()))
                .collect();
        }
        Ok(l)
    }
}

pub mod sigrok {
    use super::*;
    pub const NAME: &str = "sigrok-csv";
    pub fn score(h: &Head) -> u8 {
        if h.lines
            .iter()
            .take(10)
            .any(|l| l.text.starts_with("; CSV generated by libsigrok"))
        {
            85
        } else {
            0
        }
    }
    pub fn layout(h: &Head, f: &str, o: &IngestOptions) -> Result<Layout> {
        hinted(h, f, o, NAME, |_, u, _, n| {
            default_units(u, "V");
            n.push("sigrok analog channels without a unit are taken as volts".into());
        })
    }
}

pub mod rd_usb {
    use super::*;
    pub const NAME: &str = "rd-usb";
    pub fn score(h: &Head) -> u8 {
        let p = preamble(h);
        if p.iter()
            .any(|l| l.contains("Unix time") && l.contains("Current (A)"))
        {
            80
        } else {
            0
        }
    }
    pub fn layout(h: &Head, f: &str, o: &IngestOptions) -> Result<Layout> {
        // Rows mix dates, clock times and numbers: the block is every line after the header.
        let hi = h
            .lines
            .iter()
            .position(|l| l.text.contains("Unix time"))
            .ok_or_else(|| Error::input(f, "no rd-usb header (with a Unix time column) found"))?;
        let fields = h.lines[hi].text.split(',').count();
        let block = super::super::table::Block {
            delimiter: super::super::Delimiter::Byte(b','),
            decimal_comma: false,
            first: hi + 1,
            fields,
            rows: h.lines.len().saturating_sub(hi + 1),
            bad: 0,
        };
        if block.first >= h.lines.len() {
            return Err(Error::input(f, "a header line and no data rows"));
        }
        hinted_block(h, f, o, NAME, block, |_, _, o, n| {
            if o.time_col.is_none() && o.sample_interval_s.is_none() {
                o.time_col = Some("Unix time".into());
                o.time_unit.get_or_insert("s".into());
                n.push("time from the Unix time column (epoch seconds)".into());
            }
        })
    }
}

pub mod fnirsi {
    use super::*;
    pub const NAME: &str = "fnirsi-logger";
    pub fn score(h: &Head) -> u8 {
        if h.lines.iter().take(5).any(|l| {
            l.text
                .trim_start()
                .starts_with("timestamp sample_in_packet")
        }) {
            85
        } else {
            0
        }
    }
    pub fn layout(h: &Head, f: &str, o: &IngestOptions) -> Result<Layout> {
        let mut l = hinted(h, f, o, NAME, |_, _, o, n| {
            o.time_unit.get_or_insert("s".into());
            n.push(
                "epoch seconds; packets of 4 samples overlap in time, so samples are put in order"
                    .into(),
            );
        })?;
        l.assumptions.retain(|a| !a.contains("has no unit"));
        l.reorder = true;
        Ok(l)
    }
}

pub mod tds2000 {
    //! Tektronix TDS2000 series: metadata in columns A–B of the first rows, data in columns D–E
    //! of every row, from the first line on.
    use super::*;
    pub const NAME: &str = "tektronix-tds2000";

    fn cells(t: &str) -> Vec<&str> {
        t.split(',').map(str::trim).collect()
    }

    pub fn score(h: &Head) -> u8 {
        let Some(first) = h.lines.first() else {
            return 0;
        };
        let c = cells(&first.text);
        let numeric = |s: &str| s.parse::<f64>().is_ok();
        if c.first() == Some(&"Record Length") && c.len() >= 5 && numeric(c[3]) && numeric(c[4]) {
            90
        } else {
            0
        }
    }

    pub fn layout(h: &Head, f: &str, o: &IngestOptions) -> Result<Layout> {
        let meta = |k: &str| {
            h.lines
                .iter()
                .take(40)
                .map(|l| cells(&l.text))
                .find(|c| c.first() == Some(&k))
                .and_then(|c| c.get(1).map(|s| s.to_string()))
        };
        let unit = meta("Vertical Units").unwrap_or_default();
        let block = super::super::table::Block {
            delimiter: super::super::Delimiter::Byte(b','),
            decimal_comma: false,
            first: 0,
            fields: 5,
            rows: h.lines.len(),
            bad: 0,
        };
        let mut o = o.clone();
        o.time_col.get_or_insert("4".into());
        o.value_col.get_or_insert("5".into());
        let u = unit.clone();
        let probe = meta("Probe Atten");
        let mut l = hinted_block(h, f, &o, NAME, block, move |_, units, o, n| {
            units[3] = parse_unit("s");
            units[4] = unit_cell(&u).or_else(|| parse_unit("V"));
            o.time_unit.get_or_insert("s".into());
            n.push(format!(
                "data in columns D-E beside the metadata; unit from Vertical Units ({u})"
            ));
            if let Some(p) = probe {
                n.push(format!("the scope reports probe attenuation {p}: values are taken as already scaled by it"));
            }
        })?;
        l.columns = vec![
            "key".into(),
            "value".into(),
            "".into(),
            "time".into(),
            "CH".into(),
        ];
        l.time_label = "column 4 in s".into();
        l.value_label = "column 5".into();
        Ok(l)
    }
}

pub mod ppk2_api {
    //! ppk2-api-python logger: `ts,avg1000` then `dd-mm-YYYY HH:MM:SS.ffffff,<µA>`.
    use super::*;
    pub const NAME: &str = "ppk2-api-python";
    pub fn score(h: &Head) -> u8 {
        if h.lines
            .first()
            .is_some_and(|l| l.text.trim().starts_with("ts,avg"))
        {
            85
        } else {
            0
        }
    }
    pub fn layout(h: &Head, f: &str, o: &IngestOptions) -> Result<Layout> {
        let block = super::super::table::Block {
            delimiter: super::super::Delimiter::Byte(b','),
            decimal_comma: false,
            first: 1,
            fields: 2,
            rows: h.lines.len().saturating_sub(1),
            bad: 0,
        };
        if h.lines.len() < 2 {
            return Err(Error::input(f, "a header line and no data rows"));
        }
        let mut l = hinted_block(h, f, o, NAME, block, |_, u, o, n| {
            u[0] = parse_unit("s");
            if u[1].is_none() {
                u[1] = parse_unit("uA");
            }
            o.time_col.get_or_insert("1".into());
            o.value_col.get_or_insert("2".into());
            n.push("time stamps are the logger's write times (day-first date-time, seconds since 1970); current in µA".into());
        })?;
        l.time_is_datetime = matches!(l.time, super::super::TimeBase::Column { .. });
        l.time_label = "column 1 \"ts\": day-first date-time".into();
        Ok(l)
    }
}
