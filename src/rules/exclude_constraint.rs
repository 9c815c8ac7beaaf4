//! # exclude-constraint
//! ADD CONSTRAINT … EXCLUDE builds its index under an ACCESS EXCLUSIVE lock, and there is no concurrent way.
//!
//! ## What it does
//! Flags `ALTER TABLE … ADD [CONSTRAINT …] EXCLUDE …` on a table that existed before the migration.
//! Exclusion constraints declared in `CREATE TABLE`, or added to a table the migration created, are not
//! flagged.
//!
//! ## Why is this bad?
//! The constraint's index (usually GiST) is built inside the `ALTER TABLE`, which holds an ACCESS
//! EXCLUSIVE lock on the table: reads and writes wait until every row has been indexed and checked
//! against the others. Unlike UNIQUE and PRIMARY KEY constraints, an exclusion constraint cannot be
//! attached to an index built beforehand with `CREATE INDEX CONCURRENTLY`, and it has no `NOT VALID`
//! form, so the wait cannot be shortened.
//!
//! ## Example
//! ```sql
//! ALTER TABLE room_bookings ADD CONSTRAINT room_bookings_no_overlap
//!     EXCLUDE USING gist (room_id WITH =, during WITH &&);
//! ```
//!
//! ## Use instead
//! Declare the constraint when the table is created, while it is still empty:
//! ```sql
//! CREATE TABLE room_bookings (
//!     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
//!     room_id bigint NOT NULL,
//!     during tstzrange NOT NULL,
//!     CONSTRAINT room_bookings_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&)
//! );
//! ```
//! For an existing table, run the `ALTER TABLE` in a maintenance window with the application's writes
//! stopped, and measure how long it takes on a restored copy first. Alternatives that keep the table
//! available (a trigger that checks new rows, or building a new table and switching over) need more
//! care than a migration step.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-EXCLUDE
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, ConstraintKind, Op};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "exclude-constraint",
    severity: Severity::Error,
    summary: "ADD CONSTRAINT … EXCLUDE builds its index under an ACCESS EXCLUSIVE lock, and there is no concurrent way.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    let table = normal(name);
    // The build reads the table; the effect lists that scan only for a pre-existing table.
    if !ctx.effect.scans.contains(&table) {
        return Vec::new();
    }
    let lock = ctx.lock_on(&table).unwrap_or(LockMode::AccessExclusiveLock);
    actions
        .iter()
        .filter_map(|a| match a {
            AlterAction::AddConstraint { constraint }
                if matches!(constraint.kind, ConstraintKind::Exclude { .. }) =>
            {
                let cname = constraint.name.as_deref().unwrap_or("(unnamed)");
                Some(Hit::new(
                    format!(
                        "adding exclusion constraint {cname} builds its index and checks every row of {table} while holding an {}; exclusion constraints have no concurrent or NOT VALID form",
                        say::lock_on(lock, &table)
                    ),
                    "Declare the constraint in CREATE TABLE while the table is empty; for an existing table, run this in a maintenance window with writes stopped, after timing it on a restored copy.",
                ))
            }
            _ => None,
        })
        .collect()
}
