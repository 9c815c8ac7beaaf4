//! # observed-differs
//! Running the statement on the restored copy showed locks or rewrites other than migsafe predicted.
//!
//! ## What it does
//! With `--database URL --verify`, each statement's locks (`pg_locks` of the verifying session),
//! rewrites (`pg_class.relfilenode`) are recorded while it runs on the copy, and compared with
//! what migsafe predicted from the SQL alone. A table locked in a mode that blocks more (or less)
//! than predicted, or a rewrite that happened (or did not) against the prediction, is reported.
//!
//! ## Why is this bad?
//! The static verdict is what reviewers read. When the server does something else — an extension's
//! event trigger, a domain or a rule the schema dump did not show, a PostgreSQL version that
//! behaves differently — the review is wrong, and the real behaviour is what production will see.
//!
//! ## Example
//! ```sql
//! ALTER TABLE runs ALTER COLUMN status TYPE varchar(40);  -- predicted: no rewrite; observed: rewrite
//! ```
//!
//! ## Use instead
//! Trust the observed behaviour, plan the deploy for it (a maintenance window, or the
//! expand/contract pattern for a rewrite), and report the case to migsafe with the statement and
//! server version so the prediction is fixed:
//! ```sql
//! ALTER TABLE runs ADD COLUMN status_v2 varchar(40);  -- expand, backfill in batches, then switch
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/current/view-pg-locks.html
//! - https://www.postgresql.org/docs/current/storage-file-layout.html

use super::{Ctx, Hit, Rule};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "observed-differs",
    severity: Severity::Warning,
    summary: "Running the statement on the restored copy showed locks or rewrites other than migsafe predicted.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Some(observed) = ctx.observed else {
        return Vec::new();
    };
    observed
        .differences
        .iter()
        .map(|d| {
            Hit::new(
                format!("on the restored copy, {d}"),
                "Plan the deploy for what the server did, and report the statement and server version to migsafe.",
            )
        })
        .collect()
}
