//! # mixed-transaction-units
//! A transaction block runs after statements that committed on their own: if it fails, the revision is half-applied and its retry fails.
//!
//! ## What it does
//! Flags the first statement of a transaction block that does work after an autocommit block of the
//! same revision (of the file, without revision markers), when a statement committed before it
//! fails on a second run. A revision that mixes transactional and non-transactional commit units
//! is not atomic; the order that keeps it retry-safe is the transactional work first, then the
//! autocommit block (ending with the version bump), or committed statements that can run twice.
//! Transaction blocks that only bump `alembic_version` are not flagged.
//!
//! ## Why is this bad?
//! The transaction block is where the ordinary failures of a migration happen: a lock timeout, a
//! constraint that existing rows violate, a NOT NULL column that meets a NULL. When it fails, the
//! statements before it are committed but the revision is not recorded, so the migration tool runs
//! the whole revision again and stops at the first committed statement that cannot run twice.
//! Finishing or undoing the revision then takes manual work in the middle of a deploy.
//!
//! ## Example
//! ```sql
//! COMMIT;
//! CREATE INDEX CONCURRENTLY ix_orders_status ON orders (status);
//! BEGIN;
//! ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status <> '');
//! UPDATE alembic_version SET version_num='b2' WHERE alembic_version.version_num = 'b1';
//! COMMIT;
//! ```
//!
//! ## Use instead
//! Put the transactional work first and the autocommit block last, or make the committed
//! statements re-runnable, or split the revision in two (each part records itself):
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status <> '') NOT VALID;
//! COMMIT;
//! DROP INDEX CONCURRENTLY IF EXISTS ix_orders_status;
//! CREATE INDEX CONCURRENTLY ix_orders_status ON orders (status);
//! BEGIN;
//! UPDATE alembic_version SET version_num='b2' WHERE alembic_version.version_num = 'b1';
//! COMMIT;
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/15/tutorial-transactions.html
//! - https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block

use super::{Ctx, Hit, Rule};
use crate::pg::units::statement_numbers;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "mixed-transaction-units",
    severity: Severity::Warning,
    summary: "A transaction block runs after statements that committed on their own: if it fails, the revision is half-applied and its retry fails.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    if !ctx.tx.in_transaction {
        return Vec::new();
    }
    let Some(u) = ctx.units.unit_index(ctx.index) else {
        return Vec::new();
    };
    let Some(unit) = ctx.units.units.get(u) else {
        return Vec::new();
    };
    // Once per block, on its first statement that does work.
    if unit.work.first() != Some(&ctx.index) {
        return Vec::new();
    }
    let autocommit_before = ctx.units.autocommit_work_before(u);
    if autocommit_before.count == 0 {
        return Vec::new();
    }
    let Some((blocker, reason, committed)) = ctx.units.rerun_blocker(u, ctx.ops) else {
        return Vec::new();
    };
    vec![Hit::new(
        format!(
            "this transaction block runs after {} committed outside any transaction; if it fails, {} stay committed while the revision is not recorded, and the retry fails at {}: {reason}",
            autocommit_before.numbers(),
            committed.numbers(),
            statement_numbers(&[blocker]),
        ),
        "Run the transactional work first and the autocommit block after it, make the committed statements re-runnable (IF NOT EXISTS / IF EXISTS), or split the revision in two.",
    )
    .because(format!("rerun:{blocker}"))]
}

#[cfg(test)]
mod tests {
    fn fired(sql: &str) -> Vec<usize> {
        crate::rules::test_support::counts(super::RULE.id, sql)
    }

    #[test]
    fn transactional_work_after_a_non_re_runnable_autocommit_block() {
        let sql = "CREATE INDEX CONCURRENTLY ix_a ON t (a);\nBEGIN;\nALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);\nALTER TABLE t ALTER COLUMN a SET NOT NULL;\nCOMMIT;\n";
        assert_eq!(fired(sql), vec![0, 0, 1, 0, 0]);
    }

    #[test]
    fn transactional_work_first_is_fine() {
        let sql = "BEGIN;\nALTER TABLE t ADD COLUMN a int;\nCOMMIT;\nCREATE INDEX CONCURRENTLY ix_a ON t (a);\n";
        assert_eq!(fired(sql), vec![0, 0, 0, 0]);
        let sql = "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_a ON t (a);\nBEGIN;\nALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);\nCOMMIT;\n";
        assert_eq!(fired(sql), vec![0, 0, 0, 0]);
    }
}
