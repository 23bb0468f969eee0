//! Loggers whose rows mix numbers with clock times and text: home-made INA219/INA226 boards,
//! USB meters read by a script, BLE streamers. `Timestamp,Iterations,Algorithm,...,Volt,Current`
//! with `2025-05-07T13:32:31.876637` and `ML-KEM-1024` in the rows; or `device_timestamp`
//! (`02:02:22`) beside `pc_timestamp` (`2025-11-27 02:02:22.068064`).
//!
//! Each column of the head's rows is a number, a clock time ([`parse_clock`]: ISO 8601 with `T`
//! or a space, fractional seconds, an optional zone; a day-first date; `HH:MM:SS[.fff]`) or
//! text. Text columns are skipped, never a reason to refuse the file. The time is the finest
//! clock column (the smallest step between rows; said in the assumptions), counted from 0 at
//! the first sample, whose clock time is kept as `input.start_time`; without one, a numeric
//! time column of epoch seconds or milliseconds is read the same way. This format applies only
//! to files without a block of all-numeric rows (those are plain tables).
//!
//! Cost: one pass over at most [`ROWS`] rows of the head per delimiter.

use super::header::{split_name_unit, unit_cell};
use super::number::{parse_clock, parse_number, split_fields, Clock, Num};
use super::table::{layout_with_block, Block};
use super::{is_skippable, Delimiter, Head, IngestOptions, Layout, TimeBase};
use crate::error::{snippet, Error, Result};

pub const NAME: &str = "logger";

/// Rows of the head classified.
const ROWS: usize = 200;

/// What a column holds over the head's rows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Clock,
    Text,
    Blank,
}

/// A header line and the rows under it, with each column's kind.
#[derive(Debug, Clone)]
struct Found {
    delimiter: Delimiter,
    /// Index into the head's lines of the header and of the first data row.
    header: usize,
    first: usize,
    fields: usize,
    rows: usize,
    kinds: Vec<Kind>,
}

fn cells(text: &str, delimiter: Delimiter) -> Vec<String> {
    let mut c: Vec<String> = split_fields(text.as_bytes(), delimiter)
        .iter()
        .map(|f| {
            String::from_utf8_lossy(f)
                .trim()
                .trim_matches('"')
                .trim()
                .to_string()
        })
        .collect();
    while c.len() > 1 && c.last().is_some_and(|x| x.is_empty()) {
        c.pop();
    }
    c
}

fn kind_of(cell: &str) -> Kind {
    if cell.is_empty() {
        Kind::Blank
    } else if matches!(parse_number(cell.as_bytes(), false), Num::Value(_)) {
        Kind::Number
    } else if parse_clock(cell.as_bytes()).is_some() {
        Kind::Clock
    } else {
        Kind::Text
    }
}

/// The first header line followed by rows of as many fields that mix numbers with clock times
/// or text.
fn find(head: &Head) -> Option<Found> {
    for delimiter in [
        Delimiter::Byte(b','),
        Delimiter::Byte(b';'),
        Delimiter::Byte(b'\t'),
    ] {
        let lines: Vec<usize> = (0..head.lines.len())
            .filter(|&i| !is_skippable(&head.lines[i].text))
            .collect();
        for (k, &h) in lines.iter().enumerate().take(50) {
            let header = cells(&head.lines[h].text, delimiter);
            let n = header.len();
            if n < 2 || header.iter().all(|c| kind_of(c) != Kind::Text) {
                continue;
            }
            let rows: Vec<Vec<String>> = lines[k + 1..]
                .iter()
                .take(ROWS)
                .map(|&i| cells(&head.lines[i].text, delimiter))
                .collect();
            let alike = rows.iter().filter(|r| r.len() == n).count();
            if alike < 2 || alike * 10 < rows.len() * 9 {
                continue;
            }
            let kinds: Vec<Kind> = (0..n)
                .map(|j| {
                    let ks: Vec<Kind> = rows
                        .iter()
                        .filter(|r| r.len() == n)
                        .map(|r| kind_of(&r[j]))
                        .filter(|k| *k != Kind::Blank)
                        .collect();
                    match ks.first() {
                        None => Kind::Blank,
                        Some(&k0) if ks.iter().all(|k| *k == k0) => k0,
                        _ => Kind::Text,
                    }
                })
                .collect();
            let numbers = kinds.iter().filter(|k| **k == Kind::Number).count();
            let mixed = kinds.iter().any(|k| matches!(k, Kind::Clock | Kind::Text));
            if numbers >= 1 && mixed {
                return Some(Found {
                    delimiter,
                    header: h,
                    first: lines[k + 1],
                    fields: n,
                    rows: alike,
                    kinds,
                });
            }
        }
    }
    None
}

pub fn score(head: &Head) -> u8 {
    // A block of all-numeric rows is a plain table's.
    if head.block().is_some() {
        return 0;
    }
    find(head).map_or(0, |_| 30)
}

/// The rows of column `j` in the head (cells of rows with the header's width).
fn column<'a>(head: &'a Head, f: &'a Found, j: usize) -> impl Iterator<Item = (u64, String)> + 'a {
    head.lines[f.first..]
        .iter()
        .filter(|l| !is_skippable(&l.text))
        .take(ROWS)
        .filter_map(move |l| {
            let c = cells(&l.text, f.delimiter);
            (c.len() == f.fields).then(|| (l.number, c[j].clone()))
        })
}

/// The smallest positive step between the clock times of a column, s.
fn finest_step(head: &Head, f: &Found, j: usize) -> f64 {
    let clocks: Vec<Clock> = column(head, f, j)
        .filter_map(|(_, c)| parse_clock(c.as_bytes()))
        .collect();
    clocks
        .windows(2)
        .map(|w| w[1].since(w[0].whole_s) - w[0].frac_s)
        .filter(|d| *d > 0.0)
        .fold(f64::INFINITY, f64::min)
}

/// A column the user named that holds text: the line and cell that are not what was expected.
fn not_readable(
    head: &Head,
    f: &Found,
    file: &str,
    names: &[String],
    j: usize,
    what: &str,
) -> Error {
    let (line, cell) = column(head, f, j)
        .find(|(_, c)| matches!(kind_of(c), Kind::Text))
        .unwrap_or((head.lines[f.first].number, String::new()));
    Error::input(
        file,
        format!(
            "column {} \"{}\" holds text: expected {what}, found \"{}\"",
            j + 1,
            names[j],
            snippet(&cell, 40)
        ),
    )
    .at_line(line)
}

pub fn layout(head: &Head, file: &str, opts: &IngestOptions) -> Result<Layout> {
    let f = find(head).ok_or_else(|| {
        Error::input(
            file,
            format!(
                "no header with rows of numbers, clock times and text under it. First lines: {}",
                head.preview(4)
            ),
        )
    })?;
    let names = cells(&head.lines[f.header].text, f.delimiter);
    let find_named = |c: &str, what: &str| super::find_column(&names, c, what);
    let mut o = opts.clone();
    let mut notes = Vec::new();
    // The time: the user's column, else the finest clock column.
    let clocks: Vec<usize> = (0..f.fields)
        .filter(|&j| f.kinds[j] == Kind::Clock)
        .collect();
    let time = match &opts.time_col {
        Some(c) => Some(find_named(c, "time column")?),
        None if opts.sample_interval_s.is_some() => None,
        None => clocks
            .iter()
            .copied()
            .map(|j| (j, finest_step(head, &f, j)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(j, step)| {
                if clocks.len() > 1 {
                    notes.push(format!(
                        "time from column {} \"{}\", the finest of the clock columns {} (steps down to {step:.6} s)",
                        j + 1,
                        names[j],
                        clocks
                            .iter()
                            .map(|c| format!("\"{}\"", names[*c]))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                j
            }),
    };
    // No clock: a numeric column named like a time stamp whose values are epoch-sized.
    let time = time.or_else(|| {
        (clocks.is_empty() && opts.sample_interval_s.is_none())
            .then(|| {
                (0..f.fields).find(|&j| {
                    let n = names[j].to_lowercase();
                    f.kinds[j] == Kind::Number
                        && ["ts", "time", "timestamp", "epoch", "unix", "unixtime"]
                            .iter()
                            .any(|w| n == *w || n.starts_with(&format!("{w}_")))
                        && epoch_unit(first_number(head, &f, j)).is_some()
                })
            })
            .flatten()
    });
    let epoch_time = time.filter(|&j| {
        opts.time_unit.is_none()
            && f.kinds[j] == Kind::Number
            && epoch_unit(first_number(head, &f, j)).is_some()
    });
    if let Some(j) = time {
        if f.kinds[j] == Kind::Text {
            return Err(not_readable(head, &f, file, &names, j, "a time (seconds, a clock time such as 13:32:31.88 or 2025-05-07T13:32:31.876, or epoch seconds)"));
        }
        o.time_col = Some((j + 1).to_string());
    }
    if let Some(c) = &opts.value_col {
        if !c.contains('-') || names.iter().any(|n| n == c) {
            let j = find_named(c, "value column")?;
            if f.kinds[j] == Kind::Text {
                return Err(not_readable(head, &f, file, &names, j, "a number"));
            }
        }
    }
    let clock_time = time.filter(|&j| f.kinds[j] == Kind::Clock);
    let block = Block {
        delimiter: f.delimiter,
        decimal_comma: false,
        first: f.first,
        fields: f.fields,
        rows: f.rows,
        bad: 0,
    };
    let mut l = layout_with_block(head, file, &o, NAME, block, |names, units, _, _| {
        for (j, u) in units.iter_mut().enumerate() {
            // A header that is itself a unit: a USB meter's `Volt`, `Amp`.
            if u.is_none() {
                *u = unit_cell(&split_name_unit(&names[j]).0);
            }
        }
        if let Some(j) = clock_time.or(epoch_time) {
            units[j] = unit_cell("s");
        }
    })?;
    l.assumptions.extend(notes);
    let skipped: Vec<String> = (0..f.fields)
        .filter(|&j| f.kinds[j] == Kind::Text && Some(j) != time)
        .map(|j| format!("\"{}\"", names[j]))
        .collect();
    if !skipped.is_empty() {
        l.scaling
            .push(format!("text columns skipped: {}", skipped.join(", ")));
    }
    if let (Some(j), TimeBase::Column { offset, .. }) = (clock_time, &mut l.time) {
        let first = column(head, &f, j)
            .find_map(|(_, c)| parse_clock(c.as_bytes()))
            .ok_or_else(|| Error::input(file, "no clock time in the first rows"))?;
        // Whole seconds go in the origin, the fraction in the offset: the first sample is 0.
        *offset = -first.frac_s;
        l.time_is_datetime = true;
        l.clock_origin_s = first.whole_s;
        l.start_time = Some(first.iso8601());
        l.time_label = format!(
            "column {} \"{}\": clock time, counted from 0 at the first sample ({})",
            j + 1,
            names[j],
            first.iso8601()
        );
    } else if let (Some(j), TimeBase::Column { scale, offset, .. }) = (epoch_time, &mut l.time) {
        epoch(
            head,
            &f,
            j,
            &names,
            scale,
            offset,
            &mut l.start_time,
            &mut l.time_label,
        );
    }
    Ok(l)
}

/// The first number in column `j` of the head's rows.
fn first_number(head: &Head, f: &Found, j: usize) -> Option<f64> {
    column(head, f, j).find_map(|(_, c)| match parse_number(c.as_bytes(), false) {
        Num::Value(v) => Some(v),
        _ => None,
    })
}

/// Seconds per unit of an epoch time stamp, by its size: 1e9–1e11 is seconds (2001–5138),
/// 1e12–1e14 milliseconds.
fn epoch_unit(v: Option<f64>) -> Option<f64> {
    let v = v?;
    if (1e9..1e11).contains(&v) {
        Some(1.0)
    } else if (1e12..1e14).contains(&v) {
        Some(1e-3)
    } else {
        None
    }
}

/// A numeric time column of epoch seconds or milliseconds counts from 0 at the first sample
/// too; its first time stamp is kept (UTC).
#[allow(clippy::too_many_arguments)]
fn epoch(
    head: &Head,
    f: &Found,
    j: usize,
    names: &[String],
    scale: &mut f64,
    offset: &mut f64,
    start: &mut Option<String>,
    label: &mut String,
) {
    let v = first_number(head, f, j);
    let (Some(v), Some(unit)) = (v, epoch_unit(v)) else {
        return;
    };
    *scale = unit;
    *offset = -v * unit;
    let s = v * unit;
    let clock = Clock {
        whole_s: s.floor() as i64,
        frac_s: s - s.floor(),
        dated: true,
        zone_s: 0,
    };
    *start = Some(clock.iso8601() + "Z");
    *label = format!(
        "column {} \"{}\": epoch {}, counted from 0 at the first sample ({}Z)",
        j + 1,
        names[j],
        if unit == 1.0 {
            "seconds"
        } else {
            "milliseconds"
        },
        clock.iso8601()
    );
}
