//! Report: pure functions from results to text, one file per output format.

pub mod csv;
pub mod json;
pub mod table;

use crate::analysis::Analysis;
use crate::error::Result;

/// Output formats of `analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned text for people.
    Table,
    /// Everything, with stable field names.
    Json,
    /// One row per burst.
    Csv,
}

/// Render one analysis in the chosen format.
pub fn render(a: &Analysis, format: OutputFormat) -> Result<String> {
    match format {
        OutputFormat::Table => Ok(table::render(a)),
        OutputFormat::Json => json::render(a),
        OutputFormat::Csv => Ok(csv::render(a)),
    }
}
