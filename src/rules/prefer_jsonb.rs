//! # prefer-jsonb
//! A column of type json: no equality operator, and the text is parsed again on every access.
//!
//! ## What it does
//! Flags columns declared `json` (or `json[]`) in `CREATE TABLE`, `ALTER TABLE … ADD COLUMN` and
//! `ALTER COLUMN … TYPE json`. `jsonb` columns are not flagged.
//!
//! ## Why is this bad?
//! `json` stores the input text unchanged. It has no equality operator, so `SELECT DISTINCT`,
//! `GROUP BY` and `UNION` (without `ALL`) over such a column fail with `could not identify an
//! equality operator for type json`, `col IN (SELECT …)` fails with `operator does not exist:
//! json = json`, and the column itself cannot be indexed (no btree or GIN operator class, so no
//! unique index either; expression indexes on `payload->>'key'` still work). Every `->` or `->>`
//! access parses the whole text again. `jsonb` stores a parsed binary form and supports equality,
//! containment (`@>`) and GIN indexes. The one reason to keep `json` is preserving the exact input
//! text (whitespace, key order, duplicate keys).
//!
//! ## Example
//! ```sql
//! CREATE TABLE webhook_events (id bigint PRIMARY KEY, payload json NOT NULL);
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE TABLE webhook_events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
//! ```
//! In SQLAlchemy / Alembic use `sqlalchemy.dialects.postgresql.JSONB` instead of `sa.JSON`. Django's
//! `JSONField` already uses `jsonb` on PostgreSQL.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/datatype-json.html
//! - https://www.postgresql.org/docs/current/datatype-json.html#JSON-INDEXING
//! - https://docs.sqlalchemy.org/en/20/dialects/postgresql.html#sqlalchemy.dialects.postgresql.JSONB

use super::{Ctx, Hit, Rule};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "prefer-jsonb",
    severity: Severity::Warning,
    summary: "A column of type json: no equality operator, and the text is parsed again on every access.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};


fn check(ctx: &Ctx) -> Vec<Hit> {
    super::declared_columns(ctx.op)
        .into_iter()
        .filter(|(_, _, ty)| ty.base == "json")
        .map(|(table, column, ty)| {
            Hit::new(
                format!(
                    "column {column} of {} is {}: json has no equality operator (DISTINCT, GROUP BY, UNION and unique indexes on it fail) and is parsed again on every access",
                    table.display_qualified(),
                    ty.sql
                ),
                format!(
                    "Declare {column} as jsonb{} (Alembic: postgresql.JSONB; Django's JSONField already is jsonb), unless the exact input text must be kept.",
                    if ty.array { "[]" } else { "" }
                ),
            )
        })
        .collect()
}
