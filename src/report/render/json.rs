//! The JSON report (DESIGN.md's contract, schema_version 1; schema in `schema/report.schema.json`):
//! serde_json's pretty layout with a trailing newline.

use crate::report::Report;
use std::io::Write;

/// One report as its JSON document.
pub fn render(report: &Report) -> String {
    render_many(std::slice::from_ref(report))
}

/// One report: its object; several: an array of them (the CLI's output for several files).
pub fn render_many(reports: &[Report]) -> String {
    let mut out = Vec::new();
    // Writing plain data with string keys into memory cannot fail.
    if write_many(&mut out, reports).is_err() {
        return String::new();
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// [`render_many`] written to `w`.
pub fn write_many(w: &mut impl Write, reports: &[Report]) -> std::io::Result<()> {
    let written = match reports {
        [one] => serde_json::to_writer_pretty(&mut *w, one),
        _ => serde_json::to_writer_pretty(&mut *w, reports),
    };
    written.map_err(std::io::Error::from)?;
    w.write_all(b"\n")
}

/// Always an array, even of one report (for callers that promised an array, e.g. several inputs
/// of which only one could be read).
pub fn write_array(w: &mut impl Write, reports: &[Report]) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, reports).map_err(std::io::Error::from)?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_report_is_an_object_and_several_an_array() {
        let report = crate::analyze("ALTER TABLE t ADD COLUMN c int;");
        let one = render(&report);
        assert!(one.starts_with("{\n  \"schema_version\": 1,") && one.ends_with("}\n"));
        let two = render_many(&[report.clone(), report]);
        assert!(two.starts_with("[\n  {\n    \"schema_version\": 1,") && two.ends_with("]\n"));
    }
}
