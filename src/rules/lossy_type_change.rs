//! # lossy-type-change
//! ALTER COLUMN … TYPE changes stored values so that changing the type back does not restore them.
//!
//! ## What it does
//! Flags `ALTER TABLE … ALTER COLUMN … TYPE` on a column that holds data from before the migration
//! when the conversion loses information: reducing `numeric`'s scale (rounding), `double precision`
//! → `real`, floating point or `numeric` → an integer type, `timestamp` → `date`, `timestamp` ↔
//! `timestamptz` under a session TimeZone other than UTC, `char(n)` → `text` (the padding),
//! `json` → `jsonb` (whitespace, key order, duplicate keys), an explicit cast in `USING` that cuts
//! strings to a shorter length, and a `USING` expression that computes new values.
//!
//! Narrowing changes that fail instead of changing a value (`bigint` → `int`, `varchar(100)` →
//! `varchar(20)` without an explicit cast) are not flagged here: the statement errors out on a value
//! that does not fit, and nothing is lost.
//!
//! ## Why is this bad?
//! The old values are gone once the migration commits. Rolling back the deploy means changing the
//! type back, which keeps the rounded number, the truncated string or the shifted time: the rollback
//! script cannot restore them, and neither can the application.
//!
//! ## Example
//! ```sql
//! ALTER TABLE products ALTER COLUMN weight_kg TYPE numeric(10,1);  -- was numeric(10,3)
//! ALTER TABLE orders ALTER COLUMN placed_at TYPE date;             -- was timestamp
//! ```
//!
//! ## Use instead
//! Keep the old values until the new ones have proved right: add a column of the new type, backfill
//! it, move the application over, and drop the old column in a later release.
//! ```sql
//! ALTER TABLE products ADD COLUMN weight_kg_rounded numeric(10,1);
//! UPDATE products SET weight_kg_rounded = weight_kg WHERE id BETWEEN 1 AND 10000;  -- per batch
//! ```
//! At the very least copy the column away first
//! (`CREATE TABLE products_weight_backup AS SELECT id, weight_kg FROM products`). For `timestamp` ↔
//! `timestamptz`, run `SET timezone = 'UTC'` first: in UTC every value converts back exactly.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DATA-TYPE
//! - https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-NUMERIC-DECIMAL
//! - https://www.postgresql.org/docs/current/datatype-character.html
//! - https://www.postgresql.org/docs/current/datatype-datetime.html#DATATYPE-TIMEZONES

use super::{Ctx, Hit, Rule};
use crate::ir::{AlterAction, Expr, Op, TypeName};
use crate::pg::types::type_change;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "lossy-type-change",
    severity: Severity::Error,
    summary: "ALTER COLUMN … TYPE changes stored values so that changing the type back does not restore them.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

/// Whether `using` is nothing but the column cast to the new type (`"title"::varchar(255)`,
/// `CAST(title AS varchar(255))`), as Django writes it. Such a USING converts exactly like the plain
/// `ALTER COLUMN … TYPE` would, except that an explicit cast to a shorter `varchar`/`char`/`bit`
/// cuts longer values where the implicit one raises "value too long"
/// (https://www.postgresql.org/docs/current/datatype-character.html).
///
/// `pg::types` sees the type's `(255)` as a function call and takes such a USING for one that
/// computes new values; the rules that judge type changes undo that here.
pub(super) fn plain_cast(using: &Expr, column: &str, new: &TypeName) -> bool {
    let squeeze = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace() && *c != '"')
            .collect::<String>()
            .to_lowercase()
    };
    let sql = squeeze(&using.sql);
    let col = squeeze(column);
    let ty = squeeze(&new.sql);
    let sql = sql
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .map(str::to_string)
        .unwrap_or(sql);
    sql == format!("{col}::{ty}") || sql == format!("cast({col}as{ty})")
}

/// A length-limited string or bit type (`varchar(n)`, `char(n)`, `varbit(n)`, `bit(n)`): the limit.
fn length_limit(ty: &TypeName) -> Option<u32> {
    let limited = matches!(ty.base.as_str(), "varchar" | "bpchar" | "varbit" | "bit") && !ty.array;
    if limited {
        ty.modifiers.first().copied()
    } else {
        None
    }
}

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    // Rows of a table created by the migration are not production data.
    let retypes = |a: &AlterAction| matches!(a, AlterAction::AlterColumnType { .. });
    if !actions.iter().any(retypes) || !ctx.catalog.pre_existing(name) {
        return Vec::new();
    }
    let table = name.display_qualified();
    let mut hits = Vec::new();
    for a in actions {
        let AlterAction::AlterColumnType {
            column, ty, using, ..
        } = a else {
            continue;
        };
        let old = ctx.catalog.column(name, column);
        // A column added by this migration holds no values from before it.
        if old.is_some_and(|c| c.created_in_migration) {
            continue;
        }
        let loss = match old {
            Some(old) => {
                let cast = using.as_deref().filter(|u| plain_cast(u, column, ty));
                // A plain cast converts like no USING at all (but see the truncation below).
                let using = if cast.is_some() { None } else { using.as_deref() };
                let change = type_change(
                    &old.ty,
                    ty,
                    using,
                    column,
                    &ctx.tx.timezone,
                    ctx.pg_version,
                );
                match (change.lossy, cast, length_limit(ty)) {
                    (Some(l), _, _) => Some(format!(
                        "changing {column} of {table} from {} to {}: {l}",
                        old.ty.sql, ty.sql
                    )),
                    // The limit shrinks (the change may fail without the cast), and the explicit
                    // cast truncates instead of failing.
                    (None, Some(u), Some(n)) if change.may_fail => Some(format!(
                        "changing {column} of {table} from {} to {}: the explicit cast in USING ({}) cuts values longer than {n} characters without an error",
                        old.ty.sql, ty.sql, u.sql
                    )),
                    _ => None,
                }
            }
            // Without the old type only the USING expression tells: with the old type set equal to
            // the new one, `type_change` reports a loss exactly when USING computes new values.
            None => using.as_ref().filter(|u| !plain_cast(u, column, ty)).and_then(|u| {
                let change = type_change(
                    ty,
                    ty,
                    Some(u),
                    column,
                    &ctx.tx.timezone,
                    ctx.pg_version,
                );
                change.lossy.map(|_| {
                    format!(
                        "changing {column} of {table} to {}: the USING expression ({}) replaces the stored values of {column} with computed ones",
                        ty.sql, u.sql
                    )
                })
            }),
        };
        let Some(message) = loss else {
            continue;
        };
        let mut help = format!(
            "Keep the old values: add a new column of type {} next to {column}, backfill it in batches, move the application over and drop {column} in a later release — or at least copy it first (CREATE TABLE {}_{column}_backup AS SELECT <primary key>, {column} FROM {name}).",
            ty.sql, name.name
        );
        let timestamps = old.is_some_and(|o| {
            matches!(
                (o.ty.base.as_str(), ty.base.as_str()),
                ("timestamp", "timestamptz") | ("timestamptz", "timestamp")
            )
        });
        if timestamps {
            help.push_str(" Or run `SET timezone = 'UTC';` right before the ALTER: in UTC every value converts back exactly.");
        }
        hits.push(Hit::new(
            format!("{message}; changing the type back does not restore the old values"),
            help,
        ));
    }
    hits
}

#[cfg(test)]
mod tests {
    fn fired(sql: &str) -> Vec<String> {
        crate::analyze(sql)
            .statements
            .iter()
            .flat_map(|s| s.findings.iter())
            .filter(|f| f.rule == super::RULE.id)
            .map(|f| f.message.clone())
            .collect()
    }

    #[test]
    fn without_schema_only_a_computing_using_tells() {
        let m =
            fired("ALTER TABLE orders ALTER COLUMN total TYPE integer USING round(total / 100);");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("replaces the stored values"), "{m:?}");
        assert!(fired("ALTER TABLE orders ALTER COLUMN total TYPE numeric(10,1);").is_empty());
        assert!(
            fired("ALTER TABLE orders ALTER COLUMN code TYPE varchar(20) USING code::varchar(20);")
                .is_empty()
        );
    }

    #[test]
    fn plain_casts() {
        use crate::ir::{Expr, TypeName};
        let ty = TypeName {
            sql: "VARCHAR(20)".to_string(),
            base: "varchar".to_string(),
            modifiers: vec![20],
            array: false,
        };
        let e = |sql: &str| Expr {
            sql: sql.to_string(),
            calls: Vec::new(),
            columns: Vec::new(),
            constant: false,
        };
        assert!(super::plain_cast(&e("\"code\"::VARCHAR(20)"), "code", &ty));
        assert!(super::plain_cast(
            &e("CAST(code AS VARCHAR(20))"),
            "code",
            &ty
        ));
        assert!(!super::plain_cast(
            &e("upper(code)::VARCHAR(20)"),
            "code",
            &ty
        ));
    }
}
