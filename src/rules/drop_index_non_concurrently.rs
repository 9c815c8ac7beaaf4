//! # drop-index-non-concurrently
//! DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the index's table.
//!
//! ## What it does
//! Flags `DROP INDEX` without `CONCURRENTLY` of an index that existed before the migration. An index
//! the migration created itself, or one on a table the migration created, is left alone: nobody else
//! uses it yet. When the schema does not say which table the index belongs to, the finding says so.
//!
//! ## Why is this bad?
//! A plain `DROP INDEX` locks the index's table in ACCESS EXCLUSIVE mode. Removing the index is quick,
//! but the lock has to wait until every running query on the table has finished, and while it waits,
//! every new query on the table, plain `SELECT`s included, queues behind it. One slow report query is
//! enough to stall the table for its whole run.
//!
//! ## Example
//! ```sql
//! DROP INDEX ix_orders_status;
//! ```
//!
//! ## Use instead
//! Drop it concurrently, outside a transaction block (one index per statement, no `CASCADE`):
//! ```sql
//! DROP INDEX CONCURRENTLY IF EXISTS ix_orders_status;
//! ```
//! In Alembic: `op.drop_index("ix_orders_status", postgresql_concurrently=True, if_exists=True)`
//! inside `with op.get_context().autocommit_block():`. In Django: `RemoveIndexConcurrently` in a
//! migration with `atomic = False`. Indexes that back a PRIMARY KEY or UNIQUE constraint are removed
//! with `ALTER TABLE … DROP CONSTRAINT` instead.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-dropindex.html
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
//! - https://docs.djangoproject.com/en/stable/ref/contrib/postgres/operations/#concurrent-index-operations

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{ObjectKind, Op};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "drop-index-non-concurrently",
    severity: Severity::Warning,
    summary: "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the index's table.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::Drop {
        kind: ObjectKind::Index,
        names,
        concurrently: false,
        cascade,
        ..
    } = ctx.op
    else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    for name in names {
        let help = help(&name.to_string(), names.len() > 1, *cascade);
        match ctx.catalog.index(name) {
            // Created earlier in this migration: no one else uses it yet.
            Some(ix) if ix.created_in_migration => {}
            Some(ix) => {
                // DROP INDEX locks the table ACCESS EXCLUSIVE (docs: sql-dropindex.html; observed on
                // PostgreSQL 15, fixtures/oracle/index_drop). The effect lists the lock only when the
                // table existed before the migration.
                let table = normal(&ix.table);
                let Some(mode) = ctx
                    .effect
                    .locks
                    .iter()
                    .find(|(t, _)| *t == table)
                    .map(|(_, m)| *m)
                else {
                    continue;
                };
                hits.push(Hit::new(
                    format!(
                        "dropping index {name} takes an {}: the drop itself is quick, but while it waits for running queries on the table every later query queues behind it",
                        say::lock_on(mode, &table)
                    ),
                    help,
                ));
            }
            None => hits.push(Hit::new(
                format!(
                    "dropping index {name} takes an ACCESS EXCLUSIVE lock on its table ({}; the table is unknown: the schema does not list the index), and while it waits for running queries every later query on that table queues behind it",
                    LockMode::AccessExclusiveLock.blocks_what()
                ),
                help,
            )),
        }
    }
    hits
}

fn help(name: &str, several: bool, cascade: bool) -> String {
    let mut h = format!(
        "Use DROP INDEX CONCURRENTLY IF EXISTS {name}; outside a transaction block (Alembic: op.drop_index(..., postgresql_concurrently=True, if_exists=True) inside `with op.get_context().autocommit_block():`; Django: RemoveIndexConcurrently with atomic = False)."
    );
    if several {
        h.push_str(" CONCURRENTLY drops one index per statement: write one statement per index.");
    }
    if cascade {
        h.push_str(" CONCURRENTLY does not allow CASCADE: drop the dependent objects first.");
    }
    h
}
