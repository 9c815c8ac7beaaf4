//! EXPLAIN of the migration's DML on the restored copy: `EXPLAIN (FORMAT JSON, VERBOSE)` of every
//! UPDATE, DELETE, INSERT and SELECT that migsafe read, one statement per EXPLAIN, in a READ ONLY
//! transaction (EXPLAIN without ANALYZE plans a statement without running it, which a read-only
//! transaction allows: <https://www.postgresql.org/docs/15/sql-explain.html>). With ANALYZE the
//! statements do run, in a read-write transaction that is rolled back, with the verification's
//! rules: what would act outside the transaction is not run, sequence values are put back.

use super::leftovers;
use super::outside::{self, Tainted};
use super::session::{Access, Budget, Failure, Limits, Tx};
use crate::error::Error;
use crate::pg::plan::Plan;
use crate::report::{Report, StatementReport, Transaction};
use postgres::Client;
use std::collections::BTreeMap;

/// What EXPLAIN gave.
#[derive(Debug, Clone, Default)]
pub struct Explained {
    /// Plans by statement index.
    pub plans: BTreeMap<usize, Plan>,
    /// Statements not EXPLAINed, and why.
    pub notes: Vec<String>,
}

/// Whether a statement is DML worth a plan.
pub(crate) fn is_dml(s: &StatementReport) -> bool {
    s.parsed
        && s.transaction != Transaction::Bookkeeping
        && matches!(s.kind.as_ref(), "update" | "delete" | "insert" | "select")
}

/// How EXPLAIN runs.
pub(crate) struct Settings {
    pub analyze: bool,
    pub allow_live: bool,
    pub limits: Limits,
    pub budget: Budget,
}

/// EXPLAINs every DML statement of `report` against the database as it is (before the migration).
/// Statements that need objects the migration creates cannot be planned yet: they are left out,
/// with a note (the verification run plans them in place). A privilege the connecting user lacks
/// is an error that names it: the plans would be missing for a reason that is not the migration's.
pub(crate) fn explain_all(
    client: &mut Client,
    report: &Report,
    settings: &Settings,
    mut progress: Option<&mut super::Progress>,
) -> Result<Explained, Error> {
    let candidates: Vec<&StatementReport> =
        report.statements.iter().filter(|s| is_dml(s)).collect();
    if candidates.is_empty() {
        return Ok(Explained::default());
    }
    let access = if settings.analyze {
        Access::ReadWrite
    } else {
        Access::ReadOnly
    };
    let before = match settings.analyze {
        true => Some(leftovers::record(client, settings.limits, settings.budget)?),
        false => None,
    };
    let result = {
        let mut tx = Tx::begin(client, access, settings.limits, settings.budget)?;
        let tainted = super::tainted::of_the_copy(&mut tx)?;
        explain_in(&mut tx, &candidates, settings, &tainted, progress.as_mut())
    };
    if let Some(before) = before {
        let notes = leftovers::restore(
            client,
            &before,
            settings.allow_live,
            settings.limits,
            settings.budget,
        )?;
        return result.map(|mut ex| {
            ex.notes.extend(notes);
            ex
        });
    }
    result
}

fn explain_in(
    tx: &mut Tx<'_>,
    candidates: &[&StatementReport],
    settings: &Settings,
    tainted: &[Tainted],
    mut progress: Option<&mut &mut super::Progress>,
) -> Result<Explained, Error> {
    let mut out = Explained::default();
    for (n, s) in candidates.iter().enumerate() {
        if let Some(p) = progress.as_mut() {
            p(&format!(
                "EXPLAIN {}/{}: statement at line {}",
                n + 1,
                candidates.len(),
                s.span.start_line
            ));
        }
        let line = s.span.start_line;
        if let Some(t) = s.tables.iter().find(|t| t.created_in_migration) {
            out.notes.push(format!(
                "statement at line {line} not EXPLAINed: it uses {}, which the migration creates (--verify plans it after creating it)",
                t.name
            ));
            continue;
        }
        let refused = outside::acts_outside(&s.sql, tainted)
            .map(|why| format!("it acts outside a transaction: {why}"))
            .or_else(|| outside::lifts_limits(&s.sql, true));
        if let Some(why) = refused {
            out.notes
                .push(format!("statement at line {line} not EXPLAINed: {why}"));
            continue;
        }
        match plan_in(tx, &s.sql, settings.analyze, settings.limits.statement_ms)? {
            Ok(plan) => {
                out.plans.insert(s.index, plan);
            }
            Err(f) if f.code == "42501" => {
                return Err(Error::Database {
                    message: format!(
                        "EXPLAIN of the statement at line {line}: {}: the user migsafe connects as needs the privileges the statement uses (connect as the tables' owner, or GRANT them)",
                        f.text
                    ),
                });
            }
            Err(f) => out.notes.push(not_explained(line, &f)),
        }
        tx.check()?;
    }
    Ok(out)
}

/// The note for a statement the server would not plan, with the likely cause.
fn not_explained(line: u32, f: &Failure) -> String {
    let cause = match f.code.as_str() {
        // undefined table, column, object or function
        "42P01" | "42703" | "42704" | "42883" => {
            " (it may use what earlier statements of the migration create; --verify plans it in place)"
        }
        "57014" => " (planning took longer than --statement-timeout)",
        _ => "",
    };
    format!("statement at line {line} not EXPLAINed: {}{cause}", f.text)
}

/// EXPLAINs one statement inside `tx`, under a savepoint so that a statement the server rejects
/// does not end the transaction. The outer error is the connection's (fatal); the inner one the
/// statement's.
pub(crate) fn plan_in(
    tx: &mut Tx<'_>,
    sql: &str,
    analyze: bool,
    statement_ms: u64,
) -> Result<Result<Plan, Failure>, Error> {
    let options = if analyze {
        "ANALYZE, FORMAT JSON, VERBOSE"
    } else {
        "FORMAT JSON, VERBOSE"
    };
    let body = sql.trim().trim_end_matches(';');
    let text = match tx.json(&format!("EXPLAIN ({options}) {body}"), statement_ms)? {
        Ok(t) => t,
        Err(f) => return Ok(Err(f)),
    };
    let unreadable = |e: String| Failure {
        text: format!("unreadable EXPLAIN output: {e}"),
        code: String::new(),
    };
    let json: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return Ok(Err(unreadable(e.to_string()))),
    };
    Ok(Plan::from_json(&json).map_err(unreadable))
}
