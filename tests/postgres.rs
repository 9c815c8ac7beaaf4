//! Round trips on a real PostgreSQL: apply a migration, apply migsafe's generated rollback, and check
//! that the schema is what it was whenever the rollback claims to restore it; then run the same
//! rollback a second time, which must succeed and leave the schema as it was.
//!
//! Each test works in its own scratch database on `MIGSAFE_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and drops it. Without a server the tests say so
//! loudly and pass, except under `CI=true`, where they fail.

mod common;

use common::pg::{Scratch, admin};
use migsafe::report::{Report, Reversibility, StatementReport};
use migsafe::{Analyzer, Catalog, Settings, Source};
use postgres::Client;
use std::path::{Path, PathBuf};

/// The schema as comparable lines: relations, columns (sorted by name: column order aside), column
/// storage/compression/collation where they are not the type's, indexes and which one is clustered,
/// table constraints and domain constraints with validity, enum types, views, triggers, functions,
/// extensions, comments, relation owners and privileges (beyond the owner's defaults, or the
/// owner's defaults taken away), sequence parameters and ownership, storage parameters
/// (`reloptions` of the relation itself, not of its TOAST table), extended statistics, inheritance
/// and partitions.
fn snapshot(c: &mut Client) -> Vec<String> {
    const USER: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')";
    // The privileges a relation's owner has while its ACL is NULL (never granted or revoked).
    const ACLDEFAULT: &str =
        "acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner)";
    let queries = [
        format!("SELECT 'rel ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || c.relpersistence::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND c.relkind IN ('r','p','v','m','S','f')"),
        format!("SELECT 'col ' || n.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END || CASE WHEN a.attgenerated <> '' THEN ' generated' ELSE '' END FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE {USER} AND c.relkind IN ('r','p','v','m','f') AND a.attnum > 0 AND NOT a.attisdropped"),
        format!("SELECT 'idx ' || indexdef FROM pg_indexes i JOIN pg_namespace n ON n.nspname = i.schemaname WHERE {USER}"),
        format!("SELECT 'con ' || n.nspname || '.' || c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) || CASE WHEN k.convalidated THEN '' ELSE ' (not validated)' END FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER}"),
        format!("SELECT 'enum ' || n.nspname || '.' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER} GROUP BY n.nspname, t.typname"),
        format!("SELECT 'type ' || n.nspname || '.' || t.typname || ' ' || t.typtype::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER} AND t.typtype IN ('d','e','c') AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)"),
        format!("SELECT 'view ' || n.nspname || '.' || c.relname || ' ' || pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND c.relkind IN ('v','m')"),
        "SELECT 'trigger ' || tgrelid::regclass::text || ' ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text FROM pg_trigger t WHERE NOT t.tgisinternal".to_string(),
        format!("SELECT 'fn ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"),
        "SELECT 'ext ' || extname FROM pg_extension".to_string(),
        format!("SELECT 'schema ' || n.nspname FROM pg_namespace n WHERE {USER} AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'"),
        "SELECT 'comment ' || classoid::regclass::text || ' ' || objoid::regclass::text || ' ' || objsubid || ' ' || description FROM pg_description WHERE classoid = 'pg_class'::regclass AND objoid >= 16384".to_string(),
        format!("SELECT 'owner ' || n.nspname || '.' || c.relname || ' ' || pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND c.relkind IN ('r','p','v','m','S','f')"),
        format!("SELECT 'grant ' || n.nspname || '.' || c.relname || ' ' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ' ' || a.privilege_type || CASE WHEN a.is_grantable THEN ' with grant option' ELSE '' END FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, {ACLDEFAULT})) a WHERE {USER} AND c.relkind IN ('r','p','v','m','S','f') AND (a.grantee, a.privilege_type, a.is_grantable) NOT IN (SELECT d.grantee, d.privilege_type, d.is_grantable FROM aclexplode({ACLDEFAULT}) d)"),
        format!("SELECT 'revoke ' || n.nspname || '.' || c.relname || ' ' || pg_get_userbyid(d.grantee) || ' ' || d.privilege_type FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode({ACLDEFAULT}) d WHERE {USER} AND c.relkind IN ('r','p','v','m','S','f') AND c.relacl IS NOT NULL AND (d.grantee, d.privilege_type, d.is_grantable) NOT IN (SELECT a.grantee, a.privilege_type, a.is_grantable FROM aclexplode(c.relacl) a)"),
        format!("SELECT 'seq ' || n.nspname || '.' || c.relname || ' as ' || format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache || CASE WHEN s.seqcycle THEN ' cycle' ELSE ' no cycle' END FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER}"),
        format!("SELECT 'owned ' || n.nspname || '.' || c.relname || ' by ' || tn.nspname || '.' || t.relname || '.' || a.attname FROM pg_depend d JOIN pg_class c ON c.oid = d.objid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid WHERE {USER} AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' AND c.relkind = 'S'"),
        format!("SELECT 'cluster ' || n.nspname || '.' || t.relname || ' on ' || i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE {USER} AND x.indisclustered"),
        format!("SELECT 'relopt ' || n.nspname || '.' || c.relname || ' ' || array_to_string(ARRAY(SELECT o FROM unnest(c.reloptions) o ORDER BY o), ',') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND c.relkind IN ('r','p','v','m','f') AND c.reloptions IS NOT NULL"),
        format!("SELECT 'colopt ' || n.nspname || '.' || c.relname || '.' || a.attname || CASE WHEN a.attstorage <> t.typstorage THEN ' storage ' || a.attstorage::text ELSE '' END || CASE WHEN a.attcompression <> '' THEN ' compression ' || a.attcompression::text ELSE '' END || CASE WHEN a.attcollation <> t.typcollation THEN ' collate ' || a.attcollation::regcollation::text ELSE '' END FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid WHERE {USER} AND c.relkind IN ('r','p','v','m','f') AND a.attnum > 0 AND NOT a.attisdropped AND (a.attstorage <> t.typstorage OR a.attcompression <> '' OR a.attcollation <> t.typcollation)"),
        format!("SELECT 'stats ' || pg_get_statisticsobjdef(s.oid) || CASE WHEN s.stxstattarget >= 0 THEN ' target ' || s.stxstattarget ELSE '' END FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE {USER}"),
        format!("SELECT 'inherit ' || n.nspname || '.' || c.relname || ' from ' || pn.nspname || '.' || p.relname || coalesce(' ' || pg_get_expr(c.relpartbound, c.oid), '') FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE {USER} AND c.relkind IN ('r','p','f')"),
        format!("SELECT 'domcon ' || n.nspname || '.' || t.typname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) || CASE WHEN k.convalidated THEN '' ELSE ' (not validated)' END FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER} AND k.contypid <> 0"),
    ];
    let mut out = Vec::new();
    for sql in &queries {
        let rows = c
            .query(sql.as_str(), &[])
            .unwrap_or_else(|e| panic!("{sql}: {}", db_error(&e)));
        for row in rows {
            out.push(row.get::<_, Option<String>>(0).unwrap_or_default());
        }
    }
    out.sort();
    out
}

/// Runs statements one by one in autocommit (transaction control left out: each statement is then
/// its own transaction, which also lets CONCURRENTLY forms run).
fn run_all<'a>(c: &mut Client, sqls: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
    for sql in sqls {
        let head = sql.trim_start().to_uppercase();
        if ["BEGIN", "COMMIT", "ROLLBACK", "START TRANSACTION", "END"]
            .iter()
            .any(|k| {
                head.starts_with(k) && head[k.len()..].trim_start_matches(';').trim().is_empty()
            })
        {
            continue;
        }
        let first = sql.lines().next().unwrap_or("");
        let err = |e: postgres::Error| format!("{first}: {}", db_error(&e));
        if head.starts_with("COPY ") && head.contains("FROM STDIN") {
            copy_from_export(c, sql)?;
        } else if head.starts_with("LOCK ") {
            // LOCK TABLE only exists inside a transaction block.
            c.batch_execute(&format!("BEGIN; {sql}; COMMIT;"))
                .map_err(err)?;
        } else {
            c.batch_execute(sql).map_err(err)?;
        }
    }
    Ok(())
}

fn db_error(e: &postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_else(|| e.to_string())
}

/// The forward statements of a report (by statement index).
fn forward<'a>(r: &'a Report, which: &[usize]) -> Vec<&'a str> {
    which
        .iter()
        .filter_map(|&i| r.statements.get(i))
        .filter(|s| s.parsed && s.kind != "empty")
        // Unbound `%(name)s` parameters: Alembic fills them in only when it runs the migration.
        .filter(|s| !s.sql.contains("%("))
        .map(|s| s.sql.as_str())
        .collect()
}

/// The rollback of the given statements: each statement's inverse, last statement first.
fn backward<'a>(r: &'a Report, which: &[usize]) -> Vec<&'a str> {
    which
        .iter()
        .rev()
        .filter_map(|&i| r.statements.get(i))
        .flat_map(|s| s.rollback.iter().map(String::as_str))
        .collect()
}

fn worst<'a>(it: impl Iterator<Item = &'a StatementReport>) -> Reversibility {
    let mut out = Reversibility::Exact;
    for s in it {
        out = match (out, s.reversible) {
            (Reversibility::Impossible, _) | (_, Reversibility::Impossible) => {
                Reversibility::Impossible
            }
            (Reversibility::Lossy, _) | (_, Reversibility::Lossy) => Reversibility::Lossy,
            _ => Reversibility::Exact,
        };
    }
    out
}

fn diff(before: &[String], after: &[String]) -> String {
    let gone: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
    let new: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
    format!("missing after rollback: {gone:#?}\nleft over by rollback: {new:#?}")
}

/// Runs a rollback that already ran once a second time (a rollback script is re-run after it
/// stopped half-way, or by mistake): it must succeed and leave the schema as it was before the
/// migration. `after` is the schema after the first run; a difference the first run already left
/// is not reported twice.
fn second_run<'a>(
    c: &mut Client,
    rollback: impl IntoIterator<Item = &'a str>,
    before: &[String],
    after: &[String],
) -> Result<(), String> {
    run_all(c, rollback).map_err(|e| format!("rollback failed on its second run: {e}"))?;
    let again = snapshot(c);
    if again != before && again != after {
        return Err(format!(
            "after the rollback's second run:\n{}",
            diff(before, &again)
        ));
    }
    Ok(())
}

/// The revision history: every revision applied on the state after the previous ones, then its
/// rollback; the schema must come back whenever the revision is claimed exact or lossy (lossy
/// loses data, never structure).
#[test]
fn history_round_trips_revision_by_revision() {
    let Some(mut admin) = admin() else { return };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/history/upgrade.sql");
    let text = std::fs::read_to_string(&path).expect("history fixture");
    let report = migsafe::analyze(&text);
    assert!(
        report.revisions.len() >= 30,
        "{} revisions",
        report.revisions.len()
    );
    // Groups: statements before the first revision, then each revision.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for s in &report.statements {
        let key = s.revision.clone().unwrap_or_else(|| "(setup)".to_string());
        match groups.last_mut() {
            Some((k, v)) if *k == key => v.push(s.index),
            _ => groups.push((key, vec![s.index])),
        }
    }
    let state = Scratch::new(&mut admin, "rt", None);
    let mut checked = 0;
    let mut failures = Vec::new();
    for (rev, stmts) in &groups {
        let claimed = worst(stmts.iter().filter_map(|&i| report.statements.get(i)));
        if claimed != Reversibility::Impossible {
            // Round trip on a copy of the current state.
            let copy = Scratch::new(&mut admin, "rt", Some(&state.name));
            let mut c = copy.connect();
            let before = snapshot(&mut c);
            run_all(&mut c, forward(&report, stmts))
                .unwrap_or_else(|e| panic!("revision {rev}: forward: {e}"));
            match run_all(&mut c, backward(&report, stmts)) {
                Ok(()) => {
                    let after = snapshot(&mut c);
                    if before != after {
                        failures.push(format!(
                            "revision {rev} ({claimed:?}):\n{}",
                            diff(&before, &after)
                        ));
                    }
                    if let Err(e) = second_run(&mut c, backward(&report, stmts), &before, &after) {
                        failures.push(format!("revision {rev} ({claimed:?}): {e}"));
                    }
                }
                Err(e) => failures.push(format!("revision {rev}: rollback failed: {e}")),
            }
            checked += 1;
            drop(c);
        }
        let mut c = state.connect();
        run_all(&mut c, forward(&report, stmts))
            .unwrap_or_else(|e| panic!("revision {rev}: forward on the main state: {e}"));
    }
    assert!(
        checked >= 20,
        "only {checked} revisions were claimed reversible"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Fixture migrations with their schema: the whole migration, then the whole rollback (twice).
#[test]
fn fixtures_round_trip() {
    let Some(mut admin) = admin() else { return };
    let _roles = FixtureRoles::new();
    let paths = fixture_migrations();
    let mut checked = 0;
    let mut not_runnable = Vec::new();
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let (schema, migration) = match common::split_schema(&text) {
            Some((s, m)) => (s.to_string(), m),
            None => (String::new(), text.clone()),
        };
        let catalog = Catalog::from_sql(&schema).expect("schema");
        let mut analyzer = Analyzer::new(Settings::default());
        if !schema.is_empty() {
            analyzer = analyzer.schema(catalog);
        }
        let report = analyzer
            .analyze(Source::new(path.display().to_string(), &migration))
            .expect("analyze");
        let claimed = worst(report.statements.iter());
        let db = Scratch::new(&mut admin, "rt", None);
        let mut c = db.connect();
        let schema_stmts: Vec<String> = migsafe::analyze(&schema)
            .statements
            .into_iter()
            .map(|s| s.sql)
            .collect();
        if let Err(e) = run_all(&mut c, schema_stmts.iter().map(String::as_str)) {
            failures.push(format!("{}: schema: {e}", path.display()));
            continue;
        }
        let all: Vec<usize> = (0..report.statements.len()).collect();
        let before = snapshot(&mut c);
        if let Err(e) = run_all(&mut c, forward(&report, &all)) {
            // Reading fixtures that touch tables they do not create cannot run on their own.
            not_runnable.push(format!("{}: {e}", path.display()));
            continue;
        }
        if claimed == Reversibility::Impossible {
            continue;
        }
        checked += 1;
        match run_all(&mut c, backward(&report, &all)) {
            Ok(()) => {
                let after = snapshot(&mut c);
                if before != after {
                    failures.push(format!(
                        "{} ({claimed:?}):\n{}",
                        path.display(),
                        diff(&before, &after)
                    ));
                }
                if let Err(e) = second_run(&mut c, backward(&report, &all), &before, &after) {
                    failures.push(format!("{} ({claimed:?}): {e}", path.display()));
                }
            }
            Err(e) => failures.push(format!("{}: rollback failed: {e}", path.display())),
        }
    }
    eprintln!("round-tripped {checked} fixtures");
    assert!(
        not_runnable.is_empty(),
        "fixtures whose migration does not run on their schema: {not_runnable:#?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked >= 15, "only {checked} fixtures round-tripped");
}

/// Runs one statement of a file as written, transaction control included (so a `BEGIN … COMMIT`
/// block is one transaction, as in production).
fn run_as_written(c: &mut Client, sql: &str) -> Result<(), String> {
    let head = sql.trim_start().to_uppercase();
    if head.starts_with("COPY ") && head.contains("FROM STDIN") {
        copy_from_export(c, sql)
    } else {
        let first = sql.lines().next().unwrap_or("");
        c.batch_execute(sql)
            .map_err(|e| format!("{first}: {}", db_error(&e)))
    }
}

/// The schema plus the indexes left INVALID (a schema comparison by definition alone would not
/// see that a failed concurrent build left one behind).
fn snapshot_with_validity(c: &mut Client) -> Vec<String> {
    let mut out = snapshot(c);
    let rows = c
        .query(
            "SELECT 'invalid index ' || indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid",
            &[],
        )
        .unwrap_or_else(|e| panic!("pg_index: {}", db_error(&e)));
    out.extend(rows.iter().map(|r| r.get::<_, String>(0)));
    out.sort();
    out
}

/// Failure modes against the server: for every fixture migration with several commit units and a complete rollback, stop
/// the migration after each commit unit with the next unit failing (a transaction block fails at
/// its end and rolls back; a failed CREATE INDEX CONCURRENTLY leaves its index INVALID), run the
/// generated rollback script as written (its own BEGIN/COMMIT), and compare the schema with the
/// one before the migration. The same script must also undo the finished migration.
#[test]
fn rollback_works_after_a_stop_at_every_commit_unit() {
    let Some(mut admin) = admin() else { return };
    let _roles = FixtureRoles::new();
    let paths = fixture_migrations();
    let mut checked_files = Vec::new();
    let mut stops = 0;
    let mut failures = Vec::new();
    for path in &paths {
        let report = common::analyze_fixture(path).unwrap_or_else(|e| panic!("{e}"));
        let mut modes: Vec<&migsafe::report::FailureMode> = report
            .revisions
            .iter()
            .flat_map(|r| &r.failure_modes)
            .chain(&report.failure_modes)
            .collect();
        modes.sort_by_key(|m| m.unit);
        modes.dedup_by_key(|m| m.unit);
        // Placeholders (`%(name)s`) only get values when Alembic runs the migration.
        let runnable = report
            .statements
            .iter()
            .all(|s| s.parsed && !s.sql.contains("%("));
        if modes.len() < 2 || !report.rollback.complete || !runnable {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let schema = common::split_schema(&text)
            .map(|(s, _)| s.to_string())
            .unwrap_or_default();
        let base = Scratch::new(&mut admin, "rt", None);
        {
            let mut c = base.connect();
            let schema_stmts: Vec<String> = migsafe::analyze(&schema)
                .statements
                .into_iter()
                .map(|s| s.sql)
                .collect();
            run_all(&mut c, schema_stmts.iter().map(String::as_str))
                .unwrap_or_else(|e| panic!("{}: schema: {e}", path.display()));
        }
        let rollback: Vec<String> = {
            let script = report.rollback_script();
            migsafe::analyze(script)
                .statements
                .into_iter()
                .map(|s| s.sql)
                .filter(|s| !s.trim().is_empty())
                .collect()
        };
        // Stop points: after 0, 1, … units, and the finished file.
        for stop in 0..=modes.len() {
            let db = Scratch::new(&mut admin, "rt", Some(&base.name));
            let mut c = db.connect();
            let before = snapshot_with_validity(&mut c);
            let end = if stop == modes.len() {
                report.statements.len()
            } else {
                modes[stop].statements.first().copied().unwrap_or(0)
            };
            let label = format!("{} stopped before unit {}", path.display(), stop + 1);
            let mut ok = true;
            for s in report.statements.iter().take(end) {
                if matches!(s.kind.as_ref(), "empty" | "text") {
                    continue;
                }
                if let Err(e) = run_as_written(&mut c, &s.sql) {
                    failures.push(format!("{label}: forward: {e}"));
                    ok = false;
                    break;
                }
            }
            if !ok {
                continue;
            }
            // The failure of the next unit.
            if let Some(m) = modes.get(stop) {
                let stmts: Vec<&StatementReport> = m
                    .statements
                    .iter()
                    .filter_map(|&i| report.statements.get(i))
                    .filter(|s| !matches!(s.kind.as_ref(), "empty" | "text" | "commit"))
                    .collect();
                if m.in_transaction {
                    for s in &stmts {
                        run_as_written(&mut c, &s.sql)
                            .unwrap_or_else(|e| panic!("{label}: failing unit: {e}"));
                    }
                    assert!(
                        c.batch_execute("SELECT 1/0").is_err(),
                        "{label}: injected error"
                    );
                    c.batch_execute("ROLLBACK")
                        .unwrap_or_else(|e| panic!("{label}: {}", db_error(&e)));
                } else {
                    // A failed concurrent build leaves its index INVALID: build it, then mark it
                    // so, as the server does when the build fails.
                    for l in &m.leftovers {
                        if l.kind != migsafe::report::LeftoverKind::InvalidIndex
                            || !stmts.iter().any(|s| s.kind == "create_index")
                        {
                            continue;
                        }
                        for s in &stmts {
                            run_as_written(&mut c, &s.sql)
                                .unwrap_or_else(|e| panic!("{label}: failing unit: {e}"));
                        }
                        c.execute(
                            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass($1)",
                            &[&l.object],
                        )
                        .unwrap_or_else(|e| panic!("{label}: {}", db_error(&e)));
                    }
                }
            }
            for sql in &rollback {
                if let Err(e) = run_as_written(&mut c, sql) {
                    failures.push(format!("{label}: rollback failed: {e}"));
                    ok = false;
                    break;
                }
            }
            stops += 1;
            if ok {
                let after = snapshot_with_validity(&mut c);
                if before != after {
                    failures.push(format!("{label}:\n{}", diff(&before, &after)));
                }
            }
        }
        checked_files.push(path.display().to_string());
    }
    eprintln!(
        "stopped {stops} times in {} fixtures: {checked_files:#?}",
        checked_files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        checked_files.len() >= 5,
        "only {} fixtures with several commit units",
        checked_files.len()
    );
}

/// The tests that run fixture schemas one at a time, each dropping the roles its fixtures created
/// (roles belong to the server, not to the scratch database) when it ends, even by a panic: run side
/// by side, one could drop a role the other's rollback still grants to.
struct FixtureRoles {
    before: Vec<String>,
    _turn: std::sync::MutexGuard<'static, ()>,
}

static FIXTURE_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl FixtureRoles {
    fn new() -> FixtureRoles {
        let turn = FIXTURE_TURN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        FixtureRoles {
            before: admin().map(|mut a| roles(&mut a)).unwrap_or_default(),
            _turn: turn,
        }
    }
}

impl Drop for FixtureRoles {
    fn drop(&mut self) {
        let Some(mut a) = admin() else { return };
        for r in roles(&mut a) {
            if !self.before.contains(&r) {
                let _ = a.batch_execute(&format!(
                    "DROP ROLE IF EXISTS \"{}\"",
                    r.replace('"', "\"\"")
                ));
            }
        }
    }
}

fn roles(a: &mut Client) -> Vec<String> {
    a.query("SELECT rolname FROM pg_roles", &[])
        .map(|rows| rows.iter().map(|r| r.get::<_, String>(0)).collect())
        .unwrap_or_default()
}

/// The migrations of fixtures/{safe,alembic,django,plain,rollback}, sorted.
fn fixture_migrations() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut paths: Vec<PathBuf> = Vec::new();
    for dir in ["safe", "alembic", "django", "plain", "rollback"] {
        if let Ok(rd) = std::fs::read_dir(root.join(dir)) {
            paths.extend(
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "sql")),
            );
        }
    }
    paths.sort();
    paths
}

/// `COPY … FROM stdin` of an export: the data follows the statement, up to `\.`.
fn copy_from_export(c: &mut Client, sql: &str) -> Result<(), String> {
    let first = sql.lines().next().unwrap_or("");
    let err = |e: postgres::Error| format!("{first}: {}", db_error(&e));
    let data: String = sql
        .lines()
        .skip(1)
        .take_while(|l| *l != "\\.")
        .map(|l| format!("{l}\n"))
        .collect();
    let mut w = c.copy_in(first.trim_end_matches(';')).map_err(err)?;
    std::io::Write::write_all(&mut w, data.as_bytes()).map_err(|e| e.to_string())?;
    w.finish().map_err(err)?;
    Ok(())
}
