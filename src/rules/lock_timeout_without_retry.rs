//! # lock-timeout-without-retry
//! A lock_timeout may cancel this statement, but retrying the revision then fails on statements that earlier units committed.
//!
//! ## What it does
//! Flags the first statement of a commit unit that waits for a lock on a table that existed before
//! the migration while a non-zero `lock_timeout` is in force, when an earlier commit unit of the
//! same revision (of the file, without revision markers) has committed a statement that fails when
//! run again (`ADD COLUMN` without `IF NOT EXISTS`, `CREATE INDEX` without `IF NOT EXISTS`,
//! renames, …). The criterion is checkable from the file alone: a `lock_timeout` is a plan to retry
//! on timeout, and the retry path is broken exactly when the retried revision repeats a committed,
//! non-re-runnable statement.
//!
//! ## Why is this bad?
//! `lock_timeout` turns an unbounded wait into an error ("canceling statement due to lock
//! timeout"), on the assumption that the migration is simply run again. The migration tool records
//! the revision only at its end, so the retry starts the revision from the top; the units that
//! committed before the timeout run a second time, and the first one that cannot ("column already
//! exists") stops the retry. The operator is left with a half-applied revision in the middle of a
//! deploy.
//!
//! ## Example
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD COLUMN note text;
//! COMMIT;
//! CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_note ON orders (note);
//! BEGIN;
//! SET LOCAL lock_timeout = '5s';
//! ALTER TABLE orders ADD CONSTRAINT orders_note_check CHECK (note <> '') NOT VALID;
//! COMMIT;
//! ```
//!
//! ## Use instead
//! Make the committed statements re-runnable, or do the lock-taking work first, before anything
//! commits:
//! ```sql
//! BEGIN;
//! SET LOCAL lock_timeout = '5s';
//! ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
//! ALTER TABLE orders ADD CONSTRAINT orders_note_check CHECK (note <> '') NOT VALID;
//! COMMIT;
//! CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_note ON orders (note);
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/15/runtime-config-client.html#GUC-LOCK-TIMEOUT
//! - https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block

use super::{Ctx, Hit, Rule};
use crate::pg::units::statement_numbers;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "lock-timeout-without-retry",
    severity: Severity::Warning,
    summary: "A lock_timeout may cancel this statement, but retrying the revision then fails on statements that earlier units committed.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    if !ctx.tx.lock_timeout || ctx.effect.locks.is_empty() {
        return Vec::new();
    }
    let Some(unit) = ctx.units.unit_index(ctx.index) else {
        return Vec::new();
    };
    // Once per unit: in a block, the first statement that takes a lock on an existing table.
    if ctx.tx.in_transaction && !ctx.tx.held().is_empty() {
        return Vec::new();
    }
    let Some((blocker, reason, committed)) = ctx.units.rerun_blocker(unit, ctx.ops) else {
        return Vec::new();
    };
    vec![Hit::new(
        format!(
            "a lock_timeout is set, so this statement may be cancelled while it waits for its lock; by then {} {} committed, and the retry the timeout calls for fails at {}: {reason}",
            committed.numbers(),
            if committed.count == 1 { "is" } else { "are" },
            statement_numbers(&[blocker]),
        ),
        "Make the committed statements re-runnable (IF NOT EXISTS / IF EXISTS), or move this lock-taking work before the units that commit on their own, or split the revision so each part records itself.",
    )
    .because(format!("rerun:{blocker}"))]
}

#[cfg(test)]
mod tests {
    fn messages(sql: &str) -> Vec<Vec<String>> {
        crate::rules::test_support::messages(super::RULE.id, 15, None, sql)
    }

    #[test]
    fn a_committed_add_column_breaks_the_retry() {
        let sql = "BEGIN;\nALTER TABLE t ADD COLUMN a int;\nCOMMIT;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS ix_a ON t (a);\nBEGIN;\nSET LOCAL lock_timeout = '5s';\nALTER TABLE t ALTER COLUMN a SET DEFAULT 0;\nALTER TABLE t ALTER COLUMN a SET STATISTICS 100;\nCOMMIT;\n";
        let m = messages(sql);
        assert_eq!(
            m[6],
            vec![
                "a lock_timeout is set, so this statement may be cancelled while it waits for its lock; by then statements 1–4 are committed, and the retry the timeout calls for fails at statement 2: ALTER TABLE t ADD COLUMN a without IF NOT EXISTS fails: the column exists"
                    .to_string()
            ]
        );
        // Once per unit.
        assert!(m[7].is_empty());
    }

    #[test]
    fn re_runnable_committed_statements_are_fine() {
        let sql = "BEGIN;\nALTER TABLE t ADD COLUMN IF NOT EXISTS a int;\nCOMMIT;\nBEGIN;\nSET LOCAL lock_timeout = '5s';\nALTER TABLE t ALTER COLUMN a SET DEFAULT 0;\nCOMMIT;\n";
        assert!(messages(sql).iter().all(Vec::is_empty));
    }
}
