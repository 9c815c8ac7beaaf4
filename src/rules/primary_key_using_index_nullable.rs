//! # primary-key-using-index-nullable
//! ADD PRIMARY KEY USING INDEX on a nullable column scans the table under an ACCESS EXCLUSIVE lock.
//!
//! ## What it does
//! Flags `ALTER TABLE … ADD [CONSTRAINT …] PRIMARY KEY USING INDEX …` on a table that existed before
//! the migration when a column of the index is, or may be, nullable: not declared `NOT NULL`, and on
//! PostgreSQL 12 and later not proven by a validated `CHECK (column IS NOT NULL)` either. When the
//! schema does not show the index or its columns, they are assumed nullable and the finding says so.
//!
//! ## Why is this bad?
//! `USING INDEX` avoids building the index under the lock, but a primary key also makes its columns
//! `NOT NULL`, and for a nullable column PostgreSQL does that with an implicit `SET NOT NULL`, which
//! reads every row, still holding the ACCESS EXCLUSIVE lock of the `ALTER TABLE`. Reads and writes
//! of the table wait for the whole scan, and the concurrent index build bought little.
//!
//! ## Example
//! ```sql
//! CREATE UNIQUE INDEX CONCURRENTLY events_id_idx ON events (id);
//! ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_idx;
//! ```
//!
//! ## Use instead
//! Make the columns NOT NULL first, without a blocking scan (PostgreSQL 12 and later), then add the
//! key:
//! ```sql
//! ALTER TABLE events ADD CONSTRAINT events_id_not_null CHECK (id IS NOT NULL) NOT VALID;
//! COMMIT;
//! ALTER TABLE events VALIDATE CONSTRAINT events_id_not_null;
//! COMMIT;
//! ALTER TABLE events ALTER COLUMN id SET NOT NULL;
//! ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_idx;
//! ALTER TABLE events DROP CONSTRAINT events_id_not_null;
//! ```
//! In Alembic, the `VALIDATE` needs its own transaction (a later revision or `autocommit_block()`);
//! in Django, use `AddConstraintNotValid` / `ValidateConstraint` in separate migrations.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DROP-NOT-NULL

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, ConstraintKind, Op, QualName};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "primary-key-using-index-nullable",
    severity: Severity::Warning,
    summary: "ADD PRIMARY KEY USING INDEX on a nullable column scans the table under an ACCESS EXCLUSIVE lock.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

/// The implicit SET NOT NULL skips its scan when a valid CHECK proves the column (PG ≥ 12,
/// `NotNullImpliedByRelConstraints` in src/backend/commands/tablecmds.c; observed on PostgreSQL 15:
/// no scan after a validated `CHECK (id IS NOT NULL)`).
const PROOF_SINCE: u32 = 12;

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    let table = normal(name);
    // The effect lists the implicit NOT NULL scan only for a table that existed before the migration.
    if !ctx.effect.scans.contains(&table) {
        return Vec::new();
    }
    let lock = ctx.lock_on(&table).unwrap_or(LockMode::AccessExclusiveLock);
    // Columns the same statement sets NOT NULL: their scan is the SET NOT NULL's (reported by
    // set-not-null-scan), and the primary key adds none.
    let set_here: Vec<&str> = actions
        .iter()
        .filter_map(|a| match a {
            AlterAction::SetNotNull { column } => Some(column.as_str()),
            _ => None,
        })
        .collect();
    let mut hits = Vec::new();
    for a in actions {
        let AlterAction::AddConstraint { constraint } = a else {
            continue;
        };
        let ConstraintKind::PrimaryKey {
            using_index: Some(ix),
            ..
        } = &constraint.kind
        else {
            continue;
        };
        let ixname = QualName::new(table.schema.as_deref(), ix);
        let nullable: Vec<String> = match ctx.catalog.index(&ixname) {
            Some(index) => index
                .columns
                .iter()
                .filter(|c| may_be_null(ctx, &table, c) && !set_here.contains(&c.as_str()))
                .cloned()
                .collect(),
            // Unknown index: the effect assumes nullable columns and says so.
            None => Vec::new(),
        };
        let known = ctx.catalog.index(&ixname).is_some();
        if known && nullable.is_empty() {
            continue;
        }
        let cols = if known {
            format!("column(s) {}", nullable.join(", "))
        } else {
            format!("the columns of index {ix}")
        };
        let first = nullable.first().map_or("<column>", String::as_str);
        hits.push(Hit::new(
            format!(
                "PRIMARY KEY USING INDEX {ix} sets {cols} NOT NULL, and since they may hold NULLs PostgreSQL reads every row of {table} while holding an {}",
                say::lock_on(lock, &table)
            ),
            format!(
                "Make {cols} NOT NULL first: ALTER TABLE {name} ADD CONSTRAINT {t}_{first}_not_null CHECK ({first} IS NOT NULL) NOT VALID; commit; VALIDATE CONSTRAINT in its own transaction; then ALTER COLUMN … SET NOT NULL (instant), then add the primary key USING INDEX and drop the helper constraint.",
                t = table.name
            ),
        ));
    }
    hits
}

/// Whether `column` may hold NULLs: not declared NOT NULL and (PG ≥ 12) not proven by a valid
/// CHECK. A column the schema does not show may.
fn may_be_null(ctx: &Ctx, table: &QualName, column: &str) -> bool {
    match ctx.catalog.column(table, column) {
        Some(c) if c.not_null => false,
        _ => !(ctx.pg_version >= PROOF_SINCE && ctx.catalog.has_not_null_check(table, column)),
    }
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

    const SCHEMA: &str = "CREATE TABLE events (id bigint, kind text NOT NULL);\n\
        ALTER TABLE events ADD CONSTRAINT events_id_not_null CHECK (id IS NOT NULL);\n\
        CREATE UNIQUE INDEX events_id_idx ON events (id);";
    const SQL: &str =
        "ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_idx;";

    #[test]
    fn validated_check_avoids_the_scan_from_12() {
        assert!(findings(15, SCHEMA, SQL)[0].is_empty());
    }

    #[test]
    fn before_12_the_check_does_not_help() {
        assert_eq!(findings(11, SCHEMA, SQL)[0].len(), 1);
    }

    #[test]
    fn set_not_null_in_the_same_statement_is_another_rule() {
        let schema = "CREATE TABLE events (id bigint, kind text NOT NULL);\n\
            CREATE UNIQUE INDEX events_id_idx ON events (id);";
        let sql = "ALTER TABLE events ALTER COLUMN id SET NOT NULL, ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_idx;";
        assert!(findings(15, schema, sql)[0].is_empty());
        assert_eq!(findings(15, schema, SQL)[0].len(), 1);
    }
}
