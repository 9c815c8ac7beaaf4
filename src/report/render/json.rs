//! The JSON report (DESIGN.md's contract, schema_version 1; schema in `schema/report.schema.json`).

use crate::report::Report;

/// Pretty-printed JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    finish(serde_json::to_string_pretty(report))
}

/// One report: its object; several: an array of them (the CLI's output for several files).
pub fn render_many(reports: &[Report]) -> String {
    match reports {
        [one] => render(one),
        _ => render_array(reports),
    }
}

/// Always an array, even of one report (for callers that promised an array, e.g. several inputs
/// of which only one could be read).
pub fn render_array(reports: &[Report]) -> String {
    finish(serde_json::to_string_pretty(reports))
}

fn finish(json: serde_json::Result<String>) -> String {
    // Serialising plain data with string keys cannot fail; keep a valid document if it ever did.
    let mut s = json.unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    s.push('\n');
    s
}
