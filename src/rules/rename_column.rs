//! # rename-column
//! RENAME COLUMN on an existing table breaks application code that still uses the old name.
//!
//! ## What it does
//! Flags `ALTER TABLE … RENAME COLUMN a TO b` on a table that existed before the migration, unless
//! the column itself was added earlier in the same migration.
//!
//! ## Why is this bad?
//! The rename itself is instant (a brief ACCESS EXCLUSIVE lock), but it takes effect for everyone the
//! moment the migration commits. Application servers still running the previous release keep
//! sending queries with the old name and fail with `column "a" does not exist` until every instance
//! runs the new code; ORMs that list every mapped column in their `SELECT`s (Django, SQLAlchemy) fail
//! on every query of the table, not just those that use the column. Deploying code first does not
//! help either: the new code fails until the migration has run.
//!
//! ## Example
//! ```sql
//! ALTER TABLE customers RENAME COLUMN phone TO phone_number;
//! ```
//!
//! ## Use instead
//! Expand and contract over several releases:
//! ```sql
//! ALTER TABLE customers ADD COLUMN phone_number text;          -- release 1: add, write both
//! UPDATE customers SET phone_number = phone WHERE id BETWEEN 1 AND 10000;  -- backfill in batches
//! -- release 2: read phone_number only;  release 3:
//! ALTER TABLE customers DROP COLUMN phone;
//! ```
//! In Django, renaming the model field while keeping the database name avoids the migration
//! entirely: `phone_number = models.CharField(..., db_column="phone")`. In SQLAlchemy, map the
//! attribute to the old column name: `phone_number = mapped_column("phone", String)`.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-RENAME
//! - https://docs.djangoproject.com/en/stable/ref/models/fields/#db-column
//! - https://docs.sqlalchemy.org/en/20/orm/mapping_styles.html#naming-columns-distinctly-from-attribute-names

use super::{Ctx, Hit, Rule, say};
use crate::ir::{AlterAction, Op};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "rename-column",
    severity: Severity::Warning,
    summary: "RENAME COLUMN on an existing table breaks application code that still uses the old name.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    // Nobody uses a table created by the migration yet.
    let renames = |a: &AlterAction| matches!(a, AlterAction::RenameColumn { .. });
    if !actions.iter().any(renames) || !ctx.catalog.pre_existing(name) {
        return Vec::new();
    }
    let table = name.display_qualified();
    actions
        .iter()
        .filter_map(|a| match a {
            AlterAction::RenameColumn { from, to } => Some((from, to)),
            _ => None,
        })
        // Nor a column the migration added.
        .filter(|(from, _)| {
            !ctx.catalog
                .column(name, from)
                .is_some_and(|c| c.created_in_migration)
        })
        .map(|(from, to)| {
            Hit::new(
                format!(
                    "renaming column {from} of {table} to {to}: code of the running release still queries {from} and fails with `column \"{from}\" does not exist` from the moment the migration commits (the rename itself takes a brief {})",
                    say::lock_on(LockMode::AccessExclusiveLock, name)
                ),
                format!(
                    "Expand and contract: add {to}, write both columns, backfill {to} in batches, switch reads to {to}, and drop {from} in a later release. If only the name in code should change, keep the column (Django: db_column=\"{from}\"; SQLAlchemy: mapped_column(\"{from}\", …))."
                ),
            )
        })
        .collect()
}
