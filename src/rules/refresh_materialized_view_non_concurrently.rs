//! # refresh-materialized-view-non-concurrently
//! REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every read of the view until the refresh ends.
//!
//! ## What it does
//! Flags `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY` of a materialized view that existed
//! before the migration. A view the migration created itself is not flagged: nobody reads it yet.
//!
//! ## Why is this bad?
//! A plain refresh locks the view in ACCESS EXCLUSIVE mode and replaces its contents by running the
//! view's whole query again. Every `SELECT` on the view waits until that query has finished and the
//! new data is written, which for the expensive queries that materialized views usually hold can be
//! minutes.
//!
//! ## Example
//! ```sql
//! REFRESH MATERIALIZED VIEW customer_order_totals;
//! ```
//!
//! ## Use instead
//! Refresh concurrently: readers keep seeing the old contents while the new ones are computed and
//! merged in (an EXCLUSIVE lock: reads go on, a second refresh waits). The view needs a unique index
//! on plain columns covering all rows, and must already be populated:
//! ```sql
//! CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS customer_order_totals_customer_id_key
//!     ON customer_order_totals (customer_id);
//! REFRESH MATERIALIZED VIEW CONCURRENTLY customer_order_totals;
//! ```
//! A concurrent refresh can run inside a transaction block, but then the transaction holds its lock
//! until it commits: in Alembic put it in its own revision or an `autocommit_block()`.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-refreshmaterializedview.html
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::Op;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "refresh-materialized-view-non-concurrently",
    severity: Severity::Warning,
    summary: "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every read of the view until the refresh ends.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::RefreshMaterializedView {
        name,
        concurrently: false,
    } = ctx.op
    else {
        return Vec::new();
    };
    let view = normal(name);
    // A plain refresh takes ACCESS EXCLUSIVE (docs: sql-refreshmaterializedview.html; observed on
    // PostgreSQL 15). The effect lists the lock only for a view that existed before the migration.
    let Some(mode) = ctx
        .effect
        .locks
        .iter()
        .find(|(t, _)| *t == view)
        .map(|(_, m)| *m)
    else {
        return Vec::new();
    };
    let unique = ctx
        .catalog
        .indexes_of(&view)
        .find(|i| i.unique && !i.partial && !i.columns.is_empty())
        .map(|i| i.name.name.clone());
    let help = match unique {
        Some(ix) => format!(
            "Use REFRESH MATERIALIZED VIEW CONCURRENTLY {name}; (its unique index {ix} allows it): reads go on during the refresh."
        ),
        None => format!(
            "Use REFRESH MATERIALIZED VIEW CONCURRENTLY {name}; reads go on during the refresh. It needs a unique index on plain columns of the view first: CREATE UNIQUE INDEX CONCURRENTLY … ON {name} (…)."
        ),
    };
    vec![Hit::new(
        format!(
            "refreshing {view} takes an {} while the view's query runs again: every SELECT on it waits until the refresh ends",
            say::lock_on(mode, &view)
        ),
        help,
    )]
}
