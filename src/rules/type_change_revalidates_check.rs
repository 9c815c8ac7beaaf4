//! # type-change-revalidates-check
//! A type change that keeps the table's storage still re-checks the column's CHECK constraints with a full scan.
//!
//! ## What it does
//! Flags `ALTER TABLE … ALTER COLUMN … TYPE` when the change keeps the table's storage (it is
//! binary-coercible, e.g. `varchar(50)` → `varchar(100)` or `varchar` → `text`) but the column is
//! used by a validated CHECK constraint, on a table that existed before the migration. Type changes
//! that rewrite the table are left to `alter-column-type-rewrite`; CHECK constraints that are still
//! `NOT VALID` are not re-checked and are not counted.
//!
//! ## Why is this bad?
//! Widening a `varchar` looks like a catalog-only change, and for the table data it is. But
//! PostgreSQL drops and re-creates every constraint that depends on the column, and re-creating a
//! valid CHECK constraint verifies it against every row: a full scan of the table under the ACCESS
//! EXCLUSIVE lock of the `ALTER TABLE`, during which nobody can read or write it.
//!
//! ## Example
//! ```sql
//! -- products.sku varchar(20) with CONSTRAINT products_sku_format CHECK (sku ~ '^[A-Z0-9-]+$')
//! ALTER TABLE products ALTER COLUMN sku TYPE varchar(40);
//! ```
//!
//! ## Use instead
//! Drop the constraint, change the type (catalog-only now), and add the constraint back as
//! `NOT VALID`, validating it in a later transaction:
//! ```sql
//! ALTER TABLE products DROP CONSTRAINT products_sku_format,
//!     ALTER COLUMN sku TYPE varchar(40),
//!     ADD CONSTRAINT products_sku_format CHECK (sku ~ '^[A-Z0-9-]+$') NOT VALID;
//! COMMIT;
//! ALTER TABLE products VALIDATE CONSTRAINT products_sku_format;
//! ```
//! In Alembic, `op.execute(...)` with these statements, the `VALIDATE` in a later revision; in
//! Django, `RemoveConstraint`, `AlterField`, then `AddConstraintNotValid` and (in a later migration)
//! `ValidateConstraint`.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, ConstraintKind, Op};
use crate::pg::LockMode;
use crate::pg::types::{Storage, type_change};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "type-change-revalidates-check",
    severity: Severity::Warning,
    summary: "A type change that keeps the table's storage still re-checks the column's CHECK constraints with a full scan.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    let table = normal(name);
    // Only pre-existing tables get a scan in the effect; with a rewrite in the same statement the
    // constraints are checked while rows are copied, which the rewrite rule reports.
    if !ctx.effect.scans.contains(&table) || ctx.effect.rewrites.contains(&table) {
        return Vec::new();
    }
    let Some(tab) = ctx.catalog.table(&table) else {
        return Vec::new();
    };
    let lock = ctx.lock_on(&table).unwrap_or(LockMode::AccessExclusiveLock);
    // Constraints the same statement drops are not re-created by the type change (DROP runs in an
    // earlier pass of ALTER TABLE than ALTER TYPE; observed on PostgreSQL 15: no scan).
    let dropped: Vec<&str> = actions
        .iter()
        .filter_map(|a| match a {
            AlterAction::DropConstraint { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let mut hits = Vec::new();
    for a in actions {
        let AlterAction::AlterColumnType {
            column, ty, using, ..
        } = a else {
            continue;
        };
        let Some(col) = ctx.catalog.column(&table, column) else {
            continue;
        };
        let change = type_change(
            &col.ty,
            ty,
            using.as_deref(),
            column,
            &ctx.tx.timezone,
            ctx.pg_version,
        );
        if change.storage != Storage::Kept {
            continue;
        }
        // Constraints depending on the column are re-added after the type change
        // (`ATPostAlterTypeCleanup` in src/backend/commands/tablecmds.c); a valid CHECK is verified
        // again, a NOT VALID one stays unverified (observed on PostgreSQL 15: 1 scan vs 0).
        let checks: Vec<&str> = tab
            .constraints
            .iter()
            .filter(|c| {
                c.validated
                    && !dropped.contains(&c.name.as_str())
                    && matches!(&c.kind, ConstraintKind::Check { expr } if expr.columns.contains(column))
            })
            .map(|c| c.name.as_str())
            .collect();
        if checks.is_empty() {
            continue;
        }
        let list = checks.join(", ");
        hits.push(Hit::new(
            format!(
                "changing {column} from {} to {} keeps the table's storage, but CHECK constraint(s) {list} on the column are verified again against every row of {table} while holding an {}",
                col.ty.sql,
                ty.sql,
                say::lock_on(lock, &table)
            ),
            format!(
                "In one ALTER TABLE {name}: DROP CONSTRAINT {list}, ALTER COLUMN {column} TYPE {}, and ADD the constraint(s) back with NOT VALID; then VALIDATE CONSTRAINT in a later transaction (SHARE UPDATE EXCLUSIVE: reads and writes go on).",
                ty.sql
            ),
        ));
    }
    hits
}

#[cfg(test)]
mod tests {
    use crate::{Analyzer, Catalog, Settings, Source};

    /// The messages of this rule's findings, per statement, for `sql` on `schema` and PG `version`.
    fn findings(version: u32, schema: &str, sql: &str) -> Vec<Vec<String>> {
        let catalog = Catalog::from_sql(schema).expect("schema loads");
        let report = Analyzer::new(Settings::default().pg_version(version))
            .schema(catalog)
            .analyze(Source::new("test.sql", sql))
            .expect("analyses");
        report
            .statements
            .iter()
            .map(|s| {
                s.findings
                    .iter()
                    .filter(|f| f.rule == super::RULE.id)
                    .map(|f| format!("{} | {}", f.message, f.help))
                    .collect()
            })
            .collect()
    }

    const SCHEMA: &str = "CREATE TABLE products (id bigint PRIMARY KEY, sku varchar(20) NOT NULL, qty integer,\n\
        CONSTRAINT products_sku_format CHECK (sku <> ''));";

    #[test]
    fn not_when_the_statement_rewrites_the_table() {
        // int -> bigint on another column rewrites the table: the check is verified during the copy.
        let sql =
            "ALTER TABLE products ALTER COLUMN sku TYPE varchar(40), ALTER COLUMN qty TYPE bigint;";
        assert!(findings(15, SCHEMA, sql)[0].is_empty());
    }

    #[test]
    fn fires_on_a_binary_coercible_change() {
        let got = findings(
            15,
            SCHEMA,
            "ALTER TABLE products ALTER COLUMN sku TYPE text;",
        );
        assert_eq!(got[0].len(), 1, "{got:?}");
        assert!(got[0][0].contains("products_sku_format"));
    }

    #[test]
    fn dropping_the_check_in_the_same_statement_is_the_fix() {
        let sql = "ALTER TABLE products DROP CONSTRAINT products_sku_format, ALTER COLUMN sku TYPE varchar(40), \
            ADD CONSTRAINT products_sku_format CHECK (sku <> '') NOT VALID;";
        // The statement drops the check before the type change: nothing is re-verified.
        assert!(findings(15, SCHEMA, sql)[0].is_empty());
    }
}
