//! report.html: one self-contained file (inline CSS, charts inlined as `data:` URIs, nothing
//! loaded from anywhere else), every string escaped.

use super::{batch_tables, BatchReport};
use base64::Engine;

/// A chart to inline: its file name in the report folder, caption and PNG bytes.
pub struct Image {
    pub name: String,
    pub caption: String,
    pub png: Vec<u8>,
}

/// Escape text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}\
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}.lesson{background:#f6f8e8;padding:.8em 1em;border-left:4px solid #8a3}\
p.intro{color:#555;max-width:60em}figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}";

/// Render, with `images` inlined (so the page can be mailed alone).
pub fn render(r: &BatchReport, images: &[Image]) -> String {
    let mut s = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    // Images from data: URIs only, styles inline only, nothing else from anywhere.
    s.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">");
    s.push_str(&format!(
        "<title>shuntscope batch report</title><style>{STYLE}</style></head><body>\n"
    ));
    s.push_str("<h1>shuntscope batch report</h1>\n");
    s.push_str(&format!(
        "<p>{} files analysed, {} failed. Made by {}.</p>\n",
        r.files.len() - r.failed,
        r.failed,
        esc(&r.tool)
    ));
    if let Some(l) = &r.summaries.lesson {
        s.push_str(&format!(
            "<p class=\"lesson\"><strong>In short:</strong> {}</p>\n",
            esc(&l.text)
        ));
    }
    for im in images {
        s.push_str(&format!(
            "<figure id=\"{}\"><img src=\"data:image/png;base64,{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>\n",
            esc(&im.name),
            base64::engine::general_purpose::STANDARD.encode(&im.png),
            esc(&im.caption),
            esc(&im.caption)
        ));
    }
    for t in batch_tables(r) {
        s.push_str(&format!("<h2 id=\"{}\">{}</h2>\n", t.id, esc(&t.title)));
        if !t.intro.is_empty() {
            s.push_str(&format!("<p class=\"intro\">{}</p>\n", esc(&t.intro)));
        }
        s.push_str("<table><thead><tr>");
        for h in &t.header {
            s.push_str(&format!("<th>{}</th>", esc(h)));
        }
        s.push_str("</tr></thead><tbody>\n");
        for row in &t.rows {
            s.push_str("<tr>");
            for c in row {
                s.push_str(&format!("<td>{}</td>", esc(c)));
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody></table>\n");
    }
    s.push_str("</body></html>\n");
    s
}
