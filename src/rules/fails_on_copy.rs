//! # fails-on-copy
//! The statement failed when the migration ran on the restored copy: it will fail in production too.
//!
//! ## What it does
//! With `--database URL --verify`, migsafe runs the migration statement by statement on the
//! restored copy, inside one transaction that is always rolled back. A statement the server rejects
//! there — a NOT NULL column that meets a NULL, a unique index over duplicates, a cast that does
//! not fit, a statement timeout — is reported with the server's error. With `--role NAME` the run
//! is done as the deploy role (`SET ROLE`), so a statement that role may not run (not the owner, no
//! privilege) is reported too, naming the role and the missing privilege.
//!
//! ## Why is this bad?
//! The schema check passes in CI against an empty database, and the migration fails on the first
//! deploy against real data: the deploy stops halfway, its transaction rolls back (and units that
//! ran outside a transaction stay committed), and the release waits while someone fixes data under
//! pressure.
//!
//! ## Example
//! ```sql
//! ALTER TABLE users ALTER COLUMN email SET NOT NULL;  -- ERROR: column "email" of relation "users" contains null values
//! ```
//!
//! ## Use instead
//! Fix the data first (in batches, in an earlier release), or make the statement accept it:
//! ```sql
//! UPDATE users SET email = '' WHERE email IS NULL AND id BETWEEN 1 AND 10000;  -- per range
//! ALTER TABLE users ALTER COLUMN email SET NOT NULL;
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/current/errcodes-appendix.html
//! - https://www.postgresql.org/docs/current/sql-altertable.html

use super::{Ctx, Hit, Rule};
use crate::vocab::{Risk, Severity};

pub(crate) const RULE: Rule = Rule {
    id: "fails-on-copy",
    severity: Severity::Error,
    summary: "The statement failed when the migration ran on the restored copy: it will fail in production too.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Some(error) = ctx.observed.and_then(|o| o.error.as_deref()) else {
        return Vec::new();
    };
    // SQLSTATE 42501, insufficient_privilege: the role, not the data, is the problem.
    let hit = if error.contains("(42501)") {
        Hit::new(
            format!("the deploy role cannot run this statement on the restored copy: {error}"),
            "Grant the missing privilege to the deploy role, or run the migration as the object's owner (ALTER TABLE … OWNER TO …); in production the deploy stops here.",
        )
    } else {
        Hit::new(
            format!("this migration fails on the restored copy's data: {error}"),
            "Fix the data (or the statement) before deploying; in production the deploy stops here and this transaction rolls back.",
        )
    };
    vec![hit.with_risk(Risk::High)]
}
