//! Command-line definitions (clap) only; the work is in `cmd/`.

use crate::report::OutputFormat;
use clap::{Args, Parser, Subcommand};

const ABOUT: &str =
    "Measure what each burst of current costs: charge and energy per radio message, \
from a shunt-resistor scope capture or a power-meter export.";

const EXAMPLES: &str = "\
Examples:
  shuntscope analyze samples/seed/mqtt.csv
      bursts of a scope capture of the shunt voltage (0.47 Ω by default)
  shuntscope analyze capture.csv --shunt-ohms 1.0 --supply-v 3.3 --format json
  shuntscope analyze DATA16.CSV --sample-interval 50us --zero-px 20
      a DSO Nano v3 file, which stores neither time base nor ground level
  shuntscope synth --preset mqtt -o mqtt.csv
      a synthetic trace of the seed experiment, with its true charges in mqtt.csv.truth.json";

#[derive(Parser, Debug)]
#[command(name = "shuntscope", version, about = ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Find the bursts in one trace and measure each one's charge and energy.
    #[command(after_help = "\
Examples:
  shuntscope analyze samples/seed/https.csv
  shuntscope analyze samples/seed/https.csv --format json > https.json
  shuntscope analyze ppk2.csv --value-col \"Current(uA)\" --threshold-ma 0.5
  shuntscope analyze samples/nano/mqtt_connect.CSV --sample-interval 50us --zero-px 20

Units: time in s, current in mA, charge in mA·ms (= µC), energy in mJ.
A burst starts when the current rises --threshold-ma above the baseline (default 6 × the
measured noise) and extends back and forward to where the current is at the baseline again.")]
    Analyze(AnalyzeArgs),
    /// Write a synthetic trace with known bursts, and their true charges beside it (FILE.truth.json).
    #[command(after_help = "\
Examples:
  shuntscope synth --preset https -o https.csv
      the seed's HTTPS run: 10 messages at 1 s, the first a 80 ms connection set-up
  shuntscope synth --preset mqtt --only connect --dso-nano -o MQTT_C.CSV
      one burst as a DSO Nano v3 file (4094 samples of 50 µs)
  shuntscope synth --burst 0.1:6:64 --burst 1.1:6:64 --duration 2s -o two.csv")]
    Synth(SynthArgs),
    /// List the input formats shuntscope recognises.
    Formats,
}

#[derive(Args, Debug, Clone)]
pub struct AnalyzeArgs {
    /// The trace file (CSV or similar export of a scope, power meter or power analyzer).
    pub file: String,

    /// Output format.
    #[arg(short = 'f', long, value_enum, default_value = "table")]
    pub format: OutputFormat,

    /// Write the output to this file (atomically) instead of standard output.
    #[arg(short = 'o', long)]
    pub output: Option<String>,

    /// Do not print warnings on standard error (they stay in the JSON).
    #[arg(short = 'q', long)]
    pub quiet: bool,

    #[command(flatten)]
    pub ingest: IngestArgs,

    #[command(flatten)]
    pub calibrate: CalibrateArgs,

    #[command(flatten)]
    pub detect: DetectArgs,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Reading the file")]
pub struct IngestArgs {
    /// Force the input format (see `shuntscope formats`) instead of detecting it.
    #[arg(long, value_name = "NAME")]
    pub input_format: Option<String>,

    /// Time between samples (0.0001, 100us, 0.1ms), for files without a time column; overrides one.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub sample_interval: Option<f64>,

    /// DSO Nano: the screen pixel row (0-199) of 0 V.
    #[arg(long, value_name = "PX")]
    pub zero_px: Option<f64>,

    /// The time column, by header name or 1-based number.
    #[arg(long, value_name = "NAME|N")]
    pub time_col: Option<String>,

    /// The value column, by header name or 1-based number.
    #[arg(long, value_name = "NAME|N")]
    pub value_col: Option<String>,

    /// Unit of the value column: V, mV, uV (shunt voltage) or A, mA, uA, nA (current).
    #[arg(long, value_name = "UNIT")]
    pub unit: Option<String>,

    /// Unit of the time column when the header does not say: s, ms, us, ns.
    #[arg(long, value_name = "UNIT")]
    pub time_unit: Option<String>,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Voltage to current")]
pub struct CalibrateArgs {
    /// Shunt resistance in ohms: I = (V − offset) / R / gain.
    #[arg(long, default_value_t = 0.47, value_name = "OHMS")]
    pub shunt_ohms: f64,

    /// Probe attenuation or sense-amplifier gain between shunt and instrument.
    #[arg(long, default_value_t = 1.0)]
    pub gain: f64,

    /// Voltage the instrument shows at zero current, in mV.
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "MV",
        allow_hyphen_values = true
    )]
    pub offset_mv: f64,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Finding bursts")]
pub struct DetectArgs {
    /// Use this baseline (idle current) in mA instead of estimating it.
    #[arg(long, value_name = "MA")]
    pub baseline_ma: Option<f64>,

    /// A burst starts this many mA above the baseline (default: 6 × noise, at least 3 ADC steps).
    #[arg(long, value_name = "MA")]
    pub threshold_ma: Option<f64>,

    /// Drop bursts shorter than this, in ms.
    #[arg(long, default_value_t = 0.0, value_name = "MS")]
    pub min_burst_ms: f64,

    /// Join bursts separated by less than this, in ms.
    #[arg(long, default_value_t = 0.0, value_name = "MS")]
    pub merge_gap_ms: f64,

    /// Supply voltage in V, for energy = excess charge × supply.
    #[arg(long, default_value_t = 5.0, value_name = "V")]
    pub supply_v: f64,
}

#[derive(Args, Debug, Clone)]
pub struct SynthArgs {
    /// Output file.
    #[arg(short = 'o', long)]
    pub output: String,

    /// The seed experiment's pattern for one protocol: http, https, mqtt or mqtts.
    #[arg(long)]
    pub preset: Option<String>,

    /// A burst as START_S:ON_MS:AMPLITUDE_MA (repeatable), e.g. 0.1:6:64.
    #[arg(long, value_name = "SPEC")]
    pub burst: Vec<String>,

    /// A regular schedule: one burst every DURATION from --at, of --on-ms (the first of
    /// --first-on-ms) and --amp-ma, until --duration.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub every: Option<f64>,

    /// With --every: on-time of each burst, ms.
    #[arg(long, default_value_t = 6.0)]
    pub on_ms: f64,

    /// With --every: on-time of the first burst (a connection set-up), ms; default --on-ms.
    #[arg(long)]
    pub first_on_ms: Option<f64>,

    /// With --every: amplitude of the bursts, mA.
    #[arg(long, default_value_t = 64.0)]
    pub amp_ma: f64,

    /// Write SI columns `time_s,voltage_v` (or `time_s,current_ma` with --current) instead of
    /// `Time (ms),Shunt (mV)`.
    #[arg(long)]
    pub si: bool,

    /// With --preset: keep only the connection set-up or one later message, starting at --at.
    #[arg(long, value_parser = ["connect", "message"])]
    pub only: Option<String>,

    /// With --only or --every: where the (first) burst starts, in s.
    #[arg(long, default_value_t = 0.04)]
    pub at: f64,

    /// Idle current in mA (the seed's 80 mV on 0.47 Ω).
    #[arg(long, default_value_t = 170.2)]
    pub baseline_ma: f64,

    /// Time between samples.
    #[arg(long, default_value = "100us", value_parser = parse_duration)]
    pub sample_interval: f64,

    /// Length of the trace (default: to 0.75 s after the last burst).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<f64>,

    /// Rise time constant of --burst bursts, ms.
    #[arg(long, default_value_t = 0.3)]
    pub rise_ms: f64,

    /// Fall time constant of --burst bursts, ms.
    #[arg(long, default_value_t = 0.5)]
    pub fall_ms: f64,

    /// Shunt resistance for voltage output, ohms.
    #[arg(long, default_value_t = 0.47)]
    pub shunt_ohms: f64,

    /// Gaussian noise on the shunt voltage, mV rms (or mA rms with --current).
    #[arg(long, default_value_t = 1.0)]
    pub noise: f64,

    /// ADC step of the shunt voltage, mV (or mA with --current); 0 for none.
    #[arg(long, default_value_t = 0.625)]
    pub adc_step: f64,

    /// Write current (time_s,current_ma) instead of shunt voltage.
    #[arg(long)]
    pub current: bool,

    /// Write a DSO Nano v3 file (4094 screen pixels) instead of a CSV table.
    #[arg(long)]
    pub dso_nano: bool,

    /// DSO Nano: volts per division, in mV.
    #[arg(long, default_value_t = 20.0)]
    pub vdiv_mv: f64,

    /// DSO Nano: the pixel row of 0 V.
    #[arg(long, default_value_t = 20)]
    pub zero_px: i64,

    /// Supply voltage for the energies in the truth file, V.
    #[arg(long, default_value_t = 5.0)]
    pub supply_v: f64,

    /// Random seed (noise, jitter and preset durations).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn parse_duration(s: &str) -> Result<f64, String> {
    crate::units::parse_duration_s(s).map_err(|e| e.message)
}
