//! # volatile-default-rewrite
//! ADD COLUMN with a volatile DEFAULT rewrites the whole table under an ACCESS EXCLUSIVE lock.
//!
//! ## What it does
//! Flags `ALTER TABLE … ADD COLUMN … DEFAULT expr` on a table that existed before the migration when
//! `expr` calls a volatile function: `random()`, `clock_timestamp()`, `gen_random_uuid()`,
//! `uuid_generate_v4()`, `nextval(…)`, or a function of your own declared `VOLATILE` (the default for
//! `CREATE FUNCTION`). A function migsafe knows nothing about is assumed volatile, and the finding
//! says so.
//!
//! Stable and immutable defaults are not flagged: `now()`, `CURRENT_TIMESTAMP`, constants and casts of
//! constants are evaluated once, and since PostgreSQL 11 the value is only stored in the catalog.
//! Serial, identity and generated columns have rules of their own
//! (`serial-or-identity-column-rewrite`, `stored-generated-column`).
//!
//! ## Why is this bad?
//! A volatile default must be computed separately for every existing row, so PostgreSQL writes a new
//! copy of the table and rebuilds every index on it. All of that happens under ACCESS EXCLUSIVE:
//! no `SELECT`, `INSERT`, `UPDATE` or `DELETE` on the table gets through until the copy is finished,
//! and the table needs twice its disk space meanwhile.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
//! ```
//!
//! ## Use instead
//! Add the column without a default (or with a constant one), give new rows the default, and fill the
//! existing rows in small batches, each in its own transaction:
//! ```sql
//! ALTER TABLE orders ADD COLUMN public_id uuid;
//! ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();  -- new rows only
//! UPDATE orders SET public_id = gen_random_uuid()
//!  WHERE id BETWEEN 1 AND 10000 AND public_id IS NULL;                    -- repeat per batch
//! ```
//! In Alembic: `op.add_column(...)` without `server_default`, then `op.alter_column(...,
//! server_default=sa.text("gen_random_uuid()"))`, and the backfill outside the revision's
//! transaction. In Django, a Python callable `default=uuid.uuid4` never reaches the database; avoid
//! `db_default` with a volatile function on a large table.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
//! - https://www.postgresql.org/docs/current/xfunc-volatility.html
//! - https://www.postgresql.org/docs/current/ddl-default.html

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, Op};
use crate::pg::LockMode;
use crate::pg::volatility::{Volatility, volatility};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "volatile-default-rewrite",
    severity: Severity::Error,
    summary: "ADD COLUMN with a volatile DEFAULT rewrites the whole table under an ACCESS EXCLUSIVE lock.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

/// `Expr::calls` without the names that are type names with modifiers after `::` or `AS`
/// (`x::varchar(20)`, `CAST(x AS numeric(10,2))`): those are casts, not function calls.
fn real_calls(sql: &str, calls: &[String]) -> Vec<String> {
    let lower = sql.to_lowercase();
    calls
        .iter()
        .filter(|name| {
            let pattern = format!("{name}(");
            let mut from = 0;
            let mut any_call = false;
            while let Some(at) = lower.get(from..).and_then(|rest| rest.find(&pattern)) {
                let start = from + at;
                let before = lower.get(..start).unwrap_or("").trim_end();
                let is_type = before.ends_with("::")
                    || before.ends_with(" as")
                    || (name.as_str() == "varying"
                        && (before.ends_with("character") || before.ends_with("bit")));
                // A longer identifier that merely ends in `name` is not this call.
                let glued = before.len() == lower.get(..start).unwrap_or("").len()
                    && before
                        .chars()
                        .last()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_');
                if !is_type && !glued {
                    any_call = true;
                    break;
                }
                from = start + pattern.len();
            }
            any_call || !lower.contains(&pattern)
        })
        .cloned()
        .collect()
}

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    // The effect lists a rewrite only for a table that existed before the migration.
    if !ctx.effect.rewrites.contains(&normal(name)) {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for a in actions {
        let AlterAction::AddColumn { column, .. } = a else {
            continue;
        };
        // Serial, identity and generated columns are rewritten for other reasons (other rules).
        if column.ty.base.ends_with(" (serial)")
            || column.identity.is_some()
            || column.generated.is_some()
        {
            continue;
        }
        let Some(default) = &column.default else {
            continue;
        };
        // A literal, or a cast of one (`0::numeric(10,2)`), calls nothing.
        if default.constant {
            continue;
        }
        let calls = real_calls(&default.sql, &default.calls);
        // A non-volatile default is evaluated once and kept as the column's missing value
        // (`ATExecAddColumn` in src/backend/commands/tablecmds.c, PostgreSQL ≥ 11); a volatile one
        // is evaluated per row, which forces the rewrite.
        let why = match volatility(&calls, |f| ctx.catalog.function_volatile(f)) {
            Volatility::Fixed => continue,
            Volatility::Volatile(f) => format!("{f}() is volatile"),
            Volatility::Unknown(f) => {
                format!("{f}() is a function migsafe does not know, so it assumes it is volatile")
            }
        };
        let col = &column.name;
        hits.push(Hit::new(
            format!(
                "adding column {col} with DEFAULT {}: {why}, so every existing row gets its own value and the table is rewritten with all its indexes under an {}",
                default.sql,
                say::lock_on(LockMode::AccessExclusiveLock, name),
            ),
            format!(
                "Add the column without a default (or with a constant one), then `ALTER TABLE {name} ALTER COLUMN {col} SET DEFAULT {}` (new rows only, no rewrite), and backfill existing rows in batches (`UPDATE {name} SET {col} = … WHERE id BETWEEN … AND {col} IS NULL`), each batch in its own transaction. In Alembic: add_column without server_default, then alter_column(server_default=…).",
                default.sql
            ),
        ));
    }
    hits
}

#[cfg(test)]
mod tests {
    use crate::{Analyzer, Catalog, Settings, Source};

    fn fired(schema: &str, sql: &str) -> Vec<String> {
        let catalog = Catalog::from_sql(schema).expect("schema");
        let report = Analyzer::new(Settings::default())
            .schema(catalog)
            .analyze(Source::new("t.sql", sql))
            .expect("analyze");
        report
            .statements
            .iter()
            .flat_map(|s| s.findings.iter())
            .filter(|f| f.rule == "volatile-default-rewrite")
            .map(|f| f.message.clone())
            .collect()
    }

    #[test]
    fn declared_volatility_is_used() {
        let schema = "CREATE TABLE orders (id bigint PRIMARY KEY);\n\
            CREATE FUNCTION shard_key() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$;\n\
            CREATE FUNCTION next_code() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;";
        assert!(
            fired(
                schema,
                "ALTER TABLE orders ADD COLUMN s int DEFAULT shard_key();"
            )
            .is_empty()
        );
        let m = fired(
            schema,
            "ALTER TABLE orders ADD COLUMN c text DEFAULT next_code();",
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("next_code() is volatile"), "{m:?}");
    }

    #[test]
    fn casts_with_type_modifiers_are_not_calls() {
        let calls = |sql: &str, c: &[&str]| {
            super::real_calls(sql, &c.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        assert!(calls("(now())::varchar(30)", &["now", "varchar"]) == ["now"]);
        assert!(calls("CAST(random() AS numeric(4, 2))", &["random", "numeric"]) == ["random"]);
        assert!(calls("'x'::character varying(20)", &["varying"]).is_empty());
        assert!(calls("make_code(3)", &["make_code"]) == ["make_code"]);
        let schema = "CREATE TABLE orders (id bigint PRIMARY KEY);";
        assert!(
            fired(
                schema,
                "ALTER TABLE orders ADD COLUMN code varchar(20) DEFAULT (now())::varchar(20);"
            )
            .is_empty()
        );
        assert!(
            fired(
                schema,
                "ALTER TABLE orders ADD COLUMN total numeric(10,2) DEFAULT 0::numeric(10,2);"
            )
            .is_empty()
        );
    }

    #[test]
    fn unknown_function_is_assumed_volatile() {
        let m = fired(
            "CREATE TABLE orders (id bigint PRIMARY KEY);",
            "ALTER TABLE orders ADD COLUMN c text DEFAULT make_code();",
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("assumes it is volatile"), "{m:?}");
    }
}
