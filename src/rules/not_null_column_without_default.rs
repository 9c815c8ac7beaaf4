//! # not-null-column-without-default
//! ADD COLUMN … NOT NULL without a DEFAULT fails as soon as the table has a row.
//!
//! ## What it does
//! Flags `ALTER TABLE … ADD COLUMN … NOT NULL` (or an inline `PRIMARY KEY`, which implies NOT NULL)
//! without a `DEFAULT`, or with `DEFAULT NULL`, on a table that existed before the migration.
//! Serial, identity and generated columns get values of their own and are not flagged here.
//!
//! Not flagged: a NOT NULL column with a constant default (instant since PostgreSQL 11: the value is
//! kept in the catalog), a nullable column, and any column of a table created earlier in the
//! migration.
//!
//! ## Why is this bad?
//! The existing rows would have NULL in the new column, so PostgreSQL refuses the statement with
//! `ERROR: column "…" of relation "…" contains null values` as soon as the table holds a single row.
//! The migration passes on an empty development database and then fails in production, rolling back
//! the whole revision.
//!
//! ## Example
//! ```sql
//! ALTER TABLE customers ADD COLUMN country_code varchar(2) NOT NULL;
//! ```
//!
//! ## Use instead
//! Give it a constant default (no rewrite, no scan on PostgreSQL ≥ 11):
//! ```sql
//! ALTER TABLE customers ADD COLUMN country_code varchar(2) NOT NULL DEFAULT 'US';
//! ```
//! or, when no default makes sense, add it nullable, backfill, and enforce NOT NULL afterwards
//! without a long lock:
//! ```sql
//! ALTER TABLE customers ADD COLUMN country_code varchar(2);
//! -- backfill in batches
//! ALTER TABLE customers ADD CONSTRAINT customers_country_code_nn
//!   CHECK (country_code IS NOT NULL) NOT VALID;
//! ALTER TABLE customers VALIDATE CONSTRAINT customers_country_code_nn;
//! ALTER TABLE customers ALTER COLUMN country_code SET NOT NULL;  -- no scan on PostgreSQL ≥ 12
//! ```
//! In Alembic: `sa.Column(..., nullable=False, server_default="US")`. In Django: give the field a
//! `default` (Django adds the column with it and drops the database default afterwards), or
//! `db_default` (Django ≥ 5.0).
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-COLUMN
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
//! - https://docs.djangoproject.com/en/stable/ref/migration-operations/#addfield

use super::{Ctx, Hit, Rule};
use crate::ir::{AlterAction, ColumnDef, Op};
use crate::vocab::{Risk, Severity};

pub(crate) const RULE: Rule = Rule {
    id: "not-null-column-without-default",
    severity: Severity::Error,
    summary: "ADD COLUMN … NOT NULL without a DEFAULT fails as soon as the table has a row.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

/// The column gets no value for existing rows: no default (or `DEFAULT NULL`), and nothing that
/// generates one.
fn no_value_for_existing_rows(c: &ColumnDef) -> bool {
    if c.ty.base.ends_with(" (serial)") || c.identity.is_some() || c.generated.is_some() {
        return false;
    }
    match &c.default {
        None => true,
        // `DEFAULT NULL` or `DEFAULT NULL::text` is no default at all.
        Some(d) => {
            d.constant && {
                let sql = d.sql.trim().trim_start_matches('(').to_ascii_lowercase();
                sql.strip_prefix("null").is_some_and(|rest| {
                    !rest.starts_with(|ch: char| ch.is_alphanumeric() || ch == '_')
                })
            }
        }
    }
}

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    // A table created by the migration has no rows yet.
    let adds = |a: &AlterAction| matches!(a, AlterAction::AddColumn { column, .. } if column.not_null);
    // Nor has a table an earlier statement emptied (`DELETE FROM t` without WHERE, `TRUNCATE`).
    if !actions.iter().any(adds) || !ctx.catalog.holds_rows(name) {
        return Vec::new();
    }
    let table = name.display_qualified();
    let mut hits = Vec::new();
    for a in actions {
        let AlterAction::AddColumn { column, .. } = a else {
            continue;
        };
        if !column.not_null || !no_value_for_existing_rows(column) {
            continue;
        }
        let col = &column.name;
        // Phase 3 of ALTER TABLE checks the new NOT NULL column of every existing row
        // (`ATRewriteTable` in tablecmds.c): with no default they are all NULL.
        hits.push(
            Hit::new(
                format!(
                    "adding NOT NULL column {col} without a default to {table} fails with `column \"{col}\" of relation \"{}\" contains null values` as soon as the table has a row, and the whole transaction is rolled back",
                    name.name,
                ),
                format!(
                    "Add it with a constant default (`ADD COLUMN {col} {} NOT NULL DEFAULT …`, instant on PostgreSQL ≥ 11), or add it nullable, backfill in batches, then CHECK ({col} IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT and SET NOT NULL. Alembic: server_default=…; Django: give the field a default or db_default.",
                    column.ty.sql
                ),
            )
            .with_risk(Risk::Critical),
        );
    }
    hits
}

#[cfg(test)]
mod tests {
    fn fired(sql: &str) -> Vec<usize> {
        crate::rules::test_support::counts(super::RULE.id, sql)
    }

    #[test]
    fn a_table_emptied_earlier_has_no_row_to_fail_on() {
        let add = "ALTER TABLE t ADD COLUMN c int NOT NULL";
        assert_eq!(fired(&format!("DELETE FROM t;\n{add};")), vec![0, 0]);
        assert_eq!(fired(&format!("TRUNCATE t;\n{add};")), vec![0, 0]);
        // A WHERE leaves rows; rows inserted after the DELETE are rows again.
        assert_eq!(fired(&format!("DELETE FROM t WHERE a = 1;\n{add};")), vec![0, 1]);
        let refill = format!("DELETE FROM t;\nINSERT INTO t (a) VALUES (1);\n{add};");
        assert_eq!(fired(&refill), vec![0, 0, 1]);
    }
}
