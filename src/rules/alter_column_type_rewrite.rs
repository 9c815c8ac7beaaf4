//! # alter-column-type-rewrite
//! ALTER COLUMN … TYPE rewrites the table or rebuilds its indexes under an ACCESS EXCLUSIVE lock.
//!
//! ## What it does
//! Flags `ALTER TABLE … ALTER COLUMN … TYPE` on a table that existed before the migration when
//! PostgreSQL has to rewrite the table (and with it every index), or keeps the table but rebuilds
//! the indexes on the column. With the schema (`--schema` or a database) migsafe knows the old type;
//! without it, it assumes a rewrite and says so.
//!
//! Not flagged, because PostgreSQL only updates the catalog: `varchar(n)` → `varchar(m)` with
//! `m ≥ n`, `varchar(n)` → `varchar` / `text`, `text` → `varchar`, `numeric(p,s)` → `numeric(q,s)`
//! with `q ≥ p`, `cidr` → `inet`; and any change on a table the migration created.
//! `timestamp` ↔ `timestamptz` keeps the table on PostgreSQL ≥ 12 when the migration runs
//! `SET timezone = 'UTC'` first, but the indexes on the column are still rebuilt, which is flagged.
//!
//! ## Why is this bad?
//! The rewrite copies every row into new storage and then builds every index of the table again,
//! all while holding ACCESS EXCLUSIVE: no query of any kind reaches the table until it finishes, which
//! on a large table means minutes to hours of downtime, and twice the disk space meanwhile. `int` →
//! `bigint`, `text` → `varchar(n)`, shrinking a `varchar`, and changing `numeric`'s scale all work
//! this way.
//!
//! ## Example
//! ```sql
//! ALTER TABLE order_items ALTER COLUMN quantity TYPE bigint;
//! ALTER TABLE customers ALTER COLUMN email TYPE varchar(120);  -- was text
//! ```
//!
//! ## Use instead
//! For a widening that PostgreSQL cannot do in place (`int` → `bigint`): add a new column, keep it in
//! step with a trigger, backfill it in batches, then swap the names in one short transaction and drop
//! the old column in a later release. For a length limit, keep `text` and add a constraint that
//! validates without blocking:
//! ```sql
//! ALTER TABLE customers ADD CONSTRAINT customers_email_len
//!   CHECK (char_length(email) <= 120) NOT VALID;
//! ALTER TABLE customers VALIDATE CONSTRAINT customers_email_len;
//! ```
//! For `timestamp` → `timestamptz` on PostgreSQL ≥ 12, stored values are already UTC times:
//! ```sql
//! SET timezone = 'UTC';
//! ALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;  -- indexes on placed_at are rebuilt
//! ```
//! In Alembic, `op.execute("SET LOCAL timezone = 'UTC'")` before `op.alter_column(...)`.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
//! - https://www.postgresql.org/docs/release/12.0/
//! - https://www.postgresql.org/docs/current/datatype-datetime.html

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, Op, TypeName};
use crate::pg::LockMode;
use crate::pg::types::{Storage, TimeZone, type_change};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "alter-column-type-rewrite",
    severity: Severity::Error,
    summary: "ALTER COLUMN … TYPE rewrites the table or rebuilds its indexes under an ACCESS EXCLUSIVE lock.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

const TIMESTAMP_NOTE: &str = "`timestamp` ↔ `timestamptz` is catalog-only on PostgreSQL ≥ 12 when the migration runs `SET timezone = 'UTC'` first (indexes on the column are still rebuilt)";

/// The safe way to change a column's type on a large table; for a length limit, a constraint.
fn new_column_help(column: &str, ty: &TypeName) -> String {
    let mut h = "add a new column of the new type, keep it in step with a trigger, backfill it in batches, then swap the names in one short transaction and drop the old column later".to_string();
    if let (Some(n), "varchar" | "bpchar") = (ty.modifiers.first(), ty.base.as_str()) {
        h.push_str(&format!(
            "; for a length limit, keep the type and add CHECK (char_length({column}) <= {n}) NOT VALID, then VALIDATE CONSTRAINT (no long lock)"
        ));
    }
    h
}

fn is_timestamp_pair(a: &str, b: &str) -> bool {
    matches!(
        (a, b),
        ("timestamp", "timestamptz") | ("timestamptz", "timestamp")
    )
}

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    // The effect lists rewrites and scans only for tables that existed before the migration.
    let t = normal(name);
    let rewritten = ctx.effect.rewrites.contains(&t);
    let scanned = ctx.effect.scans.contains(&t);
    if !rewritten && !scanned {
        return Vec::new();
    }
    let table = name.display_qualified();
    let lock = say::lock_on(LockMode::AccessExclusiveLock, name);
    let mut hits = Vec::new();
    for a in actions {
        let AlterAction::AlterColumnType {
            column, ty, using, ..
        } = a else {
            continue;
        };
        let Some(old) = ctx.catalog.column(name, column) else {
            if rewritten {
                hits.push(Hit::new(
                    format!(
                        "changing {column} of {table} to {}: type of {column} unknown: assuming a rewrite of the table and all its indexes under an {lock}",
                        ty.sql
                    ),
                    {
                        let mut h = format!(
                            "Pass the schema (--schema or --database) to know whether this change is catalog-only (widening a varchar or numeric precision is). If it does rewrite: {}.",
                            new_column_help(column, ty)
                        );
                        if matches!(ty.base.as_str(), "timestamp" | "timestamptz") {
                            h.push_str(&format!(" {TIMESTAMP_NOTE}."));
                        }
                        h
                    },
                ));
            }
            continue;
        };
        // `USING col::newtype` (Django's spelling) converts exactly like no USING.
        let using = using
            .as_deref()
            .filter(|u| !super::lossy_type_change::plain_cast(u, column, ty));
        // Whether PostgreSQL can skip the rewrite: `ATColumnChangeRequiresRewrite` in
        // src/backend/commands/tablecmds.c (binary-coercible casts, timestamp ↔ timestamptz in UTC).
        let change = type_change(&old.ty, ty, using, column, &ctx.tx.timezone, ctx.pg_version);
        let from_to = format!(
            "changing {column} of {table} from {} to {}",
            old.ty.sql, ty.sql
        );
        let timestamps = is_timestamp_pair(
            old.ty.base.trim_end_matches(" (serial)"),
            ty.base.trim_end_matches(" (serial)"),
        );
        match change.storage {
            Storage::Kept => {}
            Storage::Rewritten if rewritten => {
                // With the old type equal to the new one, only a USING that computes new values
                // makes `type_change` report a rewrite.
                let computes = using.filter(|u| {
                    type_change(ty, ty, Some(u), column, &ctx.tx.timezone, ctx.pg_version).storage
                        == Storage::Rewritten
                });
                let why = if let Some(u) = computes {
                    format!("the USING expression ({}) computes every value anew", u.sql)
                } else if timestamps {
                    match (&ctx.tx.timezone, ctx.pg_version >= 12) {
                        (TimeZone::Utc, false) => {
                            "before PostgreSQL 12 every value is converted even in UTC".to_string()
                        }
                        (TimeZone::Utc, true) => {
                            "the precision changes as well, so every value is converted".to_string()
                        }
                        (TimeZone::Other(z), _) => {
                            format!("every value is converted through the session TimeZone {z}")
                        }
                        (TimeZone::Unknown, _) => {
                            "every value is converted through the session TimeZone".to_string()
                        }
                    }
                } else {
                    format!(
                        "{} cannot be reinterpreted as {} without converting or checking every value",
                        old.ty.sql, ty.sql
                    )
                };
                let help = if timestamps && ctx.pg_version >= 12 {
                    format!(
                        "Run `SET timezone = 'UTC';` (Alembic: op.execute(\"SET LOCAL timezone = 'UTC'\")) right before the ALTER: on PostgreSQL ≥ 12 the table then keeps its storage, and only indexes on {column} are rebuilt."
                    )
                } else {
                    let mut h = format!("Instead, {}.", new_column_help(column, ty));
                    if timestamps {
                        h.push_str(&format!(" {TIMESTAMP_NOTE}."));
                    }
                    h
                };
                hits.push(Hit::new(
                    format!(
                        "{from_to} rewrites the table and rebuilds all its indexes under an {lock}: {why}"
                    ),
                    help,
                ));
            }
            Storage::IndexesRebuilt if scanned => {
                let indexes: Vec<String> = ctx
                    .catalog
                    .indexes_of(name)
                    .filter(|i| i.columns.contains(column))
                    .map(|i| i.name.name.clone())
                    .collect();
                if indexes.is_empty() {
                    continue;
                }
                hits.push(Hit::new(
                    format!(
                        "{from_to} keeps the table's storage (session TimeZone UTC, PostgreSQL ≥ 12) but rebuilds {} on {column}, reading the whole table under an {lock}",
                        indexes.join(", ")
                    ),
                    format!(
                        "If queries can do without them for a while, drop {} before the ALTER and recreate them afterwards with CREATE INDEX CONCURRENTLY; otherwise {}.",
                        indexes.join(", "),
                        new_column_help(column, ty)
                    ),
                ));
            }
            Storage::Rewritten | Storage::IndexesRebuilt => {}
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use crate::{Analyzer, Catalog, Settings, Source};

    fn messages(version: u32, schema: &str, sql: &str) -> Vec<String> {
        let catalog = Catalog::from_sql(schema).expect("schema");
        let report = Analyzer::new(Settings::default().pg_version(version))
            .schema(catalog)
            .analyze(Source::new("t.sql", sql))
            .expect("analyze");
        report
            .statements
            .iter()
            .flat_map(|s| s.findings.iter())
            .filter(|f| f.rule == "alter-column-type-rewrite")
            .map(|f| f.message.clone())
            .collect()
    }

    const SCHEMA: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, placed_at timestamp NOT NULL);\n\
        CREATE INDEX ix_orders_placed_at ON orders (placed_at);";

    #[test]
    fn timestamp_in_utc_rewrites_before_pg12() {
        let sql =
            "SET timezone = 'UTC';\nALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;";
        let pg11 = messages(11, SCHEMA, sql);
        assert_eq!(pg11.len(), 1, "{pg11:?}");
        assert!(pg11[0].contains("rewrites the table"), "{pg11:?}");
        let pg15 = messages(15, SCHEMA, sql);
        assert_eq!(pg15.len(), 1, "{pg15:?}");
        assert!(pg15[0].contains("rebuilds ix_orders_placed_at"), "{pg15:?}");
    }

    #[test]
    fn timestamp_in_utc_without_index_is_catalog_only() {
        let schema = "CREATE TABLE orders (id bigint PRIMARY KEY, placed_at timestamp NOT NULL);";
        let sql =
            "SET timezone = 'UTC';\nALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;";
        assert!(messages(15, schema, sql).is_empty());
    }

    #[test]
    fn unknown_type_says_so() {
        let report = crate::analyze("ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);");
        let m: Vec<&str> = report
            .statements
            .iter()
            .flat_map(|s| s.findings.iter())
            .filter(|f| f.rule == "alter-column-type-rewrite")
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("type of total unknown: assuming a rewrite"),
            "{m:?}"
        );
    }
}
