//! The PPK2's serial protocol, from Nordic's nRF Connect Power Profiler
//! (`src/device/serialDevice.ts`, `src/constants.ts`) and IRNAS ppk2-api-python: one-byte
//! commands with arguments, a text metadata block ending in `END`, then a stream of 4-byte
//! little-endian sample words at 100 000 a second.
//!
//! A sample word: bits 0–13 the ADC value (× 4 before use), bits 14–16 the measurement range
//! (0–4, shunt resistors of about 1 kΩ … 50 mΩ), bits 18–23 a 6-bit counter that counts up by
//! one a sample, bits 24–31 the logic inputs D0–D7.
//!
//! Current from a word (the app's `getAdcResult`, in A), for range r with the calibration
//! values the device reports:
//!
//! ```text
//! x = (4·adc − O[r]) · (1.8 / 163840) / R[r]
//! I = UG[r] · ( x · (GS[r]·x + GI[r]) + S[r]·VDD/1000 + I[r] )
//! ```
//!
//! As in the app, a calibration value the device reports as 0 or `-nan` keeps its default
//! (R 1031.64, 101.65, 10.15, 0.94, 0.043; GS, GI, UG 1; O, S, I 0).

/// Samples a second the PPK2 streams.
pub const RATE_HZ: u32 = 100_000;
/// ADC volts per count (`adcMult` of the app).
pub const ADC_MULT: f64 = 1.8 / 163_840.0;

/// Command opcodes (the app's `PPKCmd`).
pub mod cmd {
    pub const AVERAGE_START: u8 = 0x06;
    pub const AVERAGE_STOP: u8 = 0x07;
    pub const DEVICE_RUNNING_SET: u8 = 0x0c;
    pub const REGULATOR_SET: u8 = 0x0d;
    pub const SET_POWER_MODE: u8 = 0x11;
    pub const GET_META_DATA: u8 = 0x19;
}

/// The regulator command for `mv` millivolts (800–5000): `[0x0d, hi, lo]` with
/// `hi·256 + lo = mv − 800 + 32 + 3·256`.
pub fn regulator_command(mv: u32) -> [u8; 3] {
    let v = mv.clamp(800, 5000) - 800 + 32;
    [cmd::REGULATOR_SET, 3 + (v / 256) as u8, (v % 256) as u8]
}

/// Millivolts a regulator command sets (the inverse of [`regulator_command`]).
pub fn regulator_mv(hi: u8, lo: u8) -> u32 {
    (hi as u32 - 3) * 256 + lo as u32 + 800 - 32
}

/// Fields of a sample word.
#[inline]
pub fn adc(w: u32) -> u32 {
    w & 0x3fff
}
#[inline]
pub fn range(w: u32) -> u32 {
    (w >> 14) & 7
}
#[inline]
pub fn counter(w: u32) -> u8 {
    ((w >> 18) & 0x3f) as u8
}
#[inline]
pub fn logic(w: u32) -> u8 {
    (w >> 24) as u8
}
/// A sample word from its fields (the simulator's encoder).
pub fn word(adc: u32, range: u32, counter: u8, logic: u8) -> u32 {
    (adc & 0x3fff)
        | ((range & 7) << 14)
        | (((counter & 0x3f) as u32) << 18)
        | ((logic as u32) << 24)
}

/// Calibration of the five ranges, as the device reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Modifiers {
    pub r: [f64; 5],
    pub gs: [f64; 5],
    pub gi: [f64; 5],
    pub o: [f64; 5],
    pub s: [f64; 5],
    pub i: [f64; 5],
    pub ug: [f64; 5],
}

impl Default for Modifiers {
    fn default() -> Self {
        Modifiers {
            r: [1031.64, 101.65, 10.15, 0.94, 0.043],
            gs: [1.0; 5],
            gi: [1.0; 5],
            o: [0.0; 5],
            s: [0.0; 5],
            i: [0.0; 5],
            ug: [1.0; 5],
        }
    }
}

impl Modifiers {
    /// Current in A of ADC value `adc` (the 14-bit field) on range `r` (0–4) at `vdd_mv`.
    #[inline]
    pub fn current_a(&self, r: usize, adc: u32, vdd_mv: f64) -> f64 {
        let x = (adc as f64 * 4.0 - self.o[r]) * (ADC_MULT / self.r[r]);
        self.ug[r] * (x * (self.gs[r] * x + self.gi[r]) + (self.s[r] * vdd_mv / 1000.0 + self.i[r]))
    }

    /// The ADC field whose current is nearest `amps` on range `r` (the simulator's encoder),
    /// or None when it does not fit the 14 bits.
    pub fn encode(&self, r: usize, amps: f64, vdd_mv: f64) -> Option<u32> {
        // Solve gs·x² + gi·x − c = 0 for x, then invert x's definition.
        let c = amps / self.ug[r] - (self.s[r] * vdd_mv / 1000.0 + self.i[r]);
        let (a, b) = (self.gs[r], self.gi[r]);
        let x = if a.abs() < 1e-300 {
            c / b
        } else {
            (-b + (b * b + 4.0 * a * c).sqrt()) / (2.0 * a)
        };
        let field = ((x * self.r[r] / ADC_MULT + self.o[r]) / 4.0).round();
        (0.0..=16383.0).contains(&field).then_some(field as u32)
    }
}

/// The metadata block a PPK2 sends for `GET_META_DATA`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Metadata {
    pub calibrated: Option<bool>,
    pub modifiers: Modifiers,
    /// Regulator voltage the device reports (mV).
    pub vdd_mv: Option<f64>,
    /// Hardware identifier (`HW`).
    pub hw: Option<String>,
    /// Power mode the device reports (`mode`: 1 ampere meter, 2 source meter).
    pub mode: Option<u8>,
    /// `IA` as reported.
    pub ia: Option<String>,
}

/// Parse a metadata block (`key: value` lines, then `END`). Unknown keys are ignored; a value
/// that is 0, `-nan` or not a number keeps the default, as in the app.
pub fn parse_metadata(text: &str) -> Result<Metadata, String> {
    let Some(end) = text.find("END") else {
        return Err("the metadata has no END line".into());
    };
    let mut m = Metadata {
        calibrated: None,
        modifiers: Modifiers::default(),
        vdd_mv: None,
        hw: None,
        mode: None,
        ia: None,
    };
    let mut known = 0;
    for line in text[..end].lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
        let num = value.parse::<f64>().ok().filter(|v| v.is_finite());
        let slot = |prefix: &str| -> Option<usize> {
            let k = key.strip_prefix(prefix)?;
            let i = k.parse::<usize>().ok()?;
            (i < 5).then_some(i)
        };
        let mods = &mut m.modifiers;
        let arrays: [(&str, &mut [f64; 5]); 7] = [
            ("gs", &mut mods.gs),
            ("gi", &mut mods.gi),
            ("ug", &mut mods.ug),
            ("r", &mut mods.r),
            ("o", &mut mods.o),
            ("s", &mut mods.s),
            ("i", &mut mods.i),
        ];
        let mut matched = false;
        for (prefix, arr) in arrays {
            if let Some(i) = slot(prefix) {
                if let Some(v) = num.filter(|v| *v != 0.0) {
                    arr[i] = v;
                }
                matched = true;
                break;
            }
        }
        match key.as_str() {
            _ if matched => known += 1,
            "calibrated" => m.calibrated = num.map(|v| v != 0.0),
            "vdd" => m.vdd_mv = num,
            "hw" => m.hw = Some(value.to_string()),
            "mode" => m.mode = num.map(|v| v as u8),
            "ia" => m.ia = Some(value.to_string()),
            _ => {}
        }
    }
    if known < 5 {
        return Err(format!(
            "the metadata names {known} calibration values (R0…R4, GS, GI, O, S, I, UG): not a PPK2's"
        ));
    }
    Ok(m)
}

/// The app's spike filter: for the first `samples` samples after a range switch, a sample is
/// replaced by an exponential moving average of the samples (weight `alpha`, or `alpha5` on
/// range 4, where the first two samples after the switch keep the average from before it).
#[derive(Debug, Clone)]
pub struct SpikeFilter {
    pub alpha: f64,
    pub alpha5: f64,
    pub samples: u32,
    avg: Option<f64>,
    avg4: Option<f64>,
    prev_range: Option<usize>,
    after_spike: i64,
    consecutive: u32,
}

impl Default for SpikeFilter {
    fn default() -> Self {
        SpikeFilter {
            alpha: 0.18,
            alpha5: 0.06,
            samples: 3,
            avg: None,
            avg4: None,
            prev_range: None,
            after_spike: 0,
            consecutive: 0,
        }
    }
}

impl SpikeFilter {
    /// The filtered value of `value` (any unit) measured on range `r`.
    #[inline]
    pub fn apply(&mut self, r: usize, value: f64) -> f64 {
        let (prev_avg, prev_avg4) = (self.avg, self.avg4);
        self.avg = Some(match self.avg {
            None => value,
            Some(a) => self.alpha * value + (1.0 - self.alpha) * a,
        });
        self.avg4 = Some(match self.avg4 {
            None => value,
            Some(a) => self.alpha5 * value + (1.0 - self.alpha5) * a,
        });
        let prev = *self.prev_range.get_or_insert(r);
        let mut out = value;
        if prev != r || self.after_spike > 0 {
            if prev != r {
                self.consecutive = 0;
                self.after_spike = self.samples as i64;
            } else {
                self.consecutive += 1;
            }
            if r == 4 {
                if self.consecutive < 2 {
                    self.avg = prev_avg;
                    self.avg4 = prev_avg4;
                }
                out = self.avg4.unwrap_or(value);
            } else {
                out = self.avg.unwrap_or(value);
            }
            self.after_spike -= 1;
        }
        self.prev_range = Some(r);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real PPK2's metadata block (the simulator's).
    use crate::record::sim::METADATA as META;

    #[test]
    fn metadata_and_formula_by_hand() {
        let m = parse_metadata(META).unwrap();
        assert_eq!(m.modifiers.r[2], 10.3027);
        assert_eq!(
            m.modifiers.gs[0], 1.0,
            "GS0 0.0000 keeps the default, as in the app"
        );
        assert_eq!(m.vdd_mv, Some(3000.0));
        assert_eq!(m.hw.as_deref(), Some("9173"));
        // Range 2, ADC field 1000, VDD 3000 mV, worked by hand:
        // x = (4000 − 64.6020) · 1.8/163840 / 10.3027 = 0.00419653 A, I = 4.40192 mA
        let x = (4000.0 - 64.602) * (1.8 / 163840.0) / 10.3027;
        let want = x * (18.0115 * x + 0.9609) + 0.000005281 * 3.0 + 0.000036439;
        let got = m.modifiers.current_a(2, 1000, 3000.0);
        assert!((got - want).abs() < 1e-15, "{got} {want}");
        assert!((got - 4.40192e-3).abs() < 1e-8, "{got}");
        // The encoder inverts it to the same field.
        assert_eq!(m.modifiers.encode(2, got, 3000.0), Some(1000));
        assert!(parse_metadata("HW: 1\nEND").is_err());
    }

    #[test]
    fn word_fields_and_regulator() {
        let w = word(0x1234, 3, 45, 0xa5);
        assert_eq!(
            (adc(w), range(w), counter(w), logic(w)),
            (0x1234, 3, 45, 0xa5)
        );
        // 800 mV is [0x0d, 3, 32] (ppk2-api-python's baseline), 3300 mV is 3 + 2532/256.
        assert_eq!(regulator_command(800), [0x0d, 3, 32]);
        assert_eq!(regulator_command(3300), [0x0d, 12, 228]);
        assert_eq!(regulator_mv(12, 228), 3300);
    }

    #[test]
    fn spike_filter_by_hand() {
        let mut f = SpikeFilter::default();
        assert_eq!(f.apply(1, 10.0), 10.0);
        assert_eq!(f.apply(1, 10.0), 10.0);
        // A switch to range 2: three samples are the moving average (alpha 0.18).
        let a1 = 0.18 * 100.0 + 0.82 * 10.0;
        assert!((f.apply(2, 100.0) - a1).abs() < 1e-12);
        let a2 = 0.18 * 20.0 + 0.82 * a1;
        assert!((f.apply(2, 20.0) - a2).abs() < 1e-12);
        let a3 = 0.18 * 20.0 + 0.82 * a2;
        assert!((f.apply(2, 20.0) - a3).abs() < 1e-12);
        assert_eq!(f.apply(2, 20.0), 20.0);
    }
}
