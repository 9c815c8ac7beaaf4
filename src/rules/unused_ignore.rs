//! # unused-ignore
//! A `-- migsafe: ignore` directive that silences nothing.
//!
//! ## What it does
//! Flags an `-- migsafe: ignore <rule>` directive when the statement it applies to has no finding of
//! that rule, or when the rule does not exist.
//!
//! ## Why is this bad?
//! A stale ignore hides the next real finding of that rule on the statement, and a misspelt rule name
//! silences nothing while the reader believes it does.
//!
//! ## Example
//! ```sql
//! -- migsafe: ignore create-index-non-concurrently
//! CREATE INDEX CONCURRENTLY ix_runs_status ON runs (status);
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE INDEX CONCURRENTLY ix_runs_status ON runs (status);
//! ```
//!
//! ## References
//! - https://github.com/sbdchd/squawk (squawk's `-- squawk-ignore` comments serve the same purpose)

use super::{Ctx, Hit, Rule};
use crate::vocab::Severity;

/// The analyser itself reports unused directives, since only it knows which findings were silenced.
pub(crate) const RULE: Rule = Rule {
    id: "unused-ignore",
    severity: Severity::Info,
    summary: "A `-- migsafe: ignore` directive that silences nothing.",
    scales_with_size: false,
    check,
};

fn check(_: &Ctx) -> Vec<Hit> {
    Vec::new()
}
