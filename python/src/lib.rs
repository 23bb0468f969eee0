//! `shuntscope._native`: the library's public API for Python, a thin layer. Settings arrive as
//! the command line's words (the Python side turns keyword arguments into flags), so Python
//! and the CLI parse them the same way; results leave as the CLI's JSON, trace columns as
//! buffers of little-endian f64 (never element by element). Every long call releases the GIL
//! and runs on its own thread, so Ctrl-C interrupts the wait. Files are read, never
//! memory-mapped (a file shortened meanwhile raises `InputError`); only the wheel's
//! `shuntscope` command, a process of its own, maps them as the binary does.

use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use shuntscope::{Error, ErrorKind, SettingsArgs};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// Rust's allocations in the extension (buffers, results) go through mimalloc, whatever the
/// process's glibc malloc settings (see Cargo.toml); Python's objects keep Python's allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

create_exception!(
    shuntscope,
    InputError,
    PyValueError,
    "Bad input: the file, the line and what was expected, as the command line says it."
);

/// A library error as a Python exception: bad input, usage and unwritable outputs are
/// `InputError`; an internal fault is `RuntimeError` (its message asks for a report).
fn to_py(e: Error) -> PyErr {
    match e.kind {
        ErrorKind::Input | ErrorKind::Usage | ErrorKind::Output => {
            InputError::new_err(e.to_string())
        }
        ErrorKind::Internal => PyRuntimeError::new_err(e.to_string()),
    }
}

/// Wait up to 50 ms for the next message with the GIL released; the receiver moves into the
/// released section and is handed back.
type Waited<T> = (Result<T, mpsc::RecvTimeoutError>, mpsc::Receiver<T>);

fn wait<T: Send>(py: Python<'_>, rx: mpsc::Receiver<T>) -> Waited<T> {
    py.detach(move || (rx.recv_timeout(Duration::from_millis(50)), rx))
}

/// Run `f` on its own thread with the GIL released; poll for signals every 50 ms so that
/// Ctrl-C raises KeyboardInterrupt at once (the thread then finishes on its own, its result
/// dropped).
fn off_thread<T: Send + 'static>(
    py: Python<'_>,
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> PyResult<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(r);
    });
    let mut rx = rx;
    loop {
        let (got, back) = wait(py, rx);
        rx = back;
        match got {
            Ok(Ok(r)) => return r.map_err(to_py),
            Ok(Err(_)) => return Err(to_py(Error::internal("shuntscope panicked"))),
            Err(mpsc::RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(to_py(Error::internal("the worker thread vanished")))
            }
        }
    }
}

/// The settings from flags (`["--shunt-ohms", "1.0", ...]`), as a manifest's options cell.
fn settings(flags: &[String]) -> PyResult<shuntscope::Settings> {
    SettingsArgs::parse_options(flags, Path::new("."))
        .map(|l| l.settings())
        .map_err(|e| PyTypeError::new_err(format!("settings: {e}")))
}

/// Run the whole pipeline on one file, on a pool of `threads` threads (0: one per core); the
/// CLI's JSON.
#[pyfunction]
#[pyo3(signature = (path, flags, threads=0))]
fn analyze(py: Python<'_>, path: String, flags: Vec<String>, threads: usize) -> PyResult<String> {
    let s = settings(&flags)?;
    off_thread(py, move || {
        let pool = rayon_pool(threads)?;
        let a = pool.install(|| shuntscope::run_file(&path, &s))?;
        shuntscope::render(&a, shuntscope::OutputFormat::Json)
    })
}

/// A rayon pool of `threads` threads (0: one per core).
fn rayon_pool(threads: usize) -> Result<rayon::ThreadPool, Error> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::usage(format!("cannot start {threads} threads: {e}")))
}

/// One column's chunks as bytes buffers.
type Buffers<'py> = Vec<Bound<'py, PyBytes>>;

/// Read a trace's samples: (column names, per column a list of bytes buffers of little-endian
/// f64, one per chunk). A worker thread reads and parses while this thread turns each chunk
/// into bytes (one copy, overlapped with the parsing); Python joins the chunks without another
/// copy. With `shunt_ohms`, voltage traces become current.
#[pyfunction]
#[pyo3(signature = (path, flags, shunt_ohms=None))]
fn read<'py>(
    py: Python<'py>,
    path: String,
    flags: Vec<String>,
    shunt_ohms: Option<f64>,
) -> PyResult<(Vec<String>, Vec<Buffers<'py>>)> {
    let s = settings(&flags)?;
    let (names_tx, names_rx) = mpsc::channel();
    let (tx, rx) = mpsc::sync_channel::<Vec<Vec<f64>>>(4);
    let worker = std::thread::spawn(move || -> Result<(), Error> {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            read_columns(&path, &s, shunt_ohms, &names_tx, &tx)
        }));
        r.unwrap_or_else(|_| Err(Error::internal("the reader panicked")))
    });
    let mut names: Option<Vec<String>> = None;
    let mut cols: Vec<Buffers<'py>> = Vec::new();
    let mut rx = rx;
    loop {
        let (got, back) = wait(py, rx);
        rx = back;
        match got {
            Ok(chunk) => {
                if names.is_none() {
                    names = names_rx.try_recv().ok();
                    cols = vec![Vec::new(); chunk.len()];
                }
                for (c, v) in cols.iter_mut().zip(&chunk) {
                    c.push(PyBytes::new_with(py, v.len() * 8, |b| {
                        for (dst, x) in b.chunks_exact_mut(8).zip(v) {
                            dst.copy_from_slice(&x.to_le_bytes());
                        }
                        Ok(())
                    })?);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    match worker.join() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(to_py(e)),
        Err(_) => return Err(to_py(Error::internal("the reader thread panicked"))),
    }
    let names = match names {
        Some(n) => n,
        None => names_rx.try_recv().unwrap_or_default(),
    };
    if cols.is_empty() {
        cols = vec![Vec::new(); names.len()];
    }
    Ok((names, cols))
}

/// Stream a file's normalised columns (the library's [`shuntscope::read`], as `convert`
/// writes them) to `tx`, chunk by chunk: time, value, then digital channels; their names first
/// to `names`.
fn read_columns(
    path: &str,
    s: &shuntscope::Settings,
    shunt_ohms: Option<f64>,
    names_tx: &mpsc::Sender<Vec<String>>,
    tx: &mpsc::SyncSender<Vec<Vec<f64>>>,
) -> Result<(), Error> {
    let cal = shunt_ohms.map(|r| shuntscope::Calibration {
        shunt_ohms: r,
        ..s.calibration
    });
    let mut reader = shuntscope::read(path, &s.ingest, cal)?;
    let _ = names_tx.send(reader.names().to_vec());
    let nd = reader.digital_channels();
    let mut chunk = shuntscope::Chunk::default();
    while reader.next_chunk(&mut chunk)? {
        let mut cols = vec![
            std::mem::take(&mut chunk.time_s),
            std::mem::take(&mut chunk.value),
        ];
        for d in 0..nd {
            cols.push(chunk.digital.iter().skip(d).step_by(nd).copied().collect());
        }
        if tx.send(cols).is_err() {
            break;
        }
    }
    Ok(())
}

/// Run a command of the command line (`["batch", "runs/", "--out", "r/"]`): its exit code.
/// Usage errors raise TypeError, bad input InputError; output goes where the CLI's goes. Files
/// are read, not mapped (this is the caller's process).
#[pyfunction]
fn run(py: Python<'_>, argv: Vec<String>) -> PyResult<i32> {
    let cli = parse(argv)?;
    off_thread(py, move || shuntscope::cli::dispatch(&cli))
}

/// Parse a command line, usage errors as TypeError with clap's first line.
fn parse(argv: Vec<String>) -> PyResult<shuntscope::cli::Cli> {
    shuntscope::cli::parse(argv).map_err(|e| {
        let text = e.to_string();
        PyTypeError::new_err(
            text.lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ")
                .to_string(),
        )
    })
}

/// The plan of a `batch` command line (`["batch", "runs/", "--out", "unused", ...]`) as JSON:
/// the summary settings, the inputs, the shard and each file's job. Settings and input errors
/// raise here, before any job is submitted anywhere.
#[pyfunction]
fn plan(py: Python<'_>, argv: Vec<String>) -> PyResult<String> {
    let cli = parse(argv)?;
    off_thread(py, move || {
        let p = shuntscope::cli::batch_plan(&cli)?;
        serde_json::to_string(&p).map_err(|e| Error::internal(format!("plan: {e}")))
    })
}

/// Run one job of a plan (its JSON) on a pool of `threads` threads (0: one per core): the
/// file's outcome as JSON (a failure is an outcome with its error, never an exception) and the
/// pool's size.
#[pyfunction]
fn run_job(py: Python<'_>, job: String, threads: usize) -> PyResult<(String, usize)> {
    let job: shuntscope::Job = serde_json::from_str(&job)
        .map_err(|e| PyValueError::new_err(format!("not a shuntscope job: {e}")))?;
    off_thread(py, move || {
        let (outcome, used) = shuntscope::run_job_on(&job, threads)?;
        let text = serde_json::to_string(&outcome)
            .map_err(|e| Error::internal(format!("outcome: {e}")))?;
        Ok((text, used))
    })
}

/// Run jobs of a plan (their JSON) one after another on one pool of `threads` threads (0: one
/// per core), kept for the process's later calls: each file's outcome as JSON.
#[pyfunction]
fn run_jobs(py: Python<'_>, jobs: Vec<String>, threads: usize) -> PyResult<Vec<String>> {
    let jobs = jobs
        .iter()
        .map(|j| serde_json::from_str::<shuntscope::Job>(j))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PyValueError::new_err(format!("not a shuntscope job: {e}")))?;
    off_thread(py, move || {
        let pool = cached_pool(threads)?;
        pool.install(|| {
            jobs.iter()
                .map(|j| {
                    serde_json::to_string(&shuntscope::run_job(j))
                        .map_err(|e| Error::internal(format!("outcome: {e}")))
                })
                .collect()
        })
    })
}

/// A pool of `threads` threads made once per process and size (a worker runs many tasks).
fn cached_pool(threads: usize) -> Result<std::sync::Arc<rayon::ThreadPool>, Error> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .map_err(|_| Error::internal("the pool cache was poisoned"))?;
    if let Some(p) = pools.get(&threads) {
        return Ok(p.clone());
    }
    let p = Arc::new(rayon_pool(threads)?);
    pools.insert(threads, p.clone());
    Ok(p)
}

/// Write the report folder of a plan and its jobs' outcomes (JSON, in the jobs' order), as a
/// local batch writes it; an existing folder is an error unless `force`.
#[pyfunction]
fn write_report(
    py: Python<'_>,
    plan: String,
    outcomes: Vec<String>,
    out: String,
    force: bool,
) -> PyResult<()> {
    let plan: shuntscope::BatchPlan = serde_json::from_str(&plan)
        .map_err(|e| PyValueError::new_err(format!("not a shuntscope plan: {e}")))?;
    off_thread(py, move || {
        let files = outcomes
            .iter()
            .map(|o| serde_json::from_str::<shuntscope::FileOutcome>(o))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::internal(format!("outcome: {e}")))?;
        if files.len() != plan.jobs.len() {
            return Err(Error::usage(format!(
                "{} outcomes for {} jobs",
                files.len(),
                plan.jobs.len()
            )));
        }
        plan.report(files).write(&out, force)
    })
}

/// The `shuntscope` command of the wheel: the binary's [`shuntscope::cli::main`] (messages,
/// exit codes, memory-mapped reads), on its own thread so that Ctrl-C interrupts it.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<String>) -> PyResult<i32> {
    off_thread(py, move || Ok(shuntscope::cli::main(argv)))
}

/// The long flags of a subcommand of the command line: (name with underscores, takes a value,
/// repeats). The typed stubs' keyword arguments are checked against it.
#[pyfunction]
fn flags(subcommand: &str) -> PyResult<Vec<(String, bool, bool)>> {
    let f = shuntscope::cli::flags(subcommand)
        .ok_or_else(|| PyValueError::new_err(format!("no subcommand {subcommand}")))?;
    Ok(f.into_iter()
        .map(|f| (f.long.replace('-', "_"), f.takes_value, f.repeats))
        .collect())
}

/// The formats shuntscope reads: (name, description).
#[pyfunction]
fn formats() -> Vec<(String, String)> {
    shuntscope::FORMATS
        .iter()
        .map(|f| (f.name.to_string(), f.description.to_string()))
        .collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(read, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(main, m)?)?;
    m.add_function(wrap_pyfunction!(formats, m)?)?;
    m.add_function(wrap_pyfunction!(flags, m)?)?;
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(run_job, m)?)?;
    m.add_function(wrap_pyfunction!(run_jobs, m)?)?;
    m.add_function(wrap_pyfunction!(write_report, m)?)?;
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
