//! # missing-lock-timeout
//! A lock that blocks the table is requested with no lock_timeout: the statement can wait forever while every later query queues behind it.
//!
//! ## What it does
//! Flags a statement that requests a lock blocking writes (SHARE or stronger; ACCESS EXCLUSIVE for
//! most `ALTER TABLE`s, `DROP`, `TRUNCATE`) on a table that existed before the migration while no
//! non-zero `lock_timeout` is in force (`SET lock_timeout` / `SET LOCAL lock_timeout` earlier in the
//! file). Inside a transaction block only the first such statement is flagged, since the fix, one
//! `SET` at the start, covers the rest; outside blocks the first such statement gets the finding and
//! the later ones a note that points at it (one `SET` at the start of the session covers them all).
//! Statements on tables the migration created are not flagged.
//!
//! ## Why is this bad?
//! Lock requests on a table are granted in arrival order. If any transaction holds a conflicting
//! lock on the table (a long report, an idle-in-transaction session that wrote to it, or, against
//! ACCESS EXCLUSIVE, even a plain `SELECT` that has not finished), the migration's request waits,
//! and `lock_timeout` defaults to 0: it waits for ever. While it waits, every later query that conflicts with the requested mode queues
//! behind it; for ACCESS EXCLUSIVE that is every query on the table, reads included. A change that
//! takes milliseconds once it has the lock thus blocks the application for as long as the
//! longest running transaction, and connection pools fill up.
//!
//! ## Example
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD COLUMN note text;
//! COMMIT;
//! ```
//!
//! ## Use instead
//! Bound the wait and retry instead: set a short `lock_timeout` at the start of the migration, and
//! rerun the migration when it fails with "canceling statement due to lock timeout":
//! ```sql
//! BEGIN;
//! SET LOCAL lock_timeout = '5s';
//! ALTER TABLE orders ADD COLUMN note text;
//! COMMIT;
//! ```
//! Alembic: `op.execute("SET lock_timeout = '5s'")` at the start of `upgrade()`, or once for all
//! revisions in `env.py` with `context.execute("SET lock_timeout = '5s'")` right before
//! `context.run_migrations()` (this also lands in `--sql` exports). Django: a
//! `migrations.RunSQL("SET lock_timeout = '5s'", migrations.RunSQL.noop)` as the first operation.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
//! - https://alembic.sqlalchemy.org/en/latest/ops.html#alembic.operations.Operations.execute

use super::{Ctx, Hit, Rule, say};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "missing-lock-timeout",
    severity: Severity::Warning,
    summary: "A lock that blocks the table is requested with no lock_timeout: the statement can wait forever while every later query queues behind it.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    if ctx.tx.lock_timeout {
        return Vec::new();
    }
    // The strongest lock of this statement that blocks writes (first in statement order among
    // equals). The effect lists locks on pre-existing tables only.
    let mut strongest = None;
    for (t, m) in &ctx.effect.locks {
        if m.blocks_writes() && strongest.is_none_or(|(_, s)| m > s) {
            strongest = Some((t, m));
        }
    }
    let Some((table, mode)) = strongest else {
        return Vec::new();
    };
    // In a block, once a lock that blocks writes is held, the block already was flagged.
    if ctx.tx.in_transaction && ctx.tx.strongest_blocking().is_some() {
        return Vec::new();
    }
    let queued = if mode.blocks_reads() {
        "every later query on the table, reads included,"
    } else {
        "every later write to the table"
    };
    let lock = say::a_lock_on(*mode, table);
    let what = if ctx.tx.in_transaction {
        format!(
            "this is the first statement of its transaction block to request a lock that blocks other sessions, {lock}, and no lock_timeout is set"
        )
    } else {
        format!("this statement requests {lock} with no lock_timeout set")
    };
    vec![Hit::new(
        format!(
            "{what}: if any open transaction holds a conflicting lock, it waits without limit, and {queued} queues behind it meanwhile"
        ),
        "Put SET lock_timeout = '5s'; (or SET LOCAL inside the transaction) at the start of the migration and retry when it times out. Alembic: op.execute(\"SET lock_timeout = '5s'\") or once in env.py; Django: a RunSQL(\"SET lock_timeout = '5s'\") first operation.",
    )
    .because(format!("lock-timeout:{}", super::timeout_scope(ctx)))]
}


#[cfg(test)]
mod tests {

    fn findings(version: u32, schema: Option<&str>, sql: &str) -> Vec<Vec<String>> {
        crate::rules::test_support::messages(super::RULE.id, version, schema, sql)
    }

    fn fired(version: u32, schema: Option<&str>, sql: &str) -> Vec<usize> {
        findings(version, schema, sql)
            .iter()
            .map(Vec::len)
            .collect()
    }

    #[test]
    fn set_local_outside_a_block_does_nothing() {
        let sql = "SET LOCAL lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN note text;";
        assert_eq!(fired(15, None, sql), vec![0, 1]);
    }

    #[test]
    fn set_local_ends_with_its_block() {
        let sql = "BEGIN;\nSET LOCAL lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN a text;\nCOMMIT;\nALTER TABLE orders ADD COLUMN b text;";
        assert_eq!(fired(15, None, sql), vec![0, 0, 0, 0, 1]);
    }

    #[test]
    fn reset_turns_it_off_again() {
        let sql = "SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN a text;\nRESET lock_timeout;\nALTER TABLE orders ADD COLUMN b text;";
        assert_eq!(fired(15, None, sql), vec![0, 0, 0, 1]);
    }
}
