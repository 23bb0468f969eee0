//! Row parsing: a part of a block (whole lines) into samples, on one worker. Rows of a layout
//! seen before go through the shape reader ([`super::rowshape`]); the rest through the scalar
//! parser ([`super::number`]). Errors are kept with their line within the part.

use super::number::*;
use super::rowshape::{ShapeCtx, Shapes, Sink};
use super::Delimiter;
use crate::error::snippet;

/// What the parser needs to know about a layout, copied into each worker.
#[derive(Clone, Copy)]
pub(super) struct Ctx {
    pub(super) delimiter: Delimiter,
    pub(super) decimal: u8,
    pub(super) decimal_comma: bool,
    /// Time column, or usize::MAX for implied time.
    pub(super) ti: usize,
    pub(super) vi: usize,
    pub(super) needed: usize,
    pub(super) time_scale: f64,
    pub(super) time_offset: f64,
    pub(super) value_scale: f64,
    pub(super) value_offset: f64,
    /// Accept time going backwards (the reader reorders).
    pub(super) reorder: bool,
    /// Marker column, or usize::MAX for none.
    pub(super) mi: usize,
    /// The time column holds clock times, read as seconds after `clock_origin_s`.
    pub(super) datetime: bool,
    pub(super) clock_origin_s: i64,
    /// Digital columns to read (0-based), as a fixed array; `nd` of them are used.
    pub(super) dig: [usize; 16],
    pub(super) nd: usize,
    /// Use the shape reader (SIMD) where it can; off for the scalar reference in tests.
    pub(super) shapes: bool,
    /// A column subtracted from the value (before scaling), or usize::MAX for none.
    pub(super) vi2: usize,
    /// The supply column, or usize::MAX for none, and the scale of its values to V.
    pub(super) si: usize,
    pub(super) supply_scale: f64,
    /// The phase-window column, or usize::MAX for none.
    pub(super) wi: usize,
}

/// An error found by a worker, located relative to its part.
#[derive(Debug, Clone)]
pub(super) struct PartError {
    /// 0-based line within the part.
    pub(super) line: u64,
    pub(super) field: Option<usize>,
    /// `{col}` in it stands for the column's name, `{prev}` for the line of `prev_line`.
    pub(super) message: String,
    /// 0-based line within the part of the row an error refers back to.
    pub(super) prev_line: Option<u64>,
}

/// One worker's output. For implied time, `time` holds the row's slot number within the part.
#[derive(Default)]
pub(super) struct Part {
    pub(super) time: Vec<f64>,
    pub(super) value: Vec<f64>,
    pub(super) marker: Vec<f64>,
    pub(super) digital: Vec<f64>,
    pub(super) supply: Vec<f64>,
    pub(super) window: Vec<f64>,
    /// Lines in the part.
    pub(super) lines: u64,
    pub(super) slots: u64,
    pub(super) empty: u64,
    pub(super) first_empty_line: Option<u64>,
    pub(super) first_row_line: u64,
    pub(super) last_row_line: u64,
    pub(super) err: Option<PartError>,
    /// Rows read by the shape reader.
    pub(super) shaped: u64,
}

impl Part {
    pub(super) fn reset(&mut self) {
        self.time.clear();
        self.value.clear();
        self.marker.clear();
        self.digital.clear();
        self.supply.clear();
        self.window.clear();
        self.lines = 0;
        self.slots = 0;
        self.empty = 0;
        self.first_empty_line = None;
        self.first_row_line = 0;
        self.last_row_line = 0;
        self.err = None;
        self.shaped = 0;
    }
}

/// The first position after a line end at or after `target` (or the end of `data`).
pub(super) fn split_after_line(data: &[u8], target: usize) -> usize {
    if target >= data.len() {
        return data.len();
    }
    match memchr::memchr(b'\n', &data[target..]) {
        Some(i) => target + i + 1,
        // A file with bare CR line ends: split after a CR not followed by LF.
        None => match memchr::memchr(b'\r', &data[target..]) {
            Some(i) if data.get(target + i + 1) != Some(&b'\n') => target + i + 1,
            _ => data.len(),
        },
    }
}

/// Parse whole lines into `out`. Stops at the first error, recording it.
pub(super) fn parse_part(data: &[u8], ctx: &Ctx, out: &mut Part) {
    out.reset();
    let n = data.len();
    let mut p = 0usize;
    let mut line = 0u64;
    let mut last_t = f64::NEG_INFINITY;
    let fast_delim = match ctx.delimiter {
        Delimiter::Byte(d)
            if !ctx.decimal_comma && ctx.mi == usize::MAX && !ctx.datetime && ctx.nd == 0 =>
        {
            Some(d)
        }
        _ => None,
    };
    let mut shapes = shape_ctx(ctx).filter(|_| ctx.shapes).and_then(Shapes::new);
    while p < n {
        // Rows of a layout seen before, 16 bytes at a time.
        if let Some(sh) = shapes.as_mut() {
            let mut sink = Sink {
                time: &mut out.time,
                value: &mut out.value,
                slots: &mut out.slots,
                first_row_line: &mut out.first_row_line,
                last_row_line: &mut out.last_row_line,
                last_t: &mut last_t,
            };
            let (next, rows) = sh.run(data, p, line, &mut sink);
            p = next;
            line += rows;
            out.shaped += rows;
            if p >= n {
                break;
            }
        }
        let (row_start, rows_before) = (p, out.value.len());
        // The common row, `time,value` or `value,` ending the line, parsed in one go.
        if let Some(d) = fast_delim {
            if let Some(next) = fast_row(data, p, d, ctx, out, line, &mut last_t) {
                line += 1;
                p = next;
                learn(&mut shapes, data, row_start, rows_before, out);
                continue;
            }
        }
        // One scan finds the line's end and, for single-byte delimiters, the two fields.
        let (end, fields) = match ctx.delimiter {
            Delimiter::Byte(d) => {
                let (mut i, mut f, mut fs) = (p, 0usize, p);
                let (mut tr, mut vr, mut mr) = ((0, 0), (0, 0), (0, 0));
                // Remember field `f`, spanning fs..i, if it is one the row needs.
                let mut keep = |f: usize, fs: usize, i: usize| {
                    if f == ctx.ti {
                        tr = (fs, i);
                    }
                    if f == ctx.vi {
                        vr = (fs, i);
                    }
                    if f == ctx.mi {
                        mr = (fs, i);
                    }
                };
                while i < n {
                    let c = data[i];
                    if c == d {
                        keep(f, fs, i);
                        f += 1;
                        fs = i + 1;
                    } else if c == b'\n' || c == b'\r' {
                        break;
                    }
                    i += 1;
                }
                keep(f, fs, i);
                (i, Some((f + 1, tr, vr, mr)))
            }
            Delimiter::Whitespace => (
                memchr::memchr2(b'\n', b'\r', &data[p..])
                    .map(|i| p + i)
                    .unwrap_or(n),
                None,
            ),
        };
        let text = &data[p..end];
        let result = match fields {
            Some((count, tr, vr, mr)) => parse_row(
                text,
                count,
                &data[tr.0..tr.1],
                &data[vr.0..vr.1],
                &data[mr.0..mr.1],
                line,
                ctx,
                out,
                &mut last_t,
            ),
            None => parse_line(text, line, ctx, out, &mut last_t),
        };
        if let Err(e) = result {
            out.err = Some(e);
            out.lines = line + 1;
            return;
        }
        line += 1;
        p = end + 1;
        if end < n && data[end] == b'\r' && p < n && data[p] == b'\n' {
            p += 1;
        }
        learn(&mut shapes, data, row_start, rows_before, out);
    }
    out.lines = line;
}

/// The shape reader's view of the layout, when it can take it: a one-byte delimiter, the
/// time (or implied time) and value only, no markers, digital channels or date-times.
fn shape_ctx(ctx: &Ctx) -> Option<ShapeCtx> {
    match ctx.delimiter {
        Delimiter::Byte(d) if ctx.mi == usize::MAX && !ctx.datetime && ctx.nd == 0 => {
            Some(ShapeCtx {
                delimiter: d,
                decimal: ctx.decimal,
                ti: ctx.ti,
                vi: ctx.vi,
                needed: ctx.needed,
                time_scale: ctx.time_scale,
                time_offset: ctx.time_offset,
                value_scale: ctx.value_scale,
                value_offset: ctx.value_offset,
                reorder: ctx.reorder,
            })
        }
        _ => None,
    }
}

/// After the scalar parser read the row at `row_start` as one sample, let the shape reader
/// learn its layout.
#[inline]
fn learn(shapes: &mut Option<Shapes>, data: &[u8], row_start: usize, before: usize, out: &Part) {
    if let Some(sh) = shapes.as_mut().filter(|s| s.enabled) {
        if out.value.len() == before + 1 {
            sh.learn(data, row_start, out.time[before], out.value[before]);
        }
    }
}

/// Parse a plain `time<d>value` (time column 0, value column 1) or `value[<d>]` (implied
/// time) row starting at `p`, and return where the next line starts; None to take the general
/// path (anything unusual, including every error).
#[inline(always)]
fn fast_row(
    data: &[u8],
    p: usize,
    d: u8,
    ctx: &Ctx,
    out: &mut Part,
    line: u64,
    last_t: &mut f64,
) -> Option<usize> {
    let n = data.len();
    let (t, v, mut q) = if ctx.ti == 0 && ctx.vi == 1 && ctx.needed == 2 {
        let (t, k) = fast_prefix(&data[p..], b'.')?;
        let q = p + k;
        if q >= n || data[q] != d {
            return None;
        }
        let (v, k2) = fast_prefix(&data[q + 1..], b'.')?;
        let t = t * ctx.time_scale + ctx.time_offset;
        if t < *last_t && !ctx.reorder {
            return None;
        }
        (t, v, q + 1 + k2)
    } else if ctx.ti == usize::MAX && ctx.vi == 0 && ctx.needed == 1 {
        let (v, k) = fast_prefix(&data[p..], b'.')?;
        (out.slots as f64, v, p + k)
    } else {
        return None;
    };
    if t.abs() > MAX_MAGNITUDE || (v * ctx.value_scale + ctx.value_offset).abs() > MAX_MAGNITUDE {
        return None; // the general path reports it
    }
    if q < n && data[q] == d {
        q += 1; // one trailing delimiter
    }
    let next = if q == n {
        n
    } else if data[q] == b'\n' {
        q + 1
    } else if data[q] == b'\r' {
        if q + 1 < n && data[q + 1] == b'\n' {
            q + 2
        } else {
            q + 1
        }
    } else {
        return None;
    };
    if ctx.ti != usize::MAX {
        *last_t = t;
    }
    if out.value.is_empty() {
        out.first_row_line = line;
    }
    out.last_row_line = line;
    out.slots += 1;
    out.time.push(t);
    out.value.push(v * ctx.value_scale + ctx.value_offset);
    Some(next)
}

/// A line split on whitespace.
#[inline]
fn parse_line(
    line: &[u8],
    line_no: u64,
    ctx: &Ctx,
    out: &mut Part,
    last_t: &mut f64,
) -> std::result::Result<(), PartError> {
    let (count, time_raw, value_raw) = pick(
        line.split(|&b| b == b' ' || b == b'\t')
            .filter(|f| !f.is_empty()),
        ctx.ti,
        ctx.vi,
        ctx.needed,
    );
    let marker_raw = if ctx.mi == usize::MAX {
        &[][..]
    } else {
        line.split(|&b| b == b' ' || b == b'\t')
            .filter(|f| !f.is_empty())
            .nth(ctx.mi)
            .unwrap_or_default()
    };
    parse_row(
        line,
        count,
        time_raw.unwrap_or_default(),
        value_raw.unwrap_or_default(),
        marker_raw,
        line_no,
        ctx,
        out,
        last_t,
    )
}

/// The error for a time cell that is not a clock time.
fn clock_error(line_no: u64, ti: usize, time_field: &[u8]) -> PartError {
    PartError {
        line: line_no,
        field: Some(ti + 1),
        message: format!(
            "expected a clock time (a date-time such as 2024-05-01T12:00:00.123 or 01-05-2024 12:00:00.123456, or a time of day such as 12:00:00) in {{col}}, found \"{}\"",
            snippet(&String::from_utf8_lossy(time_field), 40)
        ),
        prev_line: None,
    }
}

/// One line whose fields have been found: check, parse and store it.
#[inline]
#[allow(clippy::too_many_arguments)]
fn parse_row(
    line: &[u8],
    count: usize,
    time_raw: &[u8],
    value_raw: &[u8],
    marker_raw: &[u8],
    line_no: u64,
    ctx: &Ctx,
    out: &mut Part,
    last_t: &mut f64,
) -> std::result::Result<(), PartError> {
    // Data rows start with a digit, sign or point; anything else may be a comment or blank.
    if line.len() > MAX_LINE_BYTES {
        return Err(PartError {
            line: line_no,
            field: None,
            message: format!(
                "line is longer than {} MiB: not a trace table",
                MAX_LINE_BYTES >> 20
            ),
            prev_line: None,
        });
    }
    let first = line.first().copied().unwrap_or(b' ');
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.')
        && skippable(line)
    {
        return Ok(());
    }
    if count < ctx.needed {
        return Err(PartError {
            line: line_no,
            field: None,
            message: format!(
                "expected at least {} fields, found {count}: \"{}\"",
                ctx.needed,
                snippet(&String::from_utf8_lossy(line), 60)
            ),
            prev_line: None,
        });
    }
    let slot = out.slots;
    out.slots += 1;
    let value_field = trim_field(value_raw);
    let time_field = trim_field(time_raw);
    if value_field.is_empty() && (ctx.ti == usize::MAX || !time_field.is_empty()) {
        out.empty += 1;
        out.first_empty_line.get_or_insert(line_no);
        return Ok(());
    }
    let mut raw = number(value_field, ctx, ctx.vi, line_no)?;
    if ctx.vi2 != usize::MAX {
        raw -= number(
            trim_field(nth_field(line, ctx, ctx.vi2)),
            ctx,
            ctx.vi2,
            line_no,
        )?;
    }
    let supply = if ctx.si != usize::MAX {
        number(
            trim_field(nth_field(line, ctx, ctx.si)),
            ctx,
            ctx.si,
            line_no,
        )? * ctx.supply_scale
    } else {
        f64::NAN
    };
    let value = raw * ctx.value_scale + ctx.value_offset;
    if value.abs() > MAX_MAGNITUDE {
        return Err(PartError {
            line: line_no,
            field: Some(ctx.vi + 1),
            message: format!("implausible value {value:e} in {{col}}: more than {MAX_MAGNITUDE:e} in base units (V or mA)"),
            prev_line: None,
        });
    }
    let time = if ctx.ti == usize::MAX {
        slot as f64
    } else {
        let t = if ctx.datetime {
            parse_clock(time_field)
                .map(|c| c.since(ctx.clock_origin_s) + ctx.time_offset)
                .ok_or_else(|| clock_error(line_no, ctx.ti, time_field))?
        } else {
            number(time_field, ctx, ctx.ti, line_no)? * ctx.time_scale + ctx.time_offset
        };
        if t.abs() > MAX_MAGNITUDE {
            return Err(PartError {
                line: line_no,
                field: Some(ctx.ti + 1),
                message: format!("implausible time {t:e} s in {{col}}"),
                prev_line: None,
            });
        }
        if t < *last_t && !ctx.reorder {
            return Err(PartError {
                line: line_no,
                field: None,
                message: format!(
                    "time goes backwards: {t} s here, {} s on line {{prev}}",
                    *last_t
                ),
                prev_line: Some(out.last_row_line),
            });
        }
        *last_t = t;
        t
    };
    if out.value.is_empty() {
        out.first_row_line = line_no;
    }
    out.last_row_line = line_no;
    out.time.push(time);
    out.value.push(value);
    if ctx.si != usize::MAX {
        out.supply.push(supply);
    }
    if ctx.wi != usize::MAX {
        // Unreadable cells (`X`, `-`) count as low, as for markers.
        let w = fast_number(trim_field(nth_field(line, ctx, ctx.wi)), ctx.decimal);
        out.window.push(w.unwrap_or(0.0));
    }
    if ctx.mi != usize::MAX {
        // Digital states `-` and `X` (PPK2) and anything unreadable count as low.
        out.marker
            .push(fast_number(trim_field(marker_raw), ctx.decimal).unwrap_or(0.0));
    }
    if ctx.nd > 0 {
        let fields: Vec<&[u8]> = match ctx.delimiter {
            Delimiter::Byte(d) => line.split(|&b| b == d).collect(),
            Delimiter::Whitespace => split_fields(line, Delimiter::Whitespace),
        };
        for &c in &ctx.dig[..ctx.nd] {
            let v = fields
                .get(c)
                .and_then(|f| fast_number(trim_field(f), ctx.decimal));
            out.digital.push(v.unwrap_or(f64::NAN));
        }
    }
    Ok(())
}

/// The `index`-th field of a line (0-based), or an empty one.
fn nth_field<'a>(line: &'a [u8], ctx: &Ctx, index: usize) -> &'a [u8] {
    match ctx.delimiter {
        Delimiter::Byte(d) => line.split(|&b| b == d).nth(index),
        Delimiter::Whitespace => line
            .split(|&b| b == b' ' || b == b'\t')
            .filter(|f| !f.is_empty())
            .nth(index),
    }
    .unwrap_or_default()
}

/// A trimmed field as a finite number, or a located error naming the column.
#[inline]
fn number(
    field: &[u8],
    ctx: &Ctx,
    index: usize,
    line_no: u64,
) -> std::result::Result<f64, PartError> {
    match fast_number(field, ctx.decimal) {
        Some(v) => Ok(v),
        None => slow_number(field, ctx, index, line_no),
    }
}

#[cold]
#[inline(never)]
fn slow_number(
    field: &[u8],
    ctx: &Ctx,
    index: usize,
    line_no: u64,
) -> std::result::Result<f64, PartError> {
    let found = || snippet(&String::from_utf8_lossy(field), 40);
    let what = match parse_number(field, ctx.decimal_comma) {
        Num::Value(v) => return Ok(v),
        Num::Empty => "expected a number in {col}, found an empty cell".to_string(),
        Num::NonFinite => format!(
            "expected a finite number in {{col}}, found \"{}\" (NaN and infinity are not measurements)",
            found()
        ),
        Num::NotANumber => format!("expected a number in {{col}}, found \"{}\"", found()),
    };
    Err(PartError {
        line: line_no,
        field: Some(index + 1),
        message: what,
        prev_line: None,
    })
}

/// The fields at `ti` and `vi`, reading no further than `needed` fields; and how many were read.
#[inline]
fn pick<'a>(
    fields: impl Iterator<Item = &'a [u8]>,
    ti: usize,
    vi: usize,
    needed: usize,
) -> (usize, Option<&'a [u8]>, Option<&'a [u8]>) {
    let (mut t, mut v, mut count) = (None, None, 0);
    for (i, f) in fields.enumerate() {
        count = i + 1;
        if i == ti {
            t = Some(f);
        }
        if i == vi {
            v = Some(f);
        }
        if count >= needed {
            break;
        }
    }
    (count, t, v)
}

/// Comment (`#`, `;`), blank, or only separators and padding.
#[inline]
fn skippable(line: &[u8]) -> bool {
    for &b in line {
        match b {
            b' ' | b'\t' | b'\0' | b',' | b';' | b'"' => continue,
            b'#' => return true,
            _ => return line.iter().find(|&&c| !matches!(c, b' ' | b'\t' | b'\0')) == Some(&b';'),
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(delimiter: u8, ti: usize, vi: usize, needed: usize, shapes: bool) -> Ctx {
        Ctx {
            delimiter: Delimiter::Byte(delimiter),
            decimal: b'.',
            decimal_comma: false,
            ti,
            vi,
            needed,
            time_scale: 1e-3,
            time_offset: 0.5,
            value_scale: 2.0,
            value_offset: -0.25,
            reorder: false,
            mi: usize::MAX,
            datetime: false,
            clock_origin_s: 0,
            dig: [0; 16],
            nd: 0,
            shapes,
            vi2: usize::MAX,
            si: usize::MAX,
            supply_scale: 1.0,
            wi: usize::MAX,
        }
    }

    /// Parse `data` with and without the shape reader; everything must come out the same,
    /// to the bit. Returns the rows read and how many of them the shape reader took.
    fn same_with_and_without_shapes(data: &[u8], c: Ctx) -> (usize, u64) {
        let (mut a, mut b) = (Part::default(), Part::default());
        parse_part(data, &Ctx { shapes: true, ..c }, &mut a);
        parse_part(data, &Ctx { shapes: false, ..c }, &mut b);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.time), bits(&b.time));
        assert_eq!(bits(&a.value), bits(&b.value));
        assert_eq!(
            (a.lines, a.slots, a.empty, a.first_empty_line),
            (b.lines, b.slots, b.empty, b.first_empty_line)
        );
        assert_eq!(
            (a.first_row_line, a.last_row_line),
            (b.first_row_line, b.last_row_line)
        );
        let err = |p: &Part| p.err.as_ref().map(|e| (e.line, e.field, e.message.clone()));
        assert_eq!(err(&a), err(&b));
        assert_eq!(b.shaped, 0);
        (a.value.len(), a.shaped)
    }

    #[test]
    fn shapes_read_rows_as_the_scalar_parser() {
        let mut text = String::new();
        // Fixed decimals; the time's integer part grows (new shapes at 10 and 100).
        for k in 0..3000 {
            text += &format!(
                "{:.5},{:.5}\n",
                9.98 + k as f64 * 0.03,
                0.08 + (k % 7) as f64 * 1e-4
            );
        }
        // Negative values and times, CRLF, a trailing delimiter.
        for k in 0..500 {
            text += &format!(
                "{:.4},{:.6},\r\n",
                200.0 + k as f64 * 0.5,
                -0.001 * (k % 3) as f64
            );
        }
        // Unusual rows among usual ones: exponent, plus sign, quotes, spaces, a comment, an
        // empty value, a long field.
        for (k, odd) in [
            "450.05,1e-3",
            "450.15,+0.5",
            "450.25,\"0.25\"",
            "450.35, 0.5",
            "# note",
            "450.55,",
            "450.65,123456789.0123456",
            "450.75,0.1234567890123456",
        ]
        .iter()
        .enumerate()
        {
            for j in 0..40 {
                text += &format!(
                    "{:.5},{:.5}\n",
                    450.0 + k as f64 * 0.1 + j as f64 * 1e-3,
                    0.5
                );
            }
            text += odd;
            text += "\n";
        }
        for j in 0..100 {
            text += &format!("{:.5},{:.5}\n", 460.0 + j as f64, 0.5);
        }
        let (rows, shaped) =
            same_with_and_without_shapes(text.as_bytes(), ctx(b',', 0, 1, 2, true));
        assert_eq!(rows, 3000 + 500 + 8 * 40 + 6 + 100);
        assert!(shaped as usize > rows * 9 / 10, "{shaped} of {rows}");
        // Implied time, a value column only; and the value in the third of four columns.
        let one: String = (0..2000)
            .map(|k| format!("{:.3}\n", (k % 50) as f64 - 20.0))
            .collect();
        let (rows, shaped) =
            same_with_and_without_shapes(one.as_bytes(), ctx(b',', usize::MAX, 0, 1, true));
        assert!(rows == 2000 && shaped > 1900, "{shaped}");
        let four: String = (0..2000)
            .map(|k| format!("{},x,{:.2},11111111\n", k + 1000, (k % 50) as f64 * 0.37))
            .collect();
        let (rows, shaped) =
            same_with_and_without_shapes(four.as_bytes(), ctx(b',', 0, 2, 3, true));
        assert!(rows == 2000 && shaped > 1900, "{shaped}");
        // Scientific notation as Rigol and Keysight write it: negative times, signs that change
        // slowly, two channels and a trailing comma; and `+` exponents.
        let sci: String = (0..3000)
            .map(|k| {
                let t = (k as f64 - 1000.0) * 1e-6;
                let a = (k as f64 / 300.0).sin();
                format!("{t:.7e},{a:.5e},{:.5e},\n", -a * 40.0).replace("e-", "e-0")
            })
            .collect();
        let (rows, shaped) = same_with_and_without_shapes(sci.as_bytes(), ctx(b',', 0, 1, 2, true));
        assert!(rows == 3000 && shaped > 2700, "{shaped}");
        let plus: String = (0..2000)
            .map(|k| format!("+{:.6}E+00,{:.3}E-03\n", 1.0 + k as f64 * 1e-6, 31.5))
            .collect();
        let (rows, shaped) =
            same_with_and_without_shapes(plus.as_bytes(), ctx(b',', 0, 1, 2, true));
        assert!(rows == 2000 && shaped > 1900, "{shaped}");
        // Semicolons and decimal commas.
        let comma: String = (0..2000)
            .map(|k| {
                format!("{:.3};{:.4}\n", k as f64 * 0.5, (k % 50) as f64 - 20.5).replace('.', ",")
            })
            .collect();
        let c = Ctx {
            decimal: b',',
            decimal_comma: true,
            ..ctx(b';', 0, 1, 2, true)
        };
        let (rows, shaped) = same_with_and_without_shapes(comma.as_bytes(), c);
        assert!(rows == 2000 && shaped > 1900, "{shaped}");
        // An error (time going backwards) is found at the same line either way.
        let back = format!(
            "{}5.00000,1.00000\n{}",
            text_rows(0, 100),
            text_rows(100, 200)
        );
        same_with_and_without_shapes(back.as_bytes(), ctx(b',', 0, 1, 2, true));
    }

    fn text_rows(from: u32, to: u32) -> String {
        (from..to)
            .map(|k| format!("{:.5},{:.5}\n", 10.0 + k as f64 * 0.01, 0.25))
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Random mixes of row layouts (and damaged rows) read the same with and without shapes.
        #[test]
        fn shapes_match_scalar_on_random_rows(
            segments in proptest::collection::vec(
                (0u8..12, 1usize..200, 0u32..6, 0u32..9, proptest::bool::ANY, 0u64..1_000_000),
                1..12,
            ),
            cr in proptest::bool::ANY,
        ) {
            let mut text = String::new();
            let mut t = 0.0f64;
            for (kind, n, td, vd, neg, seed) in segments {
                let mut x = seed;
                for _ in 0..n {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    t += 0.001 * ((x >> 60) + 1) as f64;
                    let v = ((x >> 20) % 100_000) as f64 / 997.0 * if neg { -1.0 } else { 1.0 };
                    let (td, vd) = (td as usize, vd as usize);
                    let row = match kind {
                        0 => format!("{t:.td$},{v:.vd$}"),
                        1 => format!("{t:.td$},{v:.vd$},"),
                        2 => format!("{t:.td$},{v:.vd$},{}", x % 3),
                        3 => format!("{t},{v}"),
                        4 => format!("{t:.td$},{v:e}"),
                        8 => format!("{t:.td$e},{v:.vd$e}"),
                        9 => format!("{:.6e},{:.5E}", t - 1e6, v * 1e-9),
                        10 => format!("{t:.td$},{v:.vd$e}{}", ["", "0", "x"][(x % 3) as usize]),
                        11 => format!("{t:+.td$},{v:+.vd$E}"),
                        5 => format!("{t:.td$},{v:.vd$}{}", ["", " ", "x", ";"][(x % 4) as usize]),
                        6 => format!("{t:.td$},{}", (x % 10_000_000_000_000_000)),
                        _ => format!("{t:.td$},-{v:.vd$}"),
                    };
                    text += &row;
                    text += if cr { "\r\n" } else { "\n" };
                }
            }
            same_with_and_without_shapes(text.as_bytes(), ctx(b',', 0, 1, 2, true));
        }
    }

    #[test]
    fn skip() {
        assert!(skippable(b"# comment"));
        assert!(skippable(b"; comment"));
        assert!(skippable(b",,"));
        assert!(skippable(b"\0\0\0"));
        assert!(!skippable(b"1,2"));
    }
}
