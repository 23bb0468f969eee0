//! Number parsing for the reader: fields to f64, correctly rounded on every path (SWAR for
//! short decimals, fast-float2 behind it), date-times to seconds since 1970. No allocation.

use super::Delimiter;

/// A longer line is an error, not an allocation.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Larger magnitudes (in s, V or mA) are refused as implausible rather than integrated into
/// infinities.
pub const MAX_MAGNITUDE: f64 = 1e15;

/// One field parsed as a number, or why it is not one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Value(f64),
    NonFinite,
    Empty,
    NotANumber,
}

/// Parse one field: spaces, quotes and NULs around it are ignored; `+`, engineering notation and
/// (with `decimal_comma`) `1,5` are accepted. Cost: a few ns, no allocation.
#[inline]
pub fn parse_number(field: &[u8], decimal_comma: bool) -> Num {
    let f = trim_field(field);
    if f.is_empty() {
        return Num::Empty;
    }
    let parsed: Option<f64> = if decimal_comma && f.contains(&b',') {
        if f.len() > 64 {
            None
        } else {
            let mut tmp = [0u8; 64];
            for (d, &s) in tmp.iter_mut().zip(f) {
                *d = if s == b',' { b'.' } else { s };
            }
            fast_float2::parse::<f64, _>(&tmp[..f.len()]).ok()
        }
    } else {
        fast_float2::parse::<f64, _>(f).ok()
    };
    match parsed {
        Some(v) if v.is_finite() => Num::Value(v),
        Some(_) => Num::NonFinite,
        None if f == "∞".as_bytes() || f == "-∞".as_bytes() || f == "+∞".as_bytes() => {
            Num::NonFinite
        }
        None => Num::NotANumber,
    }
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian; Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A clock time read from a cell: whole seconds since 1970-01-01 UTC (or since midnight for a
/// time of day without a date), and the fraction of a second kept apart so that a time stamp of
/// 2025 keeps its microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    pub whole_s: i64,
    pub frac_s: f64,
    /// Whether the cell had a date (else a time of day).
    pub dated: bool,
    /// The cell's zone offset east of UTC, s (0 when it has none: the clock's own zone).
    pub zone_s: i64,
}

impl Clock {
    /// Seconds after `origin_s` (whole seconds on the same scale).
    pub fn since(&self, origin_s: i64) -> f64 {
        (self.whole_s - origin_s) as f64 + self.frac_s
    }

    /// ISO 8601: `2025-05-07T13:32:31.876637`, with its zone when the cell had one
    /// (`...Z`, `...+02:00`); a time of day alone as `13:32:31.876637`.
    pub fn iso8601(&self) -> String {
        let local = self.whole_s + self.zone_s;
        let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        let frac = if self.frac_s > 0.0 {
            let f = format!("{:.6}", self.frac_s);
            f.trim_start_matches('0').trim_end_matches('0').to_string()
        } else {
            String::new()
        };
        let frac = if frac == "." { String::new() } else { frac };
        let time = format!(
            "{:02}:{:02}:{:02}{frac}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        if !self.dated {
            return time;
        }
        let (y, m, d) = civil_from_days(days);
        let zone = match self.zone_s {
            0 => String::new(),
            z => format!(
                "{}{:02}:{:02}",
                if z < 0 { '-' } else { '+' },
                z.abs() / 3600,
                z.abs() / 60 % 60
            ),
        };
        format!("{y:04}-{m:02}-{d:02}T{time}{zone}")
    }
}

/// A civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

/// `HH:MM:SS[.f]`: whole seconds since midnight and the fraction.
fn time_of_day(t: &str) -> Option<(i64, f64)> {
    let p: Vec<&str> = t.split(':').collect();
    if p.len() != 3 || p[0].is_empty() || p[0].len() > 2 || p[1].len() != 2 {
        return None;
    }
    let n = |x: &str| x.parse::<i64>().ok();
    let (hh, mm) = (n(p[0])?, n(p[1])?);
    let (whole, frac) = match p[2].split_once(['.', ',']) {
        Some((w, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            (w, format!("0.{f}").parse::<f64>().ok()?)
        }
        Some(_) => return None,
        None => (p[2], 0.0),
    };
    if whole.len() != 2 {
        return None;
    }
    let ss = n(whole)?;
    if !(0..24).contains(&hh) || !(0..60).contains(&mm) || !(0..61).contains(&ss) {
        return None;
    }
    Some((hh * 3600 + mm * 60 + ss, frac))
}

/// A zone suffix: `Z`, `+02:00`, `+0200`, `-05`: (the time without it, offset east of UTC, s).
fn zone(t: &str) -> (&str, i64) {
    if let Some(rest) = t.strip_suffix(['Z', 'z']) {
        return (rest, 0);
    }
    if let Some(k) = t.rfind(['+', '-']) {
        let (time, z) = (&t[..k], &t[k + 1..]);
        let digits: String = z.chars().filter(|c| *c != ':').collect();
        if time.contains(':')
            && matches!(digits.len(), 2 | 4)
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            let h: i64 = digits[..2].parse().unwrap_or(0);
            let m: i64 = digits.get(2..).and_then(|x| x.parse().ok()).unwrap_or(0);
            let sign = if t.as_bytes()[k] == b'-' { -1 } else { 1 };
            return (time, sign * (h * 3600 + m * 60));
        }
    }
    (t, 0)
}

/// A clock time: ISO 8601 (`2025-05-07T13:32:31.876637`, a space for the `T`, an optional zone
/// `Z` or `+02:00`), a day-first date (`07-05-2025 13:32:31.8`, as ppk2-api-python writes), or a
/// time of day alone (`13:32:31[.fff]`). None for anything else (numbers included: epoch
/// seconds are numbers, read with a time unit).
pub fn parse_clock(f: &[u8]) -> Option<Clock> {
    let s = std::str::from_utf8(f).ok()?.trim().trim_matches('"');
    let Some((date, time)) = s.split_once([' ', 'T']) else {
        let (t, z) = zone(s);
        let (whole, frac) = time_of_day(t)?;
        return Some(Clock {
            whole_s: whole - z,
            frac_s: frac,
            dated: false,
            zone_s: z,
        });
    };
    let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
    if parts.len() != 3 {
        return None;
    }
    let n = |x: &str| x.parse::<i64>().ok();
    let (y, m, d) = if parts[0].len() == 4 {
        (n(parts[0])?, n(parts[1])?, n(parts[2])?)
    } else if parts[2].len() == 4 {
        (n(parts[2])?, n(parts[1])?, n(parts[0])?)
    } else {
        return None;
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let (t, z) = zone(time.trim());
    let (whole, frac) = time_of_day(t)?;
    Some(Clock {
        whole_s: days_from_civil(y, m, d) * 86_400 + whole - z,
        frac_s: frac,
        dated: true,
        zone_s: z,
    })
}

/// Powers of ten exactly representable as f64.
pub(super) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Plain decimals (`-12.345`, `1.5e-3`): short ones (`[-]d{1,7}.d{0,7}`) by SWAR digit
/// arithmetic and a divide by 10^k (correctly rounded), others by
/// Clinger's fast path (an integer mantissa below 2^53 times or over an exact power of ten,
/// correctly rounded). None for anything else (the caller falls back to [`parse_number`]).
#[inline]
pub fn fast_number(f: &[u8], decimal: u8) -> Option<f64> {
    match fast_prefix(f, decimal) {
        Some((v, used)) if used == f.len() => Some(v),
        _ => None,
    }
}

const POW10_U64: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// Eight bytes at `at` as a little-endian word, if there are eight.
#[inline(always)]
fn word(f: &[u8], at: usize) -> Option<u64> {
    f.get(at..at + 8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
}

/// How many leading bytes of a little-endian word are ASCII digits (0–8).
#[inline(always)]
fn digit_run(w: u64) -> usize {
    let x = w ^ 0x3030_3030_3030_3030;
    // A byte is a digit iff it is 0x30..=0x39: high nibble 3 (x's high nibble 0) and low < 10.
    let bad = (x.wrapping_add(0x0606_0606_0606_0606) | x) & 0xF0F0_F0F0_F0F0_F0F0;
    (bad.trailing_zeros() / 8) as usize
}

/// The value of the first `k` (1–8) digit bytes of a little-endian word, by SWAR: three
/// multiplies instead of eight.
#[inline(always)]
fn digits_value(w: u64, k: usize) -> u64 {
    // Move the k digits to the top and pad the bottom with '0's.
    let shift = (8 - k) * 8;
    let w = if shift == 0 {
        w
    } else {
        (w << shift) | (0x3030_3030_3030_3030u64 >> (64 - shift))
    };
    let mut v = w.wrapping_sub(0x3030_3030_3030_3030);
    v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    (v.wrapping_mul(10000) + (v >> 32)) & 0xFFFF_FFFF
}

/// The common shape `[-]d{1,7}.d{0,7}` (no exponent) by SWAR; None to take the byte loop.
#[inline(always)]
fn swar_prefix(f: &[u8], decimal: u8) -> Option<(f64, usize)> {
    let neg = f.first() == Some(&b'-');
    let start = neg as usize;
    let w = word(f, start)?;
    let k1 = digit_run(w);
    if k1 == 0 || k1 == 8 {
        return None;
    }
    let int = digits_value(w, k1);
    let mut i = start + k1;
    let (mant, frac) = if f[i] == decimal {
        let w2 = word(f, i + 1)?;
        let k2 = digit_run(w2);
        if k2 == 8 {
            return None;
        }
        i += 1 + k2;
        if k2 == 0 {
            (int, 0)
        } else {
            (int * POW10_U64[k2] + digits_value(w2, k2), k2)
        }
    } else {
        (int, 0)
    };
    if i < f.len() && (f[i] | 0x20) == b'e' {
        return None;
    }
    // A divide of two exact values: correctly rounded, the same value as every other path
    // (fast-float2, the shape reader), so a number reads the same wherever it is in the file.
    let v = mant as f64 / POW10[frac];
    Some((if neg { -v } else { v }, i))
}

/// [`fast_number`] on the start of `f`: the value and how many bytes it took. None when the
/// number is not a plain decimal of at most 19 digits (the caller falls back).
#[inline(always)]
pub fn fast_prefix(f: &[u8], decimal: u8) -> Option<(f64, usize)> {
    if let Some(r) = swar_prefix(f, decimal) {
        return Some(r);
    }
    let n = f.len();
    let mut i = 0;
    let neg = match f.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut mant: u64 = 0;
    let mut dot = usize::MAX;
    while i < n {
        let c = f[i];
        let d = c.wrapping_sub(b'0');
        if d < 10 {
            mant = mant.wrapping_mul(10).wrapping_add(d as u64);
        } else if c == decimal && dot == usize::MAX {
            dot = i;
        } else {
            break;
        }
        i += 1;
    }
    let has_dot = dot != usize::MAX;
    let digits = i - start - has_dot as usize;
    if digits == 0 || digits > 19 {
        return None;
    }
    let frac = if has_dot { (i - dot - 1) as i32 } else { 0 };
    let mut exp = 0i32;
    if i < n && (f[i] | 0x20) == b'e' {
        i += 1;
        let eneg = match f.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let es = i;
        while i < n && f[i].is_ascii_digit() && i - es < 4 {
            exp = exp * 10 + (f[i] - b'0') as i32;
            i += 1;
        }
        if i == es {
            return None;
        }
        if eneg {
            exp = -exp;
        }
    }
    let v = if mant == 0 {
        0.0
    } else {
        if mant > (1u64 << 53) {
            return None;
        }
        let e = exp - frac;
        if (0..=22).contains(&e) {
            mant as f64 * POW10[e as usize]
        } else if (-22..0).contains(&e) {
            mant as f64 / POW10[(-e) as usize]
        } else {
            return None;
        }
    };
    Some((if neg { -v } else { v }, i))
}

#[inline]
pub(super) fn trim_field(mut f: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'"' | b'\0', rest @ ..] = f {
        f = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'"' | b'\0'] = f {
        f = rest;
    }
    f
}

/// Split a line into fields by the layout's delimiter. Trailing empty fields stay (callers ignore them).
pub fn split_fields(line: &[u8], delim: Delimiter) -> Vec<&[u8]> {
    match delim {
        Delimiter::Byte(d) => line.split(|&b| b == d).collect(),
        Delimiter::Whitespace => line
            .split(|&b| b == b' ' || b == b'\t')
            .filter(|f| !f.is_empty())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times() {
        // Days since 1970 by hand: 2025-05-07 is day 20215 (55 years, 14 leap days, Jan-Apr 120,
        // 6 more days): 20215 × 86400 + 13:32:31.
        let c = parse_clock(b"2025-05-07T13:32:31.876637").unwrap();
        assert_eq!(c.whole_s, 20_215 * 86_400 + 13 * 3600 + 32 * 60 + 31);
        assert!((c.frac_s - 0.876637).abs() < 1e-12);
        assert_eq!(c.iso8601(), "2025-05-07T13:32:31.876637");
        let sp = parse_clock(b"2025-11-27 02:02:22.068064").unwrap();
        assert_eq!(sp.iso8601(), "2025-11-27T02:02:22.068064");
        // A zone: the same instant as 11:32:31 UTC.
        let z = parse_clock(b"2025-05-07T13:32:31+02:00").unwrap();
        assert_eq!(z.whole_s, 20_215 * 86_400 + 11 * 3600 + 32 * 60 + 31);
        assert_eq!(z.iso8601(), "2025-05-07T13:32:31+02:00");
        assert_eq!(parse_clock(b"2025-05-07 13:32:31Z").unwrap().zone_s, 0);
        let tod = parse_clock(b"02:02:22").unwrap();
        assert_eq!((tod.whole_s, tod.dated), (2 * 3600 + 2 * 60 + 22, false));
        assert_eq!(parse_clock(b"13:32:31.5").unwrap().iso8601(), "13:32:31.5");
        assert_eq!(
            parse_clock(b"07-05-2025 13:32:31").unwrap().whole_s,
            c.whole_s
        );
        for bad in [
            "3200",
            "1.5",
            "ML-KEM-1024",
            "25:00:00",
            "12:61:00",
            "2025-13-01 00:00:00",
            "",
        ] {
            assert!(parse_clock(bad.as_bytes()).is_none(), "{bad}");
        }
        // Microseconds survive relative to an origin.
        assert!((c.since(c.whole_s - 1) - 1.876637).abs() < 1e-12);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number(b" 1.5 ", false), Num::Value(1.5));
        assert_eq!(
            parse_number(b"+31.500101E-03", false),
            Num::Value(0.031500101)
        );
        assert_eq!(parse_number(b"-0.00000e+00", false), Num::Value(-0.0));
        assert_eq!(parse_number(b"1,5", true), Num::Value(1.5));
        assert_eq!(parse_number(b"\"2.5\"", false), Num::Value(2.5));
        assert_eq!(parse_number(b"nan", false), Num::NonFinite);
        assert_eq!(parse_number(b"inf", false), Num::NonFinite);
        assert_eq!(parse_number("∞".as_bytes(), false), Num::NonFinite);
        assert_eq!(parse_number(b"", false), Num::Empty);
        assert_eq!(parse_number(b"abc", false), Num::NotANumber);
        assert_eq!(parse_number(b"1.5x", false), Num::NotANumber);
    }

    #[test]
    fn swar_correctly_rounded_as_fast_float() {
        let cases = [
            "0",
            "7",
            "-3",
            "0.5",
            "12.25",
            "0.08010",
            "123.45678",
            "-0.00001",
            "1234567.1234567",
            "9999999.9999999",
            "0.0000001",
            "5.",
            "42.0",
            "3.14159",
            "-120.5",
            "1e3",
            "2.5E-3",
            "+1.5",
            "00012.500",
        ];
        // Correctly rounded: the same bits as fast-float2.
        let ulp_close = |got: f64, want: f64| got.to_bits() == want.to_bits();
        for c in cases {
            let padded = format!("{c},1234567890");
            let want: f64 = fast_float2::parse(c).unwrap();
            let (got, used) = fast_prefix(padded.as_bytes(), b'.').unwrap();
            assert_eq!(used, c.len(), "{c}");
            assert!(ulp_close(got, want), "{c}: {got} vs {want}");
            assert!(
                ulp_close(fast_number(c.as_bytes(), b'.').unwrap(), want),
                "{c}"
            );
        }
        // Pseudo-random decimals of every shape the SWAR path takes.
        let mut x = 0x1234_5678_9abc_def0u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let int = x % 10_000_000 / 10u64.pow((x >> 40) as u32 % 7);
            let fd = (x >> 50) as usize % 8;
            let frac = (x >> 20) % 10u64.pow(fd as u32);
            let c = if fd == 0 {
                format!("{int}")
            } else {
                format!("{int}.{frac:0fd$}")
            };
            let padded = format!("{c}\n00000000");
            let want: f64 = fast_float2::parse(&c).unwrap();
            let (got, used) = fast_prefix(padded.as_bytes(), b'.').unwrap();
            assert_eq!(used, c.len(), "{c}");
            assert!(ulp_close(got, want), "{c}: {got} vs {want}");
        }
    }

    #[test]
    fn datetimes() {
        // 2024-05-01 00:00:00 is 1714521600 s after 1970 (date -u -d 2024-05-01 +%s).
        let at = |s: &str| parse_clock(s.as_bytes()).map(|c| c.since(0));
        assert_eq!(at("2024-05-01 00:00:00"), Some(1714521600.0));
        assert_eq!(at("01-05-2024 12:00:01.5"), Some(1714521600.0 + 43201.5));
        assert_eq!(at("1970-01-01T00:00:00"), Some(0.0));
        assert_eq!(at("2024-13-01 00:00:00"), None);
        assert_eq!(at("12.5"), None);
    }
}
