//! # fails-on-copy
//! The statement failed when the migration ran on the restored copy: it will fail in production too.
//!
//! ## What it does
//! With `--database URL --verify`, migsafe runs the migration statement by statement on the
//! restored copy, inside one transaction that is always rolled back. A statement the server rejects
//! there — a NOT NULL column that meets a NULL, a unique index over duplicates, a cast that does
//! not fit — is reported with the server's error. With `--role NAME` the run is done as the deploy
//! role (`SET SESSION AUTHORIZATION`), so a statement that role may not run (not the owner, no
//! privilege, a `SET ROLE` to a role it is not a member of) is reported too, naming the role and
//! the missing privilege. A statement the server cancelled (migsafe's per-statement limit, its
//! lock timeout or the run's time budget) is reported as cancelled: it did not finish, so whether
//! it would succeed is unknown, and it took at least that long.
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
    if let Some(why) = ctx.observed.and_then(|o| o.cancelled.as_deref()) {
        return vec![cancelled(ctx, why)];
    }
    // SQLSTATE 42501, insufficient_privilege: the role, not the data, is the problem.
    let hit = if error.contains("permission denied to set role") {
        Hit::new(
            format!("the deploy role cannot make this role change on the restored copy: {error}"),
            "Grant the deploy role membership in that role (GRANT role TO deploy), or take the SET ROLE out of the migration; in production the deploy stops here.",
        )
    } else if error.contains("(42501)") {
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

/// A statement the server cancelled: how long it ran, and why it was stopped.
fn cancelled(ctx: &Ctx, why: &str) -> Hit {
    let ms = ctx.observed.map_or(0.0, |o| o.duration_ms);
    let took = crate::pg::duration::describe_seconds(ms / 1000.0);
    if why.starts_with("lock timeout") {
        return Hit::new(
            format!("this statement was cancelled on the restored copy after {took}, before it got its lock: {why}"),
            "Run the verification when nothing else holds locks on the copy; in production it waits for the same lock (with lock_timeout, it gives up there too).",
        )
        .with_risk(Risk::Medium);
    }
    Hit::new(
        format!("this statement was cancelled on the restored copy after {took} and did not finish ({why}): whether it succeeds is unknown, and it takes at least that long"),
        "Make it cheaper (batches, an index, NOT VALID + VALIDATE), or raise --verify-timeout / --time-budget to see it finish; in production it holds its locks at least this long.",
    )
    .with_risk(Risk::High)
}
