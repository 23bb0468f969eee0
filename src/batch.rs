//! Batch: plan the files of one or more folders (manifest or folder names as groups), run each
//! through the pipeline in parallel, keep every failure with its error, and summarise them into
//! a [`BatchReport`] ([`batch`]); [`merge`] joins the report folders of shards with the same
//! summary code. Writing a report folder is [`BatchReport::write`] (the render stage).
//!
//! Cost: one [`run_file`] per file on a pool of `threads` threads; memory is one analysis per
//! file (bursts and events, never samples).

use crate::error::{Error, Result};
use crate::manifest;
use crate::pipeline::{run_file, FileOutcome};
use crate::settings::{Settings, SettingsArgs};
use crate::summarize::{summarize, Summaries, SummarySettings};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Events of the first file of each group kept as excerpts, for the report's gallery.
pub const GALLERY_EVENTS: usize = 10;

/// One file to analyse, with everything it needs. Serialisable: a cluster's worker receives
/// it as plain data (JSON), never a handle.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub path: PathBuf,
    pub group: String,
    pub settings: Settings,
    pub bytes_per_message: Option<f64>,
    pub payload: Option<String>,
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
    matches!(
        ext.as_str(),
        "csv" | "tsv" | "txt" | "dat" | "ppk2" | "sr" | "jls"
    )
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

/// A manifest row's settings: the batch's, then the row's `shunt_ohms` and `supply_v` columns,
/// then its `options` cell (the same flags as the command line), then its capture.
fn apply(entry: &manifest::Entry, base: &Settings, manifest_name: &str) -> Result<Settings> {
    let mut s = base.clone();
    let dir = Path::new(manifest_name).parent().unwrap_or(Path::new("."));
    let options = SettingsArgs::parse_options(&entry.options, dir).map_err(|e| {
        Error::input(
            manifest_name,
            format!("options of {}: {e}", entry.file.display()),
        )
    })?;
    let mut columns = SettingsArgs::default();
    columns.calibrate.shunt_ohms = entry.shunt_ohms;
    columns.detect.supply_v = entry.supply_v;
    columns.capture.pcap = entry.pcap.as_ref().map(|p| p.display().to_string());
    columns.apply(&mut s);
    options.apply(&mut s);
    if s.capture.pcap.is_none() {
        s.capture.pcap = paired_capture(&entry.file);
    }
    Ok(s)
}

/// The files of `inputs`, with their groups and settings. A folder with a manifest.csv (or the
/// `--manifest` given) contributes the manifest's files. The first file of each group keeps
/// excerpts of its first events for the gallery.
pub fn plan(inputs: &[String], manifest_path: Option<&str>, base: &Settings) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    let push_entries = |m: &Path, jobs: &mut Vec<Job>| -> Result<()> {
        let name = m.display().to_string();
        for e in manifest::read(m)? {
            let settings = apply(&e, base, &name)?;
            let group = e.group.clone().unwrap_or_else(|| folder_name(&e.file));
            jobs.push(Job {
                path: e.file.clone(),
                group,
                settings,
                bytes_per_message: e.bytes_per_message,
                payload: e.payload.clone(),
            });
        }
        Ok(())
    };
    let plain = |f: PathBuf| {
        let mut settings = base.clone();
        if settings.capture.pcap.is_none() {
            settings.capture.pcap = paired_capture(&f);
        }
        Job {
            group: folder_name(&f),
            path: f,
            settings,
            bytes_per_message: None,
            payload: None,
        }
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
                    jobs.extend(files.into_iter().map(plain));
                }
            } else {
                // A file (missing ones fail at analysis, with the others going on).
                jobs.push(plain(p.to_path_buf()));
            }
        }
    }
    jobs.sort_by(|a, b| a.path.cmp(&b.path));
    jobs.dedup_by(|a, b| a.path == b.path);
    let mut seen: Vec<String> = Vec::new();
    for j in &mut jobs {
        if !seen.contains(&j.group) {
            seen.push(j.group.clone());
            j.settings.excerpts = j.settings.excerpts.max(GALLERY_EVENTS);
        }
    }
    Ok(jobs)
}

/// A capture beside a trace, with the same name: `run1.csv` → `run1.pcap` or `run1.pcapng`.
pub fn paired_capture(trace: &Path) -> Option<String> {
    ["pcap", "pcapng"]
        .iter()
        .map(|ext| trace.with_extension(ext))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
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

/// Run one file through the pipeline; a failure becomes an outcome with the error.
pub fn run_job(job: &Job) -> FileOutcome {
    run_job_viewed(job, None)
}

/// [`run_job`], also writing the file's view page (as `shuntscope view`) to `view` when given:
/// the page's pyramid is built in the analysis' own pass, and the analysis is the same.
fn run_job_viewed(job: &Job, view: Option<&Path>) -> FileOutcome {
    let file = job.path.display().to_string();
    let analyse = || -> Result<crate::analysis::Analysis> {
        let Some(page) = view else {
            return run_file(&file, &job.settings);
        };
        let t = crate::view::trace(&file, &job.settings)?;
        let html = crate::view::page(std::slice::from_ref(&t))?;
        crate::output::write_atomic(&page.display().to_string(), html.as_bytes())?;
        Ok(t.analysis)
    };
    // A panic is this file's internal error, never the end of the batch.
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(analyse));
    let run = run.unwrap_or_else(|_| {
        Err(Error::internal(format!(
            "{file}: shuntscope panicked while reading it"
        )))
    });
    let (result, error) = match run {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e.to_string())),
    };
    // Bytes per message: the manifest's, else the capture's message exchanges.
    let bytes_per_message = job.bytes_per_message.or_else(|| {
        result
            .as_ref()
            .and_then(|r| r.capture.as_ref())
            .and_then(|p| p.bytes_per_message())
    });
    FileOutcome {
        file,
        group: job.group.clone(),
        bytes_per_message,
        payload: job.payload.clone(),
        error,
        settings: Some(job.settings.clone()),
        result,
    }
}

/// Run jobs on `jobs` threads (0: one per core), calling `progress` after each file.
pub fn run(jobs: &[Job], threads: usize, progress: &(dyn Fn() + Sync)) -> Result<Vec<FileOutcome>> {
    run_viewed(jobs, threads, None, progress)
}

/// The page of job `k` in a views folder: `0007-mqtt.csv.html`.
pub fn view_name(k: usize, job: &Job) -> String {
    let name = job
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("trace");
    format!("{k:04}-{name}.html")
}

/// [`run`], writing each file's view page into `views` when given.
fn run_viewed(
    jobs: &[Job],
    threads: usize,
    views: Option<&Path>,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<FileOutcome>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::usage(format!("cannot start {threads} threads: {e}")))?;
    if let Some(v) = views {
        std::fs::create_dir_all(v)
            .map_err(|e| Error::output(v.display().to_string(), format!("cannot create: {e}")))?;
    }
    Ok(pool.install(|| {
        jobs.par_iter()
            .enumerate()
            .map(|(k, j)| {
                let page = views.map(|v| v.join(view_name(k, j)));
                let o = run_job_viewed(j, page.as_deref());
                progress();
                o
            })
            .collect()
    }))
}

/// Everything a batch run found; report.json is this, and `merge` reads `settings` and `files`
/// back from it.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    pub tool: String,
    pub settings: SummarySettings,
    pub inputs: Vec<String>,
    pub shard: Option<String>,
    pub files: Vec<FileOutcome>,
    pub failed: usize,
    pub summaries: Summaries,
}

/// The part of report.json that `merge` needs.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BatchReportIn {
    pub settings: SummarySettings,
    pub inputs: Vec<String>,
    pub files: Vec<FileOutcome>,
}

impl BatchReport {
    /// Summarise the files' outcomes into a report.
    pub fn new(
        settings: SummarySettings,
        inputs: Vec<String>,
        shard: Option<String>,
        files: Vec<FileOutcome>,
    ) -> BatchReport {
        let summaries = summarize(&files, &settings);
        BatchReport {
            tool: format!("shuntscope {}", env!("CARGO_PKG_VERSION")),
            settings,
            inputs,
            shard,
            failed: files.iter().filter(|f| f.error.is_some()).count(),
            files,
            summaries,
        }
    }

    /// Read a report folder back (its settings and files; the summaries are recomputed).
    pub fn load(dir: &str) -> Result<BatchReport> {
        let r = read_report(dir)?;
        Ok(BatchReport::new(r.settings, r.inputs, None, r.files))
    }

    /// Write the report folder (report.json, summary.csv, Parquet files, charts, report.html),
    /// whole or not at all; an existing folder is an error unless `force`.
    pub fn write(&self, dir: &str, force: bool) -> Result<()> {
        let out = crate::output::AtomicDir::create(dir, force)?;
        crate::report::folder::write(self, out)
    }
}

/// The settings and files of a report folder's report.json.
pub(crate) fn read_report(dir: &str) -> Result<BatchReportIn> {
    let path = format!("{}/report.json", dir.trim_end_matches('/'));
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::input(
            &path,
            format!("cannot read: {}", crate::ingest::io_reason(&e)),
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Error::input(&path, format!("not a shuntscope batch report: {e}")).at_line(e.line() as u64)
    })
}

/// How [`batch`] runs: the manifest, the shard, the threads and the summary's settings.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// A manifest naming each file's group and metadata (else `manifest.csv` in a folder, else
    /// folder names as groups).
    pub manifest: Option<String>,
    /// `I/N`: run only every N-th file from the I-th (1-based), for `merge` later.
    pub shard: Option<String>,
    /// Worker threads; 0 for one per core.
    pub threads: usize,
    pub summary: SummarySettings,
    /// Write each file's view page (`shuntscope view`) into this folder.
    pub views: Option<PathBuf>,
}

impl BatchOptions {
    /// The defaults of `shuntscope batch`, with the labels of `settings`.
    pub fn new(settings: &Settings) -> BatchOptions {
        BatchOptions {
            manifest: None,
            shard: None,
            threads: 0,
            summary: SummarySettings::new(&settings.labels),
            views: None,
        }
    }
}

/// A batch planned but not run: the summary's settings, the inputs as given, the shard and
/// every file's job, in the order the report lists them. Serialisable, so that another
/// scheduler (a Dask cluster) can run the jobs ([`run_job_on`]) and [`BatchPlan::report`]
/// joins their outcomes into the very report a local [`batch`] writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchPlan {
    pub summary: SummarySettings,
    pub inputs: Vec<String>,
    pub shard: Option<String>,
    pub jobs: Vec<Job>,
}

impl BatchPlan {
    /// The report of the jobs' outcomes (in the jobs' order).
    pub fn report(&self, files: Vec<FileOutcome>) -> BatchReport {
        BatchReport::new(
            self.summary.clone(),
            self.inputs.clone(),
            self.shard.clone(),
            files,
        )
    }
}

/// Plan a batch: check the settings, find every trace file under `inputs` (folders or files)
/// with its group and settings (a manifest's options layered on top per file), keep the shard's.
/// Errors in the settings or the inputs come here, before any file is read.
pub fn plan_batch(inputs: &[String], settings: &Settings, o: &BatchOptions) -> Result<BatchPlan> {
    let mut base = settings.clone();
    base.validate()?;
    o.summary.validate()?;
    // `--pcap` names the capture of one trace: given to that trace after planning.
    let pcap = base.capture.pcap.take();
    let shard = o.shard.as_deref().map(parse_shard).transpose()?;
    let mut jobs = plan(inputs, o.manifest.as_deref(), &base)?;
    if let Some((i, n)) = shard {
        jobs = jobs
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % n == i)
            .map(|(_, j)| j)
            .collect();
    }
    if let Some(p) = pcap {
        if jobs.len() != 1 {
            return Err(Error::usage(format!(
                "--pcap names one capture, but there are {} trace files: give each its capture \
                 in the manifest's pcap column, or put NAME.pcap beside NAME.csv",
                jobs.len()
            )));
        }
        jobs[0].settings.capture.pcap = Some(p);
    }
    if jobs.is_empty() {
        return Err(Error::usage(format!(
            "no trace files (.csv, .tsv, .txt, .dat, .ppk2, .sr, .jls) found in {}",
            inputs.join(", ")
        )));
    }
    Ok(BatchPlan {
        summary: o.summary.clone(),
        inputs: inputs.to_vec(),
        shard: o.shard.clone(),
        jobs,
    })
}

/// [`run_job`] on a pool of `threads` threads (0: one per core), so that a cluster's worker
/// processes do not each start a pool as large as the machine; also the pool's size.
pub fn run_job_on(job: &Job, threads: usize) -> Result<(FileOutcome, usize)> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::usage(format!("cannot start {threads} threads: {e}")))?;
    Ok(pool.install(|| (run_job(job), rayon::current_num_threads())))
}

/// Analyse every trace file under `inputs` (folders or files) with `settings` (a manifest's
/// options layered on top per file), in parallel, and summarise. A file that fails is a row
/// with its error, never the end of the run. `planned` hears the number of files once they are
/// known, `progress` is called after each file.
pub fn batch(
    inputs: &[String],
    settings: &Settings,
    o: &BatchOptions,
    planned: &dyn Fn(usize),
    progress: &(dyn Fn() + Sync),
) -> Result<BatchReport> {
    let p = plan_batch(inputs, settings, o)?;
    planned(p.jobs.len());
    let files = run_viewed(&p.jobs, o.threads, o.views.as_deref(), progress)?;
    Ok(p.report(files))
}

/// Join the report folders of shards (or of any batches run with the same summary settings):
/// files in path order, each once; the summaries computed again by the same code as [`batch`].
pub fn merge(folders: &[String]) -> Result<BatchReport> {
    let mut settings = None;
    let mut inputs = Vec::new();
    let mut files: Vec<FileOutcome> = Vec::new();
    for dir in folders {
        let r = read_report(dir)?;
        settings.get_or_insert(r.settings);
        for i in r.inputs {
            if !inputs.contains(&i) {
                inputs.push(i);
            }
        }
        files.extend(r.files);
    }
    files.sort_by(|x, y| x.file.cmp(&y.file));
    files.dedup_by(|x, y| x.file == y.file);
    let settings =
        settings.ok_or_else(|| Error::usage("merge needs at least one report folder"))?;
    Ok(BatchReport::new(settings, inputs, None, files))
}
