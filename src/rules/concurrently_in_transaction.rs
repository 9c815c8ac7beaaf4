//! # concurrently-in-transaction
//! A statement that cannot run inside a transaction block is inside one: the migration fails.
//!
//! ## What it does
//! Flags `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX … CONCURRENTLY`,
//! `DETACH PARTITION … CONCURRENTLY`, `VACUUM` (and `ALTER TYPE … ADD VALUE` before PostgreSQL 12)
//! between `BEGIN` and `COMMIT`. Alembic wraps every revision in one transaction unless the statement
//! sits in an `autocommit_block()`; Django does the same unless the migration sets `atomic = False`.
//!
//! ## Why is this bad?
//! PostgreSQL rejects the statement with `ERROR: CREATE INDEX CONCURRENTLY cannot run inside a
//! transaction block`; the whole revision is rolled back and the deploy stops.
//!
//! ## Example
//! ```sql
//! BEGIN;
//! CREATE INDEX CONCURRENTLY ix_runs_status ON runs (status);
//! COMMIT;
//! ```
//!
//! ## Use instead
//! ```sql
//! COMMIT;
//! CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_runs_status ON runs (status);
//! ```
//! In Alembic: `with op.get_context().autocommit_block(): op.create_index(...,
//! postgresql_concurrently=True)`; in Django: `atomic = False` and `AddIndexConcurrently`.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
//! - https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block
//! - https://docs.djangoproject.com/en/stable/ref/contrib/postgres/operations/#concurrent-index-operations

use super::{Ctx, Hit, Rule};
use crate::pg::effect::no_transaction_block;
use crate::vocab::{Risk, Severity};

pub(crate) const RULE: Rule = Rule {
    id: "concurrently-in-transaction",
    severity: Severity::Error,
    summary: "A statement that cannot run inside a transaction block is inside one: the migration fails.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    if !ctx.tx.in_transaction {
        return Vec::new();
    }
    let Some(what) = no_transaction_block(ctx.op, ctx.pg_version) else {
        return Vec::new();
    };
    vec![
        Hit::new(
            format!("{what} cannot run inside a transaction block: PostgreSQL rejects it and the revision is rolled back"),
            "Run it outside the transaction: in Alembic inside `with op.get_context().autocommit_block():`, in Django with `atomic = False`.",
        )
        .with_risk(Risk::Critical),
    ]
}
