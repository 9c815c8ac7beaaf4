//! Shared by the integration tests: reading a fixture that may carry its schema.
// Each test crate uses a different part of this module.
#![allow(dead_code)]

pub mod pg;

use migsafe::report::Observed;
use migsafe::{Analyzer, Catalog, Facts, Plan, Report, Settings, Source, TableSize};
use std::path::{Path, PathBuf};

/// The line that separates a fixture's schema (above) from its migration (below).
pub const SCHEMA_END: &str = "-- end of schema";

/// Analyses a fixture file. A `-- pg-version: N` line sets the version; the text above a
/// `-- end of schema` line is loaded as the schema, and the migration below keeps the file's line
/// numbers (the schema part is blanked).
///
/// What a database would add can be written down too: `-- size: TABLE ROWS HEAP_BYTES TOTAL_BYTES`
/// in the schema gives a table's size; `-- plan: NAME` before a statement attaches the EXPLAIN JSON
/// captured in `fixtures/plans/NAME.json`, and `-- observed: {…}` what a verification run saw.
pub fn analyze_fixture(path: &Path) -> Result<Report, String> {
    let (analyzer, name, migration) = fixture_analyzer(path)?;
    analyzer
        .analyze(Source::new(name, &migration))
        .map_err(|e| e.to_string())
}

/// [`analyze_fixture`]'s analyzer (schema, downgrade, facts), the file name and the migration text.
pub fn fixture_analyzer(path: &Path) -> Result<(Analyzer, String, String), String> {
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
            let mut catalog = Catalog::from_sql(schema).map_err(|e| e.to_string())?;
            for l in schema.lines() {
                if let Some(v) = l.trim().strip_prefix("-- size:") {
                    let (table, size) = parse_size(v).ok_or(format!("bad size line: {l}"))?;
                    catalog.set_table_size(table, size);
                }
            }
            analyzer = analyzer.schema(catalog);
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
    let report = analyzer
        .analyze(Source::new(name.clone(), &migration))
        .map_err(|e| e.to_string())?;
    let mut facts = Facts::default();
    let plans_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/plans");
    for (i, l) in migration.lines().enumerate() {
        let line = i as u32 + 1;
        let l = l.trim();
        let Some(index) = report
            .statements
            .iter()
            .find(|s| s.span.start_line > line)
            .map(|s| s.index)
        else {
            continue;
        };
        if let Some(plan) = l.strip_prefix("-- plan:") {
            let file = plans_dir.join(format!("{}.json", plan.trim()));
            let json =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let value: serde_json::Value =
                serde_json::from_str(&json).map_err(|e| format!("{}: {e}", file.display()))?;
            facts.plans.insert(index, Plan::from_json(&value)?);
        } else if let Some(observed) = l.strip_prefix("-- observed:") {
            let o: Observed =
                serde_json::from_str(observed.trim()).map_err(|e| format!("line {line}: {e}"))?;
            facts.observed.insert(index, o);
        }
    }
    Ok((analyzer.facts(facts), name, migration))
}

/// `public.runs 500000 80000000 95000000`
fn parse_size(v: &str) -> Option<(&str, TableSize)> {
    let mut it = v.split_whitespace();
    let table = it.next()?;
    let rows = it.next()?.parse().ok()?;
    let heap_bytes = it.next()?.parse().ok()?;
    let total_bytes = it.next()?.parse().ok()?;
    Some((
        table,
        TableSize {
            rows,
            heap_bytes,
            total_bytes,
        },
    ))
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

/// The command line program (`cargo test` builds it: the `cli` feature is a default one).
pub mod cli {
    use std::path::PathBuf;
    use std::process::{Command, Output};

    pub fn exe() -> PathBuf {
        PathBuf::from(env!("CARGO_BIN_EXE_migsafe"))
    }

    /// Runs the CLI with `args` and these environment variables (and no `PG*` or `HOME` from the
    /// test's own environment).
    pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(exe());
        cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
        for (k, _) in std::env::vars() {
            if k.starts_with("PG") || k == "HOME" || k == "MIGSAFE_DATABASE_URL" {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env.iter().copied());
        cmd.output().unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e} (plain `cargo test` builds it)",
                exe().display()
            )
        })
    }
}

/// Every `.rs` file under `dir`, at any depth, added to `out`.
pub fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
