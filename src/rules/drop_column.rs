//! # drop-column
//! DROP COLUMN deletes the column's data and breaks code of the running release that still uses it.
//!
//! ## What it does
//! Flags `ALTER TABLE … DROP COLUMN` of a column that holds data from before the migration, on a
//! table that existed before it. Dropping a column added earlier in the same migration, or any column
//! of a table the migration created, is fine.
//!
//! ## Why is this bad?
//! The statement is quick (PostgreSQL only marks the column dropped, under a brief ACCESS EXCLUSIVE
//! lock), but the values are gone: no rollback script can bring them back. And the running
//! application breaks at commit time: ORMs list every mapped column in their `SELECT` and `INSERT`
//! statements (Django, SQLAlchemy), so instances still running the previous release fail with
//! `column "…" does not exist` on every query of the table, not only on those that use the column.
//!
//! ## Example
//! ```sql
//! ALTER TABLE customers DROP COLUMN legacy_fax;
//! ```
//!
//! ## Use instead
//! Drop it in two releases: first deploy code that no longer reads or writes the column, then drop
//! it in a later migration. In Django, remove the field from the model and make the first migration
//! state-only:
//! ```python
//! migrations.SeparateDatabaseAndState(
//!     state_operations=[migrations.RemoveField("customer", "legacy_fax")],
//!     database_operations=[],
//! )
//! ```
//! and drop the column in a later migration (the field must be nullable or have a `db_default` so
//! inserts from the new code succeed meanwhile). In SQLAlchemy, remove the attribute from the model
//! (or mark it `deferred`) and deploy before the Alembic revision with `op.drop_column` runs. Keep a
//! copy if the data might be needed: `CREATE TABLE customers_legacy_fax AS SELECT id, legacy_fax
//! FROM customers;`
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-DROP-COLUMN
//! - https://docs.djangoproject.com/en/stable/ref/migration-operations/#separatedatabaseandstate
//! - https://alembic.sqlalchemy.org/en/latest/ops.html#alembic.operations.Operations.drop_column

use super::{Ctx, Hit, Rule, say};
use crate::ir::{AlterAction, Op};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "drop-column",
    severity: Severity::Warning,
    summary: "DROP COLUMN deletes the column's data and breaks code of the running release that still uses it.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    // The effect records the loss only for a pre-existing table and a column the migration did not
    // add; the same test per action tells which of the statement's columns it is about.
    if ctx.effect.destroys.is_empty() || !ctx.catalog.pre_existing(name) {
        return Vec::new();
    }
    let table = name.display_qualified();
    actions
        .iter()
        .filter_map(|a| match a {
            AlterAction::DropColumn { name: col, .. } => Some(col),
            _ => None,
        })
        .filter(|col| {
            !ctx.catalog
                .column(name, col)
                .is_some_and(|c| c.created_in_migration)
        })
        .map(|col| {
            Hit::new(
                format!(
                    "dropping column {col} of {table} deletes its values for good, and code of the running release that selects or inserts {col} fails with `column \"{col}\" does not exist` from the moment the migration commits (the statement itself takes a brief {})",
                    say::lock_on(LockMode::AccessExclusiveLock, name)
                ),
                format!(
                    "First deploy code that no longer uses {col} (Django: remove the field with SeparateDatabaseAndState, state only; SQLAlchemy: remove it from the model), then drop it in a later migration. Keep a copy if it may be needed: CREATE TABLE {}_{col} AS SELECT <primary key>, {col} FROM {name}.",
                    name.name
                ),
            )
        })
        .collect()
}
