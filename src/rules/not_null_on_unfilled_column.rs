//! # not-null-on-unfilled-column
//! SET NOT NULL or a primary key on a column the migration added and never filled fails on any table with rows.
//!
//! ## What it does
//! Follows each column the migration adds to a table that has rows (a table that existed before
//! the migration and that no earlier statement emptied) without a default, identity or generated
//! value: its existing rows hold NULL there. An `UPDATE` without `WHERE` that sets the column fills
//! it for every row; an `UPDATE … WHERE` fills only some. Flags `ALTER COLUMN … SET NOT NULL` and
//! `ADD PRIMARY KEY` on such a column while no statement has filled it for every row.
//!
//! Work migsafe cannot follow (a `DO` block, a statement it could not read) may fill anything: after
//! one, no column is flagged.
//!
//! ## Why is this bad?
//! PostgreSQL checks every existing row and stops with `ERROR: column "…" of relation "…" contains
//! null values`, rolling back the revision's transaction. The migration passes on an empty
//! development database and fails on every installation with data. A common way to get there is a
//! backfill written as a Python loop in the migration: the offline export (`alembic upgrade --sql`)
//! holds at most the first batch, or no `UPDATE` at all, so the SQL that is reviewed is not the SQL
//! that runs.
//!
//! ## Example
//! ```sql
//! ALTER TABLE runs ADD COLUMN try_id integer;
//! UPDATE runs SET try_id = 1 WHERE id < 10000;   -- only the first batch
//! ALTER TABLE runs ALTER COLUMN try_id SET NOT NULL;
//! ```
//!
//! ## Use instead
//! Fill every row before enforcing it, or add the column with a default:
//! ```sql
//! ALTER TABLE runs ADD COLUMN try_id integer DEFAULT 1;   -- no rewrite on PostgreSQL >= 11
//! ALTER TABLE runs ALTER COLUMN try_id SET NOT NULL;
//! ```
//! In Alembic: `op.add_column("runs", sa.Column("try_id", sa.Integer(), server_default="1"))`, or
//! run the whole backfill before `op.alter_column("runs", "try_id", nullable=False)`. In Django:
//! `AddField` with a `default` (Django fills existing rows with it) or `db_default`. When the
//! backfill really runs outside the export (a loop in Python), say so with
//! `-- migsafe: ignore not-null-on-unfilled-column` in an `op.execute` before the statement.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html ("SET NOT NULL … will fail if the column contains null values")
//! - https://www.postgresql.org/docs/current/ddl-alter.html#DDL-ALTER-ADDING-A-COLUMN
//! - https://alembic.sqlalchemy.org/en/latest/offline.html

use super::{Ctx, Hit, Rule};
use crate::ir::{AlterAction, ConstraintKind, Op};
use crate::pg::units::statement_numbers;
use crate::vocab::{Risk, Severity};

pub(crate) const RULE: Rule = Rule {
    id: "not-null-on-unfilled-column",
    severity: Severity::Error,
    summary: "SET NOT NULL or a primary key on a column the migration added and never filled fails on any table with rows.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    if !ctx.catalog.holds_rows(name) {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for a in actions {
        let (what, columns): (&str, Vec<&String>) = match a {
            AlterAction::SetNotNull { column } => ("SET NOT NULL", vec![column]),
            AlterAction::AddConstraint { constraint } => match &constraint.kind {
                ConstraintKind::PrimaryKey { columns, .. } => {
                    ("the primary key", columns.iter().collect())
                }
                _ => continue,
            },
            _ => continue,
        };
        for column in columns {
            let Some(added) = ctx.catalog.unfilled(name, column) else {
                continue;
            };
            hits.push(
                Hit::new(
                    format!(
                        "{what} on {column} fails with `column \"{column}\" of relation \"{}\" contains null values` as soon as {} has a row: {} added the column with no value for existing rows, and no statement since fills it for every row",
                        name.name,
                        name.display_qualified(),
                        statement_numbers(&[added]),
                    ),
                    "Fill every row first (an UPDATE without WHERE, or every batch of the backfill in the export), or add the column with a DEFAULT. Alembic: sa.Column(..., server_default=...) in op.add_column; Django: AddField with default= or db_default=. If the backfill runs in Python outside the export, acknowledge it with -- migsafe: ignore not-null-on-unfilled-column.",
                )
                .with_risk(Risk::Critical),
            );
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    fn fired(sql: &str) -> Vec<usize> {
        crate::rules::test_support::counts(super::RULE.id, sql)
    }

    #[test]
    fn only_a_fill_of_every_row_makes_it_safe() {
        let add = "ALTER TABLE t ADD COLUMN c int;";
        let set = "ALTER TABLE t ALTER COLUMN c SET NOT NULL;";
        assert_eq!(fired(&format!("{add}\n{set}")), vec![0, 1]);
        let some = "UPDATE t SET c = 0 WHERE id < 100;";
        assert_eq!(fired(&format!("{add}\n{some}\n{set}")), vec![0, 0, 1]);
        let all = "UPDATE t SET c = 0;";
        assert_eq!(fired(&format!("{add}\n{all}\n{set}")), vec![0, 0, 0]);
        let with_default = "ALTER TABLE t ADD COLUMN c int DEFAULT 0;";
        assert_eq!(fired(&format!("{with_default}\n{set}")), vec![0, 0]);
    }

    #[test]
    fn a_primary_key_and_an_emptied_table() {
        let add = "ALTER TABLE t ADD COLUMN c int;";
        let pk = "ALTER TABLE t ADD PRIMARY KEY (c);";
        assert_eq!(fired(&format!("{add}\n{pk}")), vec![0, 1]);
        assert_eq!(fired(&format!("{add}\nDELETE FROM t;\n{pk}")), vec![0, 0, 0]);
        // A table the migration creates has no rows to fail on.
        let created = "CREATE TABLE t (id int);";
        assert_eq!(fired(&format!("{created}\n{add}\n{pk}")), vec![0, 0, 0]);
        // A DO block may have filled it.
        let block = "DO $$ BEGIN PERFORM 1; END $$;";
        assert_eq!(fired(&format!("{add}\n{block}\n{pk}")), vec![0, 0, 0]);
    }
}
