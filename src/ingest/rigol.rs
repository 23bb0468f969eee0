//! Rigol DS1000Z CSV: `X,CH1,CH2,Start,Increment,` / `Sequence,Volt,Volt,<start>,<increment>` / rows
//! `n,v1,v2,`. Time is `Start + n * Increment`, with n read from the `X` column. Saved without
//! the `X` column (`CH1,CH2,CH3,Start,Increment,` / `Volt,Volt,Volt,<start>,<increment>` / rows
//! `v1,v2,v3,`), n counts the data rows from 0. Channels are told apart by their header names;
//! the units row repeats `Volt`.

use super::header::unit_cell;
use super::reader::{parse_number, Num};
use super::{find_column, Delimiter, Head, IngestOptions, Layout, TimeBase};
use crate::error::{Error, Result};
use crate::trace::Quantity;
use crate::units::{fmt_duration, parse_unit, Dim};

pub const NAME: &str = "rigol-ds1000z";

fn cells(text: &str) -> Vec<String> {
    let mut c: Vec<String> = text.split(',').map(|s| s.trim().to_string()).collect();
    while c.last().map(|s| s.is_empty()).unwrap_or(false) {
        c.pop();
    }
    c
}

pub fn score(head: &Head) -> u8 {
    let Some(first) = head.lines.first() else {
        return 0;
    };
    let c = cells(&first.text);
    let start = c.iter().position(|x| x == "Start");
    let increment = c.iter().any(|x| x == "Increment");
    let channels_only = start.is_some_and(|s| {
        s > 0
            && c[..s]
                .iter()
                .all(|x| x.len() > 2 && x[..2].eq_ignore_ascii_case("CH"))
    });
    if increment && (c.first().map(String::as_str) == Some("X") && start.is_some() || channels_only)
    {
        90
    } else {
        0
    }
}

pub fn layout(head: &Head, file: &str, opts: &IngestOptions) -> Result<Layout> {
    let header = cells(&head.lines[0].text);
    let units_line = head.lines.get(1).ok_or_else(|| {
        Error::input(
            file,
            "Rigol header without its second line (Sequence,Volt,...,start,increment)",
        )
        .at_line(2)
    })?;
    let second = cells(&units_line.text);
    let pos = |name: &str| header.iter().position(|x| x == name).unwrap_or(0);
    let (si, ii) = (pos("Start"), pos("Increment"));
    let number = |i: usize, what: &str| -> Result<f64> {
        match second.get(i).map(|s| parse_number(s.as_bytes(), false)) {
            Some(Num::Value(v)) => Ok(v),
            _ => Err(Error::input(
                file,
                format!(
                    "expected the {what} time (a number) in field {} of the Rigol header's second line",
                    i + 1
                ),
            )
            .at_line(2)
            .at_field(i + 1)),
        }
    };
    let start_s = number(si, "start")?;
    let increment_s = number(ii, "increment")?;
    if increment_s <= 0.0 {
        return Err(Error::input(
            file,
            format!("the Rigol Increment must be positive, found {increment_s}"),
        )
        .at_line(2));
    }
    let channels = si.min(ii);
    let columns: Vec<String> = header[..channels].to_vec();
    // With an `X` column, channels start at column 2 and time is Start + X × Increment.
    let first_channel = usize::from(header.first().map(String::as_str) == Some("X"));
    let value_index = match &opts.value_col {
        Some(v) => find_column(&columns, v, "value column")?,
        None => first_channel,
    };
    if value_index < first_channel || value_index >= channels {
        return Err(Error::usage(
            "the value column must be one of the channels (CH1, CH2, ...)",
        ));
    }
    let unit = match &opts.unit {
        Some(u) => {
            parse_unit(u).ok_or_else(|| Error::usage(format!("--unit {u}: unknown unit")))?
        }
        None => second
            .get(value_index)
            .and_then(|s| unit_cell(s))
            .ok_or_else(|| {
                Error::input(
                    file,
                    "cannot tell the channel's unit from the Rigol header: give --unit",
                )
                .at_line(2)
            })?,
    };
    let quantity = match unit.dim {
        Dim::Current => Quantity::Current,
        Dim::Voltage => Quantity::Voltage,
        _ => return Err(Error::usage("--unit must be a voltage or current unit")),
    };
    let mut assumptions = Vec::new();
    let time = match opts.sample_interval_s {
        Some(dt) => {
            assumptions.push("Rigol Start/Increment ignored: --sample-interval given".into());
            TimeBase::Implied {
                start_s: 0.0,
                interval_s: dt,
            }
        }
        None if first_channel == 1 => TimeBase::Column {
            index: 0,
            scale: increment_s,
            offset: start_s,
        },
        None => TimeBase::Implied {
            start_s,
            interval_s: increment_s,
        },
    };
    let units = (0..channels)
        .map(|i| {
            (i >= first_channel)
                .then(|| second.get(i).and_then(|s| unit_cell(s)))
                .flatten()
        })
        .collect();
    Ok(Layout {
        format: NAME,
        delimiter: Delimiter::Byte(b','),
        decimal_comma: false,
        data_line: units_line.number + 1,
        time_label: match (time, opts.sample_interval_s) {
            (TimeBase::Column { .. }, _) => format!(
                "Start {start_s} s + sequence number × Increment {}",
                fmt_duration(increment_s)
            ),
            (TimeBase::Implied { .. }, None) => format!(
                "Start {start_s} s + row number (from 0) × Increment {}",
                fmt_duration(increment_s)
            ),
            _ => super::table::describe_time(&time, &columns, &[]),
        },
        columns: columns.clone(),
        time,
        value_index,
        value_scale: unit.to_base,
        value_offset: 0.0,
        value_label: format!("column {} \"{}\"", value_index + 1, columns[value_index]),
        value_unit: unit.symbol,
        quantity,
        assumptions,
        reorder: false,
        time_is_datetime: false,
        clock_origin_s: 0,
        start_time: None,
        digital: Vec::new(),
        value_minus: None,
        supply: None,
        window_index: None,
        digital_words: false,
        units,
        default_supply: None,
        constant_supply_v: None,
        marker_index: super::marker_index(&columns, opts)?,
        scaling: vec![if first_channel == 1 {
            format!("time = Start {start_s} s + sequence number × Increment {increment_s} s")
        } else {
            format!("time = Start {start_s} s + row number (from 0) × Increment {increment_s} s")
        }],
    })
}
