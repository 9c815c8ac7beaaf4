//! Snapshots of the reading (split, revisions) and the classification (locks, rewrites, scans, data
//! loss, risk, findings) of every fixture, and the no-lost-text property.

mod common;

use std::fmt::Write;
use std::path::Path;

/// The reading of a file, one line per revision and per statement.
fn structure(path: &Path) -> String {
    let report = common::analyze_fixture(path).unwrap_or_else(|e| panic!("{e}"));
    describe(&report)
}

fn describe(report: &migsafe::Report) -> String {
    let mut out = String::new();
    for r in &report.revisions {
        let parents = if r.parents.is_empty() {
            "base".to_string()
        } else {
            r.parents.join(", ")
        };
        let _ = writeln!(
            out,
            "revision {} <- {} ({:?}): statements {:?}",
            r.id, parents, r.direction, r.statements
        );
    }
    for s in &report.statements {
        let sp = &s.span;
        let first = s.sql.lines().next().unwrap_or("");
        let first: String = first.chars().take(60).collect();
        let _ = writeln!(
            out,
            "{:>3} {}:{}-{}:{} [{}..{}] {} {:?} rev={} parsed={} | {}",
            s.index,
            sp.start_line,
            sp.start_column,
            sp.end_line,
            sp.end_column,
            sp.start_byte,
            sp.end_byte,
            s.kind,
            s.transaction,
            s.revision.as_deref().unwrap_or("-"),
            s.parsed,
            first.trim_end()
        );
        let mut facts = Vec::new();
        if let Some(l) = s.lock {
            facts.push(format!("lock={l:?}"));
        }
        if let Some(h) = s.held {
            facts.push(format!("held={h:?}"));
        }
        for (flag, name) in [
            (s.rewrites_table, "rewrites"),
            (s.full_scan, "full_scan"),
            (s.destroys_data, "destroys_data"),
            (s.lock_heavy, "lock_heavy"),
        ] {
            if flag {
                facts.push(name.to_string());
            }
        }
        if !facts.is_empty() || s.risk != migsafe::Risk::None {
            let _ = writeln!(out, "      [{}] risk={}", facts.join(" "), s.risk.as_str());
        }
        for f in &s.findings {
            let _ = writeln!(out, "      {}: {}", f.rule, f.message);
        }
    }
    let _ = writeln!(
        out,
        "summary: {} statements, {} unparsed",
        report.summary.statements, report.summary.unparsed
    );
    out
}

#[test]
fn alembic_fixtures() {
    insta::glob!("../fixtures/alembic", "*.sql", |path| {
        insta::assert_snapshot!(structure(path));
    });
}

#[test]
fn django_fixtures() {
    insta::glob!("../fixtures/django", "*.sql", |path| {
        insta::assert_snapshot!(structure(path));
    });
}

/// Realistic safe migrations: nothing at warning level or above may fire (a false alarm is a defect).
#[test]
fn safe_fixtures() {
    let mut count = 0;
    insta::glob!("../fixtures/safe", "*.sql", |path| {
        count += 1;
        let report = common::analyze_fixture(path).unwrap_or_else(|e| panic!("{e}"));
        let alarms: Vec<String> = report
            .statements
            .iter()
            .flat_map(|s| s.findings.iter().map(move |f| (s, f)))
            .filter(|(_, f)| f.severity >= migsafe::Severity::Warning)
            .map(|(s, f)| format!("line {}: {}: {}", s.span.start_line, f.rule, f.message))
            .collect();
        assert!(
            alarms.is_empty(),
            "{}: false alarms:\n{}",
            path.display(),
            alarms.join("\n")
        );
        insta::assert_snapshot!(describe(&report));
    });
    assert!(count >= 15, "only {count} safe fixtures");
}

#[test]
fn plain_fixtures() {
    insta::glob!("../fixtures/plain", "*.sql", |path| {
        insta::assert_snapshot!(structure(path));
    });
}

/// The rollback fixtures (each round-tripped on PostgreSQL by tests/postgres.rs): every
/// statement's reversibility and the whole rollback script, so a change to what is put back shows
/// in review.
#[test]
fn rollback_fixtures() {
    let mut count = 0;
    insta::glob!("../fixtures/rollback", "*.sql", |path| {
        count += 1;
        let report = common::analyze_fixture(path).unwrap_or_else(|e| panic!("{e}"));
        let mut out = String::new();
        for s in &report.statements {
            let _ = writeln!(
                out,
                "{}:{} {} {:?}",
                s.span.start_line,
                s.kind,
                s.sql.lines().next().unwrap_or(""),
                s.reversible
            );
        }
        let _ = writeln!(out, "\n{}", report.rollback_script());
        insta::assert_snapshot!(out);
    });
    assert!(count >= 15, "only {count} rollback fixtures");
}

/// A statement that destroys data is never claimed exactly reversible, in any fixture.
#[test]
fn data_loss_is_never_claimed_exact() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in ["alembic", "django", "plain", "safe", "rules", "history"] {
        if let Ok(rd) = std::fs::read_dir(root.join(dir)) {
            files.extend(
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "sql")),
            );
        }
    }
    if let Ok(rd) = std::fs::read_dir(root.join("oracle")) {
        files.extend(
            rd.filter_map(|e| e.ok().map(|e| e.path().join("migration.sql")))
                .filter(|p| p.is_file()),
        );
    }
    let mut destroying = 0;
    for f in &files {
        let report = common::analyze_fixture(f).unwrap_or_else(|e| panic!("{e}"));
        for s in report.statements.iter().filter(|s| s.destroys_data) {
            destroying += 1;
            assert_ne!(
                s.reversible,
                migsafe::report::Reversibility::Exact,
                "{}:{}: destroys data but is claimed exactly reversible: {}",
                f.display(),
                s.span.start_line,
                s.sql
            );
        }
    }
    assert!(
        destroying >= 20,
        "only {destroying} data-destroying statements seen"
    );
}
