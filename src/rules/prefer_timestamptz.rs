//! # prefer-timestamptz
//! A column of type timestamp (without time zone): its values do not say which zone they are in.
//!
//! ## What it does
//! Flags columns declared `timestamp` / `timestamp without time zone` (or arrays of it) in
//! `CREATE TABLE`, `ALTER TABLE … ADD COLUMN` and `ALTER COLUMN … TYPE`. `timestamptz` columns are
//! not flagged.
//!
//! ## Why is this bad?
//! A `timestamp` stores a wall-clock reading and nothing about where it was taken. Whether
//! `2024-03-10 02:30` means UTC, the server's zone or a user's zone depends on every writer agreeing,
//! and nothing enforces it: `now()` written into it records the session's local time, a service
//! running with another `TimeZone` setting writes shifted values, and daylight-saving changes make
//! some readings ambiguous or impossible. `timestamptz` stores an absolute instant (as UTC) and
//! converts on input and output, at the same 8 bytes.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD COLUMN shipped_at timestamp;
//! ```
//!
//! ## Use instead
//! ```sql
//! ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
//! ```
//! In SQLAlchemy / Alembic: `sa.DateTime(timezone=True)` (plain `sa.DateTime()` emits
//! `TIMESTAMP WITHOUT TIME ZONE`). Django's `DateTimeField` already uses `timestamp with time zone`.
//! Keep `timestamp` only for readings that really are zone-less (a recurring local opening time).
//!
//! ## References
//! - https://www.postgresql.org/docs/current/datatype-datetime.html#DATATYPE-TIMEZONES
//! - https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_timestamp_.28without_time_zone.29
//! - https://docs.sqlalchemy.org/en/20/core/type_basics.html#sqlalchemy.types.DateTime

use super::{Ctx, Hit, Rule};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "prefer-timestamptz",
    severity: Severity::Info,
    summary: "A column of type timestamp (without time zone): its values do not say which zone they are in.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};


fn check(ctx: &Ctx) -> Vec<Hit> {
    super::declared_columns(ctx.op)
        .into_iter()
        .filter(|(_, _, ty)| ty.base == "timestamp")
        .map(|(table, column, ty)| {
            let precision = ty
                .modifiers
                .first()
                .map(|p| format!("({p})"))
                .unwrap_or_default();
            let spelled = if ty.sql.to_lowercase().contains("without") {
                ty.sql.clone()
            } else {
                format!("{} (without time zone)", ty.sql)
            };
            Hit::new(
                format!(
                    "column {column} of {} is {spelled}: the stored values do not record their zone, so readers and writers with different TimeZone settings disagree on what they mean",
                    table.display_qualified(),
                ),
                format!(
                    "Declare {column} as timestamptz{precision}{} (SQLAlchemy: sa.DateTime(timezone=True)), unless it holds zone-less wall-clock readings on purpose.",
                    if ty.array { "[]" } else { "" }
                ),
            )
        })
        .collect()
}
