//! The JSON report (DESIGN.md's contract, schema_version 1).

use crate::report::Report;

/// Pretty-printed JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    // Serialising plain data with string keys cannot fail; keep a valid document if it ever did.
    let mut s = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    s.push('\n');
    s
}
