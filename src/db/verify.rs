//! The verification run (`--verify`): the migration, then its generated rollback, statement by
//! statement on the restored copy, inside ONE transaction that is always rolled back.
//!
//! Per statement it records the relation locks the session newly holds (`pg_locks` for its own
//! pid: <https://www.postgresql.org/docs/15/view-pg-locks.html>), the tables whose storage changed
//! (`pg_class.relfilenode`), the tables read sequentially (`pg_stat_xact_user_tables.seq_scan`,
//! which counts the current transaction), the time it took and the server's error. DML is
//! EXPLAINed in place, after the statements before it ran. Then the rollback runs, and the schema
//! is compared with the one before the migration.
//!
//! What cannot run in one transaction: the migration's own BEGIN/COMMIT (the whole run is one
//! transaction), CONCURRENTLY forms (run in their plain form, which takes stronger locks: the
//! report says so), VACUUM (skipped), `COPY … FROM STDIN` (no data to send; skipped), and `SET` of
//! the timeouts (the run keeps its own). Migration bookkeeping (`alembic_version`,
//! `django_migrations`) is left out of both directions.

use super::explain::{is_dml, plan_in};
use super::introspect::describe;
use super::{Session, db_error, error_text, is_statement_error};
use crate::error::Error;
use crate::ir::Op;
use crate::ir::lower_statement;
use crate::pg::LockMode;
use crate::pg::effect::no_transaction_block;
use crate::pg::plan::Plan;
use crate::report::{LockReport, Observed, Report, StatementReport};
use crate::source::{self, RawKind};
use postgres::Client;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// What the verification run found.
#[derive(Debug, Clone, Default)]
pub struct VerifyRun {
    pub plans: BTreeMap<usize, Plan>,
    pub observed: BTreeMap<usize, Observed>,
    /// The rollback ran without error and the schema after it equals the schema before (`None`:
    /// not verified, because the migration itself fails).
    pub rollback_verified: Option<bool>,
    /// Rollback statements that failed, and schema lines that differ.
    pub rollback_differences: Vec<String>,
    pub notes: Vec<String>,
}

/// A relation of the copy before the migration.
struct Relation {
    name: String,
    kind: char,
}

/// Runs the migration of `report` (read again from `text`) and its rollback script in a
/// transaction that is rolled back, whatever happens.
pub(crate) fn verify(
    client: &mut Client,
    session: &Session,
    text: &str,
    report: &Report,
    statement_timeout_ms: u64,
    role: Option<&str>,
    mut progress: Option<&mut super::Progress>,
) -> Result<VerifyRun, Error> {
    let mut run = VerifyRun::default();
    let mut tx = session.read_write(client, statement_timeout_ms)?;
    if let Some(role) = role {
        // SET LOCAL: the role ends with the transaction, which is rolled back.
        tx.batch_execute(&format!("SET LOCAL ROLE {}", crate::ir::quote_ident(role)))
            .map_err(|e| db_error(&format!("SET ROLE {role}"), &e))?;
        run.notes.push(format!(
            "the migration and its rollback ran as role {role} (SET ROLE)"
        ));
    }
    let relations = relations(&mut tx)?;
    let before = describe_plain(&mut tx)?;
    let read = source::read(text);
    let pg_version = report.pg_version;
    let mut altered = 0;
    let mut failed = 0;
    let total = read.statements.len();
    for (index, st) in read.statements.iter().enumerate() {
        let Some(s) = report.statements.get(index) else {
            break;
        };
        if st.kind != RawKind::Sql {
            continue;
        }
        if let Some(p) = progress.as_mut() {
            p(&format!(
                "verify {}/{total}: line {}",
                index + 1,
                s.span.start_line
            ));
        }
        let op = lower_statement(text, st);
        let sql = s.sql.trim().trim_end_matches(';').to_string();
        let (to_run, skipped) = plan_statement(&op, &sql, pg_version, op.is_bookkeeping());
        let mut observed = Observed {
            skipped: skipped.clone(),
            ..Observed::default()
        };
        let Some(to_run) = to_run else {
            if skipped.is_some() {
                run.observed.insert(index, observed);
            }
            continue;
        };
        if to_run != sql {
            altered += 1;
            observed.ran_as = Some(to_run.clone());
        }
        // Before the EXPLAIN: planning takes the statement's own locks.
        let locks_before = locks(&mut tx, &relations)?;
        let files_before = files(&mut tx)?;
        let scans_before = seq_scans(&mut tx)?;
        if is_dml(s) {
            match plan_in(&mut tx, &to_run, false)? {
                Ok(plan) => {
                    run.plans.insert(index, plan);
                }
                Err(e) => run.notes.push(format!(
                    "statement at line {} not EXPLAINed: {e}",
                    s.span.start_line
                )),
            }
        }
        let started = Instant::now();
        let outcome = execute(&mut tx, &to_run)?;
        observed.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        if let Err(e) = outcome {
            failed += 1;
            observed.error = Some(match role {
                // Missing privileges are what --role is for: say whose.
                Some(role) if e.contains("(42501)") => format!("as role {role}: {e}"),
                _ => e,
            });
            run.observed.insert(index, observed);
            continue;
        }
        let locks_after = locks(&mut tx, &relations)?;
        let files_after = files(&mut tx)?;
        let scans_after = seq_scans(&mut tx)?;
        let new_locks: BTreeSet<(i64, LockMode)> =
            locks_after.difference(&locks_before).copied().collect();
        observed.locks = new_locks
            .iter()
            .filter_map(|(oid, mode)| {
                relations.get(oid).map(|r| LockReport {
                    table: r.name.clone(),
                    mode: *mode,
                })
            })
            .collect();
        observed.rewrote = relations
            .iter()
            .filter(|(oid, r)| {
                matches!(r.kind, 'r' | 'm')
                    && files_before.contains_key(oid)
                    && files_before.get(oid) != files_after.get(oid)
            })
            .map(|(_, r)| r.name.clone())
            .collect();
        observed.seq_scans = relations
            .iter()
            .filter(|(oid, _)| {
                scans_after.get(oid).copied().unwrap_or(0)
                    > scans_before.get(oid).copied().unwrap_or(0)
            })
            .map(|(_, r)| r.name.clone())
            .collect();
        if observed.ran_as.is_none() {
            observed.differences = differences(s, &observed, &locks_before, &relations);
        }
        run.observed.insert(index, observed);
    }
    if read.statements.iter().any(|st| {
        st.kind == RawKind::Sql && matches!(lower_statement(text, st), Op::Transaction(_))
    }) {
        run.notes.push(
            "the migration's own BEGIN/COMMIT did not run: the verification is one transaction, rolled back at the end".to_string(),
        );
    }
    if altered > 0 {
        run.notes.push(format!(
            "{altered} CONCURRENTLY statement(s) ran in their plain form in the verification transaction (CONCURRENTLY cannot run inside one): their observed locks are the plain form's"
        ));
    }
    if failed > 0 {
        // The rollback undoes a migration that ran; this one stopped.
        run.rollback_verified = None;
        run.notes.push(format!(
            "the rollback was not verified: {failed} statement(s) of the migration fail on the copy"
        ));
        tx.rollback()
            .map_err(|e| db_error("rolling the verification back", &e))?;
        return Ok(run);
    }
    // The rollback, in the same transaction, after the whole migration.
    if let Some(p) = progress.as_mut() {
        p("verify: running the generated rollback");
    }
    let script = &report.rollback.script;
    let rread = source::read(script);
    for st in &rread.statements {
        if st.kind != RawKind::Sql {
            continue;
        }
        let op = lower_statement(script, st);
        let sql = script[st.body.clone()].trim().to_string();
        let (to_run, _) = plan_statement(&op, &sql, pg_version, op.is_bookkeeping());
        let Some(to_run) = to_run else {
            continue;
        };
        if let Err(e) = execute(&mut tx, &to_run)? {
            run.rollback_differences.push(format!(
                "rollback statement at line {} failed: {e}: {}",
                st.span.start_line,
                to_run.lines().next().unwrap_or("")
            ));
        }
    }
    let after = describe_plain(&mut tx)?;
    let before_set: BTreeSet<&String> = before.iter().collect();
    let after_set: BTreeSet<&String> = after.iter().collect();
    for l in before_set.difference(&after_set) {
        run.rollback_differences
            .push(format!("not restored by the rollback: {l}"));
    }
    for l in after_set.difference(&before_set) {
        run.rollback_differences
            .push(format!("left behind by the rollback: {l}"));
    }
    run.rollback_verified = Some(run.rollback_differences.is_empty());
    if !report.rollback.complete {
        run.notes.push(
            "the rollback is incomplete (some statements cannot be undone): the schema after it is expected to differ".to_string(),
        );
    }
    tx.rollback()
        .map_err(|e| db_error("rolling the verification back", &e))?;
    Ok(run)
}

/// What to run for a statement in the verification transaction, or why it is skipped.
fn plan_statement(
    op: &Op,
    sql: &str,
    pg_version: u32,
    bookkeeping: bool,
) -> (Option<String>, Option<String>) {
    let skip = |why: &str| (None, Some(why.to_string()));
    match op {
        Op::Empty | Op::Text => (None, None),
        // The whole run is one transaction (a note says so once).
        Op::Transaction(_) => (None, None),
        _ if bookkeeping => skip("migration bookkeeping: not run"),
        Op::Set { name, .. } | Op::Reset { name: Some(name) }
            if matches!(
                name.as_str(),
                "statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout"
            ) =>
        {
            skip("the verification keeps its own timeouts")
        }
        Op::Copy { .. } if sql.to_ascii_uppercase().contains("STDIN") => {
            skip("COPY … FROM STDIN: the export's data is not sent")
        }
        _ => match no_transaction_block(op, pg_version) {
            Some(what) if what.contains("CONCURRENTLY") => match without_concurrently(sql) {
                Some(plain) => (Some(plain), None),
                None => skip("CONCURRENTLY cannot run inside a transaction block"),
            },
            Some(what) => (
                None,
                Some(format!("{what} cannot run inside a transaction block")),
            ),
            None => (Some(sql.to_string()), None),
        },
    }
}

/// The statement without its first `CONCURRENTLY` keyword (outside quotes and comments).
pub(crate) fn without_concurrently(sql: &str) -> Option<String> {
    let b = sql.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                if sql[start..i].eq_ignore_ascii_case("concurrently") {
                    let rest = sql[i..].trim_start();
                    return Some(format!("{}{rest}", &sql[..start]));
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Runs one statement under a savepoint: `Ok(Err(message))` when the server rejects it (the
/// transaction goes on), `Err` when the connection is gone.
fn execute(tx: &mut postgres::Transaction<'_>, sql: &str) -> Result<Result<(), String>, Error> {
    tx.batch_execute("SAVEPOINT migsafe_verify")
        .map_err(|e| db_error("verification run", &e))?;
    match tx.batch_execute(sql) {
        Ok(()) => {
            tx.batch_execute("RELEASE SAVEPOINT migsafe_verify")
                .map_err(|e| db_error("verification run", &e))?;
            Ok(Ok(()))
        }
        Err(e) if is_statement_error(&e) => {
            let text = error_text(&e);
            tx.batch_execute("ROLLBACK TO SAVEPOINT migsafe_verify")
                .map_err(|e| db_error("verification run", &e))?;
            Ok(Err(text))
        }
        Err(e) => Err(db_error("verification run: the connection was lost", &e)),
    }
}

/// The schema description with an empty search_path, so names print schema-qualified whatever
/// the migration set.
fn describe_plain(tx: &mut postgres::Transaction<'_>) -> Result<Vec<String>, Error> {
    let saved: String = tx
        .query_one("SELECT current_setting('search_path')", &[])
        .and_then(|r| r.try_get(0))
        .map_err(|e| db_error("reading search_path", &e))?;
    tx.execute("SELECT set_config('search_path', '', true)", &[])
        .map_err(|e| db_error("setting search_path", &e))?;
    let lines = describe(tx)?;
    tx.execute("SELECT set_config('search_path', $1, true)", &[&saved])
        .map_err(|e| db_error("restoring search_path", &e))?;
    Ok(lines)
}

fn relations(tx: &mut postgres::Transaction<'_>) -> Result<BTreeMap<i64, Relation>, Error> {
    let rows = tx
        .query(
            "SELECT c.oid::int8, n.nspname::text || '.' || c.relname::text, c.relkind::text
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
               AND c.relkind IN ('r','p','v','m','f')",
            &[],
        )
        .map_err(|e| db_error("reading relations", &e))?;
    let mut out = BTreeMap::new();
    for r in rows {
        let oid: i64 = r.try_get(0).map_err(|e| db_error("relations", &e))?;
        let name: String = r.try_get(1).map_err(|e| db_error("relations", &e))?;
        let kind: String = r.try_get(2).map_err(|e| db_error("relations", &e))?;
        out.insert(
            oid,
            Relation {
                name,
                kind: kind.chars().next().unwrap_or('r'),
            },
        );
    }
    Ok(out)
}

/// The relation locks this session holds on relations that existed before the migration.
fn locks(
    tx: &mut postgres::Transaction<'_>,
    relations: &BTreeMap<i64, Relation>,
) -> Result<BTreeSet<(i64, LockMode)>, Error> {
    let rows = tx
        .query(
            "SELECT relation::int8, mode FROM pg_locks
             WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted",
            &[],
        )
        .map_err(|e| db_error("reading pg_locks", &e))?;
    let mut out = BTreeSet::new();
    for r in rows {
        let oid: Option<i64> = r.try_get(0).map_err(|e| db_error("pg_locks", &e))?;
        let mode: String = r.try_get(1).map_err(|e| db_error("pg_locks", &e))?;
        if let (Some(oid), Some(mode)) = (oid, LockMode::parse(&mode)) {
            if relations.contains_key(&oid) {
                out.insert((oid, mode));
            }
        }
    }
    Ok(out)
}

fn files(tx: &mut postgres::Transaction<'_>) -> Result<BTreeMap<i64, i64>, Error> {
    let rows = tx
        .query(
            "SELECT oid::int8, relfilenode::int8 FROM pg_class WHERE relkind IN ('r','m') AND oid >= 16384",
            &[],
        )
        .map_err(|e| db_error("reading pg_class", &e))?;
    let mut out = BTreeMap::new();
    for r in rows {
        let oid: i64 = r.try_get(0).map_err(|e| db_error("pg_class", &e))?;
        let file: i64 = r.try_get(1).map_err(|e| db_error("pg_class", &e))?;
        out.insert(oid, file);
    }
    Ok(out)
}

fn seq_scans(tx: &mut postgres::Transaction<'_>) -> Result<BTreeMap<i64, i64>, Error> {
    let rows = tx
        .query(
            "SELECT relid::int8, seq_scan FROM pg_stat_xact_user_tables",
            &[],
        )
        .map_err(|e| db_error("reading pg_stat_xact_user_tables", &e))?;
    let mut out = BTreeMap::new();
    for r in rows {
        let oid: i64 = r
            .try_get(0)
            .map_err(|e| db_error("pg_stat_xact_user_tables", &e))?;
        let n: i64 = r
            .try_get(1)
            .map_err(|e| db_error("pg_stat_xact_user_tables", &e))?;
        out.insert(oid, n);
    }
    Ok(out)
}

/// How much a mode blocks: 2 reads and writes, 1 writes, 0 neither.
fn class(m: Option<LockMode>) -> u8 {
    match m {
        Some(m) if m.blocks_reads() => 2,
        Some(m) if m.blocks_writes() => 1,
        _ => 0,
    }
}

fn blocks(c: u8) -> &'static str {
    match c {
        2 => "blocks reads and writes",
        1 => "blocks writes",
        _ => "blocks neither reads nor writes",
    }
}

/// Where the server's locks and rewrites differ from the prediction, judged by what they block
/// (weak locks from catalog lookups and foreign-key checks do not count).
fn differences(
    s: &StatementReport,
    observed: &Observed,
    held_before: &BTreeSet<(i64, LockMode)>,
    relations: &BTreeMap<i64, Relation>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut tables: BTreeSet<&str> = s.locks.iter().map(|l| l.table.as_str()).collect();
    tables.extend(observed.locks.iter().map(|l| l.table.as_str()));
    for t in tables {
        let predicted = s
            .locks
            .iter()
            .filter(|l| l.table == t)
            .map(|l| l.mode)
            .max();
        // Requesting a mode the transaction already holds leaves no new row in pg_locks.
        let already = predicted.filter(|m| {
            relations
                .iter()
                .filter(|(_, r)| r.name == t)
                .any(|(oid, _)| held_before.contains(&(*oid, *m)))
        });
        let seen = observed
            .locks
            .iter()
            .filter(|l| l.table == t)
            .map(|l| l.mode)
            .max()
            .max(already);
        if class(predicted) != class(seen) {
            out.push(format!(
                "PostgreSQL took {} on {t} ({}); migsafe predicted {} ({})",
                seen.map_or("no lock".to_string(), |m| m.pg_name().to_string()),
                blocks(class(seen)),
                predicted.map_or("no lock".to_string(), |m| m.pg_name().to_string()),
                blocks(class(predicted)),
            ));
        }
    }
    // TRUNCATE gives the table new, empty storage: emptied, not rewritten.
    if s.kind != "truncate" {
        match (s.rewrites_table, observed.rewrote.is_empty()) {
            (false, false) => out.push(format!(
                "PostgreSQL rewrote {}; migsafe predicted no rewrite",
                observed.rewrote.join(", ")
            )),
            (true, true) if s.tables.iter().any(|t| !t.created_in_migration) => out
                .push("migsafe predicted a table rewrite; no table's storage changed".to_string()),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrently_is_removed_once_outside_quotes() {
        assert_eq!(
            without_concurrently("CREATE INDEX CONCURRENTLY ix ON t (a)").as_deref(),
            Some("CREATE INDEX ix ON t (a)")
        );
        assert_eq!(
            without_concurrently("DROP INDEX concurrently IF EXISTS \"concurrently\"").as_deref(),
            Some("DROP INDEX IF EXISTS \"concurrently\"")
        );
        assert_eq!(
            without_concurrently("ALTER TABLE p DETACH PARTITION c CONCURRENTLY").as_deref(),
            Some("ALTER TABLE p DETACH PARTITION c ")
        );
        assert_eq!(without_concurrently("SELECT 'concurrently'"), None);
    }
}
