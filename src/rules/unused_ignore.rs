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

use super::{Hit, Migration, Rule};
use crate::vocab::{Severity, Transaction};

pub(crate) const RULE: Rule = Rule {
    id: "unused-ignore",
    severity: Severity::Info,
    summary: "A `-- migsafe: ignore` directive that silences nothing.",
    scales_with_size: false,
    check: None,
    check_migration: Some(check_migration),
};

/// Every directive of every statement that silenced none of the statement's findings.
fn check_migration(m: &Migration) -> Vec<(usize, Hit)> {
    let mut out = Vec::new();
    for (index, st) in m.read.statements.iter().enumerate() {
        if m.transactions.get(index) == Some(&Transaction::Bookkeeping) {
            continue;
        }
        let silenced = m.silenced.get(index).map_or(&[][..], Vec::as_slice);
        for directive in st.ignore.iter().filter(|d| !silenced.contains(d)) {
            let message = if directive != "all" && super::rule(directive).is_none() {
                format!("`-- migsafe: ignore {directive}` names no rule migsafe has")
            } else {
                format!("`-- migsafe: ignore {directive}` silences nothing on this statement")
            };
            let help = "Remove the directive, or correct the rule name (`migsafe rules` lists them).";
            out.push((index, Hit::new(message, help)));
        }
    }
    out
}
