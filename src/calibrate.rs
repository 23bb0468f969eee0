//! Calibrate: shunt voltage to current, `I = (V − offset) / R / gain`. Current traces pass through.

use crate::error::{Error, Result};
use crate::trace::Quantity;
use serde::Serialize;

/// The shunt and its front end.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Calibration {
    /// Shunt resistance in ohms (default 0.47 Ω, the seed's shunt).
    pub shunt_ohms: f64,
    /// Probe attenuation or sense-amplifier gain between shunt and instrument (1 = none).
    pub gain: f64,
    /// Voltage the instrument reads at zero current, in mV.
    pub offset_mv: f64,
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration {
            shunt_ohms: 0.47,
            gain: 1.0,
            offset_mv: 0.0,
        }
    }
}

impl Calibration {
    pub fn validate(&self) -> Result<()> {
        if !(self.shunt_ohms.is_finite() && self.shunt_ohms > 0.0) {
            return Err(Error::usage(format!(
                "--shunt-ohms must be a positive number, found {}",
                self.shunt_ohms
            )));
        }
        if !(self.gain.is_finite() && self.gain != 0.0) {
            return Err(Error::usage(format!(
                "--gain must be a non-zero number, found {}",
                self.gain
            )));
        }
        if !self.offset_mv.is_finite() {
            return Err(Error::usage("--offset-mv must be a finite number"));
        }
        Ok(())
    }

    /// Turn values (V for voltage traces, mA for current traces) into mA, in place.
    /// Cost: one multiply-add per sample.
    pub fn to_ma(&self, quantity: Quantity, values: &mut [f64]) {
        if quantity == Quantity::Current {
            return;
        }
        let k = 1000.0 / self.shunt_ohms / self.gain;
        let off_v = self.offset_mv / 1000.0;
        for v in values.iter_mut() {
            *v = (*v - off_v) * k;
        }
    }

    /// One line for reports.
    pub fn describe(&self, quantity: Quantity) -> String {
        match quantity {
            Quantity::Current => "current trace, used as it is".into(),
            Quantity::Voltage => format!(
                "I = (V − {} mV) / {} Ω / gain {}",
                self.offset_mv, self.shunt_ohms, self.gain
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_numbers() {
        // 80 mV across 0.47 Ω is 170.2 mA; 30 mV more is 63.8 mA more.
        let mut v = [0.080, 0.110];
        Calibration::default().to_ma(Quantity::Voltage, &mut v);
        assert!((v[0] - 170.2128).abs() < 1e-3);
        assert!((v[1] - v[0] - 63.8298).abs() < 1e-3);
        let mut v = [1.0];
        Calibration {
            shunt_ohms: 0.1,
            gain: 50.0,
            offset_mv: 0.0,
        }
        .to_ma(Quantity::Voltage, &mut v);
        assert!((v[0] - 200.0).abs() < 1e-9);
        let mut i = [5.0];
        Calibration::default().to_ma(Quantity::Current, &mut i);
        assert_eq!(i[0], 5.0);
    }
}
