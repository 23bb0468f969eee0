//! Command-line definitions (clap) only; the work is in the subcommands' files beside this
//! one. The flags that make up the pipeline's settings are the library's [`SettingsArgs`] (the
//! manifest's `options` column parses the same ones).

use crate::report::OutputFormat;
use crate::settings::{IngestArgs, SettingsArgs};
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
      a synthetic trace of the seed experiment, with its true charges in mqtt.csv.truth.json

Exit codes:
  0  done
  1  the run finished and found a problem: diff found a regression, or batch/merge had files
     that failed (each listed with its error)
  2  bad input or usage: one line naming the file, the line and what was expected
  3  an internal error of shuntscope (a bug): please report it";

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
    /// Analyze every trace in folders, in parallel: label bursts as protocol events, compare
    /// groups with statistics, project battery life, and write a report folder.
    #[command(after_help = "\
Examples:
  shuntscope batch samples/seed --out report/
      the seed experiment: samples/seed/manifest.csv names each file's protocol
  shuntscope batch runs/ --out report/ --period 1s --battery-mah 1200 --interval 10s --interval 5min
  shuntscope batch archive/ --out part3/ --shard 3/8   (then: shuntscope merge all/ part*/)

Without a manifest, a file's group is the name of the folder it is in.
Outputs: report.md, report.html, report.json, events.parquet, summary.parquet, summary.csv.")]
    Batch(BatchArgs),
    /// Join the report folders of `batch --shard` runs into one report.
    Merge(MergeArgs),
    /// Compare two batch reports (or two folders of traces) group by group and label by label:
    /// a regression gate for firmware CI (exit 1 when any row is a regression).
    #[command(after_help = "\
Examples:
  shuntscope diff report-main/ report-pr/
  shuntscope diff report-main/ report-pr/ --fail-above 3% -f md > comment.md
  shuntscope diff runs-old/ runs-new/ --period 1s --junit diff.xml
      (two folders of traces: batch runs on each with the flags given)

Verdicts: regression (ratio above 1 + limit, its 95% CI wholly above 1), improvement (below
1 − limit, CI wholly below 1), same (CI within 1 ± limit), unresolved (with the repetitions
that would resolve it), new, gone. Exit codes: 1 when any row is a regression, 0 otherwise,
2 for bad input.")]
    Diff(DiffArgs),
    /// Draw a trace (or a zoom on it), a gallery of its bursts, or a batch report's charts as PNG.
    #[command(after_help = "\
Examples:
  shuntscope plot samples/seed/mqtt.csv -o mqtt.png
  shuntscope plot samples/seed/mqtt.csv --window 0.2s..0.4s -o connect.png
  shuntscope plot samples/seed/https.csv --burst 3 -o burst3.png
  shuntscope plot samples/seed/https.csv --kind gallery --period 1s -o gallery.png
  shuntscope plot report/ --kind battery -o battery.png     (report/ from `batch`)

Kinds: trace and gallery take a trace file (gallery also a report folder); compare, battery and
distribution take a batch report folder.")]
    Plot(PlotArgs),
    /// Write one self-contained, zoomable HTML page of a trace (or two, overlaid): every burst,
    /// class, window and event on it; drag to measure.
    View(ViewArgs),
    /// Record from a Nordic PPK2 over USB into a .ppk2 file; optionally analyse the recording
    /// and gate it against a baseline in the same step.
    #[command(after_help = "\
Examples:
  shuntscope record --list
  shuntscope record --ppk2 --source-mv 3300 --duration 60s -o run.ppk2
      the only PPK2 connected powers the device at 3.3 V for 60 s
  shuntscope record --ppk2 /dev/ttyACM0 --ampere --duration 10min --average 10ks -o night.ppk2
  shuntscope record --ppk2 --source-mv 1800 --dut-power cycle --duration 5s -o boot.ppk2 --analyze
  shuntscope record --ppk2 --source-mv 3000 --duration 60s -o pr.ppk2 --diff main.ppk2 \\
      --fail-above 5% --junit power.xml

Samples are decoded with the calibration the PPK2 reports, by the formula of Nordic's Power
Profiler app. Lost samples (a jump of the device's counter) are gaps, reported and never
integrated across; the time base never shifts. Ctrl-C (or SIGTERM) stops the recording and
keeps the file; so does the device going away (then exit 2).")]
    Record(RecordArgs),
    /// Show how a file is read: format, columns, units, time base, samples, first and last values.
    Inspect(InspectArgs),
    /// Write a trace in normalised form: time_s, then voltage_v (or current_ma), as CSV or Parquet.
    #[command(after_help = "\
Examples:
  shuntscope convert scope.csv -o trace.parquet
  shuntscope convert DATA16.CSV --sample-interval 1ms --zero-px 25 -o nano.csv
  shuntscope convert scope.csv.gz --shunt-ohms 0.47 -o current.csv   (writes current_ma)")]
    Convert(ConvertArgs),
    /// List the input formats shuntscope recognises, and what each needs from the user.
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

    /// Replace the -o file if it exists.
    #[arg(long)]
    pub force: bool,

    /// Also write the zoomable HTML view of the trace (as `shuntscope view`) to this file.
    #[arg(long, value_name = "FILE")]
    pub view: Option<String>,

    #[command(flatten)]
    pub settings: SettingsArgs,
}

#[derive(Args, Debug, Clone)]
pub struct ViewArgs {
    /// One trace, or two to overlay (old, new).
    #[arg(required = true, num_args = 1..=2)]
    pub traces: Vec<String>,

    /// The HTML file to write (one self-contained page).
    #[arg(short = 'o', long)]
    pub output: String,

    /// How two traces share the time axis.
    #[arg(long, value_enum, default_value = "first-burst")]
    pub align: crate::view::Align,

    /// Replace the output if it exists.
    #[arg(long)]
    pub force: bool,

    /// Do not print the analysis' warnings.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    #[command(flatten)]
    pub settings: SettingsArgs,
}

#[derive(Args, Debug, Clone)]
pub struct BatchArgs {
    /// Folders (searched recursively for .csv, .tsv, .txt, .dat) or files.
    #[arg(required = true)]
    pub inputs: Vec<String>,

    /// The report folder to write (atomically: it appears whole or not at all).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: String,

    /// A manifest CSV (default: manifest.csv in an input folder, if there is one).
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<String>,

    /// Replace the report folder if it exists.
    #[arg(long)]
    pub force: bool,

    /// Files analysed at once (default: one per core).
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Process share I of N (1-based) of the files, for job arrays; join with `merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,

    /// Message interval(s) for the battery-life projection (repeatable).
    #[arg(long = "interval", value_name = "DURATION", value_parser = parse_duration)]
    pub intervals: Vec<f64>,

    /// Messages per connection for the amortised cost (repeatable; default 1, 10, 100).
    #[arg(long = "messages-per-connection", value_name = "N")]
    pub messages_per_connection: Vec<u32>,

    /// Do not print warnings or the progress bar.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Do not print the summary table and the lesson (the report folder has them): for scripts.
    #[arg(long)]
    pub no_summary: bool,

    /// Also write each file's zoomable HTML view (as `shuntscope view`) into the report's
    /// views/ folder, NNNN-NAME.html in the files' order.
    #[arg(long)]
    pub views: bool,

    #[command(flatten)]
    pub settings: SettingsArgs,
}

#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// The file (`-` for standard input; .gz and .zst are decompressed), or a pcap/pcapng
    /// capture (its packets grouped into exchanges).
    pub file: String,

    /// Output format (table or json).
    #[arg(short = 'f', long, value_enum, default_value = "table")]
    pub format: OutputFormat,

    /// For a capture: map a server port to a protocol (repeatable), e.g. mqtt=1884.
    #[arg(long = "port", value_name = "PROTOCOL=PORT")]
    pub ports: Vec<String>,

    #[command(flatten)]
    pub ingest: IngestArgs,
}

#[derive(Args, Debug, Clone)]
pub struct ConvertArgs {
    /// The file (`-` for standard input; .gz and .zst are decompressed).
    pub file: String,

    /// The output: .csv or .parquet.
    #[arg(short = 'o', long)]
    pub output: String,

    /// Convert shunt voltage to current on this resistance (writes current_ma).
    #[arg(long, value_name = "OHMS")]
    pub shunt_ohms: Option<f64>,

    /// Replace the output if it exists.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub ingest: IngestArgs,
}

/// What `plot` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlotKind {
    Trace,
    Gallery,
    Compare,
    Battery,
    Distribution,
    /// A trace's energy budget: where the power goes, and battery life against the main
    /// class's period.
    Budget,
}

#[derive(Args, Debug, Clone)]
pub struct PlotArgs {
    /// A trace file, or a report folder written by `batch`.
    pub input: String,

    /// The image to write (.png, or .svg).
    #[arg(short = 'o', long)]
    pub output: String,

    /// What to draw (default: trace for a file, compare for a report folder).
    #[arg(long, value_enum)]
    pub kind: Option<PlotKind>,

    /// Image size in pixels.
    #[arg(long, default_value = "1600x900", value_name = "WxH")]
    pub size: String,

    /// Zoom on a time range, e.g. 1.2s..1.4s (or 1.2..1.4).
    #[arg(long, value_name = "FROM..TO")]
    pub window: Option<String>,

    /// Zoom on burst N (0-based, as `analyze` numbers them).
    #[arg(long, value_name = "N")]
    pub burst: Option<usize>,

    /// Write SVG instead of PNG (the output's extension becomes .svg).
    #[arg(long)]
    pub svg: bool,

    /// A logarithmic current axis (default: when the trace spans more than two decades above
    /// its floor).
    #[arg(long, conflicts_with = "linear_y")]
    pub log_y: bool,

    /// A linear current axis, whatever the trace spans.
    #[arg(long)]
    pub linear_y: bool,

    /// Replace the output if it exists.
    #[arg(long)]
    pub force: bool,

    /// Do not print the analysis' warnings.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    #[command(flatten)]
    pub ingest: IngestArgs,
    #[command(flatten)]
    pub calibrate: crate::settings::CalibrateArgs,
    #[command(flatten)]
    pub detect: crate::settings::DetectArgs,
    #[command(flatten)]
    pub labels: crate::settings::LabelArgs,
    #[command(flatten)]
    pub capture: crate::settings::CaptureArgs,
    /// Phase windows to shade (plot's own --window zooms).
    #[command(flatten)]
    pub phase: crate::settings::PhaseArgs,
    #[command(flatten)]
    pub budget: crate::settings::BudgetArgs,
}

impl PlotArgs {
    /// The pipeline's settings from plot's flags.
    pub fn settings(&self) -> crate::settings::Settings {
        SettingsArgs {
            ingest: self.ingest.clone(),
            calibrate: self.calibrate.clone(),
            detect: self.detect.clone(),
            labels: self.labels.clone(),
            capture: self.capture.clone(),
            windows: crate::settings::WindowArgs {
                phase: self.phase.clone(),
                spans: Vec::new(),
            },
            budget: self.budget.clone(),
        }
        .settings()
    }
}

#[derive(Args, Debug, Clone)]
pub struct DiffArgs {
    /// The old report folder (written by `batch`), or a folder of traces.
    pub old: String,

    /// The new report folder, or a folder of traces.
    pub new: String,

    /// What to compare per event and class (charge, energy or duration), and which kinds of
    /// row gate (floor, mean, class, budget, event, window, all); comma-separated or
    /// repeated. Default: charge; the floor, mean, budget, event and window rows gate.
    #[arg(long, value_name = "WHAT", value_delimiter = ',', value_parser = crate::diff::parse_metric)]
    pub metric: Vec<crate::diff::MetricArg>,

    /// A change larger than this is a regression or an improvement (5%, 0.05).
    #[arg(long, default_value = "5%", value_parser = crate::diff::parse_limit, value_name = "LIMIT")]
    pub fail_above: f64,

    /// Output format: table, json or md (Markdown for a pull-request comment).
    #[arg(short = 'f', long, default_value = "table", value_parser = ["table", "json", "md"])]
    pub format: String,

    /// Also write JUnit XML (one testcase per group and label) to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<String>,

    /// Write the output to this file instead of standard output.
    #[arg(short = 'o', long)]
    pub output: Option<String>,

    /// Files analysed at once, for folders of traces (default: one per core).
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,

    /// For folders of traces: the batch settings.
    #[command(flatten)]
    pub settings: SettingsArgs,
}

fn parse_source_mv(text: &str) -> std::result::Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(v) if (800..=5000).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{text}`: the PPK2's regulator takes 800 to 5000 mV, in whole millivolts"
        )),
    }
}

#[derive(Args, Debug, Clone)]
pub struct RecordArgs {
    /// Record from a PPK2: the one on PORT, or without PORT the only one connected.
    #[arg(long, num_args = 0..=1, value_name = "PORT")]
    pub ppk2: Option<Option<String>>,

    /// List the connected PPK2s (port, serial number, firmware) and exit.
    #[arg(long)]
    pub list: bool,

    /// How long to record (60s, 10min, 2h) in the device's time; without it, until Ctrl-C.
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub duration: Option<f64>,

    /// The .ppk2 file to write (it appears when the recording ends).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<String>,

    /// Source-meter mode: the PPK2 powers the device at this voltage (800–5000 mV). With
    /// --ampere, the regulator setting (the logic inputs' reference).
    #[arg(long, value_parser = parse_source_mv, value_name = "MV")]
    pub source_mv: Option<u32>,

    /// Ampere-meter mode: the PPK2 measures the current of an external supply.
    #[arg(long)]
    pub ampere: bool,

    /// The device's power switch: on, off, or cycle (off, then on once recording: the boot is
    /// recorded).
    #[arg(long, value_enum, default_value = "on", value_name = "STATE")]
    pub dut_power: crate::record::DutPower,

    /// Keep the range-switch transients (by default filtered as Nordic's app does).
    #[arg(long)]
    pub no_spike_filter: bool,

    /// Average on the host to a lower rate (10ks, 1ks, 100): it must divide 100 kS/s.
    #[arg(long, value_parser = crate::record::parse_average, value_name = "RATE")]
    pub average: Option<u32>,

    /// A device that sends nothing for this long is given up (the file is kept).
    #[arg(long, value_parser = parse_duration, default_value = "5s", value_name = "DUR")]
    pub stall_timeout: f64,

    /// Print the analysis of the recording when it ends (every analyze flag applies).
    #[arg(long)]
    pub analyze: bool,

    /// Output format of --analyze.
    #[arg(short = 'f', long, value_enum, default_value = "table")]
    pub format: OutputFormat,

    /// Gate the recording against a baseline recording, folder of recordings or batch report,
    /// as `diff BASE NEW` does (exit 1 on a regression).
    #[arg(long, value_name = "BASE")]
    pub diff: Option<String>,

    /// With --diff: a change larger than this is a regression or an improvement.
    #[arg(long, default_value = "5%", value_parser = crate::diff::parse_limit, value_name = "LIMIT")]
    pub fail_above: f64,

    /// With --diff: what to compare and which rows gate (as diff's --metric).
    #[arg(long, value_name = "WHAT", value_delimiter = ',', value_parser = crate::diff::parse_metric)]
    pub metric: Vec<crate::diff::MetricArg>,

    /// With --diff: also write JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<String>,

    /// Replace the -o file if it exists.
    #[arg(long)]
    pub force: bool,

    /// Print no progress or warnings on standard error.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    #[command(flatten)]
    pub settings: SettingsArgs,
}

impl DiffArgs {
    /// `diff BASE NEW` with a recording's gate flags.
    pub fn for_record(base: &str, new: &str, a: &RecordArgs) -> DiffArgs {
        DiffArgs {
            old: base.to_string(),
            new: new.to_string(),
            metric: a.metric.clone(),
            fail_above: a.fail_above,
            format: "table".to_string(),
            junit: a.junit.clone(),
            output: None,
            jobs: None,
            settings: a.settings.clone(),
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct MergeArgs {
    /// The report folder to write.
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: String,

    /// Report folders written by `batch --shard`.
    #[arg(required = true)]
    pub shards: Vec<String>,

    /// Replace the report folder if it exists.
    #[arg(long)]
    pub force: bool,

    /// Do not print the summary table and the lesson.
    #[arg(long)]
    pub no_summary: bool,
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

    /// Replace the output (and its truth file) if they exist.
    #[arg(long)]
    pub force: bool,
}

fn parse_duration(s: &str) -> Result<f64, String> {
    crate::units::parse_duration_s(s).map_err(|e| e.message)
}
