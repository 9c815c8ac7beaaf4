//! # non-idempotent-outside-transaction
//! A statement in an autocommit block commits on its own and fails when the revision is retried after a later failure.
//!
//! ## What it does
//! Flags a statement that runs outside a transaction block (Alembic's `autocommit_block()`, or a
//! `COMMIT` … `BEGIN` written by hand) in a revision (a file, without revision markers) that also
//! has a transaction block, when running it a second time fails: `CREATE INDEX CONCURRENTLY`
//! without `IF NOT EXISTS`, `ADD COLUMN` without `IF NOT EXISTS`, `CREATE TABLE` without
//! `IF NOT EXISTS`, `DROP …` without `IF EXISTS`, `ALTER TYPE … ADD VALUE` without
//! `IF NOT EXISTS`, renames. It is flagged only when a later commit unit of the same revision does
//! work, so that a failure there leaves the statement committed. A file with no transaction block
//! at all (a Django `atomic = False` migration) is not flagged: its author runs every statement
//! on its own by design.
//!
//! ## Why is this bad?
//! The statement commits the moment it finishes. When a later unit of the revision fails (a
//! `lock_timeout`, a deadlock, a unique index that meets duplicates), the migration tool has not
//! recorded the revision yet (`alembic_version` is bumped in the revision's last transaction), so
//! the retry runs the whole revision again, and this statement fails with "already exists" or
//! "does not exist": the migration can be neither finished nor retried without editing it or the
//! database by hand, typically in the middle of a deploy.
//!
//! ## Example
//! ```sql
//! COMMIT;
//! CREATE INDEX CONCURRENTLY ix_orders_status ON orders (status);
//! CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_created_at ON orders (created_at);
//! BEGIN;
//! ```
//!
//! ## Use instead
//! Write every statement of an autocommit block so that it can run twice. For a concurrent index
//! build, drop a possibly INVALID leftover first: `IF NOT EXISTS` alone would skip an index that a
//! failed build left INVALID, and the retry would "succeed" without a usable index.
//! ```sql
//! COMMIT;
//! DROP INDEX CONCURRENTLY IF EXISTS ix_orders_status;
//! CREATE INDEX CONCURRENTLY ix_orders_status ON orders (status);
//! ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
//! BEGIN;
//! ```
//! The failure-modes section of the report says, for every commit unit, what a failure leaves.
//!
//! ## References
//! - https://www.postgresql.org/docs/15/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
//! - https://www.postgresql.org/docs/15/sql-altertable.html
//! - https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block

use super::{Ctx, Hit, Rule};
use crate::pg::rerun::rerun_failure;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "non-idempotent-outside-transaction",
    severity: Severity::Warning,
    summary: "A statement in an autocommit block commits on its own and fails when the revision is retried after a later failure.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    if ctx.tx.in_transaction {
        return Vec::new();
    }
    let Some(unit) = ctx.units.unit_index(ctx.index) else {
        return Vec::new();
    };
    if !ctx.units.revision_has_block(unit) || !ctx.units.work_follows(unit) {
        return Vec::new();
    }
    let Some(reason) = rerun_failure(ctx.op) else {
        return Vec::new();
    };
    vec![Hit::new(
        format!(
            "this statement runs outside a transaction block and commits on its own; if a later unit of the revision fails, a retry runs it again and {reason}"
        ),
        "Make it re-runnable: IF NOT EXISTS / IF EXISTS (for CREATE INDEX CONCURRENTLY, a DROP INDEX CONCURRENTLY IF EXISTS before it, since IF NOT EXISTS would keep an INVALID leftover), or move it into the revision's transaction when it does not need to run outside one.",
    )
    .because(format!("rerun:{}", ctx.index))]
}

#[cfg(test)]
mod tests {
    fn fired(sql: &str) -> Vec<usize> {
        crate::rules::test_support::counts(super::RULE.id, sql)
    }

    #[test]
    fn only_when_a_later_unit_does_work() {
        let sql = "BEGIN;\nALTER TABLE t ADD COLUMN a int;\nCOMMIT;\nCREATE INDEX CONCURRENTLY ix_a ON t (a);\nCREATE INDEX CONCURRENTLY ix_b ON t (b);\n";
        // The last statement: nothing after it can fail and leave it committed.
        assert_eq!(fired(sql), vec![0, 0, 0, 1, 0]);
    }

    #[test]
    fn a_file_without_any_transaction_block_is_left_alone() {
        let sql = "CREATE INDEX CONCURRENTLY ix_a ON t (a);\nCREATE INDEX CONCURRENTLY ix_b ON t (b);\n";
        assert_eq!(fired(sql), vec![0, 0]);
    }
}
