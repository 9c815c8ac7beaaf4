//! # create-index-non-concurrently
//! CREATE INDEX without CONCURRENTLY blocks writes to the table for the whole build.
//!
//! ## What it does
//! Flags `CREATE [UNIQUE] INDEX` without `CONCURRENTLY` on a table that existed before the migration.
//! Indexes on tables the migration itself created are fine: nobody else uses them yet.
//!
//! ## Why is this bad?
//! A plain `CREATE INDEX` takes a SHARE lock on the table: reads go on, but every `INSERT`, `UPDATE`
//! and `DELETE` waits until the index is built, which takes as long as reading and sorting the whole
//! table. On a large table that is an outage for every writer.
//!
//! ## Example
//! ```sql
//! CREATE INDEX ix_runs_status ON runs (status);
//! ```
//!
//! ## Use instead
//! Build it concurrently, outside a transaction block (in Alembic: `op.create_index(...,
//! postgresql_concurrently=True)` inside `with op.get_context().autocommit_block():`):
//! ```sql
//! CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_runs_status ON runs (status);
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES

use super::{Ctx, Hit, Rule, say};
use crate::ir::Op;
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "create-index-non-concurrently",
    severity: Severity::Error,
    summary: "CREATE INDEX without CONCURRENTLY blocks writes to the table for the whole build.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::CreateIndex(ix) = ctx.op else {
        return Vec::new();
    };
    if ix.concurrently || !ctx.catalog.pre_existing(&ix.table) {
        return Vec::new();
    }
    let name = ix.name.as_deref().unwrap_or("the index");
    vec![Hit::new(
        format!(
            "building {name} takes a {} until the whole table is read and sorted",
            say::lock_on(LockMode::ShareLock, &ix.table)
        ),
        format!(
            "Use CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} … outside a transaction block (Alembic: postgresql_concurrently=True in an autocommit_block())."
        ),
    )]
}
