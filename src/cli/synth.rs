//! `shuntscope synth`: a synthetic trace and its ground truth (FILE.truth.json).

use super::args::SynthArgs;
use crate::error::{Error, Result};
use crate::output::{write_atomic, AtomicFile};
use crate::synth::{current_ma, preset, BurstSpec, Rng, PRESETS};
use serde::Serialize;
use std::io::Write;

/// Samples in a DSO Nano v3 file.
pub const NANO_SAMPLES: usize = 4094;

#[derive(Serialize)]
struct TruthBurst {
    index: usize,
    start_s: f64,
    on_ms: f64,
    amplitude_ma: f64,
    rise_ms: f64,
    fall_ms: f64,
    excess_charge_ma_ms: f64,
    energy_mj: f64,
}

#[derive(Serialize)]
struct Truth {
    generator: String,
    file: String,
    preset: Option<String>,
    seed: u64,
    baseline_ma: f64,
    sample_interval_s: f64,
    samples: usize,
    quantity: &'static str,
    shunt_ohms: f64,
    noise: f64,
    adc_step: f64,
    supply_v: f64,
    /// DSO Nano files: the options `analyze` needs.
    analyze_options: Vec<String>,
    bursts: Vec<TruthBurst>,
    total_excess_charge_ma_ms: f64,
}

fn parse_burst(spec: &str, rise_s: f64, fall_s: f64) -> Result<BurstSpec> {
    let parts: Vec<&str> = spec.split(':').collect();
    let nums: Option<Vec<f64>> = parts.iter().map(|p| p.trim().parse().ok()).collect();
    match nums.as_deref() {
        Some([start, on_ms, amp]) if *on_ms > 0.0 && *start >= 0.0 => Ok(BurstSpec {
            start_s: *start,
            on_s: on_ms / 1e3,
            amplitude_ma: *amp,
            rise_s,
            fall_s,
        }),
        _ => Err(Error::usage(format!(
            "--burst {spec}: expected START_S:ON_MS:AMPLITUDE_MA, e.g. 0.1:6:64"
        ))),
    }
}

pub fn run(a: &SynthArgs) -> Result<i32> {
    let mut rng = Rng::new(a.seed);
    let bursts = plan_bursts(a, &mut rng)?;
    let samples = sample_count(a, &bursts);
    crate::output::refuse_existing(&a.output, a.force)?;
    write_trace(a, &bursts, samples, &mut rng)?;
    write_truth(a, &bursts, samples)?;
    Ok(0)
}

/// The bursts asked for: a preset, a regular schedule and single bursts, in time order.
fn plan_bursts(a: &SynthArgs, rng: &mut Rng) -> Result<Vec<BurstSpec>> {
    let mut bursts: Vec<BurstSpec> = Vec::new();
    if let Some(p) = &a.preset {
        let mut list = preset(p, 0.25, rng).ok_or_else(|| {
            Error::usage(format!(
                "unknown preset \"{p}\": choose one of {}",
                PRESETS.join(", ")
            ))
        })?;
        if let Some(only) = &a.only {
            let mut b = list[if only == "connect" { 0 } else { 1 }];
            b.start_s = a.at;
            list = vec![b];
        }
        bursts.extend(list);
    } else if a.only.is_some() {
        return Err(Error::usage("--only needs --preset"));
    }
    if !(a.rise_ms > 0.0 && a.fall_ms > 0.0) {
        return Err(Error::usage("--rise-ms and --fall-ms must be positive"));
    }
    if let Some(period) = a.every {
        let end = a
            .duration
            .ok_or_else(|| Error::usage("--every needs --duration"))?;
        let mut k = 0u64;
        loop {
            let start_s = a.at + k as f64 * period;
            let on_ms = if k == 0 {
                a.first_on_ms.unwrap_or(a.on_ms)
            } else {
                a.on_ms
            };
            if start_s + on_ms / 1e3 >= end {
                break;
            }
            bursts.push(BurstSpec {
                start_s,
                on_s: on_ms / 1e3,
                amplitude_ma: a.amp_ma,
                rise_s: a.rise_ms / 1e3,
                fall_s: a.fall_ms / 1e3,
            });
            k += 1;
        }
    }
    for spec in &a.burst {
        bursts.push(parse_burst(spec, a.rise_ms / 1e3, a.fall_ms / 1e3)?);
    }
    bursts.sort_by(|x, y| x.start_s.total_cmp(&y.start_s));
    if !(a.shunt_ohms > 0.0 && a.noise >= 0.0 && a.adc_step >= 0.0) {
        return Err(Error::usage(
            "--shunt-ohms must be positive, --noise and --adc-step not negative",
        ));
    }
    Ok(bursts)
}

/// Samples to write: the Nano's fixed count, or up to --duration (default: the seed's 10 s
/// for a preset, else 0.75 s after the last burst).
fn sample_count(a: &SynthArgs, bursts: &[BurstSpec]) -> usize {
    let dt = a.sample_interval;
    if a.dso_nano {
        NANO_SAMPLES
    } else {
        let end = a.duration.unwrap_or_else(|| match (&a.preset, &a.only) {
            // The seed's runs: ten messages at 1 s from 0.25 s, then quiet to 10 s.
            (Some(_), None) if a.burst.is_empty() => 10.0,
            _ => bursts
                .last()
                .map(|b| b.start_s + b.on_s + 0.75)
                .unwrap_or(1.0),
        });
        (end / dt).round() as usize + 1
    }
}

/// Write the trace (atomically), noise drawn from `rng`.
fn write_trace(a: &SynthArgs, bursts: &[BurstSpec], samples: usize, rng: &mut Rng) -> Result<()> {
    let dt = a.sample_interval;
    let mut file = AtomicFile::create(&a.output)?;
    let time_decimals = decimals(dt * 1e3);
    let value_decimals = if a.adc_step > 0.0 {
        decimals(a.adc_step)
    } else {
        4
    };
    let nano_v_per_px = a.vdiv_mv / 1e3 / 25.0;
    let write = |f: &mut AtomicFile, rng: &mut Rng| -> std::io::Result<()> {
        let w = f.writer();
        if a.dso_nano {
            write!(w, "TRACK   {}mV*1,\r\n", a.vdiv_mv)?;
        } else if a.si {
            writeln!(
                w,
                "{}",
                if a.current {
                    "time_s,current_ma"
                } else {
                    "time_s,voltage_v"
                }
            )?;
        } else if a.current {
            writeln!(w, "Time (ms),Current (mA)")?;
        } else {
            writeln!(w, "Time (ms),Shunt (mV)")?;
        }
        let mut bytes = 0usize;
        let mut line = String::with_capacity(64);
        for k in 0..samples {
            let t = k as f64 * dt;
            let i = current_ma(a.baseline_ma, bursts, t);
            // Noise and steps are in the written quantity: shunt mV, or mA with --current.
            let mut v = if a.current { i } else { i * a.shunt_ohms };
            v += a.noise * rng.normal();
            if a.adc_step > 0.0 && !a.dso_nano {
                v = (v / a.adc_step).round() * a.adc_step;
            }
            line.clear();
            if a.dso_nano {
                let px = (v / 1e3 / nano_v_per_px).round() as i64 + a.zero_px;
                line.push_str(&format!("{:03},\r\n", px.clamp(0, 199)));
            } else if a.si {
                let (v, vp) = if a.current {
                    (v, value_decimals)
                } else {
                    (v / 1e3, value_decimals + 3)
                };
                use std::fmt::Write as _;
                let _ = writeln!(line, "{:.tp$},{:.vp$}", t, v, tp = time_decimals + 3);
            } else {
                line.push_str(&format!(
                    "{:.tp$},{:.vp$}\n",
                    t * 1e3,
                    v,
                    tp = time_decimals,
                    vp = value_decimals
                ));
            }
            bytes += line.len();
            w.write_all(line.as_bytes())?;
        }
        if a.dso_nano {
            // As the Nano writes it: a blank line, then NUL padding to whole 512-byte sectors.
            w.write_all(b"\r\n\r\n")?;
            let used = bytes + 4 + format!("TRACK   {}mV*1,\r\n", a.vdiv_mv).len();
            w.write_all(&vec![0u8; (512 - used % 512) % 512])?;
        }
        Ok(())
    };
    write(&mut file, rng).map_err(|e| file.err(e))?;
    file.commit()
}

/// Write FILE.truth.json: every burst's true excess charge and energy, from the closed form.
fn write_truth(a: &SynthArgs, bursts: &[BurstSpec], samples: usize) -> Result<()> {
    let dt = a.sample_interval;
    let quantity = if a.current { "current" } else { "voltage" };
    let truth_bursts: Vec<TruthBurst> = bursts
        .iter()
        .enumerate()
        .map(|(index, b)| TruthBurst {
            index,
            start_s: b.start_s,
            on_ms: b.on_s * 1e3,
            amplitude_ma: b.amplitude_ma,
            rise_ms: b.rise_s * 1e3,
            fall_ms: b.fall_s * 1e3,
            excess_charge_ma_ms: b.excess_charge_ma_ms(),
            energy_mj: b.excess_charge_ma_ms() * a.supply_v / 1e3,
        })
        .collect();
    let truth = Truth {
        generator: format!("shuntscope synth {}", env!("CARGO_PKG_VERSION")),
        file: a.output.clone(),
        preset: a.preset.clone(),
        seed: a.seed,
        baseline_ma: a.baseline_ma,
        sample_interval_s: dt,
        samples,
        quantity,
        shunt_ohms: a.shunt_ohms,
        noise: a.noise,
        adc_step: a.adc_step,
        supply_v: a.supply_v,
        analyze_options: if a.dso_nano {
            vec![
                "--sample-interval".into(),
                format!("{dt}"),
                "--zero-px".into(),
                a.zero_px.to_string(),
            ]
        } else {
            vec![]
        },
        total_excess_charge_ma_ms: truth_bursts.iter().map(|b| b.excess_charge_ma_ms).sum(),
        bursts: truth_bursts,
    };
    let json = serde_json::to_string_pretty(&truth)
        .map_err(|e| Error::usage(format!("cannot encode JSON: {e}")))?;
    write_atomic(
        &format!("{}.truth.json", a.output),
        (json + "\n").as_bytes(),
    )
}

/// Decimals needed to print multiples of `step` exactly enough.
fn decimals(step: f64) -> usize {
    let mut d = 0;
    while d < 9
        && ((step * 10f64.powi(d as i32)).round() - step * 10f64.powi(d as i32)).abs() > 1e-9
    {
        d += 1;
    }
    d
}
