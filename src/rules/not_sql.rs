//! # not-sql
//! Text in the export that is not SQL.
//!
//! ## What it does
//! Flags lines of the migration export that are not SQL at all: output that migration code printed
//! (`print()` in an Alembic `upgrade()` lands in the `--sql` output) or notes pasted into the file.
//!
//! ## Why is this bad?
//! `psql` fails on the line, so the migration stops half-way; with `ON_ERROR_STOP` off it silently goes
//! on and the reviewer reads something different from what runs.
//!
//! ## Example
//! ```sql
//! Running upgrade 1a2b -> 3c4d
//! ALTER TABLE runs ADD COLUMN note text;
//! ```
//!
//! ## Use instead
//! ```sql
//! ALTER TABLE runs ADD COLUMN note text;
//! ```
//!
//! ## References
//! - https://alembic.sqlalchemy.org/en/latest/offline.html

use super::{Ctx, Hit, Rule};
use crate::ir::Op;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "not-sql",
    severity: Severity::Warning,
    summary: "Text in the export that is not SQL.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    if !matches!(ctx.op, Op::Text) {
        return Vec::new();
    }
    vec![Hit::new(
        "this text is not SQL (output printed by migration code?): psql would fail on it",
        "Remove print() output from the migration, or strip it from the export before running it.",
    )]
}
