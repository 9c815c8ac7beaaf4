//! # foreign-key-without-index
//! A foreign key's referencing columns have no index: every delete from (or key update of) the referenced table scans the referencing table.
//!
//! ## What it does
//! Flags two things:
//! - a foreign key the migration adds (in `CREATE TABLE`, `ADD CONSTRAINT` or `ADD COLUMN …
//!   REFERENCES`) when no index of the referencing table starts with its columns, neither before
//!   the statement nor created later in the same migration;
//! - a `DELETE` from a table that another table references through a foreign key whose columns
//!   have no index, when that table is known (from the database) to hold at least
//!   `SizeSettings::large_rows` rows.
//!
//! It needs to know the referencing table's indexes: a table the migration creates, or a schema
//! (`--schema`, `--database`). PostgreSQL does not create these indexes by itself (Django does;
//! Alembic and hand-written SQL do not).
//!
//! ## Why is this bad?
//! For every row deleted from the referenced table, and every change of its key, PostgreSQL looks
//! for referencing rows (`RI_FKey_noaction_del` and friends in `src/backend/utils/adt/ri_triggers.c`);
//! without an index that lookup is a sequential scan of the referencing table, per row. A delete of
//! a thousand parents from a table whose children number millions reads those millions a thousand
//! times, while holding row locks; `ON DELETE CASCADE` makes it worse.
//!
//! ## Example
//! ```sql
//! CREATE TABLE run_tags (run_id integer REFERENCES runs (id), key text, value text);
//! ```
//!
//! ## Use instead
//! Index the referencing columns, in the same migration for a new table (free while it is empty)
//! or concurrently for an existing one:
//! ```sql
//! CREATE TABLE run_tags (run_id integer REFERENCES runs (id), key text, value text);
//! CREATE INDEX ix_run_tags_run_id ON run_tags (run_id);
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK
//! - https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY

use super::say::create_index;
use super::{Ctx, Hit, Rule};
use crate::catalog::{normal, same_normal};
use crate::ir::{AlterAction, Constraint, ConstraintKind, Op, QualName};
use crate::pg::duration::describe_size;
use crate::vocab::{Risk, Severity};

pub(crate) const RULE: Rule = Rule {
    id: "foreign-key-without-index",
    severity: Severity::Warning,
    summary: "A foreign key's referencing columns have no index: every delete from (or key update of) the referenced table scans the referencing table.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    match ctx.op {
        Op::Delete { table, .. } => deletes(ctx, table),
        _ => added(ctx),
    }
}

/// Foreign keys the statement adds: (referencing table, columns, referenced table).
fn foreign_keys(op: &Op) -> Vec<(&QualName, Vec<String>, &QualName)> {
    op.added_constraints()
        .into_iter()
        .filter_map(|(table, c, column)| fk(table, c, column))
        .collect()
}

fn fk<'a>(
    table: &'a QualName,
    c: &'a Constraint,
    column: Option<&str>,
) -> Option<(&'a QualName, Vec<String>, &'a QualName)> {
    match &c.kind {
        ConstraintKind::ForeignKey {
            columns, ref_table, ..
        } => {
            let cols = if columns.is_empty() {
                column.map(|c| vec![c.to_string()]).unwrap_or_default()
            } else {
                columns.clone()
            };
            (!cols.is_empty()).then_some((table, cols, ref_table))
        }
        _ => None,
    }
}

fn added(ctx: &Ctx) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (table, columns, ref_table) in foreign_keys(ctx.op) {
        let t = normal(table);
        let new_table = matches!(ctx.op, Op::CreateTable { .. });
        // The indexes are known for a table the migration creates, or from a schema.
        if !new_table && !ctx.catalog.schema_loaded() && ctx.catalog.pre_existing(&t) {
            continue;
        }
        if ctx.catalog.has_index_on(&t, &columns)
            || indexed_by_statement(ctx.op, &columns)
            || indexed_later(ctx, &t, &columns)
        {
            continue;
        }
        let cols = columns.join(", ");
        let size = ctx
            .catalog
            .size(&t)
            .map(|s| format!(" ({})", describe_size(&s)))
            .unwrap_or_default();
        let empty = new_table || !ctx.catalog.pre_existing(&t);
        let now = if empty {
            "while the table is new and empty, the index costs nothing"
        } else {
            "build it concurrently before adding the key"
        };
        let hit = Hit::new(
            format!(
                "the foreign key ({cols}) → {} has no index on {}{size} ({cols}): every delete from {} (and every change of its key) scans {} for referencing rows",
                ref_table.display_qualified(),
                t.display_qualified(),
                ref_table.display_qualified(),
                t.display_qualified(),
            ),
            format!(
                "Index the referencing columns ({now}): {}",
                create_index(&t, &columns, !empty)
            ),
        );
        // An empty table costs nothing today: the finding is about tomorrow.
        hits.push(if empty { hit.with_risk(Risk::Low) } else { hit });
    }
    hits
}

fn deletes(ctx: &Ctx, parent: &QualName) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (child, c) in ctx.catalog.referencing(parent) {
        let ConstraintKind::ForeignKey { columns, .. } = &c.kind else {
            continue;
        };
        let Some(size) = ctx.catalog.size(&child.name) else {
            continue;
        };
        if size.rows < ctx.sizes.large_rows || ctx.catalog.has_index_on(&child.name, columns) {
            continue;
        }
        hits.push(Hit::new(
            format!(
                "each row deleted from {} makes PostgreSQL look for referencing rows in {} ({}) by ({}), which has no index: a sequential scan of {} per deleted row (foreign key {})",
                normal(parent).display_qualified(),
                child.name.display_qualified(),
                describe_size(&size),
                columns.join(", "),
                child.name.display_qualified(),
                c.name
            ),
            format!(
                "Index the referencing columns first: {}",
                create_index(&child.name, columns, true)
            ),
        ));
    }
    hits
}

/// The statement itself indexes the columns: a primary key or unique constraint of a new table.
fn indexed_by_statement(op: &Op, columns: &[String]) -> bool {
    let Op::CreateTable {
        columns: defs,
        constraints,
        ..
    } = op
    else {
        return false;
    };
    let leads = |keys: &[String]| {
        keys.len() >= columns.len() && columns.iter().all(|c| keys[..columns.len()].contains(c))
    };
    constraints
        .iter()
        .chain(defs.iter().flat_map(|d| &d.constraints))
        .any(|c| match &c.kind {
            ConstraintKind::PrimaryKey { columns: k, .. } | ConstraintKind::Unique { columns: k, .. } => {
                leads(k)
            }
            _ => false,
        })
        || defs.iter().any(|d| {
            columns.len() == 1
                && d.name == columns[0]
                && d.constraints.iter().any(|c| {
                    matches!(&c.kind, ConstraintKind::PrimaryKey { columns: k, .. } | ConstraintKind::Unique { columns: k, .. } if k.is_empty())
                })
        })
}

/// A later statement of the migration indexes the columns.
fn indexed_later(ctx: &Ctx, table: &QualName, columns: &[String]) -> bool {
    let leads = |keys: &[String]| {
        keys.len() >= columns.len() && columns.iter().all(|c| keys[..columns.len()].contains(c))
    };
    ctx.any_later(|op| match op {
        Op::CreateIndex(ix) => same_normal(&ix.table, table) && ix.predicate.is_none() && leads(&ix.columns),
        Op::AlterTable { name, actions, .. } if same_normal(name, table) => {
            actions.iter().any(|a| match a {
                AlterAction::AddConstraint { constraint } => matches!(
                    &constraint.kind,
                    ConstraintKind::PrimaryKey { columns: k, using_index: None }
                        | ConstraintKind::Unique { columns: k, using_index: None } if leads(k)
                ),
                _ => false,
            })
        }
        _ => false,
    })
}
