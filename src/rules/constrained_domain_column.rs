//! # constrained-domain-column
//! Adding a column whose type is a domain with constraints rewrites an existing table.
//!
//! ## What it does
//! Flags `ALTER TABLE … ADD COLUMN` on a table that existed before the migration when the column's
//! type is a domain with `CHECK` or `NOT NULL` constraints (known from the schema or from a
//! `CREATE DOMAIN` earlier in the migration).
//!
//! ## Why is this bad?
//! Since PostgreSQL 11 a new column with a constant default costs only a catalog change, but not when
//! its type is a constrained domain: PostgreSQL must check the domain's constraints against the value
//! of every existing row, so it rewrites the whole table and all its indexes under an ACCESS
//! EXCLUSIVE lock — even with no default at all. Reads and writes wait for the whole rewrite.
//!
//! ## Example
//! ```sql
//! CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
//! ALTER TABLE accounts ADD COLUMN credits positive_int;
//! ```
//!
//! ## Use instead
//! Add the column with the domain's base type and enforce the rule with a table constraint that is
//! validated without blocking:
//! ```sql
//! ALTER TABLE accounts ADD COLUMN credits integer;
//! ALTER TABLE accounts ADD CONSTRAINT accounts_credits_positive CHECK (credits > 0) NOT VALID;
//! -- in a later transaction:
//! ALTER TABLE accounts VALIDATE CONSTRAINT accounts_credits_positive;
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
//! - https://www.postgresql.org/docs/current/sql-createdomain.html
//! - `ATExecAddColumn` in src/backend/commands/tablecmds.c (the missing-value fast path is skipped when `DomainHasConstraints`)

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, Op};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "constrained-domain-column",
    severity: Severity::Error,
    summary: "Adding a column whose type is a domain with constraints rewrites an existing table.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    if !ctx.effect.rewrites.contains(&normal(name)) {
        return Vec::new();
    }
    actions
        .iter()
        .filter_map(|a| match a {
            AlterAction::AddColumn { column, .. } => Some(column),
            _ => None,
        })
        .filter(|column| {
            ctx.catalog
                .type_def(&column.ty.qual_name())
                .is_some_and(|t| t.domain_constrained)
        })
        .map(|column| {
            Hit::new(
                format!(
                    "column {} has domain type {}, whose constraints must be checked for every existing row: the table is rewritten with all its indexes under an {}",
                    column.name,
                    column.ty.sql,
                    say::lock_on(LockMode::AccessExclusiveLock, name)
                ),
                format!(
                    "Add {} with the domain's base type, then add the domain's rule as a CHECK … NOT VALID and VALIDATE it in a later transaction.",
                    column.name
                ),
            )
        })
        .collect()
}
