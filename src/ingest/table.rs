//! Generic delimited time/value tables: comma, semicolon, tab or spaces; decimal commas;
//! metadata, comment and unit lines before the data; columns found by name and unit.

use super::header::{
    has_dim, is_current_name, is_time_name, is_voltage_name, split_name_unit, unit_cell,
};
use super::reader::{parse_number, split_fields, Num};
use super::{find_column, is_skippable, Delimiter, Head, IngestOptions, Layout, TimeBase};
use crate::error::{Error, Result};
use crate::trace::Quantity;
use crate::units::{fmt_duration, parse_unit, Dim, Unit};

pub const NAME: &str = "table";

const DIALECTS: &[(Delimiter, bool)] = &[
    (Delimiter::Byte(b','), false),
    (Delimiter::Byte(b';'), false),
    (Delimiter::Byte(b';'), true),
    (Delimiter::Byte(b'\t'), false),
    (Delimiter::Byte(b'\t'), true),
    (Delimiter::Whitespace, false),
    (Delimiter::Whitespace, true),
];

/// The data block a dialect finds in the head.
#[derive(Debug, Clone)]
pub struct Block {
    pub delimiter: Delimiter,
    pub decimal_comma: bool,
    /// Index into `head.lines` of the first data line.
    pub first: usize,
    /// Fields per data row (trailing empty fields not counted).
    pub fields: usize,
    /// Data rows of that width in the head.
    pub rows: usize,
    /// Lines after the block start that are not data rows.
    pub bad: usize,
}

fn fields_of(text: &str, delim: Delimiter) -> Vec<&[u8]> {
    let mut f = split_fields(text.as_bytes(), delim);
    while f.len() > 1 && f.last().map(|x| x.iter().all(|b| b.is_ascii_whitespace())) == Some(true) {
        f.pop();
    }
    f
}

/// Number of fields if every field of the line is a number, else None (trailing blank fields
/// are not counted, as in [`fields_of`]). No allocation: it runs on every line of the head
/// under every dialect.
fn numeric_width(text: &str, delim: Delimiter, decimal_comma: bool) -> Option<usize> {
    let is_num = |x: &[u8]| matches!(parse_number(x, decimal_comma), Num::Value(_));
    let blank = |x: &[u8]| x.iter().all(|b| b.is_ascii_whitespace());
    let line = text.as_bytes();
    match delim {
        Delimiter::Byte(d) => {
            // Fields after the last non-blank one are dropped; a blank one before it fails.
            let (mut width, mut seen) = (0usize, 0usize);
            for f in line.split(|&b| b == d) {
                seen += 1;
                if !blank(f) {
                    if width + 1 < seen || !is_num(f) {
                        return None;
                    }
                    width = seen;
                }
            }
            // All blank: one blank field is left, and it is not a number.
            (width > 0).then_some(width)
        }
        Delimiter::Whitespace => {
            let mut width = 0usize;
            for f in line
                .split(|&b| b == b' ' || b == b'\t')
                .filter(|f| !f.is_empty())
            {
                if !is_num(f) {
                    return None;
                }
                width += 1;
            }
            Some(width)
        }
    }
}

/// Lines of the head that decide the dialect (the rest of the head only when they hold no
/// block): every line is tried under every dialect, the main cost of opening a small file.
const BLOCK_LINES: usize = 1024;

/// Find the block of numeric rows under each dialect and keep the best.
pub fn find_block(head: &Head) -> Option<Block> {
    find_block_in(head, BLOCK_LINES.min(head.lines.len()))
        .or_else(|| find_block_in(head, head.lines.len()))
}

fn find_block_in(head: &Head, lines: usize) -> Option<Block> {
    let mut best: Option<(i64, Block)> = None;
    for &(delimiter, decimal_comma) in DIALECTS {
        let widths: Vec<Option<usize>> = head.lines[..lines]
            .iter()
            .map(|l| {
                if is_skippable(&l.text) {
                    Some(0)
                } else {
                    numeric_width(&l.text, delimiter, decimal_comma)
                }
            })
            .collect();
        // Modal width among numeric rows.
        let mut counts = std::collections::BTreeMap::new();
        for w in widths.iter().flatten().filter(|&&w| w > 0) {
            *counts.entry(*w).or_insert(0usize) += 1;
        }
        let Some((&fields, _)) = counts.iter().max_by_key(|(w, c)| (**c, **w)) else {
            continue;
        };
        // The block starts at the first row of that width with most of the next three rows alike
        // (one bad row among them is a data error to report, not the end of the table).
        let mut first = None;
        for (i, w) in widths.iter().enumerate() {
            if *w == Some(fields) {
                let next: Vec<_> = widths[i + 1..]
                    .iter()
                    .filter(|w| **w != Some(0))
                    .take(3)
                    .collect();
                let alike = next.iter().filter(|w| ***w == Some(fields)).count();
                let next_ok = alike * 2 >= next.len();
                if next_ok {
                    first = Some(i);
                    break;
                }
            }
        }
        let Some(first) = first else { continue };
        let rows = widths[first..]
            .iter()
            .filter(|w| **w == Some(fields))
            .count();
        let bad = widths[first..]
            .iter()
            .filter(|w| **w != Some(fields) && **w != Some(0))
            .count();
        // Bad rows after the start (a truncated last line, a typo) cost what two good ones earn.
        let score = (rows * fields.min(4)) as i64 - 2 * (bad * fields.min(4)) as i64;
        let block = Block {
            delimiter,
            decimal_comma,
            first,
            fields,
            rows,
            bad,
        };
        if best.as_ref().map(|(s, _)| score > *s).unwrap_or(true) {
            best = Some((score, block));
        }
    }
    best.map(|(_, b)| b)
}

pub fn score(head: &Head) -> u8 {
    match head.block() {
        Some(b) if b.bad == 0 => 20,
        Some(_) => 10,
        None => 0,
    }
}

/// Header names and units of the block's columns, from the header line, a units row, or a
/// `#` comment header.
pub fn read_header(head: &Head, block: &Block) -> (Vec<String>, Vec<Option<Unit>>, usize) {
    let n = block.fields;
    let pre: Vec<usize> = (0..block.first)
        .filter(|&i| !is_skippable(&head.lines[i].text))
        .collect();
    let cells = |i: usize| -> Vec<String> {
        let mut f: Vec<String> = fields_of(&head.lines[i].text, block.delimiter)
            .iter()
            .map(|x| {
                String::from_utf8_lossy(x)
                    .trim()
                    .trim_matches('"')
                    .to_string()
            })
            .collect();
        while f.len() > n && f.last().map(|c| c.is_empty()).unwrap_or(false) {
            f.pop();
        }
        f
    };
    let mut names = vec![String::new(); n];
    let mut units: Vec<Option<Unit>> = vec![None; n];
    let mut unit_row = None;
    let mut header_row = None;
    if let Some(&last) = pre.last() {
        let c = cells(last);
        let is_unit_row = c.len() >= n
            && c.iter()
                .take(n)
                .all(|x| x.is_empty() || unit_cell(x).is_some());
        if is_unit_row {
            unit_row = Some(last);
            if pre.len() >= 2 && cells(pre[pre.len() - 2]).len() == n {
                header_row = Some(pre[pre.len() - 2]);
            }
        } else if c.len() == n {
            header_row = Some(last);
        }
    }
    if header_row.is_none() && unit_row.is_none() {
        // A header in the last comment line right above the data: `#time,current,voltage`.
        if let Some(l) = (0..block.first)
            .rev()
            .map(|i| &head.lines[i])
            .find(|l| !l.text.trim().is_empty())
        {
            let t = l.text.trim_start();
            if let Some(body) = t.strip_prefix('#') {
                let c: Vec<String> = fields_of(body, block.delimiter)
                    .iter()
                    .map(|x| String::from_utf8_lossy(x).trim().to_string())
                    .collect();
                if c.len() == n {
                    for (j, cell) in c.iter().enumerate() {
                        let (name, unit) = split_name_unit(cell);
                        names[j] = name;
                        units[j] = unit;
                    }
                    return (names, units, 0);
                }
            }
        }
    }
    if let Some(h) = header_row {
        for (j, cell) in cells(h).iter().take(n).enumerate() {
            names[j] = cell.clone();
            units[j] = split_name_unit(cell).1;
        }
    }
    if let Some(u) = unit_row {
        for (j, cell) in cells(u).iter().take(n).enumerate() {
            if let Some(unit) = unit_cell(cell) {
                if header_row.is_none() {
                    names[j] = cell.clone();
                }
                units[j] = Some(unit);
            }
        }
    }
    let found = header_row.is_some() as usize + unit_row.is_some() as usize;
    (names, units, found)
}

pub fn layout(head: &Head, file: &str, opts: &IngestOptions) -> Result<Layout> {
    layout_with(head, file, opts, NAME, |_, _, _, _| {})
}

/// Lay the file out as a table, as format `format`, after `fix` adjusts units and options.
pub fn layout_with(
    head: &Head,
    file: &str,
    opts: &IngestOptions,
    format: &'static str,
    fix: impl FnOnce(&[String], &mut Vec<Option<Unit>>, &mut IngestOptions, &mut Vec<String>),
) -> Result<Layout> {
    let block = head.block().ok_or_else(|| {
        Error::input(
            file,
            format!(
                "no block of numeric rows found. First lines: {}",
                head.preview(4)
            ),
        )
    })?;
    layout_with_block(head, file, opts, format, block, fix)
}

/// [`layout_with`] with the data block given (for files whose rows hold text cells too).
pub fn layout_with_block(
    head: &Head,
    file: &str,
    opts: &IngestOptions,
    format: &'static str,
    block: Block,
    fix: impl FnOnce(&[String], &mut Vec<Option<Unit>>, &mut IngestOptions, &mut Vec<String>),
) -> Result<Layout> {
    let data_line = head.lines[block.first].number;
    let (mut names, mut units, found) = read_header(head, &block);
    if names.iter().all(|n| n.is_empty()) {
        names = (1..=block.fields).map(|i| format!("column {i}")).collect();
    }
    let mut o = opts.clone();
    let mut notes = Vec::new();
    fix(&names, &mut units, &mut o, &mut notes);
    let mut l = table_layout(format, file, &o, &block, data_line, names, units, found > 0)?;
    l.scaling.extend(notes);
    Ok(l)
}

/// Choose time and value columns from names and units and build the layout.
/// Shared by formats whose files are tables with extra metadata.
#[allow(clippy::too_many_arguments)]
pub fn table_layout(
    format: &'static str,
    file: &str,
    opts: &IngestOptions,
    block: &Block,
    data_line: u64,
    names: Vec<String>,
    mut units: Vec<Option<Unit>>,
    has_header: bool,
) -> Result<Layout> {
    let mut assumptions = Vec::new();
    check_unique(file, &names, opts)?;
    let time_index = time_column(opts, &names, &units, block.fields)?;
    let time_index =
        if opts.time_col.is_none() && time_index.is_none() && !has_header && block.fields >= 2 {
            assumptions.push("no header: column 1 taken as time".to_string());
            Some(0)
        } else {
            time_index
        };
    let value_index = value_column(
        file,
        opts,
        &names,
        &units,
        has_header,
        block.fields,
        time_index,
    )?;
    let value_unit = value_unit(file, opts, &names, &mut units, value_index)?;
    let quantity = if value_unit.dim == Dim::Current {
        Quantity::Current
    } else {
        Quantity::Voltage
    };
    let time = time_base(file, opts, &names, &mut units, time_index, &mut assumptions)?;
    let time_label = describe_time(&time, &names, &units);
    let value_scale = value_unit.to_base;
    Ok(Layout {
        format,
        delimiter: block.delimiter,
        decimal_comma: block.decimal_comma,
        data_line,
        columns: names.clone(),
        time,
        time_label,
        value_index,
        value_scale,
        value_offset: 0.0,
        value_label: format!("column {} \"{}\"", value_index + 1, names[value_index]),
        value_unit: value_unit.symbol.clone(),
        quantity,
        assumptions,
        scaling: Vec::new(),
        reorder: false,
        time_is_datetime: false,
        clock_origin_s: 0,
        start_time: None,
        digital: Vec::new(),
        value_minus: None,
        supply: None,
        window_index: None,
        digital_words: false,
        units: units.clone(),
        default_supply: None,
        constant_supply_v: None,
        marker_index: super::marker_index(&names, opts)?,
    })
}

/// Two columns with the same name are ambiguous when the user asks for one by that name, or
/// when columns are found by name and the name is a real one (`time_s,time_s`). A name that is
/// only a unit (a units row taken for names: `Second,Volt,Volt`) is never an error.
fn check_unique(file: &str, names: &[String], opts: &IngestOptions) -> Result<()> {
    let by_name = opts.time_col.is_none() || opts.value_col.is_none();
    for (i, a) in names.iter().enumerate() {
        let Some(j) = names[i + 1..]
            .iter()
            .position(|b| !a.is_empty() && a.eq_ignore_ascii_case(b))
        else {
            continue;
        };
        let asked = [
            &opts.time_col,
            &opts.value_col,
            &opts.marker_col,
            &opts.supply_col,
        ]
        .into_iter()
        .flatten()
        .any(|w| w.trim().eq_ignore_ascii_case(a.trim()));
        if asked || (by_name && parse_unit(a.trim()).is_none()) {
            return Err(Error::input(
                file,
                format!(
                    "the column name \"{a}\" appears twice (columns {} and {}): name the column by number",
                    i + 1,
                    i + j + 2
                ),
            ));
        }
    }
    Ok(())
}

/// The time column: named by the user, else the first with a time unit, else the first with a
/// time-like name and no voltage or current unit.
fn time_column(
    opts: &IngestOptions,
    names: &[String],
    units: &[Option<Unit>],
    n: usize,
) -> Result<Option<usize>> {
    let base: Vec<String> = names.iter().map(|c| split_name_unit(c).0).collect();
    Ok(match &opts.time_col {
        Some(t) => Some(find_column(names, t, "time column")?),
        None => (0..n).find(|&j| has_dim(&units[j], Dim::Time)).or_else(|| {
            (0..n).find(|&j| {
                is_time_name(&base[j])
                    && !has_dim(&units[j], Dim::Voltage)
                    && !has_dim(&units[j], Dim::Current)
            })
        }),
    })
}

/// The value column: named by the user, else the first current column (by unit, then by name),
/// else the first voltage column (likewise), else the first column left without a unit.
#[allow(clippy::too_many_arguments)]
fn value_column(
    file: &str,
    opts: &IngestOptions,
    names: &[String],
    units: &[Option<Unit>],
    has_header: bool,
    n: usize,
    time_index: Option<usize>,
) -> Result<usize> {
    let base: Vec<String> = names.iter().map(|c| split_name_unit(c).0).collect();
    let is_candidate = |j: usize| Some(j) != time_index;
    match &opts.value_col {
        Some(v) => find_column(names, v, "value column"),
        None => (0..n)
            .filter(|&j| is_candidate(j))
            .find(|&j| has_dim(&units[j], Dim::Current))
            .or_else(|| {
                (0..n)
                    .filter(|&j| is_candidate(j) && units[j].is_none())
                    .find(|&j| is_current_name(&base[j]))
            })
            .or_else(|| {
                (0..n)
                    .filter(|&j| is_candidate(j))
                    .find(|&j| has_dim(&units[j], Dim::Voltage))
            })
            .or_else(|| {
                (0..n)
                    .filter(|&j| is_candidate(j) && units[j].is_none())
                    .find(|&j| is_voltage_name(&base[j]))
            })
            .or_else(|| (0..n).find(|&j| is_candidate(j) && (!has_header || units[j].is_none())))
            .ok_or_else(|| {
                Error::input(
                    file,
                    format!(
                        "no value column found among {}: name it with --value-col",
                        quoted(names)
                    ),
                )
            }),
    }
}

/// The value column's unit: `--unit`, else the one its header gives.
fn value_unit(
    file: &str,
    opts: &IngestOptions,
    names: &[String],
    units: &mut [Option<Unit>],
    value_index: usize,
) -> Result<Unit> {
    if let Some(u) = &opts.unit {
        let unit = parse_unit(u)
            .filter(|u| matches!(u.dim, Dim::Voltage | Dim::Current))
            .ok_or_else(|| {
                Error::usage(format!(
                    "--unit {u}: expected a voltage or current unit (V, mV, A, mA, uA, nA)"
                ))
            })?;
        units[value_index] = Some(unit);
    }
    match &units[value_index] {
        Some(u) if matches!(u.dim, Dim::Voltage | Dim::Current) => Ok(u.clone()),
        _ => Err(Error::input(
            file,
            format!(
                "cannot tell the unit of column {} \"{}\": give --unit (V, mV, A, mA or uA)",
                value_index + 1,
                names[value_index]
            ),
        )),
    }
}

/// Where time comes from: `--sample-interval` (implied), else the time column in its unit.
fn time_base(
    file: &str,
    opts: &IngestOptions,
    names: &[String],
    units: &mut [Option<Unit>],
    time_index: Option<usize>,
    assumptions: &mut Vec<String>,
) -> Result<TimeBase> {
    match (opts.sample_interval_s, time_index) {
        (Some(dt), ti) => {
            if let Some(ti) = ti {
                assumptions.push(format!(
                    "time column {} \"{}\" ignored: --sample-interval given",
                    ti + 1,
                    names[ti]
                ));
            }
            Ok(TimeBase::Implied {
                start_s: 0.0,
                interval_s: dt,
            })
        }
        (None, Some(ti)) => {
            let unit = match &opts.time_unit {
                Some(u) => parse_unit(u)
                    .filter(|u| u.dim == Dim::Time)
                    .ok_or_else(|| {
                        Error::usage(format!("--time-unit {u}: expected s, ms, us or ns"))
                    })?,
                None => match &units[ti] {
                    Some(u) if u.dim == Dim::Time => u.clone(),
                    _ => {
                        assumptions.push(format!(
                            "time column {} \"{}\" has no unit: taken as seconds (override with --time-unit)",
                            ti + 1,
                            names[ti]
                        ));
                        Unit::new(Dim::Time, 1.0, "s")
                    }
                },
            };
            let scale = unit.to_base;
            units[ti] = Some(unit);
            Ok(TimeBase::Column {
                index: ti,
                scale,
                offset: 0.0,
            })
        }
        (None, None) => Err(Error::input(
            file,
            format!(
                "no time column among {}: give --sample-interval (e.g. 100us) or --time-col",
                quoted(names)
            ),
        )),
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A human description of a time base.
pub fn describe_time(time: &TimeBase, names: &[String], units: &[Option<Unit>]) -> String {
    match *time {
        TimeBase::Column {
            index,
            scale,
            offset,
        } => {
            let unit = units
                .get(index)
                .and_then(|u| u.as_ref())
                .filter(|u| u.dim == Dim::Time)
                .map(|u| u.symbol.clone())
                .unwrap_or_else(|| format!("× {scale}"));
            let mut s = format!(
                "column {} \"{}\" in {unit}",
                index + 1,
                names.get(index).map(String::as_str).unwrap_or("")
            );
            if offset != 0.0 {
                s.push_str(&format!(" + {offset} s"));
            }
            s
        }
        TimeBase::Implied {
            start_s,
            interval_s,
        } => format!(
            "implied: start {start_s} s, one sample every {}",
            fmt_duration(interval_s)
        ),
    }
}

#[cfg(test)]
mod width_tests {
    use super::*;

    /// The allocating definition: split, drop trailing blank fields, all numbers.
    fn reference(text: &str, delim: Delimiter, dc: bool) -> Option<usize> {
        let f = fields_of(text, delim);
        f.iter()
            .all(|x| matches!(parse_number(x, dc), Num::Value(_)))
            .then_some(f.len())
    }

    #[test]
    fn numeric_width_as_the_allocating_definition() {
        let lines = [
            "1,2",
            "1,2,",
            "1,2, ,",
            "1, ,2",
            " ,1",
            "",
            " ",
            ",",
            ",,",
            "1",
            "a,1",
            "1;2",
            "1,5;2,5",
            "1 2  3",
            "\t1\t2\t",
            "1,,",
            "-1.5e3,+2",
            "\"1\",2",
            "1,2,x",
            "  1,2  ",
            "1\t,2",
        ];
        for l in lines {
            for &(d, dc) in DIALECTS {
                assert_eq!(
                    numeric_width(l, d, dc),
                    reference(l, d, dc),
                    "{l:?} {d:?} {dc}"
                );
            }
        }
    }
}
