//! # unbatched-backfill
//! UPDATE or DELETE over a whole existing table in one statement: one huge transaction.
//!
//! ## What it does
//! Flags `UPDATE` and `DELETE` on a table that existed before the migration when the statement has
//! no `WHERE` clause (it touches every row) or when its filter cannot use an index, so the whole
//! table is read. A statement limited by an indexed column (`WHERE id BETWEEN 1 AND 10000`) is one
//! batch and is not flagged; neither are statements on tables the migration created. When the
//! database's EXPLAIN plan is at hand (`--database`), filters are judged by
//! `seq-scan-on-large-table` from the real plan instead.
//!
//! ## Why is this bad?
//! PostgreSQL writes a new version of every updated row and keeps the old one until the
//! transaction ends and VACUUM runs. Done in one statement on a large table this means:
//! - every touched row stays locked until the migration commits, so application writes to those
//!   rows wait (and may time out or deadlock);
//! - the table and its indexes grow by the size of the rewritten rows (bloat), and autovacuum has
//!   nothing to clean up until the end;
//! - the WAL for all changes is written in one burst, and replicas fall behind;
//! - if it fails or is cancelled, all the work is rolled back and has to start again;
//! - inside a migration transaction that also changed the table's schema, the table stays locked
//!   against everyone for the whole backfill (see `lock-held-during-work`).
//!
//! ## Example
//! ```sql
//! UPDATE orders SET status_code = 0;
//! DELETE FROM events WHERE created_at < now() - interval '90 days';  -- no index on created_at
//! ```
//!
//! ## Use instead
//! Backfill in batches by primary key ranges, each in its own short transaction, outside the schema
//! migration (a management command, a background job, or an Alembic revision that runs its loop in
//! `op.get_context().autocommit_block()`; in Django a data migration with `atomic = False` that
//! commits per batch):
//! ```sql
//! UPDATE orders SET status_code = 0 WHERE id BETWEEN 1 AND 10000 AND status_code IS NULL;
//! -- commit, then the next range: 10001 AND 20000, … until max(id)
//! ```
//! For a new column, a column `DEFAULT` often replaces the backfill entirely (no rewrite since
//! PostgreSQL 11 for non-volatile defaults).
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-update.html
//! - https://www.postgresql.org/docs/current/routine-vacuuming.html
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-ROWS
//! - https://github.com/ankane/strong_migrations#backfilling-data

use super::{Ctx, Hit, Rule};
use crate::catalog::normal;
use crate::ir::Op;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "unbatched-backfill",
    severity: Severity::Warning,
    summary: "UPDATE or DELETE over a whole existing table in one statement: one huge transaction.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let (verb, table, has_where, filter) = match ctx.op {
        Op::Update {
            table,
            has_where,
            filter,
            ..
        } => ("UPDATE", table, *has_where, filter.as_ref()),
        Op::Delete {
            table,
            has_where,
            filter,
            ..
        } => ("DELETE", table, *has_where, filter.as_ref()),
        _ => return Vec::new(),
    };
    // New tables hold no production rows.
    if !ctx.catalog.pre_existing(table) {
        return Vec::new();
    }
    let t = normal(table);
    let name = t.display_qualified();
    let what = if !has_where {
        let rows = if verb == "UPDATE" {
            "writes a new version of every row"
        } else {
            "deletes every row"
        };
        format!("{verb} without WHERE {rows} of {name} in one transaction")
    } else if ctx.effect.scans.contains(&t) && ctx.plan.is_none() {
        // The effect marks the scan when no index of the table starts with a filtered column. With
        // the database's plan, `seq-scan-on-large-table` knows better.
        let cols = filter.map(|f| f.columns.join(", ")).unwrap_or_default();
        let why = if cols.is_empty() {
            "its filter can use no index".to_string()
        } else {
            format!("no index of the table leads with the filtered columns ({cols})")
        };
        format!(
            "{verb} on {name}: {why}, so it reads the whole table and {} all matching rows in one transaction",
            if verb == "UPDATE" {
                "updates"
            } else {
                "deletes"
            }
        )
    } else {
        return Vec::new();
    };
    let help = if verb == "UPDATE" {
        format!(
            "Backfill in batches by primary key, each in its own transaction, outside the schema migration: UPDATE {name} SET … WHERE id BETWEEN 1 AND 10000 (then the next range), or use a column DEFAULT instead of a backfill."
        )
    } else {
        format!(
            "Delete in batches by primary key, each in its own transaction, outside the schema migration: DELETE FROM {name} WHERE id BETWEEN 1 AND 10000 AND … (then the next range)."
        )
    };
    vec![Hit::new(
        format!(
            "{what}: the changed rows stay locked until commit, each leaves a dead row version behind (bloat), and the WAL burst makes replicas lag"
        ),
        help,
    )]
}
