//! Shared by the integration tests: reading a fixture that may carry its schema.
// Each test crate uses a different part of this module.
#![allow(dead_code)]

use migsafe::{Analyzer, Catalog, Report, Settings, Source};
use std::path::Path;

/// The line that separates a fixture's schema (above) from its migration (below).
pub const SCHEMA_END: &str = "-- end of schema";

/// Analyses a fixture file. A `-- pg-version: N` line sets the version; the text above a
/// `-- end of schema` line is loaded as the schema, and the migration below keeps the file's line
/// numbers (the schema part is blanked).
pub fn analyze_fixture(path: &Path) -> Result<Report, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text =
        migsafe::check_text(&path.display().to_string(), &bytes).map_err(|e| e.to_string())?;
    let mut settings = Settings::default();
    for l in text.lines() {
        if let Some(v) = l.trim().strip_prefix("-- pg-version:") {
            let v = v
                .trim()
                .parse()
                .map_err(|_| format!("bad pg-version {v}"))?;
            settings = settings.pg_version(v);
        }
    }
    let mut analyzer = Analyzer::new(settings);
    let migration = match split_schema(text) {
        Some((schema, migration)) => {
            analyzer = analyzer.schema(Catalog::from_sql(schema).map_err(|e| e.to_string())?);
            migration
        }
        None => text.to_string(),
    };
    // `x.sql` may come with the author's downgrade in `x.downgrade.sql`.
    let down_path = path.with_extension("downgrade.sql");
    let down = std::fs::read_to_string(&down_path).ok();
    if let Some(d) = &down {
        analyzer = analyzer.downgrade(Source::new(down_path.display().to_string(), d));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    analyzer
        .analyze(Source::new(name, &migration))
        .map_err(|e| e.to_string())
}

/// Splits a fixture at its `-- end of schema` line: the schema text, and the migration with the
/// schema's lines blanked (so line numbers stay the file's) and every other byte kept, CRLF included.
pub fn split_schema(text: &str) -> Option<(&str, String)> {
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if line.trim() == SCHEMA_END {
            let rest = &text[offset + line.len()..];
            let newline = if line.ends_with("\r\n") { "\r\n" } else { "\n" };
            return Some((&text[..offset], format!("{}{rest}", newline.repeat(i + 1))));
        }
        offset += line.len();
    }
    None
}
