//! # set-not-null-scan
//! SET NOT NULL reads the whole table under an ACCESS EXCLUSIVE lock unless a validated CHECK already proves it.
//!
//! ## What it does
//! Flags `ALTER TABLE … ALTER COLUMN … SET NOT NULL` on a table that existed before the migration when
//! PostgreSQL has to read the table to prove there are no NULLs: the column is not already `NOT NULL`,
//! and no validated `CHECK (column IS NOT NULL)` constraint proves it (PostgreSQL 12 and later skip
//! the scan when one does). Tables the migration created are not flagged. When the catalog does not
//! know a constraint that an earlier statement validated and whose name mentions the column (a
//! migration run without a schema), the `SET NOT NULL` is taken to be the safe sequence below.
//!
//! ## Why is this bad?
//! `SET NOT NULL` locks the table in ACCESS EXCLUSIVE mode and keeps the lock while it reads every
//! row. No one can read or write the table until the scan is over: minutes on a large table.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
//! ```
//!
//! ## Use instead
//! On PostgreSQL 12 and later, prove it first with a constraint validated without blocking, then set
//! NOT NULL (instant: the constraint proves it), then drop the helper constraint:
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_customer_id_not_null
//!     CHECK (customer_id IS NOT NULL) NOT VALID;
//! COMMIT;
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_not_null;
//! COMMIT;
//! ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
//! ALTER TABLE orders DROP CONSTRAINT orders_customer_id_not_null;
//! ```
//! In Alembic, split this over revisions (or use `autocommit_block()`) so that the `VALIDATE` runs in
//! its own transaction; in Django, `AddConstraintNotValid`, then `ValidateConstraint` in a separate
//! migration, then `AlterField(null=False)` and `RemoveConstraint`. On PostgreSQL 11 and older the
//! scan cannot be skipped: keep the validated CHECK constraint instead of `SET NOT NULL`, or run it
//! in a maintenance window.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DROP-NOT-NULL
//! - https://www.postgresql.org/docs/release/12.0/
//! - https://docs.djangoproject.com/en/stable/ref/contrib/postgres/operations/#adding-constraints-without-enforcing-validation

use super::{Ctx, Hit, Rule, say};
use crate::catalog::{normal, same_normal};
use crate::ir::{AlterAction, Op, QualName};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "set-not-null-scan",
    severity: Severity::Error,
    summary: "SET NOT NULL reads the whole table under an ACCESS EXCLUSIVE lock unless a validated CHECK already proves it.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

/// Since PostgreSQL 12 a valid `CHECK (col IS NOT NULL)` lets SET NOT NULL skip its scan
/// (`NotNullImpliedByRelConstraints` in src/backend/commands/tablecmds.c; release notes 12).
const PROOF_SINCE: u32 = 12;

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    let table = normal(name);
    // The effect lists the scan only for a table that existed before the migration, and only when
    // some column of the statement is neither NOT NULL already nor proven by a valid CHECK.
    if !ctx.effect.scans.contains(&table) {
        return Vec::new();
    }
    let lock = ctx.lock_on(&table).unwrap_or(LockMode::AccessExclusiveLock);
    let mut hits = Vec::new();
    for a in actions {
        let AlterAction::SetNotNull { column } = a else {
            continue;
        };
        let col = ctx.catalog.column(&table, column);
        if col.is_some_and(|c| c.not_null) {
            continue;
        }
        if ctx.pg_version >= PROOF_SINCE && ctx.catalog.has_not_null_check(&table, column) {
            continue;
        }
        if ctx.pg_version >= PROOF_SINCE && validated_unknown_check(ctx, &table, column) {
            continue;
        }
        let unknown = if col.is_none() {
            " (the schema does not show whether it is NOT NULL already)"
        } else {
            ""
        };
        let cname = format!("{}_{}_not_null", table.name, column);
        let help = if ctx.pg_version >= PROOF_SINCE {
            format!(
                "First ALTER TABLE {name} ADD CONSTRAINT {cname} CHECK ({column} IS NOT NULL) NOT VALID; commit; ALTER TABLE {name} VALIDATE CONSTRAINT {cname}; (no blocking) and commit; then SET NOT NULL is instant; then DROP CONSTRAINT {cname}. Django: AddConstraintNotValid, ValidateConstraint (separate migration), AlterField, RemoveConstraint."
            )
        } else {
            format!(
                "PostgreSQL {} cannot skip this scan (12 can, given a validated CHECK ({column} IS NOT NULL)): enforce NOT NULL with a CHECK ({column} IS NOT NULL) NOT VALID constraint validated in a later transaction instead, or run this in a maintenance window.",
                ctx.pg_version
            )
        };
        hits.push(Hit::new(
            format!(
                "SET NOT NULL on {column}{unknown} reads every row of {table} to look for NULLs while holding an {}",
                say::lock_on(lock, &table)
            ),
            help,
        ));
    }
    hits
}

/// Whether an earlier statement of the migration validated a constraint of `table` that the catalog
/// does not know (no schema, or one it could not read) and whose name mentions `column`, as in
/// `VALIDATE CONSTRAINT orders_customer_id_not_null` followed by `SET NOT NULL`: the documented way
/// to avoid the scan. Its definition is unknown, so flagging the SET NOT NULL would most likely be a
/// false alarm.
fn validated_unknown_check(ctx: &Ctx, table: &QualName, column: &str) -> bool {
    let known = |c: &str| {
        ctx.catalog
            .table(table)
            .is_some_and(|t| t.constraints.iter().any(|k| k.name == c))
    };
    ctx.ops.iter().take(ctx.index).any(|op| match op {
        Op::AlterTable { name, actions, .. } if same_normal(name, table) => actions.iter().any(|a| {
            matches!(a, AlterAction::ValidateConstraint { name: c }
                if !known(c) && c.to_lowercase().contains(&column.to_lowercase()))
        }),
        _ => false,
    })
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

    const SCHEMA: &str = "CREATE TABLE customers (id bigint PRIMARY KEY, email varchar(254));\n\
        ALTER TABLE customers ADD CONSTRAINT customers_email_not_null CHECK (email IS NOT NULL);";
    const SQL: &str = "ALTER TABLE customers ALTER COLUMN email SET NOT NULL;";

    #[test]
    fn a_validated_check_proves_it_from_12() {
        assert!(findings(12, SCHEMA, SQL)[0].is_empty());
    }

    #[test]
    fn before_12_the_check_does_not_help() {
        let got = findings(11, SCHEMA, SQL);
        assert_eq!(got[0].len(), 1, "{got:?}");
        assert!(
            got[0][0].contains("PostgreSQL 11 cannot skip"),
            "{:?}",
            got[0]
        );
    }

    #[test]
    fn validated_unknown_constraint_naming_the_column() {
        let sql = "ALTER TABLE foo VALIDATE CONSTRAINT foo_bar_not_null;\n\
            ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;\n\
            ALTER TABLE foo ALTER COLUMN baz SET NOT NULL;";
        let report = crate::analyze(sql);
        let fired: Vec<usize> = report
            .statements
            .iter()
            .filter(|s| s.findings.iter().any(|f| f.rule == super::RULE.id))
            .map(|s| s.index)
            .collect();
        // bar: the validated constraint is most likely its NOT NULL check; baz: nothing proves it.
        assert_eq!(fired, vec![2]);
    }

    #[test]
    fn unknown_column_without_schema() {
        let report = crate::analyze("ALTER TABLE customers ALTER COLUMN email SET NOT NULL;");
        let f: Vec<_> = report.statements[0]
            .findings
            .iter()
            .filter(|f| f.rule == super::RULE.id)
            .collect();
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("does not show"), "{}", f[0].message);
    }
}
