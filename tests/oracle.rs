//! migsafe's classification against what PostgreSQL 15 really did.
//!
//! Every case in `fixtures/oracle/<case>/` holds a `setup.sql` (schema and data), a `migration.sql`
//! and the oracle's recorded labels (`expected.json`, written by `scripts/oracle-record.py` from runs
//! of tools/pg-oracle on PostgreSQL 15; see `fixtures/oracle/README.md`). The setup's DDL is the
//! schema migsafe is given (its DML is ignored, as in a `pg_dump --schema-only`); every statement's
//! `lock`, `rewrites_table`, `full_scan` and `destroys_data` must equal the server's labels.

use migsafe::{Analyzer, Catalog, Settings, Source};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/oracle");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    out.sort();
    out
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// One disagreement: case, statement, field, migsafe's value, the server's.
type Mismatch = (String, usize, &'static str, String, String);

fn compare(case: &Path) -> (usize, Vec<Mismatch>) {
    let name = case
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let setup = read(&case.join("setup.sql")).replace("{{rows}}", "1000");
    let schema = Catalog::from_sql(&setup).unwrap_or_else(|e| panic!("{name}: {e}"));
    let migration = read(&case.join("migration.sql"));
    let expected: Value = serde_json::from_str(&read(&case.join("expected.json")))
        .unwrap_or_else(|e| panic!("{name}: expected.json: {e}"));
    let report = Analyzer::new(Settings::default().pg_version(15))
        .schema(schema)
        .analyze(Source::new(name.clone(), &migration))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let want = expected["statements"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: no statements"));
    let ours: Vec<_> = report
        .statements
        .iter()
        .filter(|s| s.kind != "empty")
        .collect();
    assert_eq!(
        ours.len(),
        want.len(),
        "{name}: migsafe reads {} statements, the oracle ran {}",
        ours.len(),
        want.len()
    );
    let mut out = Vec::new();
    for (i, (s, w)) in ours.iter().zip(want).enumerate() {
        let lock = s
            .lock
            .map(|m| m.pg_name().to_string())
            .unwrap_or("null".into());
        let wlock = w["lock"].as_str().unwrap_or("null").to_string();
        if lock != wlock {
            out.push((name.clone(), i, "lock", lock, wlock));
        }
        // A statement that failed on the server stopped part-way (at the first violating row):
        // its scan and rewrite labels describe the failure, not the statement. Only its lock is
        // compared; the failure itself is checked by the rule fixtures.
        if w["status"].as_str() == Some("error") {
            continue;
        }
        for (field, ours) in [
            ("rewrites_table", s.rewrites_table),
            ("full_scan", s.full_scan),
            ("destroys_data", s.destroys_data),
        ] {
            let theirs = w[field].as_bool().unwrap_or(false);
            if ours != theirs {
                out.push((name.clone(), i, field, ours.to_string(), theirs.to_string()));
            }
        }
    }
    (ours.len(), out)
}

#[test]
fn classification_equals_postgresql_15() {
    let cases = cases();
    assert!(cases.len() >= 50, "only {} oracle cases", cases.len());
    let mut statements = 0;
    let mut mismatches = Vec::new();
    for c in &cases {
        let (n, m) = compare(c);
        statements += n;
        mismatches.extend(m);
    }
    let table: Vec<String> = mismatches
        .iter()
        .map(|(c, i, f, o, t)| format!("{c}#{i} {f}: migsafe {o}, PostgreSQL {t}"))
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} disagreements over {} statements in {} cases:\n{}",
        mismatches.len(),
        statements,
        cases.len(),
        table.join("\n")
    );
}
