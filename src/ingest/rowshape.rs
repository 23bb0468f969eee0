//! Rows that repeat a layout, read 16 bytes at a time (SSE4.1).
//!
//! Fixed-format exports (`0.00001,0.07945`, `12.34560,-0.00120,1`) repeat the same row layout
//! for millions of rows: the same length, digits in the same places, the same separators. A
//! `Shape` records one such layout: which bytes must be digits, which must equal a given byte,
//! and where the time and value fields' digits are. A row that matches a shape is checked with
//! two compares per 16 bytes and both numbers are converted at once (byte shuffle, three
//! multiply-adds, one divide): `analyze` on one core goes from 0.54 to 1.1 GB/s end to end.
//!
//! The scalar parser reads the first row of each layout; a shape is kept only if its reading of
//! that row equals the scalar one bit for bit, and every value is correctly rounded (the same
//! as the scalar path and fast-float2), so results do not depend on which path read a row.
//! Scientific notation (`-1.234560e-03`) is read too: the exponent's digits sit at fixed places
//! and the mantissa is multiplied or divided by an exact power of ten (Clinger's fast path).
//! Anything else (quotes, spaces, more than 15 mantissa digits or 3 exponent digits, rows over
//! 64 bytes) is left to the scalar parser. Other architectures than x86-64
//! always take the scalar parser.

use super::number::{MAX_MAGNITUDE, POW10};

/// Shapes kept per part; the most recently matched is tried first.
const MAX_SHAPES: usize = 4;
/// Rows over this many bytes (line end included) are left to the scalar parser.
pub const MAX_ROW_BYTES: usize = 64;
/// A part gives up on shapes after this many rows that could not become one.
const MAX_FAILED: u32 = 16;

/// What the shape reader needs of the layout.
#[derive(Clone, Copy)]
pub struct ShapeCtx {
    pub delimiter: u8,
    pub decimal: u8,
    /// Time field (0-based), or usize::MAX for implied time (the row's slot number).
    pub ti: usize,
    pub vi: usize,
    pub needed: usize,
    pub time_scale: f64,
    pub time_offset: f64,
    pub value_scale: f64,
    pub value_offset: f64,
    pub reorder: bool,
}

/// One numeric field: where to load it and how to gather its digits.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Field {
    /// Offset from the row start of the field's first digit (after a sign).
    load: usize,
    /// Byte shuffle: output byte j takes input byte `shuf[j]` (0x80: zero). The mantissa's
    /// digits end up right-aligned, most significant first.
    shuf: [u8; 16],
    /// 10^(digits after the decimal mark).
    div: f64,
    /// Digits after the decimal mark.
    frac: i32,
    neg: bool,
    exp: Option<Exp>,
}

/// The exponent of a field in scientific notation (`1.5e-03`): its digits' place and sign.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Exp {
    /// Offset from the row start of the exponent's first digit.
    at: usize,
    /// 1 to 3 digits.
    digits: usize,
    neg: bool,
}

/// One row layout.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Shape {
    /// Bytes in the row, line end included.
    len: usize,
    /// Bytes that must be readable from the row start (windows and field loads).
    reach: usize,
    /// 16-byte windows covering the row.
    windows: usize,
    /// Per window: the required byte where `lit_mask` has a bit, a digit where `digit_mask` has.
    lit: [[u8; 16]; 4],
    lit_mask: [u16; 4],
    digit_mask: [u16; 4],
    time: Option<Field>,
    value: Field,
    /// A field is in scientific notation.
    exponents: bool,
}

/// The shapes of one part, and whether to keep trying.
pub struct Shapes {
    ctx: ShapeCtx,
    list: Vec<Shape>,
    failed: u32,
    pub enabled: bool,
}

/// A numeric field `[+-]?d+(.d*)?([eE][+-]?d{1,3})?` with at most 15 mantissa digits within
/// `row[s..e]`; None otherwise.
fn field_shape(row: &[u8], s: usize, e: usize, decimal: u8) -> Option<Field> {
    let f = &row[s..e];
    let (neg, sign) = match f.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let body = &f[sign..];
    let ki = body.iter().take_while(|b| b.is_ascii_digit()).count();
    if ki == 0 {
        return None;
    }
    // The mantissa's length in bytes, and its digits after the mark.
    let (mlen, kf) = match body.get(ki) {
        Some(&c) if c == decimal => {
            let kf = body[ki + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            (ki + 1 + kf, kf)
        }
        _ => (ki, 0),
    };
    let exp = match &body[mlen..] {
        [] => None,
        [b'e' | b'E', rest @ ..] => {
            let (eneg, digits) = match rest {
                [b'-', d @ ..] => (true, d),
                [b'+', d @ ..] => (false, d),
                d => (false, d),
            };
            if !(1..=3).contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            Some(Exp {
                at: e - digits.len(),
                digits: digits.len(),
                neg: eneg,
            })
        }
        _ => return None,
    };
    let k = ki + kf;
    if k > 15 {
        return None;
    }
    let mut shuf = [0x80u8; 16];
    for (j, slot) in shuf.iter_mut().enumerate().skip(16 - k) {
        let m = j - (16 - k);
        *slot = if m < ki { m } else { m + 1 } as u8;
    }
    Some(Field {
        load: s + sign,
        shuf,
        div: 10f64.powi(kf as i32),
        frac: kf as i32,
        neg,
        exp,
    })
}

impl Shape {
    /// The layout of the row starting at `data[0]`, if the shape reader can take it.
    fn of_row(data: &[u8], c: &ShapeCtx) -> Option<Shape> {
        let head = &data[..data.len().min(MAX_ROW_BYTES + 1)];
        let e = memchr::memchr2(b'\n', b'\r', head)?;
        let len = match (head[e], head.get(e + 1)) {
            (b'\n', _) => e + 1,
            (b'\r', Some(b'\n')) => e + 2,
            _ => return None, // a bare CR: the next row's first byte would matter
        };
        if len > MAX_ROW_BYTES {
            return None;
        }
        let row = &data[..e];
        // Field bounds, as far as the layout needs.
        let mut bounds = [(0usize, 0usize); 2];
        let (mut f, mut s) = (0usize, 0usize);
        // The row's end closes its last field.
        for (i, &b) in row.iter().chain([c.delimiter].iter()).enumerate() {
            if b == c.delimiter {
                if f == c.ti {
                    bounds[0] = (s, i);
                }
                if f == c.vi {
                    bounds[1] = (s, i);
                }
                f += 1;
                s = i + 1;
            }
        }
        if f < c.needed {
            return None;
        }
        let time = if c.ti == usize::MAX {
            None
        } else {
            Some(field_shape(row, bounds[0].0, bounds[0].1, c.decimal)?)
        };
        let value = field_shape(row, bounds[1].0, bounds[1].1, c.decimal)?;
        let windows = len.div_ceil(16);
        let mut lit = [[0u8; 16]; 4];
        let mut lit_mask = [0u16; 4];
        let mut digit_mask = [0u16; 4];
        for (k, &b) in data[..len].iter().enumerate() {
            if b.is_ascii_digit() {
                digit_mask[k / 16] |= 1 << (k % 16);
            } else {
                lit[k / 16][k % 16] = b;
                lit_mask[k / 16] |= 1 << (k % 16);
            }
        }
        let reach = (windows * 16)
            .max(value.load + 16)
            .max(time.map_or(0, |t| t.load + 16));
        let exponents = value.exp.is_some() || time.is_some_and(|t| t.exp.is_some());
        Some(Shape {
            len,
            reach,
            windows,
            lit,
            lit_mask,
            digit_mask,
            time,
            value,
            exponents,
        })
    }
}

/// Where a row's samples go (the reader's part).
pub struct Sink<'a> {
    pub time: &'a mut Vec<f64>,
    pub value: &'a mut Vec<f64>,
    /// Rows taken so far in the part (the implied time's slot number).
    pub slots: &'a mut u64,
    pub first_row_line: &'a mut u64,
    pub last_row_line: &'a mut u64,
    pub last_t: &'a mut f64,
}

impl Shapes {
    /// A shape reader for the layout, or None where there is none (other CPUs, unusual layouts).
    pub fn new(c: ShapeCtx) -> Option<Shapes> {
        if !simd_available() || c.delimiter.is_ascii_digit() || c.decimal == c.delimiter {
            return None;
        }
        Some(Shapes {
            ctx: c,
            list: Vec::with_capacity(MAX_SHAPES),
            failed: 0,
            enabled: true,
        })
    }

    /// Read rows from `p` for as long as they match a known shape; returns where it stopped
    /// and how many rows it read. `line` is the part's line number at `p`.
    pub fn run(&mut self, data: &[u8], p: usize, line: u64, out: &mut Sink) -> (usize, u64) {
        if self.list.is_empty() {
            return (p, 0);
        }
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: `Shapes::new` checked that the CPU has SSE4.1 (and SSSE3).
            unsafe { x86::run(self, data, p, line, out) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (data, line, out);
            (p, 0)
        }
    }

    /// Learn the shape of the row at `data[p..]`, which the scalar parser has just read as
    /// `(t, v)` (t the slot number for implied time). Kept only if it reads the row the same.
    pub fn learn(&mut self, data: &[u8], p: usize, t: f64, v: f64) {
        if !self.enabled {
            return;
        }
        let Some(shape) = Shape::of_row(&data[p..], &self.ctx) else {
            self.failed += 1;
            self.enabled = self.failed < MAX_FAILED;
            return;
        };
        if p + shape.reach > data.len() {
            return; // near the part's end: not a reason to give up
        }
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `run`; `p + reach <= data.len()` was checked above.
        let same = unsafe { x86::convert(&shape, &self.ctx, data, p, t) }
            .map(|(t2, v2)| {
                (self.ctx.ti == usize::MAX || t2.to_bits() == t.to_bits())
                    && v2.to_bits() == v.to_bits()
            })
            .unwrap_or(false);
        #[cfg(not(target_arch = "x86_64"))]
        let same = false;
        debug_assert!(same, "a row shape disagrees with the scalar parser");
        if !same {
            self.failed += 1;
            self.enabled = self.failed < MAX_FAILED;
            return;
        }
        if self.list.len() == MAX_SHAPES {
            self.list.pop();
        }
        self.list.insert(0, shape);
    }
}

/// Whether this CPU can run the shape reader (SSE4.1 and SSSE3 on x86-64). The reader's
/// `ReadOptions::simd` can still turn it off (`--no-simd`: the scalar reference path).
pub fn simd_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            is_x86_feature_detected!("sse4.1") && is_x86_feature_detected!("ssse3")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;
    use std::arch::x86_64::*;

    /// Whether the row at `p` matches `s`. Needs `p + s.reach <= data.len()`.
    ///
    /// # Safety
    /// The CPU must have SSE4.1 and SSSE3, and `p + s.reach <= data.len()`: each of the
    /// `s.windows` 16-byte loads from `p` stays inside `data`.
    #[inline(always)]
    unsafe fn matches(s: &Shape, data: &[u8], p: usize) -> bool {
        // SAFETY: the caller guarantees the CPU features and that every 16-byte load from `p`
        // (`s.windows` of them, `s.reach` bytes in all) lies inside `data`.
        unsafe {
            let zero = _mm_set1_epi8(b'0' as i8);
            let nine = _mm_set1_epi8(9);
            for w in 0..s.windows {
                let x = _mm_loadu_si128(data.as_ptr().add(p + 16 * w) as *const __m128i);
                let d = _mm_sub_epi8(x, zero);
                let digit = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, nine), d)) as u16;
                let lit = _mm_loadu_si128(s.lit[w].as_ptr() as *const __m128i);
                let same = _mm_movemask_epi8(_mm_cmpeq_epi8(x, lit)) as u16;
                if (digit & s.digit_mask[w]) != s.digit_mask[w]
                    || (same & s.lit_mask[w]) != s.lit_mask[w]
                {
                    return false;
                }
            }
            true
        }
    }

    /// The row's time and value (scaled), as the scalar parser computes them; `slot` is the
    /// time for implied time. None when a check fails (the scalar parser decides).
    ///
    /// # Safety
    /// The CPU must have SSE4.1 and SSSE3, and `p + s.reach <= data.len()`: the fields'
    /// 16-byte loads and the exponent digits all lie within `s.reach` bytes of `p`.
    #[inline(always)]
    pub(super) unsafe fn convert(
        s: &Shape,
        c: &ShapeCtx,
        data: &[u8],
        p: usize,
        slot: f64,
    ) -> Option<(f64, f64)> {
        // SAFETY: the caller guarantees the CPU features and `p + s.reach <= data.len()`; every
        // load and digit read below is at an offset within `s.reach` of `p` (as `Shape::of_row` laid out).
        unsafe {
            let zero = _mm_set1_epi8(b'0' as i8);
            let base = data.as_ptr().add(p);
            let gather = |f: &Field| {
                let x = _mm_loadu_si128(base.add(f.load) as *const __m128i);
                _mm_shuffle_epi8(
                    _mm_sub_epi8(x, zero),
                    _mm_loadu_si128(f.shuf.as_ptr() as *const __m128i),
                )
            };
            let gv = gather(&s.value);
            let gt = match &s.time {
                Some(f) => gather(f),
                None => _mm_setzero_si128(),
            };
            // Digit pairs, then groups of four, then of eight: [t_hi, t_lo, v_hi, v_lo].
            let pairs = _mm_set1_epi16(0x010A);
            let quads = _mm_set1_epi32(0x0001_0064);
            let a_t = _mm_madd_epi16(_mm_maddubs_epi16(gt, pairs), quads);
            let a_v = _mm_madd_epi16(_mm_maddubs_epi16(gv, pairs), quads);
            let eights = _mm_madd_epi16(_mm_packus_epi32(a_t, a_v), _mm_set1_epi32(0x0001_2710));
            // [t_hi, v_hi, t_lo, v_lo] → two pairs of doubles; hi × 1e8 + lo is exact (< 1e15).
            let f = _mm_shuffle_epi32(eights, 0b11_01_10_00);
            let hi = _mm_cvtepi32_pd(f);
            let lo = _mm_cvtepi32_pd(_mm_srli_si128(f, 8));
            let mant = _mm_add_pd(_mm_mul_pd(hi, _mm_set1_pd(1e8)), lo);
            let (tdiv, tneg) = s.time.map_or((1.0, false), |f| (f.div, f.neg));
            let sign = |neg: bool| if neg { -0.0 } else { 0.0 };
            let (t0, v0) = if s.exponents {
                // Scientific notation: mantissa × or ÷ 10^|k|, k the exponent less the digits after
                // the mark; exact operands, so correctly rounded (Clinger's fast path).
                let scaled = |m: f64, f: &Field| -> Option<f64> {
                    let mut k = -f.frac;
                    if let Some(x) = f.exp {
                        let mut e = 0i32;
                        for j in 0..x.digits {
                            e = e * 10 + (*base.add(x.at + j) - b'0') as i32;
                        }
                        k += if x.neg { -e } else { e };
                    }
                    let v = match k {
                        0..=22 => m * POW10[k as usize],
                        -22..=-1 => m / POW10[(-k) as usize],
                        _ => return None,
                    };
                    Some(if f.neg { -v } else { v })
                };
                let (mt, mv) = (
                    _mm_cvtsd_f64(mant),
                    _mm_cvtsd_f64(_mm_unpackhi_pd(mant, mant)),
                );
                let t = match &s.time {
                    Some(f) => scaled(mt, f)?,
                    None => 0.0,
                };
                (t, scaled(mv, &s.value)?)
            } else {
                // One correctly rounded divide (exact operands), as the scalar parser.
                let mut x = _mm_div_pd(mant, _mm_set_pd(s.value.div, tdiv));
                x = _mm_xor_pd(x, _mm_set_pd(sign(s.value.neg), sign(tneg)));
                (_mm_cvtsd_f64(x), _mm_cvtsd_f64(_mm_unpackhi_pd(x, x)))
            };
            let t = if s.time.is_some() {
                t0 * c.time_scale + c.time_offset
            } else {
                slot
            };
            let v = v0 * c.value_scale + c.value_offset;
            if t.abs() > MAX_MAGNITUDE || v.abs() > MAX_MAGNITUDE {
                return None;
            }
            Some((t, v))
        }
    }

    /// [`Shapes::run`] with SSE4.1.
    ///
    /// # Safety
    /// The CPU must have SSE4.1 and SSSE3 (`Shapes::new` checks).
    #[target_feature(enable = "sse2,ssse3,sse4.1")]
    pub(super) unsafe fn run(
        sh: &mut Shapes,
        data: &[u8],
        mut p: usize,
        mut line: u64,
        out: &mut Sink,
    ) -> (usize, u64) {
        // SAFETY: the caller guarantees the CPU features; `matches` and `convert` are called only
        // with `p + reach <= n` checked, and `set_len` covers only the `k` slots written.
        unsafe {
            let c = sh.ctx;
            let start_line = line;
            let n = data.len();
            let mut s = sh.list[0];
            // Room for every row the rest of the part could hold; rows are written in place and
            // the counters kept in registers, then stored once.
            let min_len = sh.list.iter().map(|s| s.len).min().unwrap_or(1).max(1);
            let room = (n - p) / min_len + 1;
            out.time.reserve(room);
            out.value.reserve(room);
            let (time, value) = (
                out.time.spare_capacity_mut(),
                out.value.spare_capacity_mut(),
            );
            let slot0 = *out.slots;
            let mut last_t = *out.last_t;
            let mut k = 0usize;
            while k < room {
                if p + s.reach > n || !matches(&s, data, p) {
                    // Another known shape?
                    let Some(j) = sh.list[1..]
                        .iter()
                        .position(|o| p + o.reach <= n && matches(o, data, p))
                    else {
                        break;
                    };
                    sh.list.swap(0, j + 1);
                    s = sh.list[0];
                }
                let Some((t, v)) = convert(&s, &c, data, p, (slot0 + k as u64) as f64) else {
                    break;
                };
                if s.time.is_some() {
                    if t < last_t && !c.reorder {
                        break;
                    }
                    last_t = t;
                }
                time[k].write(t);
                value[k].write(v);
                k += 1;
                p += s.len;
            }
            line += k as u64;
            if k > 0 {
                if out.value.is_empty() {
                    *out.first_row_line = start_line;
                }
                *out.last_row_line = line - 1;
                *out.slots += k as u64;
                *out.last_t = last_t;
                // SAFETY: the first `k` spare slots of both vectors were written above.
                out.time.set_len(out.time.len() + k);
                out.value.set_len(out.value.len() + k);
            }
            (p, line - start_line)
        }
    }
}
