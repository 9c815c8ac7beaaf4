//! # foreign-key-without-not-valid
//! Adding a FOREIGN KEY without NOT VALID blocks writes to both tables while every row is checked.
//!
//! ## What it does
//! Flags `ALTER TABLE … ADD [CONSTRAINT …] FOREIGN KEY … REFERENCES …` without `NOT VALID` on a table
//! that existed before the migration, and a `REFERENCES` clause on `ADD COLUMN` when PostgreSQL has to
//! check the existing rows (the new column has a `DEFAULT`). Not flagged: `NOT VALID`; a foreign key
//! on a table the migration created (`CREATE TABLE … REFERENCES`, or a later `ALTER TABLE` of it),
//! which has no rows to check; and `ADD COLUMN … REFERENCES` without a default, which PostgreSQL marks
//! valid without reading the table, since the new column is NULL in every row.
//!
//! ## Why is this bad?
//! Adding a foreign key locks both the referencing and the referenced table in SHARE ROW EXCLUSIVE
//! mode, which blocks `INSERT`, `UPDATE` and `DELETE` on both. Without `NOT VALID`, PostgreSQL then
//! reads the whole referencing table and looks every value up in the referenced one before it
//! commits, and the locks stay for all of that time.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
//!     FOREIGN KEY (customer_id) REFERENCES customers (id);
//! ```
//!
//! ## Use instead
//! Add it as `NOT VALID` (the locks are then brief; new rows are checked from now on), commit, and
//! validate it in a later transaction: `VALIDATE CONSTRAINT` takes SHARE UPDATE EXCLUSIVE on the
//! referencing table and ROW SHARE on the referenced one, so both stay writable.
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
//!     FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
//! COMMIT;
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
//! ```
//! In Alembic: `op.create_foreign_key(..., postgresql_not_valid=True)` (or `op.execute(...)`), and
//! the `VALIDATE` in a later revision or after `op.get_context().autocommit_block()`. In Django, add
//! the column without a default and let the migration add the `REFERENCES` clause on it; for an
//! existing column use `RunSQL` with the two statements above in separate migrations.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, ColumnDef, Constraint, ConstraintKind, Op, QualName};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "foreign-key-without-not-valid",
    severity: Severity::Error,
    summary: "Adding a FOREIGN KEY without NOT VALID blocks writes to both tables while every row is checked.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    let table = normal(name);
    // The referencing table is scanned only when it existed before the migration: a table created by
    // the migration has no rows to check, and the effect lists no scan for it.
    if !ctx.effect.scans.contains(&table) {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for a in actions {
        match a {
            AlterAction::AddConstraint { constraint } => {
                if let Some((columns, ref_table)) = valid_fk(constraint) {
                    hits.push(hit(ctx, name, &table, constraint, columns, ref_table, None));
                }
            }
            AlterAction::AddColumn { column, .. } if column_is_checked(column) => {
                for c in &column.constraints {
                    if let Some((columns, ref_table)) = valid_fk(c) {
                        hits.push(hit(ctx, name, &table, c, columns, ref_table, Some(column)));
                    }
                }
            }
            _ => {}
        }
    }
    hits
}

/// Whether existing rows are checked against a `REFERENCES` clause of a new column. PostgreSQL
/// skips the check (and marks the key valid) when the column is added without a DEFAULT clause,
/// because every existing row then holds NULL (`transformAlterTableStmt` in parse_utilcmd.c;
/// observed on PostgreSQL 15: no scan without DEFAULT, a scan with `DEFAULT 1` and even with
/// `DEFAULT NULL`). Serial, identity and generated columns get values, so they are checked.
fn column_is_checked(c: &ColumnDef) -> bool {
    c.default.is_some()
        || c.identity.is_some()
        || c.generated.is_some()
        || c.ty.base.ends_with("(serial)")
}

fn valid_fk(c: &Constraint) -> Option<(&[String], &QualName)> {
    match &c.kind {
        ConstraintKind::ForeignKey {
            columns, ref_table, ..
        } if !c.not_valid => Some((columns, ref_table)),
        _ => None,
    }
}

fn hit(
    ctx: &Ctx,
    name: &QualName,
    table: &QualName,
    c: &Constraint,
    columns: &[String],
    ref_table: &QualName,
    new_column: Option<&ColumnDef>,
) -> Hit {
    let lock_of = |t: &QualName| {
        let t = normal(t);
        let mode = ctx
            .effect
            .locks
            .iter()
            .find(|(n, _)| *n == t)
            .map_or(LockMode::ShareRowExclusiveLock, |(_, m)| *m);
        format!("{} {}", article(mode), say::lock_on(mode, &t))
    };
    let label = c
        .name
        .clone()
        .unwrap_or_else(|| format!("({}) → {ref_table}", columns.join(", ")));
    let locks = if normal(ref_table) == *table {
        lock_of(table)
    } else if ctx.catalog.pre_existing(ref_table) {
        format!("{} and {}", lock_of(table), lock_of(ref_table))
    } else {
        lock_of(table)
    };
    let message = match new_column {
        Some(col) => format!(
            "the REFERENCES {ref_table} on new column {} is checked against every row of {table} because the column has a default; meanwhile the statement holds {locks}",
            col.name
        ),
        None => format!(
            "adding foreign key {label} checks every row of {table} against {ref_table} while holding {locks}"
        ),
    };
    let cname = c.name.as_deref().unwrap_or("<name>");
    let help = match new_column {
        Some(col) => format!(
            "Add the column without the DEFAULT (PostgreSQL then skips the check), or without the REFERENCES clause and add the key separately: ALTER TABLE {name} ADD CONSTRAINT {cname} FOREIGN KEY ({}) REFERENCES {ref_table}{} NOT VALID; commit; ALTER TABLE {name} VALIDATE CONSTRAINT {cname}; in a later transaction.",
            col.name,
            ref_cols(c)
        ),
        None => format!(
            "Add it with NOT VALID ({} NOT VALID), commit, and run ALTER TABLE {name} VALIDATE CONSTRAINT {cname} in a later transaction (SHARE UPDATE EXCLUSIVE on {table}, ROW SHARE on {ref_table}: writes go on). Alembic: op.create_foreign_key(..., postgresql_not_valid=True).",
            c.sql
        ),
    };
    Hit::new(message, help)
}

/// "a SHARE ROW EXCLUSIVE lock", "an ACCESS EXCLUSIVE lock".
fn article(mode: LockMode) -> &'static str {
    if mode.sql_name().starts_with(['A', 'E']) {
        "an"
    } else {
        "a"
    }
}

/// ` (id)` when the key names the referenced columns.
fn ref_cols(c: &Constraint) -> String {
    match &c.kind {
        ConstraintKind::ForeignKey { ref_columns, .. } if !ref_columns.is_empty() => {
            format!(" ({})", ref_columns.join(", "))
        }
        _ => String::new(),
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

    const SCHEMA: &str = "CREATE TABLE customers (id bigint PRIMARY KEY);\n\
        CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);";

    #[test]
    fn inline_references_depends_on_the_default() {
        let sql = "ALTER TABLE orders ADD COLUMN referrer_id bigint REFERENCES customers (id);\n\
            ALTER TABLE orders ADD COLUMN owner_id bigint DEFAULT NULL REFERENCES customers (id);\n\
            ALTER TABLE orders ADD COLUMN seller_id bigint, ADD CONSTRAINT orders_seller_fk FOREIGN KEY (seller_id) REFERENCES customers (id);";
        let got = findings(15, SCHEMA, sql);
        // No DEFAULT clause: PostgreSQL marks the key valid without reading the table.
        assert!(got[0].is_empty(), "{got:?}");
        // Even DEFAULT NULL makes PostgreSQL check the rows (observed on PostgreSQL 15).
        assert_eq!(got[1].len(), 1, "{got:?}");
        // A separate ADD CONSTRAINT is always checked, even for a column added alongside.
        assert_eq!(got[2].len(), 1, "{got:?}");
    }
}
