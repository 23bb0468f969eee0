//! JSON: the [`Analysis`] as it is; its field names are the contract.

use crate::analysis::Analysis;
use crate::error::{Error, Result};

pub fn render(a: &Analysis) -> Result<String> {
    let mut s = serde_json::to_string_pretty(a)
        .map_err(|e| Error::usage(format!("cannot encode JSON: {e}")))?;
    s.push('\n');
    Ok(s)
}
