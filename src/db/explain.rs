//! EXPLAIN of the migration's DML on the restored copy: `EXPLAIN (FORMAT JSON, VERBOSE)` of every
//! UPDATE, DELETE, INSERT and SELECT, one statement per EXPLAIN, in a READ ONLY transaction
//! (EXPLAIN without ANALYZE plans a statement without running it, which a read-only transaction
//! allows: <https://www.postgresql.org/docs/15/sql-explain.html>). With ANALYZE the statements do
//! run, in a read-write transaction that is rolled back.

use super::{Session, db_error, error_text};
use crate::error::Error;
use crate::pg::plan::Plan;
use crate::report::{Report, StatementReport, Transaction};
use postgres::{Client, SimpleQueryMessage};
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
        && matches!(s.kind.as_str(), "update" | "delete" | "insert" | "select")
}

/// EXPLAINs every DML statement of `report` against the database as it is (before the migration).
/// Statements that need objects the migration creates cannot be planned yet: they are left out,
/// with a note (the verification run plans them in place).
pub(crate) fn explain_all(
    client: &mut Client,
    session: &Session,
    report: &Report,
    analyze: bool,
    mut progress: Option<&mut super::Progress>,
) -> Result<Explained, Error> {
    let mut out = Explained::default();
    let candidates: Vec<&StatementReport> =
        report.statements.iter().filter(|s| is_dml(s)).collect();
    if candidates.is_empty() {
        return Ok(out);
    }
    let mut tx = if analyze {
        session.read_write(client, session.statement_timeout_ms)?
    } else {
        session.read_only(client)?
    };
    for (n, s) in candidates.iter().enumerate() {
        if let Some(p) = progress.as_mut() {
            p(&format!(
                "EXPLAIN {}/{}: statement at line {}",
                n + 1,
                candidates.len(),
                s.span.start_line
            ));
        }
        if let Some(t) = s.tables.iter().find(|t| t.created_in_migration) {
            out.notes.push(format!(
                "statement at line {} not EXPLAINed: it uses {}, which the migration creates (--verify plans it after creating it)",
                s.span.start_line, t.name
            ));
            continue;
        }
        match plan_in(&mut tx, &s.sql, analyze)? {
            Ok(plan) => {
                out.plans.insert(s.index, plan);
            }
            Err(e) => out.notes.push(format!(
                "statement at line {} not EXPLAINed: {e} (it may use what earlier statements of the migration create; --verify plans it in place)",
                s.span.start_line
            )),
        }
    }
    let _ = tx.rollback();
    Ok(out)
}

/// EXPLAINs one statement inside `tx`, under a savepoint so that a statement the server rejects
/// does not end the transaction. The outer error is the connection's (fatal); the inner one the
/// statement's.
pub(crate) fn plan_in(
    tx: &mut postgres::Transaction<'_>,
    sql: &str,
    analyze: bool,
) -> Result<Result<Plan, String>, Error> {
    tx.batch_execute("SAVEPOINT migsafe_explain")
        .map_err(|e| db_error("EXPLAIN", &e))?;
    let options = if analyze {
        "ANALYZE, FORMAT JSON, VERBOSE"
    } else {
        "FORMAT JSON, VERBOSE"
    };
    let body = sql.trim().trim_end_matches(';');
    let result = tx.simple_query(&format!("EXPLAIN ({options}) {body}"));
    match result {
        Ok(messages) => {
            tx.batch_execute("RELEASE SAVEPOINT migsafe_explain")
                .map_err(|e| db_error("EXPLAIN", &e))?;
            let text: String = messages
                .iter()
                .filter_map(|m| match m {
                    SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                    _ => None,
                })
                .collect();
            let json: serde_json::Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => return Ok(Err(format!("unreadable EXPLAIN output: {e}"))),
            };
            Ok(Plan::from_json(&json))
        }
        Err(e) if super::is_statement_error(&e) => {
            let text = error_text(&e);
            tx.batch_execute("ROLLBACK TO SAVEPOINT migsafe_explain")
                .map_err(|e| db_error("EXPLAIN", &e))?;
            Ok(Err(text))
        }
        Err(e) => Err(db_error("EXPLAIN", &e)),
    }
}
