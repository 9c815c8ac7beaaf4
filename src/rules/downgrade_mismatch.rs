//! # downgrade-mismatch
//! The author's downgrade does not restore what the upgrade changed.
//!
//! ## What it does
//! With `--downgrade FILE` (the author's `alembic downgrade B:A --sql` export), migsafe applies each
//! revision's downgrade to the schema after the upgrade and compares the result with the schema
//! before it: tables, columns (type, NOT NULL, default), constraints (and their validity), indexes
//! and enum types. Every difference is a finding on the revision's first statement, and the help
//! lists how the downgrade's statements differ from the rollback migsafe generates.
//!
//! ## Why is this bad?
//! A downgrade is what the team runs when a release goes wrong, under pressure and rarely tested. One
//! that forgets an index, a default or a function leaves the database in a state no revision
//! describes: the next upgrade fails (`relation already exists`) or, worse, silently behaves
//! differently.
//!
//! ## Example
//! ```sql
//! -- upgrade
//! CREATE INDEX ix_runs_status ON runs (status);
//! ALTER TABLE runs ALTER COLUMN priority SET DEFAULT 2;
//! -- downgrade: forgets the index and the old default
//! ALTER TABLE runs ALTER COLUMN priority DROP DEFAULT;
//! ```
//!
//! ## Use instead
//! ```sql
//! DROP INDEX IF EXISTS ix_runs_status;
//! ALTER TABLE runs ALTER COLUMN priority SET DEFAULT 3;
//! ```
//! Or start the downgrade from the script `migsafe rollback` generates.
//!
//! ## References
//! - https://alembic.sqlalchemy.org/en/latest/offline.html
//! - https://alembic.sqlalchemy.org/en/latest/tutorial.html#downgrading

use super::{Ctx, Hit, Rule};
use crate::vocab::Severity;

/// The analyser itself reports mismatches, since only it has both files and every revision's
/// catalog.
pub(crate) const RULE: Rule = Rule {
    id: "downgrade-mismatch",
    severity: Severity::Warning,
    summary: "The author's downgrade does not restore what the upgrade changed.",
    scales_with_size: false,
    check,
};

fn check(_: &Ctx) -> Vec<Hit> {
    Vec::new()
}
