//! The verification run (`--verify`): the migration, then its generated rollback, statement by
//! statement on the restored copy, inside ONE transaction that is always rolled back.
//!
//! Per statement it records the relation locks the session newly holds (`pg_locks` for its own
//! pid: <https://www.postgresql.org/docs/15/view-pg-locks.html>), the tables whose storage changed
//! (`pg_class.relfilenode`), the tables read sequentially (`pg_stat_get_xact_numscans`, which
//! counts the current transaction), the time it took and the server's error. DML is EXPLAINed in
//! place, after the statements before it ran. Then the rollback runs, and the schema is compared
//! with the one before the migration. Per statement, only the session's own locks and the tables
//! the statement could have touched (those it locked, and those migsafe predicted) are read, so the
//! cost does not grow with the size of the catalog.
//!
//! Only statements migsafe read run, one per message (`session`); statements that would
//! act outside the transaction or lift migsafe's limits are not run (`outside`);
//! sequence values are put back afterwards (`leftovers`). What cannot run in one
//! transaction: the migration's own BEGIN/COMMIT (the whole run is one transaction), CONCURRENTLY
//! forms (run in their plain form, which takes stronger locks: the report says so), VACUUM. Migration
//! bookkeeping (`alembic_version`, `django_migrations`) is left out of both directions.

use super::explain::{is_dml, plan_in};
use super::introspect::describe;
use super::leftovers::{self, AtEnd, Before};
use super::outside::{self, Tainted};
use super::session::{Access, Budget, Failure, Limits, Ran, RunAs, Tx};
use super::tainted;
use super::{DbOptions, db_error};
use crate::catalog::Catalog;
use crate::error::Error;
use crate::ir::lower_statement;
use crate::ir::{Op, QualName};
use crate::pg::LockMode;
use crate::pg::effect::no_transaction_block;
use crate::pg::plan::Plan;
use crate::report::{LockReport, Observed, Report, StatementReport};
use crate::source::{self, RawKind, SourceStatement};
use postgres::Client;
use std::collections::{BTreeMap, BTreeSet};

/// What the verification run found.
#[derive(Debug, Clone, Default)]
pub struct VerifyRun {
    /// EXPLAIN plans of the DML, made in place, by statement index.
    pub plans: BTreeMap<usize, Plan>,
    /// What each statement did (or why it did not run), by statement index.
    pub observed: BTreeMap<usize, Observed>,
    /// The rollback ran without error and the schema after it equals the schema before (`None`:
    /// not verified, because the migration itself fails).
    pub rollback_verified: Option<bool>,
    /// Rollback statements that failed, and schema lines that differ.
    pub rollback_differences: Vec<String>,
    pub notes: Vec<String>,
}

/// What the run needs besides the connection.
pub(crate) struct Input<'a> {
    pub text: &'a str,
    /// The connection's `standard_conforming_strings`, which the text is read with.
    pub standard_conforming_strings: bool,
    pub report: &'a Report,
    /// The catalog read before the run (heap sizes, for the dead rows it leaves).
    pub catalog: &'a Catalog,
    pub options: &'a DbOptions,
    pub limits: Limits,
    pub budget: Budget,
}

/// A relation of the copy before the migration.
struct Relation {
    name: String,
    kind: char,
    file: Option<i64>,
    /// Sequential scans the session's statistics count before the run (those not yet sent include
    /// earlier transactions of the session).
    scans: i64,
}

/// What the run knows about the copy before the first statement.
struct Restored {
    relations: BTreeMap<i64, Relation>,
    by_name: BTreeMap<String, i64>,
    tainted: Vec<Tainted>,
    schema: Vec<String>,
}

/// The session's state between statements: what it holds, and each touched table's storage file
/// and sequential-scan count as last read.
struct Watch {
    held: BTreeSet<(i64, LockMode)>,
    files: BTreeMap<i64, Option<i64>>,
    scans: BTreeMap<i64, i64>,
    current_user: String,
}

/// Runs the migration of `input.report` (read again from its text) and its rollback script in a
/// transaction that is rolled back, whatever happens; then puts back what a rollback does not.
pub(crate) fn verify(
    client: &mut Client,
    input: &Input<'_>,
    mut progress: Option<&mut super::Progress>,
) -> Result<VerifyRun, Error> {
    let mut run = VerifyRun::default();
    let (result, before, end, tables) = {
        let mut before = leftovers::record(client, input.limits, input.budget)?;
        let mut tx = Tx::begin(client, Access::ReadWrite, input.limits, input.budget)?;
        let copy = read_copy(&mut tx)?;
        before.written = leftovers::written(&mut tx)?;
        let tables: BTreeMap<i64, String> = copy
            .relations
            .iter()
            .filter(|(_, r)| matches!(r.kind, 'r' | 'm' | 'p'))
            .map(|(oid, r)| (*oid, r.name.clone()))
            .collect();
        let mut result = run_in(&mut tx, input, &copy, &mut run, progress.as_mut());
        let mut end = None;
        if result.is_ok() {
            result = finish(&mut tx, &copy, &before, &mut run).map(|e| end = Some(e));
        }
        drop(tx);
        (result, before, end, tables)
    };
    let restored = leftovers::restore(
        client,
        &before,
        input.options.allow_live,
        input.limits,
        input.budget,
    );
    match (result, restored) {
        (Err(e), Ok(_)) => Err(stopped(
            e,
            "sequence values and session state were put back",
        )),
        (Err(e), Err(r)) => Err(stopped(
            e,
            &format!("putting back sequence values failed too: {r}"),
        )),
        (Ok(()), Err(r)) => Err(r),
        (Ok(()), Ok(notes)) => {
            run.notes.extend(notes);
            if let Some(end) = &end {
                let mut tx = Tx::begin(client, Access::ReadOnly, input.limits, input.budget)?;
                let heap = |name: &str| {
                    let (schema, table) = name.split_once('.')?;
                    input
                        .catalog
                        .size(&QualName::new(Some(schema), table))
                        .map(|s| s.heap_bytes)
                };
                run.notes
                    .extend(leftovers::dead_rows(&mut tx, end, &tables, &heap)?);
                tx.rollback()?;
            }
            Ok(run)
        }
    }
}

/// After the run, as the connecting user: what it left, and the schema after the rollback.
fn finish(
    tx: &mut Tx<'_>,
    copy: &Restored,
    before: &Before,
    run: &mut VerifyRun,
) -> Result<AtEnd, Error> {
    tx.resume_connecting_user()?;
    let end = leftovers::at_end(tx, before)?;
    if run.rollback_verified.is_some() {
        compare_schema(tx, &copy.schema, run)?;
    }
    Ok(end)
}

fn stopped(e: Error, after: &str) -> Error {
    match e {
        Error::Database { message } => Error::Database {
            message: format!("{message}; {after}"),
        },
        other => other,
    }
}

/// The migration, then (when every statement of it ran) the rollback script, in `tx`.
fn run_in(
    tx: &mut Tx<'_>,
    input: &Input<'_>,
    copy: &Restored,
    run: &mut VerifyRun,
    mut progress: Option<&mut &mut super::Progress>,
) -> Result<(), Error> {
    if let Some(role) = &input.options.role {
        let how = match tx.assume(role)? {
            RunAs::Session(_) => {
                "SET SESSION AUTHORIZATION: the server judged every SET ROLE in it as for a session of that role"
            }
            _ => {
                "SET ROLE: the connecting user is not a superuser, so statements that change the role were not run"
            }
        };
        run.notes.push(format!(
            "the migration and its rollback ran as role {role} ({how})"
        ));
    }
    if superuser(tx)? {
        run.notes.push("the run's statements ran as a superuser, for whom the server checks no privilege: migsafe refused by name what acts outside the transaction, and code that builds such a call at run time would get past it; pass --role with the deploy role to have the server refuse it".to_string());
    }
    let mut watch = Watch {
        held: locks(tx, &copy.relations)?,
        files: copy
            .relations
            .iter()
            .map(|(oid, r)| (*oid, r.file))
            .collect(),
        scans: copy
            .relations
            .iter()
            .map(|(oid, r)| (*oid, r.scans))
            .collect(),
        current_user: tx.check()?.current_user,
    };
    let text = input.text;
    let read = source::read_with(text, input.standard_conforming_strings);
    let mut tainted = copy.tainted.clone();
    let mut tally = Tally::default();
    let total = read.statements.len();
    for (index, st) in read.statements.iter().enumerate() {
        let Some(s) = input.report.statements.get(index) else {
            break;
        };
        if let Some(p) = progress.as_mut() {
            p(&format!(
                "verify {}/{total}: line {}",
                index + 1,
                s.span.start_line
            ));
        }
        let op = lower_statement(text, st);
        let sql = s.sql.trim().trim_end_matches(';').to_string();
        let decision = if tally.budget_spent || input.budget.remaining_ms() == 0 {
            tally.budget_spent = true;
            Decision::Skip(budget_note(input.budget))
        } else {
            decide(st, &op, &sql, s.parsed, input, copy, &tainted, tx.run_as())
        };
        if let (Op::CreateFunction { name, .. }, Decision::Run { .. }) = (&op, &decision) {
            if let Some(why) = outside::acts_outside(&sql, &tainted) {
                tainted.push(Tainted {
                    name: name.name.to_ascii_lowercase(),
                    why: format!(
                        "it calls {}(), which the migration creates: {why}",
                        name.name
                    ),
                });
            }
        }
        let observed = match decision {
            Decision::Quiet => continue,
            Decision::Transaction => {
                tally.transaction = true;
                continue;
            }
            Decision::Skip(why) => {
                tally.skipped(s.span.start_line, s.parsed, st.kind);
                Observed {
                    skipped: Some(why),
                    ..Observed::default()
                }
            }
            Decision::Run {
                sql: to_run,
                altered,
            } => {
                let o = run_one(tx, input, copy, &mut watch, run, s, &to_run, &sql)
                    .map_err(|e| at_line(e, s.span.start_line))?;
                tally.ran(altered, &o);
                o
            }
        };
        run.observed.insert(index, observed);
    }
    run.notes.extend(tally.notes(input.budget));
    if !tally.complete() {
        run.rollback_verified = None;
        return Ok(());
    }
    run_rollback(tx, input, copy, &tainted, run, progress)?;
    run.rollback_verified = Some(true);
    Ok(())
}

/// Whether the statements run as a superuser.
fn superuser(tx: &mut Tx<'_>) -> Result<bool, Error> {
    tx.query_one("SELECT current_setting('is_superuser') = 'on'", &[])
        .and_then(|r| r.try_get(0))
        .map_err(|e| db_error("reading is_superuser", &e))
}

fn at_line(e: Error, line: u32) -> Error {
    match e {
        Error::Database { message } => Error::Database {
            message: format!("verification stopped at the statement at line {line}: {message}"),
        },
        other => other,
    }
}

fn budget_note(budget: Budget) -> String {
    format!(
        "not run: the time budget of {} (--time-budget) ran out",
        budget.describe()
    )
}

/// What happens to one statement.
enum Decision {
    /// Nothing to run and nothing to say (an empty statement).
    Quiet,
    /// The migration's own transaction control: not run, the run is one transaction (a note says
    /// so once).
    Transaction,
    Skip(String),
    Run {
        sql: String,
        altered: bool,
    },
}

#[allow(clippy::too_many_arguments)]
fn decide(
    st: &SourceStatement,
    op: &Op,
    sql: &str,
    parsed: bool,
    input: &Input<'_>,
    copy: &Restored,
    tainted: &[Tainted],
    run_as: &RunAs,
) -> Decision {
    let skip = |why: String| Decision::Skip(why);
    if st.kind == RawKind::Empty || matches!(op, Op::Empty) {
        return Decision::Quiet;
    }
    if st.kind == RawKind::Text {
        return skip("not SQL: only statements migsafe read run on the copy".to_string());
    }
    // A function's body does not run when it is created: calls to it are what is refused.
    let outside = match op {
        Op::CreateFunction { .. } => None,
        _ => outside::acts_outside(sql, tainted),
    };
    if let Some(why) = outside {
        return skip(format!(
            "it acts outside the verification's transaction: {why}"
        ));
    }
    if matches!(op, Op::Transaction(_)) || outside::controls_transaction(sql) {
        return Decision::Transaction;
    }
    match op {
        _ if !parsed => {
            return skip(
                "migsafe could not read this statement, and runs only statements it read on the copy"
                    .to_string(),
            );
        }
        _ if op.is_bookkeeping() => return skip("migration bookkeeping: not run".to_string()),
        _ => {}
    }
    if let Some(why) = outside::lifts_limits(sql, !matches!(run_as, RunAs::Role(_))) {
        return skip(why);
    }
    if let Some(t) = foreign_target(op, copy) {
        return skip(format!(
            "it writes to the foreign table {t}, which its foreign-data wrapper may commit on the remote side"
        ));
    }
    match no_transaction_block(op, input.report.pg_version) {
        Some(what) if what.contains("CONCURRENTLY") => match without_concurrently(sql) {
            Some(plain) => Decision::Run {
                sql: plain,
                altered: true,
            },
            None => skip("CONCURRENTLY cannot run inside a transaction block".to_string()),
        },
        Some(what) => skip(format!("{what} cannot run inside a transaction block")),
        None => Decision::Run {
            sql: sql.to_string(),
            altered: false,
        },
    }
}

/// The foreign table a DML statement writes to, if it does.
fn foreign_target(op: &Op, copy: &Restored) -> Option<String> {
    let target = match op {
        Op::Insert { table, .. }
        | Op::Update { table, .. }
        | Op::Delete { table, .. }
        | Op::Merge { table } => table,
        _ => return None,
    };
    let name = target.display_qualified();
    let oid = copy.by_name.get(&name)?;
    (copy.relations.get(oid)?.kind == 'f').then_some(name)
}

/// Counts for the run's notes.
#[derive(Default)]
struct Tally {
    altered: usize,
    failed: usize,
    transaction: bool,
    budget_spent: bool,
    /// Lines of statements not run because migsafe could not read them (or they are not SQL).
    unread: Vec<u32>,
}

impl Tally {
    fn skipped(&mut self, line: u32, parsed: bool, kind: RawKind) {
        if kind == RawKind::Text || !parsed {
            self.unread.push(line);
        }
    }

    fn ran(&mut self, altered: bool, o: &Observed) {
        self.altered += usize::from(altered);
        if o.error.is_some() {
            self.failed += 1;
        }
        if o.cancelled
            .as_deref()
            .is_some_and(|c| c.contains("time budget"))
        {
            self.budget_spent = true;
        }
    }

    /// Whether every statement of the migration ran without error (the rollback is then checked).
    fn complete(&self) -> bool {
        self.failed == 0 && !self.budget_spent && self.unread.is_empty()
    }

    fn notes(&self, budget: Budget) -> Vec<String> {
        let mut notes = Vec::new();
        if self.transaction {
            notes.push("the migration's own BEGIN/COMMIT did not run: the verification is one transaction, rolled back at the end".to_string());
        }
        if self.altered > 0 {
            notes.push(format!(
                "{} CONCURRENTLY statement(s) ran in their plain form in the verification transaction (CONCURRENTLY cannot run inside one): their observed locks are the plain form's",
                self.altered
            ));
        }
        if !self.unread.is_empty() {
            let lines: Vec<String> = self.unread.iter().map(u32::to_string).collect();
            notes.push(format!(
                "{} statement(s) migsafe could not read (or that are not SQL) were not run on the copy: line(s) {}",
                self.unread.len(),
                lines.join(", ")
            ));
        }
        if self.budget_spent {
            notes.push(format!(
                "the time budget of {} (--time-budget) ran out: the statements after the cancelled one did not run",
                budget.describe()
            ));
        }
        if !self.complete() {
            let why = if self.failed > 0 {
                format!(
                    "{} statement(s) of the migration fail on the copy",
                    self.failed
                )
            } else if self.budget_spent {
                "the migration did not finish within the time budget".to_string()
            } else {
                "not every statement of the migration ran".to_string()
            };
            notes.push(format!("the rollback was not verified: {why}"));
        }
        notes
    }
}

/// Runs one statement and observes it.
#[allow(clippy::too_many_arguments)]
fn run_one(
    tx: &mut Tx<'_>,
    input: &Input<'_>,
    copy: &Restored,
    watch: &mut Watch,
    run: &mut VerifyRun,
    s: &StatementReport,
    to_run: &str,
    written: &str,
) -> Result<Observed, Error> {
    let mut observed = Observed::default();
    if to_run != written {
        observed.ran_as = Some(to_run.to_string());
    }
    if is_dml(s) {
        match plan_in(tx, to_run, false, input.limits.statement_ms)? {
            Ok(plan) => {
                run.plans.insert(s.index, plan);
            }
            Err(e) => run.notes.push(format!(
                "statement at line {} not EXPLAINed: {}",
                s.span.start_line, e.text
            )),
        }
    }
    let ran = tx.run(to_run, input.options.verify_timeout_ms)?;
    let seen = tx.check()?;
    observed.duration_ms = ran.duration.as_secs_f64() * 1000.0;
    if !seen.changed.is_empty() {
        run.notes.push(format!(
            "the statement at line {} changed {}; migsafe set {} again before the next statement",
            s.span.start_line,
            seen.changed.join(", "),
            if seen.changed.len() == 1 {
                "it"
            } else {
                "them"
            }
        ));
    }
    if seen.current_user != watch.current_user {
        run.notes.push(format!(
            "from the statement at line {} on, statements ran as role {} (the migration's own role change, which the server allowed)",
            s.span.start_line, seen.current_user
        ));
        watch.current_user = seen.current_user.clone();
    }
    if let Err(failure) = &ran.result {
        record_failure(&mut observed, failure, &ran, input, tx.run_as());
        return Ok(observed);
    }
    observe(tx, copy, watch, s, &mut observed)?;
    Ok(observed)
}

/// The server's refusal, or its cancellation (a timeout is not a fault of the data).
fn record_failure(
    observed: &mut Observed,
    failure: &Failure,
    ran: &Ran,
    input: &Input<'_>,
    run_as: &RunAs,
) {
    let text = failure.text.clone();
    observed.cancelled = match failure.code.as_str() {
        "57014" if ran.budget_timeout && text.contains("statement timeout") => Some(format!(
            "the time budget of {} (--time-budget) ran out while it ran",
            input.budget.describe()
        )),
        "57014" if text.contains("statement timeout") => Some(format!(
            "statement timeout: it ran longer than migsafe's limit of {} ms per statement (--verify-timeout)",
            input.options.verify_timeout_ms
        )),
        "57014" => Some("a cancel request ended it".to_string()),
        "55P03" if text.contains("lock timeout") => Some(format!(
            "lock timeout: it waited longer than {} ms (--lock-timeout) for a lock another session holds on the copy",
            input.limits.lock_ms
        )),
        _ => None,
    };
    observed.error = Some(match run_as {
        // Missing privileges are what --role is for: say whose.
        RunAs::Session(role) | RunAs::Role(role) if failure.code == "42501" => {
            format!("as role {role}: {text}")
        }
        _ => text,
    });
}

/// Locks, rewrites and sequential scans of a statement that ran.
fn observe(
    tx: &mut Tx<'_>,
    copy: &Restored,
    watch: &mut Watch,
    s: &StatementReport,
    observed: &mut Observed,
) -> Result<(), Error> {
    let held_after = locks(tx, &copy.relations)?;
    let new_locks: BTreeSet<(i64, LockMode)> =
        held_after.difference(&watch.held).copied().collect();
    // Only a table the session holds a lock on can have been rewritten or scanned; of those, the
    // ones newly locked and the ones migsafe predicted are read.
    let mut candidates: BTreeSet<i64> = new_locks.iter().map(|(oid, _)| *oid).collect();
    for name in s
        .tables
        .iter()
        .map(|t| &t.name)
        .chain(s.locks.iter().map(|l| &l.table))
    {
        candidates.extend(copy.by_name.get(name));
    }
    let now = storage(tx, &candidates)?;
    observed.locks = new_locks
        .iter()
        .filter_map(|(oid, mode)| {
            copy.relations.get(oid).map(|r| LockReport {
                table: r.name.clone(),
                mode: *mode,
            })
        })
        .collect();
    for (oid, (file, scans)) in &now {
        let Some(r) = copy.relations.get(oid) else {
            continue;
        };
        let before_file = watch.files.get(oid).copied().flatten();
        // A dropped table has no file any more: that is not a rewrite.
        if matches!(r.kind, 'r' | 'm')
            && before_file.is_some()
            && file.is_some()
            && *file != before_file
        {
            observed.rewrote.push(r.name.clone());
        }
        if *scans > watch.scans.get(oid).copied().unwrap_or(0) {
            observed.seq_scans.push(r.name.clone());
        }
        watch.files.insert(*oid, *file);
        watch.scans.insert(*oid, *scans);
    }
    observed.rewrote.sort();
    observed.seq_scans.sort();
    if observed.ran_as.is_none() {
        observed.differences = differences(s, observed, &watch.held, &copy.relations);
    }
    watch.held = held_after;
    Ok(())
}

/// The rollback script, in the same transaction, after the whole migration.
fn run_rollback(
    tx: &mut Tx<'_>,
    input: &Input<'_>,
    copy: &Restored,
    tainted: &[Tainted],
    run: &mut VerifyRun,
    mut progress: Option<&mut &mut super::Progress>,
) -> Result<(), Error> {
    if let Some(p) = progress.as_mut() {
        p("verify: running the generated rollback");
    }
    let script = &input.report.rollback.script;
    let read = source::read_with(script, input.standard_conforming_strings);
    for st in &read.statements {
        if st.kind != RawKind::Sql {
            continue;
        }
        let op = lower_statement(script, st);
        let sql = script[st.body.clone()]
            .trim()
            .trim_end_matches(';')
            .to_string();
        let line = st.span.start_line;
        let to_run = match decide(
            st,
            &op,
            &sql,
            op.is_parsed(),
            input,
            copy,
            tainted,
            tx.run_as(),
        ) {
            Decision::Run { sql, .. } => sql,
            Decision::Quiet | Decision::Transaction => continue,
            Decision::Skip(why) if why.contains("bookkeeping") => continue,
            Decision::Skip(why) => {
                run.rollback_differences
                    .push(format!("rollback statement at line {line} not run: {why}"));
                continue;
            }
        };
        let ran = tx
            .run(&to_run, input.options.verify_timeout_ms)
            .map_err(|e| at_line(e, line))?;
        tx.check().map_err(|e| at_line(e, line))?;
        if let Err(f) = ran.result {
            run.rollback_differences.push(format!(
                "rollback statement at line {line} failed: {}: {}",
                f.text,
                to_run.lines().next().unwrap_or("")
            ));
        }
    }
    if !input.report.rollback.complete {
        run.notes.push(
            "the rollback is incomplete (some statements cannot be undone): the schema after it is expected to differ".to_string(),
        );
    }
    Ok(())
}

/// Compares the schema after the rollback with the one before the migration.
fn compare_schema(tx: &mut Tx<'_>, before: &[String], run: &mut VerifyRun) -> Result<(), Error> {
    let after = describe_plain(tx)?;
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
    Ok(())
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

/// The relations, functions and triggers of the copy, and its schema, before the run.
fn read_copy(tx: &mut Tx<'_>) -> Result<Restored, Error> {
    let relations = relations(tx)?;
    let by_name = relations
        .iter()
        .map(|(oid, r)| (r.name.clone(), *oid))
        .collect();
    let tainted = tainted::of_the_copy(tx)?;
    let triggers = tainted::event_triggers(tx, &tainted)?;
    if !triggers.is_empty() {
        return Err(Error::Database {
            message: format!(
                "refusing to verify: the copy's event trigger(s) {} act outside a transaction, and every DDL statement of the run would set them off (disable them on the copy first: ALTER EVENT TRIGGER … DISABLE)",
                triggers.join(", ")
            ),
        });
    }
    let schema = describe_plain(tx)?;
    Ok(Restored {
        relations,
        by_name,
        tainted,
        schema,
    })
}

/// The schema description with an empty search_path, so names print schema-qualified whatever
/// the migration set.
fn describe_plain(tx: &mut Tx<'_>) -> Result<Vec<String>, Error> {
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

fn relations(tx: &mut Tx<'_>) -> Result<BTreeMap<i64, Relation>, Error> {
    let rows = tx
        .query(
            "SELECT c.oid::int8, n.nspname::text || '.' || c.relname::text, c.relkind::text, c.relfilenode::int8,
                    pg_stat_get_xact_numscans(c.oid)
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
        let file: i64 = r.try_get(3).map_err(|e| db_error("relations", &e))?;
        let scans: i64 = r.try_get(4).map_err(|e| db_error("relations", &e))?;
        out.insert(
            oid,
            Relation {
                name,
                kind: kind.chars().next().unwrap_or('r'),
                file: (file != 0).then_some(file),
                scans,
            },
        );
    }
    Ok(out)
}

/// The relation locks this session holds on relations that existed before the migration.
fn locks(
    tx: &mut Tx<'_>,
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

/// The storage file (none once dropped) and the transaction's sequential-scan count of each table.
fn storage(
    tx: &mut Tx<'_>,
    oids: &BTreeSet<i64>,
) -> Result<BTreeMap<i64, (Option<i64>, i64)>, Error> {
    if oids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let list: Vec<i64> = oids.iter().copied().collect();
    let rows = tx
        .query(
            "SELECT o, c.relfilenode::int8, pg_stat_get_xact_numscans(o::oid)
             FROM unnest($1::int8[]) o LEFT JOIN pg_class c ON c.oid = o::oid",
            &[&list],
        )
        .map_err(|e| db_error("reading pg_class", &e))?;
    let mut out = BTreeMap::new();
    for r in rows {
        let oid: i64 = r.try_get(0).map_err(|e| db_error("pg_class", &e))?;
        let file: Option<i64> = r.try_get(1).map_err(|e| db_error("pg_class", &e))?;
        let scans: i64 = r.try_get(2).map_err(|e| db_error("pg_class", &e))?;
        out.insert(oid, (file.filter(|f| *f != 0), scans));
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
    // TRUNCATE gives the table new, empty storage, and DROP removes it: neither is a rewrite.
    let drops = s.kind == "truncate" || s.kind.starts_with("drop");
    if !drops {
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
