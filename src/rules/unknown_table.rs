//! # unknown-table
//! A table the schema given does not have: the dump is stale or partial.
//!
//! ## What it does
//! With `--schema` (or `--database`), flags the first statement that names a table the schema does
//! not list and the migration did not create. migsafe then assumes the table exists, with columns
//! and indexes it does not know, so its locks, scans and findings are still reported.
//!
//! ## Why is this bad?
//! A schema dump that lacks a table the migration touches was taken from the wrong branch or
//! database, or only in part: what migsafe says about the other tables (their indexes, foreign
//! keys, sizes) may be stale as well. Taking the missing table for one the migration creates would
//! hide every hazard on it: an index built on a large table would look free.
//!
//! ## Example
//! ```sql
//! -- schema.sql was dumped before `audit_log` existed
//! CREATE INDEX ix_audit_log_created ON audit_log (created_at);
//! ```
//!
//! ## Use instead
//! Make the schema from the base branch right before the check, so it matches what the migration
//! runs on. Alembic, without a database:
//! ```sql
//! -- alembic upgrade base:$BASE_REVISION --sql > schema.sql
//! ```
//! Django: `python manage.py sqlmigrate` of every migration up to the base branch's last one, or
//! `pg_dump --schema-only` of a database migrated to it.
//!
//! ## References
//! - https://alembic.sqlalchemy.org/en/latest/offline.html
//! - https://www.postgresql.org/docs/current/app-pgdump.html

use super::{Ctx, Hit, Rule};
use crate::vocab::{Risk, Severity};

pub(crate) const RULE: Rule = Rule {
    id: "unknown-table",
    severity: Severity::Warning,
    summary: "A table the schema given does not have: the dump is stale or partial.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let unknown: Vec<String> = ctx
        .effect
        .locks
        .iter()
        .filter(|(t, _)| ctx.catalog.unknown(t))
        .map(|(t, _)| t.display_qualified())
        .collect();
    if unknown.is_empty() {
        return Vec::new();
    }
    let (names, verb) = match unknown.as_slice() {
        [one] => (one.clone(), "is"),
        many => (many.join(", "), "are"),
    };
    vec![
        Hit::new(
            format!(
                "{names} {verb} not in the schema given: is the dump current? migsafe assumes it \
                 exists, with columns and indexes it does not know"
            ),
            "Make the schema from the base branch right before the check (Alembic: `alembic upgrade \
             base:$BASE --sql > schema.sql`; or `pg_dump --schema-only` of a database at that \
             revision).",
        )
        .with_risk(Risk::Low),
    ]
}
