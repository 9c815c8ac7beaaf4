//! The JSON report (DESIGN.md's contract, schema_version 1; schema in `schema/report.schema.json`).

use crate::report::Report;

/// Pretty-printed JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    collect(|w| write(w, report))
}

/// One report: its object; several: an array of them (the CLI's output for several files).
pub fn render_many(reports: &[Report]) -> String {
    collect(|w| write_many(w, reports))
}

/// Always an array, even of one report (for callers that promised an array, e.g. several inputs
/// of which only one could be read).
pub fn render_array(reports: &[Report]) -> String {
    collect(|w| write_array(w, reports))
}

/// What a writer produced, as text: the string and streamed forms are one code path.
fn collect(f: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    // Serialising plain data with string keys into memory cannot fail; keep a valid document if
    // it ever did.
    if let Err(e) = f(&mut out) {
        return format!("{{\"error\": {:?}}}\n", e.to_string());
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`render_many`] written straight to `w`: the document is never held in memory as a whole (tens
/// of megabytes for a migration of tens of thousands of statements).
pub fn write_many(w: &mut impl std::io::Write, reports: &[Report]) -> std::io::Result<()> {
    match reports {
        [one] => write(w, one),
        _ => write(w, reports),
    }
}

/// [`render_array`] written straight to `w`.
pub fn write_array(w: &mut impl std::io::Write, reports: &[Report]) -> std::io::Result<()> {
    write(w, reports)
}

fn write<T: serde::Serialize + ?Sized>(
    w: &mut impl std::io::Write,
    value: &T,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value).map_err(std::io::Error::from)?;
    w.write_all(b"\n")
}
