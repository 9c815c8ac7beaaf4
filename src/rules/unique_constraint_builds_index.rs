//! # unique-constraint-builds-index
//! ADD UNIQUE / PRIMARY KEY without USING INDEX builds the index under an ACCESS EXCLUSIVE lock.
//!
//! ## What it does
//! Flags `ALTER TABLE … ADD [CONSTRAINT …] UNIQUE (…)` and `… PRIMARY KEY (…)` without `USING INDEX`,
//! and `UNIQUE` / `PRIMARY KEY` written on an `ADD COLUMN`, on a table that existed before the
//! migration. Constraints on tables the migration created, and `… USING INDEX` of an index built
//! beforehand, are not flagged.
//!
//! ## Why is this bad?
//! Adding the constraint builds its unique index inside the `ALTER TABLE`, which holds an ACCESS
//! EXCLUSIVE lock on the table: reads and writes both wait until every row has been read, sorted and
//! written into the index. A plain `CREATE UNIQUE INDEX` would at least let reads through; adding the
//! constraint does not. For a primary key, columns that may hold NULLs are also scanned to set them
//! NOT NULL.
//!
//! ## Example
//! ```sql
//! ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);
//! ```
//!
//! ## Use instead
//! Build the index concurrently (outside a transaction block), then turn it into the constraint,
//! which only takes a brief lock:
//! ```sql
//! CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS customers_email_key ON customers (email);
//! ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE USING INDEX customers_email_key;
//! ```
//! For a primary key, make the columns NOT NULL first (see `set-not-null-scan`), then
//! `ADD CONSTRAINT … PRIMARY KEY USING INDEX …`. In Alembic: `op.create_index(..., unique=True,
//! postgresql_concurrently=True)` inside `with op.get_context().autocommit_block():`, then
//! `op.execute("ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX …")`. In Django:
//! `AddIndexConcurrently` with a unique index and `RunSQL` for the constraint, with
//! `SeparateDatabaseAndState` so the model state records the constraint.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX
//! - https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, Constraint, ConstraintKind, Op, QualName};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "unique-constraint-builds-index",
    severity: Severity::Error,
    summary: "ADD UNIQUE / PRIMARY KEY without USING INDEX builds the index under an ACCESS EXCLUSIVE lock.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    let table = normal(name);
    // The index build reads the table; the effect lists that scan only for a table that existed
    // before the migration.
    if !ctx.effect.scans.contains(&table) {
        return Vec::new();
    }
    let lock = ctx.lock_on(&table).unwrap_or(LockMode::AccessExclusiveLock);
    let mut hits = Vec::new();
    for a in actions {
        match a {
            AlterAction::AddConstraint { constraint } => {
                if let Some((kind, columns)) = builds_index(constraint, &[]) {
                    hits.push(hit(name, &table, lock, constraint, kind, &columns, None));
                }
            }
            AlterAction::AddColumn { column, .. } => {
                let own = [column.name.clone()];
                for c in &column.constraints {
                    if let Some((kind, columns)) = builds_index(c, &own) {
                        hits.push(hit(
                            name,
                            &table,
                            lock,
                            c,
                            kind,
                            &columns,
                            Some(&column.name),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    hits
}

/// `("UNIQUE" | "PRIMARY KEY", columns)` for a constraint that builds its own index.
fn builds_index(c: &Constraint, column_default: &[String]) -> Option<(&'static str, Vec<String>)> {
    let (kind, columns) = match &c.kind {
        ConstraintKind::Unique {
            columns,
            using_index: None,
        } => ("UNIQUE", columns),
        ConstraintKind::PrimaryKey {
            columns,
            using_index: None,
        } => ("PRIMARY KEY", columns),
        _ => return None,
    };
    let columns = if columns.is_empty() {
        column_default.to_vec()
    } else {
        columns.clone()
    };
    Some((kind, columns))
}

fn hit(
    name: &QualName,
    table: &QualName,
    lock: LockMode,
    c: &Constraint,
    kind: &str,
    columns: &[String],
    new_column: Option<&str>,
) -> Hit {
    let cols = columns.join(", ");
    let suffix = if kind == "UNIQUE" { "key" } else { "pkey" };
    let cname = c.name.clone().unwrap_or_else(|| {
        if kind == "UNIQUE" {
            format!("{}_{}_{suffix}", table.name, columns.join("_"))
        } else {
            format!("{}_{suffix}", table.name)
        }
    });
    let what = match new_column {
        Some(col) => format!("the {kind} on new column {col}"),
        None => format!("adding {kind} constraint {cname} ({cols})"),
    };
    let mut help = String::new();
    if let Some(col) = new_column {
        help.push_str(&format!("Add column {col} without {kind}, then: "));
    }
    help.push_str(&format!(
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {cname} ON {name} ({cols}); outside a transaction block, then ALTER TABLE {name} ADD CONSTRAINT {cname} {kind} USING INDEX {cname}; (a brief lock)."
    ));
    if kind == "PRIMARY KEY" {
        help.push_str(&format!(
            " Make {cols} NOT NULL first (CHECK … IS NOT NULL NOT VALID, VALIDATE, SET NOT NULL), or the USING INDEX step scans the table too."
        ));
    }
    Hit::new(
        format!(
            "{what} builds a unique index on {table} inside the ALTER TABLE, holding an {} until every row is read and sorted",
            say::lock_on(lock, table)
        ),
        help,
    )
}
