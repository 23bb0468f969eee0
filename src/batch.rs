//! Batch: plan the files of one or more folders (manifest or folder names as groups), run each
//! through the pipeline in parallel, keep every failure with its error.

use crate::error::{Error, Result};
use crate::manifest;
use crate::pipeline::{run_file, FileOutcome};
use crate::settings::{Settings, SettingsArgs};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Events of the first file of each group kept as excerpts, for the report's gallery.
pub const GALLERY_EVENTS: usize = 10;

/// One file to analyse, with everything it needs.
#[derive(Debug, Clone)]
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
    let file = job.path.display().to_string();
    let (result, error) = match run_file(&file, &job.settings) {
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
        settings: Some(job.settings.clone()),
        result,
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
