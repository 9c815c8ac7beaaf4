//! # transaction-nesting
//! BEGIN inside an open transaction block, or COMMIT/ROLLBACK with none open: the blocks are not what they seem.
//!
//! ## What it does
//! Follows `BEGIN` / `START TRANSACTION` and `COMMIT` / `END` / `ROLLBACK` / `ABORT` through the
//! file and flags a `BEGIN` while a block is already open, and a `COMMIT` or `ROLLBACK` while none
//! is. This typically happens when migration code issues its own `BEGIN`/`COMMIT` (Alembic
//! `op.execute("COMMIT")`, Django `RunSQL("BEGIN; …")`) inside the transaction the tool opened.
//!
//! ## Why is this bad?
//! PostgreSQL has no nested transactions. A second `BEGIN` only prints `WARNING: there is already a
//! transaction in progress` and does nothing, so the first `COMMIT` that follows commits
//! everything since the outer `BEGIN`, and whatever comes after it runs in autocommit mode, each
//! statement on its own: a failure there can no longer roll back the earlier part, and the
//! migration is left half applied. A `COMMIT` or `ROLLBACK` without an open block only prints
//! `WARNING: there is no transaction in progress`; a `ROLLBACK` that was meant to undo something
//! undoes nothing, because the statements before it were already committed one by one.
//!
//! ## Example
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD COLUMN note text;
//! BEGIN;                     -- does nothing
//! UPDATE orders SET note = '';
//! COMMIT;                    -- commits both statements
//! ALTER TABLE orders ALTER COLUMN note SET NOT NULL;   -- runs on its own
//! COMMIT;                    -- no transaction in progress
//! ```
//!
//! ## Use instead
//! Let the migration tool own the transaction: remove hand-written `BEGIN`/`COMMIT` from
//! `op.execute()` / `RunSQL`. For statements that must run outside a transaction use Alembic's
//! `with op.get_context().autocommit_block():` or a Django migration with `atomic = False`; for a
//! part that must be undoable on its own use `SAVEPOINT` / `ROLLBACK TO SAVEPOINT`:
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD COLUMN note text;
//! UPDATE orders SET note = '' WHERE id BETWEEN 1 AND 10000;
//! COMMIT;
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-begin.html
//! - https://www.postgresql.org/docs/current/sql-commit.html
//! - https://www.postgresql.org/docs/current/sql-savepoint.html
//! - https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block

use super::{Ctx, Hit, Rule};
use crate::ir::{Op, TxControl};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "transaction-nesting",
    severity: Severity::Warning,
    summary: "BEGIN inside an open transaction block, or COMMIT/ROLLBACK with none open: the blocks are not what they seem.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::Transaction(tc) = ctx.op else {
        return Vec::new();
    };
    let open = open_block_before(ctx);
    match (tc, open) {
        (TxControl::Begin, Some(_)) => {
            vec![Hit::new(
                "BEGIN while a transaction block is already open: PostgreSQL only warns \"there is already a transaction in progress\"; the next COMMIT commits everything since the first BEGIN, and what follows it runs in autocommit, one statement at a time",
                "Remove the inner BEGIN (and its COMMIT): let the migration tool own the transaction. Use SAVEPOINT for a part that must be undoable on its own, or an Alembic autocommit_block() / Django atomic = False for statements that must run outside a transaction.",
            )]
        }
        (TxControl::Commit | TxControl::Rollback, None) => {
            let word = if *tc == TxControl::Commit {
                "COMMIT"
            } else {
                "ROLLBACK"
            };
            // Statements since the last block ended (or the start): they ran in autocommit.
            let start = ctx
                .ops
                .iter()
                .take(ctx.index)
                .rposition(|op| {
                    matches!(op, Op::Transaction(TxControl::Commit | TxControl::Rollback))
                })
                .map_or(0, |i| i + 1);
            let loose = ctx
                .ops
                .iter()
                .take(ctx.index)
                .skip(start)
                .filter(|op| !matches!(op, Op::Empty | Op::Text))
                .count();
            let consequence = match (*tc == TxControl::Commit, loose) {
                (_, 0) => "it has no effect (a leftover or duplicated statement)".to_string(),
                (true, n) => format!(
                    "the {n} statement(s) before it since the last block ended ran in autocommit, each committed on its own, not as one unit"
                ),
                (false, n) => format!(
                    "it undoes nothing: the {n} statement(s) before it since the last block ended ran in autocommit and are already committed"
                ),
            };
            vec![Hit::new(
                format!(
                    "{word} with no open transaction block: PostgreSQL only warns \"there is no transaction in progress\"; {consequence}"
                ),
                format!(
                    "Remove the stray {word}, or add the BEGIN it belongs to; let the migration tool open and close the transaction."
                ),
            )]
        }
        _ => Vec::new(),
    }
}

/// The index of the BEGIN whose block is open before statement `index`, if one is. PostgreSQL has one
/// level of transaction block: an inner BEGIN does not open another, the first COMMIT or ROLLBACK
/// closes it.
/// The BEGIN that opened the transaction block this statement runs in, when it came before it.
/// Read from the analyzer's transaction state rather than by rescanning the statements before
/// it, which made every BEGIN and COMMIT cost the whole file (quadratic in long migrations).
pub(crate) fn open_block_before(ctx: &Ctx) -> Option<usize> {
    let opener = ctx.tx.earlier.start.checked_sub(1)?;
    (ctx.tx.in_transaction && opener < ctx.index).then_some(opener)
}

#[cfg(test)]
mod tests {

    fn findings(version: u32, schema: Option<&str>, sql: &str) -> Vec<Vec<String>> {
        crate::rules::test_support::messages(super::RULE.id, version, schema, sql)
    }

    fn fired(version: u32, schema: Option<&str>, sql: &str) -> Vec<usize> {
        findings(version, schema, sql)
            .iter()
            .map(Vec::len)
            .collect()
    }

    #[test]
    fn stray_and_nested() {
        let sql = "COMMIT;\nBEGIN;\nSTART TRANSACTION;\nSELECT 1;\nEND;\nABORT;\nBEGIN;\nCOMMIT;";
        assert_eq!(fired(15, None, sql), vec![1, 0, 1, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn savepoints_do_not_close_the_block() {
        let sql = "BEGIN;\nSAVEPOINT a;\nROLLBACK TO SAVEPOINT a;\nRELEASE SAVEPOINT a;\nCOMMIT;";
        assert_eq!(fired(15, None, sql), vec![0, 0, 0, 0, 0]);
    }
}
