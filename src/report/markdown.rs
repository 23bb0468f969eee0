//! report.md: the batch report's tables for people.

use super::{batch_tables, BatchReport};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

pub fn render(r: &BatchReport) -> String {
    let mut s = String::from("# shuntscope batch report\n\n");
    let ok = r.files.len() - r.failed;
    s.push_str(&format!(
        "{} files analysed, {} failed; groups: {}. Made by {}.\n\n",
        ok,
        r.failed,
        r.summaries
            .groups
            .iter()
            .map(|g| g.group.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        r.tool
    ));
    if let Some(l) = &r.summaries.lesson {
        s.push_str(&format!("**In short:** {}\n\n", l.text));
    }
    for t in batch_tables(r) {
        s.push_str(&format!("## {}\n\n", t.title));
        if !t.intro.is_empty() {
            s.push_str(&format!("{}\n\n", t.intro));
        }
        s.push_str(&format!(
            "| {} |\n",
            t.header
                .iter()
                .map(|h| cell(h))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
        s.push_str(&format!("|{}\n", "---|".repeat(t.header.len())));
        for row in &t.rows {
            s.push_str(&format!(
                "| {} |\n",
                row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
            ));
        }
        s.push('\n');
    }
    s
}
