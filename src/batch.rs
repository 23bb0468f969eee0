//! Batch: plan the files of one or more folders (manifest or folder names as groups), analyse
//! and attribute them in parallel, keep every failure with its error.

use crate::analysis::{analyze_file, AnalyzeOptions, Warning};
use crate::attribute::pcap::{PcapOptions, PcapReport};
use crate::attribute::{attribute, Attribution, LabelSource};
use crate::cli::FileOverrides;
use crate::error::{Error, Result};
use crate::manifest;
use clap::Parser;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How events are labelled, before per-file overrides.
#[derive(Debug, Clone)]
pub struct LabelOptions {
    pub period_s: Option<f64>,
    pub first_label: String,
    pub label: String,
    pub events: Option<String>,
    /// None: estimate.
    pub events_offset_s: Option<f64>,
    pub tolerance_s: f64,
    pub window_s: f64,
    /// Events from the trace's marker column.
    pub marker: bool,
    /// The file's packet capture, if it has one.
    pub pcap: Option<PcapOptions>,
    /// Ports, offset and tolerance for every capture (its path unused).
    pub pcap_defaults: PcapOptions,
}

impl LabelOptions {
    pub fn source(&self) -> LabelSource {
        if self.marker {
            LabelSource::Marker {
                first_label: self.first_label.clone(),
                label: self.label.clone(),
                tolerance_s: self.tolerance_s,
                window_s: self.window_s,
            }
        } else if let Some(path) = &self.events {
            LabelSource::EventsFile {
                path: path.clone(),
                offset_s: self.events_offset_s,
                tolerance_s: self.tolerance_s,
                window_s: self.window_s,
            }
        } else if let Some(period_s) = self.period_s {
            LabelSource::Schedule {
                period_s,
                first_label: self.first_label.clone(),
                label: self.label.clone(),
            }
        } else {
            LabelSource::Bursts
        }
    }
}

/// `auto` or a number of seconds.
pub fn parse_offset(s: &str) -> Result<Option<f64>> {
    if s.trim() == "auto" {
        return Ok(None);
    }
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| {
            Error::usage(format!(
                "--events-offset: expected seconds or auto, found \"{s}\""
            ))
        })
}

/// One file to analyse, with everything it needs.
#[derive(Debug, Clone)]
pub struct Job {
    pub path: PathBuf,
    pub group: String,
    pub analyze: AnalyzeOptions,
    pub labels: LabelOptions,
    pub bytes_per_message: Option<f64>,
    pub payload: Option<String>,
}

/// What came of one file. Serialised into report.json, so `merge` can read it back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileOutcome {
    pub file: String,
    pub group: String,
    pub bytes_per_message: Option<f64>,
    pub payload: Option<String>,
    /// The error, for a file that failed.
    pub error: Option<String>,
    /// The options it was read with (to read it again for a plot).
    pub options: Option<AnalyzeOptions>,
    pub result: Option<FileResult>,
}

/// The numbers of a file that was analysed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileResult {
    pub format: String,
    pub samples: u64,
    pub sample_interval_s: f64,
    pub duration_s: f64,
    pub baseline_ma: f64,
    pub noise_ma: f64,
    /// ADC or print step of the current, when the values sit on a grid, mA.
    pub quantisation_ma: Option<f64>,
    pub threshold_ma: f64,
    pub supply_v: f64,
    pub bursts: usize,
    pub warnings: Vec<WarningRecord>,
    pub attribution: AttributionRecord,
    /// The packet capture's exchanges and totals, when the file had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcap: Option<PcapReport>,
}

/// A warning as stored in report.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WarningRecord {
    pub code: String,
    pub message: String,
}

/// An attribution as stored in report.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttributionRecord {
    pub source: String,
    pub events: Vec<EventRecord>,
    pub unexplained_bursts: Vec<usize>,
    pub unmatched_events: Vec<(f64, String)>,
    pub offset_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventRecord {
    pub index: usize,
    pub label: String,
    pub bursts: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub duration_ms: f64,
    pub width_ms: f64,
    pub peak_ma: f64,
    pub excess_charge_ma_ms: f64,
    pub charge_ma_ms: f64,
    pub energy_mj: f64,
}

fn record(a: &Attribution) -> AttributionRecord {
    AttributionRecord {
        source: a.source.clone(),
        events: a
            .events
            .iter()
            .map(|e| EventRecord {
                index: e.index,
                label: e.label.clone(),
                bursts: e.bursts.len(),
                start_s: e.start_s,
                end_s: e.end_s,
                duration_ms: e.duration_ms,
                width_ms: e.width_ms,
                peak_ma: e.peak_ma,
                excess_charge_ma_ms: e.excess_charge_ma_ms,
                charge_ma_ms: e.charge_ma_ms,
                energy_mj: e.energy_mj,
            })
            .collect(),
        unexplained_bursts: a.unexplained_bursts.clone(),
        unmatched_events: a
            .unmatched_events
            .iter()
            .map(|u| (u.time_s, u.label.clone()))
            .collect(),
        offset_s: a.offset_s,
    }
}

fn warnings(w: &[Warning]) -> Vec<WarningRecord> {
    w.iter()
        .map(|w| WarningRecord {
            code: w.code.to_string(),
            message: w.message.clone(),
        })
        .collect()
}

/// Is this a file batch should read?
fn is_trace(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with('.') || name.eq_ignore_ascii_case("manifest.csv") {
        return false;
    }
    let ext = p
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    matches!(ext.as_str(), "csv" | "tsv" | "txt" | "dat")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        Error::input(
            dir.display().to_string(),
            format!("cannot list: {}", crate::ingest::io_reason(&e)),
        )
    })?;
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() && !name.starts_with('.') {
            walk(&p, out)?;
        } else if p.is_file() && is_trace(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Apply a manifest row's metadata and options on top of the batch's options.
fn apply(
    entry: &manifest::Entry,
    base: &AnalyzeOptions,
    labels: &LabelOptions,
    manifest_name: &str,
) -> Result<(AnalyzeOptions, LabelOptions)> {
    let mut a = base.clone();
    let mut l = labels.clone();
    let o = FileOverrides::try_parse_from(&entry.options).map_err(|e| {
        let first = e.to_string().lines().next().unwrap_or("").to_string();
        Error::input(
            manifest_name,
            format!(
                "options of {}: {}",
                entry.file.display(),
                first.trim_start_matches("error: ")
            ),
        )
    })?;
    macro_rules! set {
        ($dst:expr, $src:expr) => {
            if let Some(v) = $src.clone() {
                $dst = v;
            }
        };
    }
    if o.sample_interval.is_some() {
        a.ingest.sample_interval_s = o.sample_interval;
    }
    if o.zero_px.is_some() {
        a.ingest.zero_px = o.zero_px;
    }
    for (dst, src) in [
        (&mut a.ingest.input_format, &o.input_format),
        (&mut a.ingest.time_col, &o.time_col),
        (&mut a.ingest.value_col, &o.value_col),
        (&mut a.ingest.unit, &o.unit),
        (&mut a.ingest.time_unit, &o.time_unit),
    ] {
        if src.is_some() {
            *dst = src.clone();
        }
    }
    set!(a.calibration.shunt_ohms, entry.shunt_ohms);
    set!(a.calibration.shunt_ohms, o.shunt_ohms);
    set!(a.calibration.gain, o.gain);
    set!(a.calibration.offset_mv, o.offset_mv);
    if o.baseline_ma.is_some() {
        a.baseline_ma = o.baseline_ma;
    }
    if o.threshold_ma.is_some() {
        a.threshold_ma = o.threshold_ma;
    }
    set!(a.min_burst_ms, o.min_burst_ms);
    set!(a.merge_gap_ms, o.merge_gap_ms);
    set!(a.supply_v, entry.supply_v);
    set!(a.supply_v, o.supply_v);
    if o.period.is_some() {
        l.period_s = o.period;
    }
    if o.marker_col.is_some() {
        a.ingest.marker_col = o.marker_col.clone();
        l.marker = true;
    }
    set!(l.first_label, o.first_label);
    set!(l.label, o.label);
    if let Some(ev) = &o.events {
        let dir = Path::new(manifest_name).parent().unwrap_or(Path::new("."));
        l.events = Some(dir.join(ev).display().to_string());
    }
    if let Some(off) = &o.events_offset {
        l.events_offset_s = parse_offset(off)?;
    }
    if !o.ports.is_empty() {
        l.pcap_defaults.ports.extend(o.ports.iter().cloned());
    }
    if o.pcap_offset.is_some() {
        l.pcap_defaults.offset_s = o.pcap_offset;
    }
    set!(l.pcap_defaults.tolerance_ms, o.pcap_tolerance_ms);
    if !o.pcap_hosts.is_empty() {
        l.pcap_defaults.hosts = o.pcap_hosts.clone();
    }
    let dir = Path::new(manifest_name).parent().unwrap_or(Path::new("."));
    let pcap = o
        .pcap
        .as_ref()
        .map(|p| dir.join(p))
        .or_else(|| entry.pcap.clone());
    l.pcap = match pcap {
        Some(p) => Some(PcapOptions {
            path: p.display().to_string(),
            ..l.pcap_defaults.clone()
        }),
        None => paired_capture(&entry.file, &l.pcap_defaults),
    };
    Ok((a, l))
}

/// The files of `inputs`, with their groups and options. A folder with a manifest.csv (or the
/// `--manifest` given) contributes the manifest's files.
pub fn plan(
    inputs: &[String],
    manifest_path: Option<&str>,
    base: &AnalyzeOptions,
    labels: &LabelOptions,
) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    let push_entries = |m: &Path, jobs: &mut Vec<Job>| -> Result<()> {
        let name = m.display().to_string();
        for e in manifest::read(m)? {
            let (analyze, labels) = apply(&e, base, labels, &name)?;
            let group = e.group.clone().unwrap_or_else(|| folder_name(&e.file));
            jobs.push(Job {
                path: e.file.clone(),
                group,
                analyze,
                labels,
                bytes_per_message: e.bytes_per_message,
                payload: e.payload.clone(),
            });
        }
        Ok(())
    };
    if let Some(m) = manifest_path {
        push_entries(Path::new(m), &mut jobs)?;
        if !inputs.is_empty() {
            // Inputs narrow the manifest to files under them.
            let roots: Vec<PathBuf> = inputs.iter().map(PathBuf::from).collect();
            jobs.retain(|j| roots.iter().any(|r| j.path.starts_with(r) || j.path == *r));
        }
    } else {
        for input in inputs {
            let p = Path::new(input);
            if p.is_dir() {
                let m = p.join("manifest.csv");
                if m.is_file() {
                    push_entries(&m, &mut jobs)?;
                } else {
                    let mut files = Vec::new();
                    walk(p, &mut files)?;
                    for f in files {
                        let mut labels = labels.clone();
                        if labels.pcap.is_none() {
                            labels.pcap = paired_capture(&f, &labels.pcap_defaults);
                        }
                        jobs.push(Job {
                            group: folder_name(&f),
                            path: f,
                            analyze: base.clone(),
                            labels,
                            bytes_per_message: None,
                            payload: None,
                        });
                    }
                }
            } else {
                // A file (missing ones fail at analysis, with the others going on).
                let mut labels = labels.clone();
                if labels.pcap.is_none() {
                    labels.pcap = paired_capture(p, &labels.pcap_defaults);
                }
                jobs.push(Job {
                    group: folder_name(p),
                    path: p.to_path_buf(),
                    analyze: base.clone(),
                    labels,
                    bytes_per_message: None,
                    payload: None,
                });
            }
        }
    }
    jobs.sort_by(|a, b| a.path.cmp(&b.path));
    jobs.dedup_by(|a, b| a.path == b.path);
    Ok(jobs)
}

/// A capture beside a trace, with the same name: `run1.csv` → `run1.pcap` or `run1.pcapng`.
pub fn paired_capture(trace: &Path, defaults: &PcapOptions) -> Option<PcapOptions> {
    ["pcap", "pcapng"]
        .iter()
        .map(|ext| trace.with_extension(ext))
        .find(|p| p.is_file())
        .map(|p| PcapOptions {
            path: p.display().to_string(),
            ..defaults.clone()
        })
}

fn folder_name(p: &Path) -> String {
    p.parent()
        .and_then(|d| d.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or(".")
        .to_string()
}

/// `I/N` → (I − 1, N): the deterministic share of sorted files with index % N == I − 1.
pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let bad = || {
        Error::usage(format!(
            "--shard: expected I/N with 1 ≤ I ≤ N, found \"{s}\""
        ))
    };
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i == 0 || i > n {
        return Err(bad());
    }
    Ok((i - 1, n))
}

/// Analyse and attribute one file; failures become an outcome with the error.
pub fn run_job(job: &Job) -> FileOutcome {
    let file = job.path.display().to_string();
    let result = (|| -> Result<FileResult> {
        let a = analyze_file(&file, &job.analyze)?;
        let pcap = match &job.labels.pcap {
            Some(o) => Some(crate::analysis::pcap_report(&a, &job.analyze, o)?),
            None => None,
        };
        let source = job.labels.source();
        let attribution = match (&source, &pcap) {
            // With nothing else to label them, the capture labels the bursts.
            (LabelSource::Bursts, Some(r)) => crate::attribute::pcap::events(&a.bursts, r),
            _ => attribute(&a.bursts, &source, &a.marker_edges_s)?,
        };
        let mut warnings = warnings(&a.warnings);
        if let Some(r) = &pcap {
            warnings.extend(r.warnings.iter().map(|w| WarningRecord {
                code: "pcap".into(),
                message: w.clone(),
            }));
        }
        Ok(FileResult {
            format: a.format.clone(),
            samples: a.samples,
            sample_interval_s: a.sample_interval_s,
            duration_s: a.totals.duration_s,
            baseline_ma: a.baseline_ma,
            noise_ma: a.noise_ma,
            quantisation_ma: a.quantisation_ma,
            threshold_ma: a.threshold_ma,
            supply_v: a.supply_v,
            bursts: a.bursts.len(),
            warnings,
            attribution: record(&attribution),
            pcap,
        })
    })();
    let (result, error) = match result {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e.to_string())),
    };
    // Bytes per message: the manifest's, else the capture's message exchanges.
    let bytes_per_message = job.bytes_per_message.or_else(|| {
        result
            .as_ref()
            .and_then(|r| r.pcap.as_ref())
            .and_then(|p| p.bytes_per_message())
    });
    FileOutcome {
        file,
        group: job.group.clone(),
        bytes_per_message,
        payload: job.payload.clone(),
        error,
        result,
        options: Some(job.analyze.clone()),
    }
}

/// Run jobs on `jobs` threads (0: one per core), calling `progress` after each file.
pub fn run(jobs: &[Job], threads: usize, progress: &(dyn Fn() + Sync)) -> Result<Vec<FileOutcome>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::usage(format!("cannot start {threads} threads: {e}")))?;
    Ok(pool.install(|| {
        jobs.par_iter()
            .map(|j| {
                let o = run_job(j);
                progress();
                o
            })
            .collect()
    }))
}
