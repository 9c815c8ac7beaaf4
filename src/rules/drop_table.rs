//! # drop-table
//! DROP TABLE of an existing table: its rows are gone and code that still uses it breaks.
//!
//! ## What it does
//! Flags `DROP TABLE` of a table that existed before the migration. Dropping a table the same
//! migration created (a temporary helper table, say) is not flagged, and neither is `DROP VIEW`.
//! When the schema shows foreign keys of other tables pointing at the dropped table, the finding
//! says that the statement fails without `CASCADE`.
//!
//! ## Why is this bad?
//! The table and every row in it are deleted, and no rollback script can bring the rows back:
//! only a backup can. During a rolling deploy the application version that is still running keeps
//! querying the table and gets `relation "…" does not exist` errors. The statement also takes an
//! ACCESS EXCLUSIVE lock on the table (and on the tables its foreign keys reference), so it queues
//! behind every open transaction that touched them.
//!
//! ## Example
//! ```sql
//! DROP TABLE legacy_invoices;
//! ```
//!
//! ## Use instead
//! Remove the table in steps: first deploy code that no longer reads or writes it (in Django,
//! remove the model's usage, then the model; `SeparateDatabaseAndState` lets the model go while the
//! table stays), keep the data until you are sure (rename it, or dump it), and drop it in a later
//! migration:
//! ```sql
//! ALTER TABLE legacy_invoices RENAME TO legacy_invoices_deprecated;
//! -- a later release, after a backup: DROP TABLE legacy_invoices_deprecated;
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-droptable.html
//! - https://docs.djangoproject.com/en/stable/ref/migration-operations/#separatedatabaseandstate
//! - https://alembic.sqlalchemy.org/en/latest/ops.html#alembic.operations.Operations.drop_table

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{ObjectKind, Op, QualName, quote_ident};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "drop-table",
    severity: Severity::Warning,
    summary: "DROP TABLE of an existing table: its rows are gone and code that still uses it breaks.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::Drop {
        kind: ObjectKind::Table,
        names,
        cascade,
        ..
    } = ctx.op
    else {
        return Vec::new();
    };
    let dropped: Vec<QualName> = names.iter().map(normal).collect();
    let mut hits = Vec::new();
    for t in &dropped {
        // Tables the statement locks: existing ones (IF EXISTS of one the schema lacks is a no-op).
        if !ctx.effect.locks.iter().any(|(n, _)| n == t) {
            continue;
        }
        // Foreign keys of tables that are not dropped by the same statement: without CASCADE the
        // drop fails ("cannot drop table … because other objects depend on it").
        let blockers: Vec<String> = ctx
            .catalog
            .referencing(t)
            .filter(|(tab, _)| !dropped.contains(&normal(&tab.name)))
            .map(|(tab, c)| format!("{} on {}", c.name, tab.name.display_qualified()))
            .collect();
        let tail = if blockers.is_empty() {
            String::new()
        } else if *cascade {
            format!(
                "; CASCADE also drops the foreign keys {} that point at it",
                blockers.join(", ")
            )
        } else {
            format!(
                "; it fails unless the foreign keys {} that point at it are dropped first",
                blockers.join(", ")
            )
        };
        hits.push(Hit::new(
            format!(
                "DROP TABLE deletes {} and all its rows (no rollback can restore them) under an {}; code that still queries it gets errors{tail}",
                t.display_qualified(),
                say::lock_on(LockMode::AccessExclusiveLock, t)
            ),
            format!(
                "Stop using the table in a deploy before this one, keep the data (ALTER TABLE {} RENAME TO {}, or a dump) and drop it in a later migration.",
                t,
                quote_ident(&format!("{}_deprecated", t.name))
            ),
        ));
    }
    hits
}
