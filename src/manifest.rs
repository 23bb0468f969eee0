//! The batch manifest: a CSV that maps trace files to a group and metadata.
//!
//! ```text
//! file,group,supply_v,shunt_ohms,bytes_per_message,payload,options
//! http.csv,HTTP,5.0,0.47,981,"{""t"":21.5}",--period 1s
//! nano/mqtt_connect.CSV,MQTT,,,146,,--sample-interval 50us --zero-px 20
//! ```
//! A `pcap` column names the run's packet capture. Only `file` is required. Paths are relative to the manifest's folder. `options` holds
//! `analyze` and attribution flags for that file, on top of the batch's own.

use crate::error::{snippet, Error, Result};
use std::path::{Path, PathBuf};

/// One manifest row.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub file: PathBuf,
    pub group: Option<String>,
    pub supply_v: Option<f64>,
    pub shunt_ohms: Option<f64>,
    pub bytes_per_message: Option<f64>,
    pub payload: Option<String>,
    /// The run's packet capture (relative paths resolved against the manifest's folder).
    pub pcap: Option<PathBuf>,
    /// Flags, split on whitespace.
    pub options: Vec<String>,
}

const COLUMNS: &[&str] = &[
    "file",
    "group",
    "supply_v",
    "shunt_ohms",
    "bytes_per_message",
    "payload",
    "options",
    "pcap",
];

pub fn read(path: &Path) -> Result<Vec<Entry>> {
    let name = path.display().to_string();
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(true)
        .from_path(path)
        .map_err(|e| Error::input(&name, format!("cannot read: {e}")))?;
    let headers = rdr
        .headers()
        .map_err(|e| Error::input(&name, format!("cannot read the header: {e}")).at_line(1))?
        .clone();
    for h in headers.iter() {
        if !COLUMNS.contains(&h) {
            return Err(Error::input(
                &name,
                format!(
                    "unknown column \"{}\": the columns are {}",
                    snippet(h, 30),
                    COLUMNS.join(", ")
                ),
            )
            .at_line(1));
        }
    }
    let col = |n: &str| headers.iter().position(|h| h == n);
    let Some(file_col) = col("file") else {
        return Err(Error::input(&name, "the manifest needs a \"file\" column").at_line(1));
    };
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            Error::input(&name, format!("bad row: {e}")).at_line(line)
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let get = |n: &str| col(n).and_then(|i| rec.get(i)).filter(|s| !s.is_empty());
        let num = |n: &str| -> Result<Option<f64>> {
            match get(n) {
                None => Ok(None),
                Some(s) => s
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .map(Some)
                    .ok_or_else(|| {
                        Error::input(
                            &name,
                            format!(
                                "expected a number in column \"{n}\", found \"{}\"",
                                snippet(s, 30)
                            ),
                        )
                        .at_line(line)
                    }),
            }
        };
        let file = rec.get(file_col).unwrap_or("");
        if file.is_empty() {
            return Err(Error::input(&name, "empty \"file\" cell").at_line(line));
        }
        out.push(Entry {
            file: dir.join(file),
            group: get("group").map(str::to_string),
            supply_v: num("supply_v")?,
            shunt_ohms: num("shunt_ohms")?,
            bytes_per_message: num("bytes_per_message")?,
            payload: get("payload").map(str::to_string),
            pcap: get("pcap").map(|p| dir.join(p)),
            options: get("options")
                .map(|s| s.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
        });
    }
    Ok(out)
}
