//! # enum-value-ordering
//! ALTER TYPE … ADD VALUE … BEFORE/AFTER puts the new value between existing ones in the enum's order.
//!
//! ## What it does
//! Flags `ALTER TYPE … ADD VALUE 'x' BEFORE 'y'` and `… AFTER 'y'` on an enum type that existed
//! before the migration. Adding a value at the end (no `BEFORE`/`AFTER`) is not flagged, nor is a
//! value added to a type created earlier in the same migration, nor `ADD VALUE IF NOT EXISTS` of a
//! value the type already has.
//!
//! ## Why is this bad?
//! Enum values compare by their declared position, not alphabetically. Inserting a value in the
//! middle keeps the order of the existing values, but every `ORDER BY` on the column and every range
//! comparison (`status < 'shipped'`, `BETWEEN`, `max(status)`) now includes the new value between
//! them, which code written against the old list may not expect (a report of "orders not yet
//! shipped" suddenly counts the new state, or stops counting it).
//!
//! PostgreSQL also compares values added out of order more slowly: it cannot compare their OIDs
//! directly and has to look up the sort position (the PostgreSQL documentation of `ALTER TYPE`
//! notes this; recreating the type restores full speed). The slowdown is usually small.
//!
//! ## Example
//! ```sql
//! ALTER TYPE order_status ADD VALUE 'packed' BEFORE 'shipped';
//! ```
//!
//! ## Use instead
//! If nothing depends on the order of the enum, add the value at the end:
//! ```sql
//! ALTER TYPE order_status ADD VALUE 'packed';
//! ```
//! If the order matters, review every query that sorts or compares the column before adding it in
//! the middle, or keep the order in data (a lookup table with a `position` column) instead of in
//! the type.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertype.html#SQL-ALTERTYPE-NOTES
//! - https://www.postgresql.org/docs/current/datatype-enum.html#DATATYPE-ENUM-ORDERING

use super::{Ctx, Hit, Rule};
use crate::ir::Op;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "enum-value-ordering",
    severity: Severity::Info,
    summary: "ALTER TYPE … ADD VALUE … BEFORE/AFTER puts the new value between existing ones in the enum's order.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTypeAddValue {
        name,
        value,
        if_not_exists,
        position: Some(position),
    } = ctx.op
    else {
        return Vec::new();
    };
    let known = ctx.catalog.type_def(name);
    // A type created by the migration has no stored values and no queries relying on its order yet.
    if known.is_some_and(|t| t.created_in_migration) {
        return Vec::new();
    }
    // IF NOT EXISTS of a value the type already has does nothing.
    let present = known
        .and_then(|t| t.enum_values.as_ref())
        .is_some_and(|v| v.contains(value));
    if *if_not_exists && present {
        return Vec::new();
    }
    let literal = format!("'{}'", value.replace('\'', "''"));
    vec![Hit::new(
        format!(
            "{literal} is added {position} in enum {name}: ORDER BY on columns of this type and range comparisons (<, >, BETWEEN, min/max) now place it between existing values, and comparisons involving it are slower than between the original values"
        ),
        format!(
            "If nothing depends on the order of {name}, add {literal} at the end (ALTER TYPE {name} ADD VALUE {literal}); otherwise check every query that sorts or compares columns of {name} before deploying."
        ),
    )]
}
