//! # rename-table
//! Renaming an existing table or moving it to another schema breaks code that uses the old name.
//!
//! ## What it does
//! Flags `ALTER TABLE … RENAME TO …` and `ALTER TABLE … SET SCHEMA …` on a table that existed before
//! the migration. Renaming a table created earlier in the same migration is fine.
//!
//! ## Why is this bad?
//! The rename is instant (a brief ACCESS EXCLUSIVE lock) and visible to everyone the moment the
//! migration commits. Every instance of the running release still sends queries naming the old
//! table and fails with `relation "…" does not exist` until it is replaced by new code; and the new
//! code cannot go out first, because the new name does not exist until the migration runs. Views,
//! foreign keys and triggers follow the rename (they point at the table, not its name), but SQL in
//! function bodies, cron jobs, reports and other services does not.
//!
//! ## Example
//! ```sql
//! ALTER TABLE invoices RENAME TO billing_invoices;
//! ```
//!
//! ## Use instead
//! Rename, and leave a view under the old name in the same transaction: a simple view on one table
//! is automatically updatable (inserts through it still get the table's defaults), so old code keeps
//! reading and writing through it.
//! ```sql
//! BEGIN;
//! ALTER TABLE invoices RENAME TO billing_invoices;
//! CREATE VIEW invoices AS SELECT * FROM billing_invoices;
//! COMMIT;
//! -- a later release, once nothing uses the old name:
//! DROP VIEW invoices;
//! ```
//! In Django, when renaming a model, set `class Meta: db_table` to the table's current name, so the
//! database table keeps its name.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-RENAME
//! - https://www.postgresql.org/docs/current/sql-createview.html#SQL-CREATEVIEW-UPDATABLE-VIEWS
//! - https://docs.djangoproject.com/en/stable/ref/models/options/#db-table

use super::{Ctx, Hit, Rule, say};
use crate::ir::{AlterAction, Op};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "rename-table",
    severity: Severity::Warning,
    summary: "Renaming an existing table or moving it to another schema breaks code that uses the old name.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    // Nobody uses a table created by the migration yet.
    let renames = |a: &AlterAction| {
        matches!(
            a,
            AlterAction::RenameTable { .. } | AlterAction::SetSchema { .. }
        )
    };
    if !actions.iter().any(renames) || !ctx.catalog.pre_existing(name) {
        return Vec::new();
    }
    let table = name.display_qualified();
    let lock = say::lock_on(LockMode::AccessExclusiveLock, name);
    actions
        .iter()
        .filter_map(|a| match a {
            AlterAction::RenameTable { to } => Some((
                format!("renaming {table} to {to}"),
                format!("CREATE VIEW {name} AS SELECT * FROM {to}"),
            )),
            AlterAction::SetSchema { schema } => Some((
                format!("moving {table} to schema {schema}"),
                format!("CREATE VIEW {name} AS SELECT * FROM {schema}.{}", name.name),
            )),
            _ => None,
        })
        .map(|(what, view)| {
            Hit::new(
                format!(
                    "{what}: code of the running release still queries {table} and fails with `relation \"{}\" does not exist` from the moment the migration commits (the statement itself takes a brief {lock})",
                    name.name
                ),
                format!(
                    "Leave an updatable view under the old name in the same transaction (`{view}`) and drop it in a later release, or keep the table name (Django: Meta.db_table)."
                ),
            )
        })
        .collect()
}
