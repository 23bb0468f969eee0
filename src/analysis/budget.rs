//! The energy budget of one file (JSON `budget`): the floor, the file's mean, and for each
//! recurring class (at its measured period) and each `--at-period`, the energy per period,
//! the mean current, the energy per day and the battery life.
//!
//! With class c at period P, every other recurring class k at its own period T_k and the floor
//! (the baseline the bursts' excess is measured above) in between:
//!
//! ```text
//! I(P) = I_floor + Q_c / P + Σ_k Q_k / T_k                (mA; Q mean excess charge, mA·ms)
//! E(P) = P_floor · P + E_c + Σ_k E_k · P / T_k            (mJ; E mean energy, mJ; P in s)
//! per day = E(P) / P · 86 400 s;  life = C_mAh · V_batt / (E(P) / P)   (h)
//! ```
//!
//! A class's own period T_k is its median interval when it runs steadily through the capture
//! (its n − 1 intervals at that period span its first to last burst within 10%, and that span
//! is at least half the capture); otherwise (a class that comes in clusters, such as connection
//! events during a connection) its average interval over the capture, covered time / n. The
//! row of a class "at its own period" uses that T_k, so its mean is the capture's mean without
//! the one-offs.
//!
//! P_floor = I_floor × V, V the supply (the charge-weighted mean of a measured one). Classes
//! that do not recur (fewer than three bursts: a start-up, a one-off) are left out and listed
//! apart with their charge. Battery life from energy assumes a lossless regulator between a
//! battery at `--battery-v` and the device (none when they are the same voltage).
//!
//! Cost: O(classes × periods).

use super::classes::Class;
use super::result::{Detection, Warning, WarningCode};
use crate::settings::BudgetSettings;
use serde::{Deserialize, Serialize};

/// The energy budget of one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// The floor: the baseline the bursts are measured above, mA.
    pub floor_ma: f64,
    pub floor_mw: f64,
    /// The file's mean current and power.
    pub mean_ma: f64,
    pub mean_mw: f64,
    /// The voltage powers are computed at: the measured supply's charge-weighted mean, else the
    /// constant supply, V.
    pub supply_v: f64,
    pub battery_mah: Option<f64>,
    /// The battery's voltage: `--battery-v`, else `supply_v`.
    pub battery_v: Option<f64>,
    /// Battery life at the file's mean power, h (None without `--battery-mah`).
    pub battery_life_h: Option<f64>,
    /// Where the mean power goes at each recurring class's own period: the floor first.
    pub shares: Vec<PowerShare>,
    pub periods: Vec<BudgetPeriod>,
    /// Classes that do not recur, left out of the periods.
    pub one_off: Vec<OneOff>,
}

/// The budget with one class at one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetPeriod {
    pub class: usize,
    pub period_s: f64,
    /// The period was given (`--at-period`), not measured.
    pub given: bool,
    /// Where the period comes from: `given`, `median interval` (a steady class) or `average
    /// interval` (covered time / n, a class that comes in clusters).
    pub basis: String,
    pub energy_per_period_mj: f64,
    pub mean_ma: f64,
    pub mean_mw: f64,
    pub energy_per_day_j: f64,
    pub battery_life_h: Option<f64>,
}

/// The floor's or one recurring class's part of the mean power, at the class's own period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerShare {
    /// None: the floor.
    pub class: Option<usize>,
    pub period_s: Option<f64>,
    /// `floor`, `median interval` or `average interval`.
    pub basis: String,
    pub charge_per_event_ma_ms: Option<f64>,
    pub energy_per_event_mj: Option<f64>,
    pub mean_ma: f64,
    pub mean_mw: f64,
    /// Share of the mean power (0–1), one-offs left out.
    pub share: f64,
}

/// A class left out of the per-period figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OneOff {
    pub class: usize,
    pub n: usize,
    pub excess_charge_ma_ms: f64,
    pub energy_mj: f64,
}

/// The main class: the recurring class holding the most charge (classes are numbered by
/// charge, so the first that recurs).
pub fn main_class(classes: &[Class]) -> Option<&Class> {
    classes.iter().find(|c| c.recurs())
}

/// The budget of a detection, with the periods `settings` asks for; a period that names no
/// recurring class becomes a warning.
pub fn budget(d: &Detection, settings: &BudgetSettings, warnings: &mut Vec<Warning>) -> Budget {
    let t = &d.totals;
    let supply_v = if t.charge_ma_ms > 0.0 && t.energy_mj > 0.0 {
        t.energy_mj * 1e3 / t.charge_ma_ms
    } else {
        d.supply_v
    };
    let floor_ma = d.baseline_ma;
    let floor_mw = floor_ma * supply_v;
    let battery_v = settings
        .battery_mah
        .map(|_| settings.battery_v.unwrap_or(supply_v));
    let recurring: Vec<&Class> = d.classes.iter().filter(|c| c.recurs()).collect();
    let mut shares = vec![PowerShare {
        class: None,
        period_s: None,
        basis: "floor".into(),
        charge_per_event_ma_ms: None,
        energy_per_event_mj: None,
        mean_ma: floor_ma,
        mean_mw: floor_mw,
        share: 0.0,
    }];
    shares.extend(recurring.iter().map(|c| {
        let (p, basis) = own_period(c, t.covered_s);
        PowerShare {
            class: Some(c.class),
            period_s: Some(p),
            basis: basis.into(),
            charge_per_event_ma_ms: Some(c.mean_excess_charge_ma_ms),
            energy_per_event_mj: Some(c.mean_energy_mj),
            mean_ma: c.mean_excess_charge_ma_ms / (p * 1e3),
            mean_mw: c.mean_energy_mj / p,
            share: 0.0,
        }
    }));
    let total_mw: f64 = shares.iter().map(|s| s.mean_mw).sum();
    for s in &mut shares {
        s.share = if total_mw > 0.0 {
            s.mean_mw / total_mw
        } else {
            0.0
        };
    }
    let mut b = Budget {
        floor_ma,
        floor_mw,
        mean_ma: t.mean_ma,
        mean_mw: t.mean_mw,
        supply_v,
        battery_mah: settings.battery_mah,
        battery_v,
        battery_life_h: None,
        shares,
        periods: Vec::new(),
        one_off: d
            .classes
            .iter()
            .filter(|c| !c.recurs())
            .map(|c| OneOff {
                class: c.class,
                n: c.n,
                excess_charge_ma_ms: c.excess_charge_ma_ms,
                energy_mj: c.energy_mj,
            })
            .collect(),
    };
    b.battery_life_h = b.life_h(t.mean_mw);
    let mut periods: Vec<BudgetPeriod> = b.shares[1..]
        .iter()
        .filter_map(|s| b.at(s.class?, s.period_s?, &s.basis))
        .collect();
    for p in &settings.at_periods {
        let class = match p.class {
            Some(k) => recurring.iter().find(|c| c.class == k).copied(),
            None => main_class(&d.classes),
        };
        match class.and_then(|c| b.at(c.class, p.period_s, "given")) {
            Some(row) => periods.push(row),
            None => warnings.push(Warning::new(
                WarningCode::Budget,
                match p.class {
                    Some(k) => format!(
                        "--at-period {k}={} s: class {k} does not recur (classes that do: {})",
                        p.period_s,
                        list(&recurring)
                    ),
                    None => format!(
                        "--at-period {} s: no class of bursts recurs (three or more alike)",
                        p.period_s
                    ),
                },
            )),
        }
    }
    b.periods = periods;
    b
}

impl Budget {
    /// Battery life at a mean power, h: capacity × battery voltage / power.
    pub fn life_h(&self, mean_mw: f64) -> Option<f64> {
        let (mah, v) = (self.battery_mah?, self.battery_v?);
        (mean_mw > 0.0).then(|| mah * v / mean_mw)
    }

    /// Mean current and power (mA, mW) with recurring class `class` at `period_s`, every other
    /// at its own period; None when the class does not recur.
    pub fn mean_at(&self, class: usize, period_s: f64) -> Option<(f64, f64)> {
        let c = self.shares.iter().find(|s| s.class == Some(class))?;
        let (ma, mw) = self
            .shares
            .iter()
            .fold((0.0, 0.0), |(a, w), s| (a + s.mean_ma, w + s.mean_mw));
        Some((
            ma - c.mean_ma + c.charge_per_event_ma_ms? / (period_s * 1e3),
            mw - c.mean_mw + c.energy_per_event_mj? / period_s,
        ))
    }

    /// The budget row of `class` at `period_s`.
    fn at(&self, class: usize, period_s: f64, basis: &str) -> Option<BudgetPeriod> {
        let (mean_ma, mean_mw) = self.mean_at(class, period_s)?;
        Some(BudgetPeriod {
            class,
            period_s,
            given: basis == "given",
            basis: basis.to_string(),
            energy_per_period_mj: mean_mw * period_s,
            mean_ma,
            mean_mw,
            energy_per_day_j: mean_mw * 86_400.0 / 1e3,
            battery_life_h: self.life_h(mean_mw),
        })
    }
}

/// A recurring class's own period and its basis: the median interval for a class that runs
/// steadily through the capture, else the average interval (covered time / n).
fn own_period(c: &Class, covered_s: f64) -> (f64, &'static str) {
    let average = (covered_s / c.n as f64, "average interval");
    let Some(p) = c.period_s else {
        return average;
    };
    let span = c.last_start_s - c.first_start_s;
    let steady = ((c.n - 1) as f64 * p - span).abs() <= 0.1 * span && span >= 0.5 * covered_s;
    if steady {
        (p, "median interval")
    } else {
        average
    }
}

fn list(classes: &[&Class]) -> String {
    if classes.is_empty() {
        return "none".into();
    }
    classes
        .iter()
        .map(|c| c.class.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
