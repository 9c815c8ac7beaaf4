//! # vacuum-full-or-cluster
//! VACUUM FULL or CLUSTER rewrites the whole table while holding ACCESS EXCLUSIVE on it.
//!
//! ## What it does
//! Flags `VACUUM FULL` (any spelling: `VACUUM FULL t`, `VACUUM (FULL, ANALYZE) t`) and `CLUSTER` on
//! a table that existed before the migration, and both statements without a table list, which work
//! through every table of the database (`VACUUM FULL`) or every table clustered before (`CLUSTER`).
//! Plain `VACUUM`, `VACUUM ANALYZE` and `ANALYZE` are not flagged: they take SHARE UPDATE EXCLUSIVE,
//! which lets reads and writes go on.
//!
//! ## Why is this bad?
//! Both statements write a complete new copy of the table (and rebuild every index on it) before
//! the old files are removed. For the whole copy they hold an ACCESS EXCLUSIVE lock: not even a
//! `SELECT` on the table gets through, so on a large table the application is down for as long as
//! copying the table and building its indexes takes. The copy also needs free disk space for a
//! second version of the table and its indexes, and writes all of it to the WAL (replicas lag).
//!
//! ## Example
//! ```sql
//! VACUUM FULL orders;
//! CLUSTER orders USING ix_orders_created_at;
//! ```
//!
//! ## Use instead
//! To give the space of dead rows back to the operating system without blocking the table, use
//! `pg_repack` (or `pg_squeeze`), which build the new copy while the table stays in use and take
//! ACCESS EXCLUSIVE only for a moment at the end. `pg_repack --order-by` replaces `CLUSTER`. If the
//! space only needs to become reusable, a plain `VACUUM` is enough. Run either from operations
//! tooling, not from a schema migration:
//! ```sql
//! VACUUM (ANALYZE) orders;
//! -- or, outside the migration: pg_repack --table=public.orders --order-by=created_at
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-vacuum.html
//! - https://www.postgresql.org/docs/current/sql-cluster.html
//! - https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-SPACE-RECOVERY
//! - https://reorg.github.io/pg_repack/

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{Op, QualName};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "vacuum-full-or-cluster",
    severity: Severity::Error,
    summary: "VACUUM FULL or CLUSTER rewrites the whole table while holding ACCESS EXCLUSIVE on it.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

const HELP: &str = "Use pg_repack (pg_repack --table=… [--order-by=…]) or pg_squeeze from operations tooling: they copy the table while it stays in use. If the space only has to become reusable, run a plain VACUUM (ANALYZE) instead.";

fn check(ctx: &Ctx) -> Vec<Hit> {
    match ctx.op {
        Op::Vacuum {
            tables, full: true, ..
        } => {
            if tables.is_empty() {
                // VACUUM FULL without a table list processes every table of the current database
                // the user may vacuum (docs: sql-vacuum.html), each under ACCESS EXCLUSIVE in turn.
                return vec![Hit::new(
                    "VACUUM FULL without a table list rewrites every table of the database, one after another, each under an ACCESS EXCLUSIVE lock (blocks reads and writes) until its copy and index rebuild are done",
                    HELP,
                )];
            }
            // The effect lists the rewrite for pre-existing tables only (docs: sql-vacuum.html, FULL).
            rewritten(ctx, tables)
                .into_iter()
                .map(|t| {
                    Hit::new(
                        format!(
                            "VACUUM FULL writes a new copy of {} and rebuilds its indexes under an {}: the table is unavailable for the whole copy",
                            t.display_qualified(),
                            say::lock_on(LockMode::AccessExclusiveLock, &t)
                        ),
                        HELP,
                    )
                })
                .collect()
        }
        Op::Cluster { table: None, .. } => vec![Hit::new(
            // docs: sql-cluster.html — without a table, every previously clustered table is
            // re-clustered, each under ACCESS EXCLUSIVE.
            "CLUSTER without a table re-sorts every table that was clustered before, one after another, each rewritten under an ACCESS EXCLUSIVE lock (blocks reads and writes)",
            HELP,
        )],
        Op::Cluster {
            table: Some(t),
            index,
        } => rewritten(ctx, std::slice::from_ref(t))
            .into_iter()
            .map(|t| {
                let order = index
                    .as_deref()
                    .map(|i| format!(" in the order of {i}"))
                    .unwrap_or_default();
                Hit::new(
                    format!(
                        "CLUSTER writes a new copy of {}{order} and rebuilds its indexes under an {}: the table is unavailable for the whole copy",
                        t.display_qualified(),
                        say::lock_on(LockMode::AccessExclusiveLock, &t)
                    ),
                    HELP,
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The named tables the statement rewrites (pre-existing ones, per the effect).
fn rewritten(ctx: &Ctx, tables: &[QualName]) -> Vec<QualName> {
    let mut out: Vec<QualName> = Vec::new();
    for t in tables.iter().map(normal) {
        if ctx.effect.rewrites.contains(&t) && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}
