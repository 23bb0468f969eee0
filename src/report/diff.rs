//! `diff` output: an aligned table, Markdown for a pull-request comment, JSON, and JUnit XML for
//! CI test reporters. Pure functions from a [`Diff`] to text.

use super::num;
use crate::diff::{Diff, Row, Verdict};

fn ratio_cells(r: &Row) -> (String, String) {
    (
        num(r.ratio, 3),
        match (r.ratio_ci_low, r.ratio_ci_high) {
            (Some(lo), Some(hi)) => format!("{lo:.3} – {hi:.3}"),
            _ => "–".into(),
        },
    )
}

fn p_cell(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 1e-4 => "< 0.0001".into(),
        Some(p) => format!("{p:.4}"),
        None => "–".into(),
    }
}

fn verdict_cell(r: &Row) -> String {
    let v = match (r.verdict, r.repetitions_to_resolve) {
        (Verdict::Unresolved, Some(n)) => format!("unresolved (~{n} runs each)"),
        (v, _) => v.to_string(),
    };
    if r.gates || !matches!(r.verdict, Verdict::Regression) {
        v
    } else {
        format!("{v} (not gated)")
    }
}

/// The label as people read it: `message`, `setup (window)`, `floor`, ...
fn label_cell(r: &Row) -> String {
    match r.kind {
        crate::diff::Kind::Window => format!("{} (window)", r.label),
        _ => r.label.clone(),
    }
}

/// A value with four significant digits and its unit.
fn value(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{} {unit}", crate::units::fmt_sig(v, 4)),
        _ => "–".into(),
    }
}

/// The cells of every row, with a header.
fn cells(d: &Diff) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "group",
        "label",
        "kind",
        "old n",
        "old mean",
        "old 95% CI",
        "new n",
        "new mean",
        "new 95% CI",
        "ratio",
        "ratio 95% CI",
        "p (Welch)",
        "verdict",
        "based on",
    ]
    .map(String::from)
    .to_vec();
    let ci = |lo: Option<f64>, hi: Option<f64>| match (lo, hi) {
        (Some(lo), Some(hi)) => format!(
            "{} – {}",
            crate::units::fmt_sig(lo, 4),
            crate::units::fmt_sig(hi, 4)
        ),
        _ => "–".into(),
    };
    let rows = d
        .rows
        .iter()
        .map(|r| {
            let (ratio, rci) = ratio_cells(r);
            let unit = if r.unit.is_empty() {
                d.metric.unit()
            } else {
                &r.unit
            };
            vec![
                r.group.clone(),
                label_cell(r),
                r.kind.name().to_string(),
                r.old_n.to_string(),
                value(r.old_mean, unit),
                ci(r.old_ci_low, r.old_ci_high),
                r.new_n.to_string(),
                value(r.new_mean, unit),
                ci(r.new_ci_low, r.new_ci_high),
                ratio,
                rci,
                p_cell(r.p_value),
                verdict_cell(r),
                r.basis.clone(),
            ]
        })
        .collect();
    (header, rows)
}

fn summary_line(d: &Diff) -> String {
    let gate: Vec<&str> = d.gate.iter().map(|k| k.name()).collect();
    format!(
        "{} regression(s) in the gated rows ({}), {} improvement(s), {} unresolved, in {} group/label rows ({} per event and class, limit ±{}%)",
        d.regressions,
        gate.join(", "),
        d.improvements,
        d.unresolved,
        d.rows.len(),
        match d.metric {
            crate::diff::Metric::Charge => "excess charge",
            crate::diff::Metric::Energy => "energy",
            crate::diff::Metric::Duration => "duration",
        },
        d.limit * 100.0
    )
}

/// Aligned text for a terminal.
pub fn table(d: &Diff) -> String {
    let (header, rows) = cells(d);
    let mut s = format!(
        "{}\n\nold {}\nnew {}\n\n{}\n",
        d.summary,
        d.old,
        d.new,
        super::table::aligned(&header, &rows)
    );
    s.push_str(&summary_line(d));
    s.push('\n');
    s
}

/// A Markdown table for a pull-request comment.
pub fn markdown(d: &Diff) -> String {
    let (header, rows) = cells(d);
    let esc = |c: &str| crate::units::clean_negative_zeros(&c.replace('|', "\\|"));
    let mut s = format!(
        "### shuntscope diff\n\n{}\n\n{}\n\n| {} |\n|{}|\n",
        esc(&d.summary),
        summary_line(d),
        header
            .iter()
            .map(|h| esc(h))
            .collect::<Vec<_>>()
            .join(" | "),
        header.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    );
    for (r, row) in d.rows.iter().zip(&rows) {
        let mut cells: Vec<String> = row.iter().map(|c| esc(c)).collect();
        if r.verdict == Verdict::Regression && r.gates {
            let k = cells.len() - 2;
            cells[k] = format!("**{}**", cells[k]);
        }
        s.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    s
}

/// JSON with the contract's field names.
pub fn json(d: &Diff) -> String {
    serde_json::to_string_pretty(d).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}

fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// JUnit XML: one testcase per group and label (classname the group), a `<failure>` for each
/// regression, `<skipped>` for rows that are new, gone or unresolved.
pub fn junit(d: &Diff) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let skipped = d
        .rows
        .iter()
        .filter(|r| {
            matches!(
                r.verdict,
                Verdict::New | Verdict::Gone | Verdict::Unresolved
            )
        })
        .count();
    s.push_str(&format!(
        "<testsuites name=\"shuntscope diff\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{skipped}\">\n",
        d.rows.len(),
        d.regressions
    ));
    s.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{skipped}\">\n",
        xml(&format!("energy per event: {} vs {}", d.new, d.old)),
        d.rows.len(),
        d.regressions
    ));
    for r in &d.rows {
        let (ratio, rci) = ratio_cells(r);
        let unit = if r.unit.is_empty() {
            d.metric.unit()
        } else {
            &r.unit
        };
        let what = format!(
            "{} {}: {} → {} (ratio {ratio}, 95% CI {rci}, p {}; based on {})",
            r.group,
            r.label,
            value(r.old_mean, unit),
            value(r.new_mean, unit),
            p_cell(r.p_value),
            r.basis
        );
        let name = match r.kind {
            crate::diff::Kind::Event => r.label.clone(),
            crate::diff::Kind::Window => format!("window {}", r.label),
            _ => r.label.clone(),
        };
        s.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
            xml(&r.group),
            xml(&name)
        ));
        match r.verdict {
            Verdict::Regression if r.gates => s.push_str(&format!(
                ">\n      <failure message=\"{}\" type=\"regression\">{}</failure>\n    </testcase>\n",
                xml(&format!(
                    "{} {} costs more: ratio {ratio} above 1 + {}%",
                    r.group,
                    r.label,
                    d.limit * 100.0
                )),
                xml(&what)
            )),
            Verdict::New | Verdict::Gone | Verdict::Unresolved => s.push_str(&format!(
                ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                xml(&format!("{}: {what}", verdict_cell(r)))
            )),
            _ => s.push_str(" />\n"),
        }
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}
