//! # unparsed-statement
//! A statement migsafe could not read: review it by hand.
//!
//! ## What it does
//! Flags every statement that neither sqlparser nor migsafe's keyword fallback understood. Such a
//! statement is never skipped silently: its locks, rewrites and data loss are unknown, so migsafe says
//! so instead of reporting it as harmless.
//!
//! ## Why is this bad?
//! An unknown statement can take any lock and rewrite any table. A linter that ignores what it cannot
//! parse reports a dangerous migration as clean.
//!
//! ## Example
//! ```sql
//! ALTER TABLE runs ALTER CONSTRAINT runs_fk DEFERRABLE INITIALLY DEFERRED SOMETHING;
//! ```
//!
//! ## Use instead
//! Check that the statement is valid PostgreSQL, review its locks by hand (or run it with
//! `--verify` on a restored copy), and report it to migsafe so it can be understood.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-commands.html

use super::{Ctx, Hit, Rule};
use crate::ir::Op;
use crate::vocab::{Risk, Severity};

pub(crate) const RULE: Rule = Rule {
    id: "unparsed-statement",
    severity: Severity::Warning,
    summary: "A statement migsafe could not read: review it by hand.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::Unparsed { error } = ctx.op else {
        return Vec::new();
    };
    vec![
        Hit::new(
            format!(
                "could not analyse this statement, so its locks and effects are unknown: {error}"
            ),
            "Check that it is valid PostgreSQL; if it is, review it by hand and report the statement to migsafe.",
        )
        .with_risk(Risk::Medium),
    ]
}
