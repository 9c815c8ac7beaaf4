//! # seq-scan-on-large-table
//! The database's EXPLAIN plan reads a large table sequentially to apply the statement's filter: an index is missing.
//!
//! ## What it does
//! With a restored copy (`--database`), every `UPDATE`, `DELETE`, `INSERT … SELECT` and `SELECT`
//! of the migration is EXPLAINed (never run, unless `--explain-analyze`). When the plan has a `Seq
//! Scan` with a `Filter` on a pre-existing table of at least `SizeSettings::large_rows` rows
//! (100,000 by default), the finding names the table, its size, the filtered columns and the
//! index that would serve them. When an index on those columns exists and the planner still
//! prefers the scan, the filter matches too much of the table for an index to help, and the
//! finding says so instead. Without a database there is no plan and this rule is silent
//! (`unbatched-backfill` judges filters from the schema alone).
//!
//! ## Why is this bad?
//! A backfill or cleanup whose filter has no index reads every row of the table, each time it
//! runs: a batched backfill that scans the whole table per batch is quadratic, and one statement
//! holds its row locks and its snapshot for the whole scan. On a table of millions of rows this is
//! the difference between seconds and hours.
//!
//! ## Example
//! ```sql
//! UPDATE runs SET lifecycle = 'deleted' WHERE status = 'KILLED';  -- no index on runs.status
//! ```
//!
//! ## Use instead
//! Build the index first, without blocking writes, in its own revision outside a transaction
//! block, then run the backfill in batches:
//! ```sql
//! CREATE INDEX CONCURRENTLY ix_runs_status ON runs (status);
//! UPDATE runs SET lifecycle = 'deleted' WHERE status = 'KILLED' AND id BETWEEN 1 AND 10000;
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/current/using-explain.html
//! - https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
//! - https://www.postgresql.org/docs/current/indexes-intro.html

use super::{Ctx, Hit, Rule};
use crate::ir::Op;
use crate::pg::duration::describe_size;
use crate::pg::plan::filter_columns;
use crate::vocab::{Risk, Severity};

pub(crate) const RULE: Rule = Rule {
    id: "seq-scan-on-large-table",
    severity: Severity::Warning,
    summary: "The database's EXPLAIN plan reads a large table sequentially to apply the statement's filter: an index is missing.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Some(plan) = ctx.plan else {
        return Vec::new();
    };
    let verb = match ctx.op {
        Op::Update { .. } => "UPDATE",
        Op::Delete { .. } => "DELETE",
        Op::Insert { .. } => "INSERT … SELECT",
        Op::Select { .. } => "SELECT",
        _ => return Vec::new(),
    };
    let mut hits = Vec::new();
    for scan in &plan.seq_scans {
        let Some(filter) = &scan.filter else {
            continue;
        };
        let table = &scan.table;
        let Some(size) = ctx.catalog.size(table) else {
            continue;
        };
        if size.rows < ctx.sizes.large_rows || !ctx.catalog.pre_existing(table) {
            continue;
        }
        let names: Vec<String> = ctx
            .catalog
            .table(table)
            .map(|t| t.columns.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let columns = filter_columns(filter, &refs);
        let name = table.display_qualified();
        let size = describe_size(&size);
        let indexed = columns
            .first()
            .is_some_and(|c| ctx.catalog.has_index_leading(table, c));
        if indexed {
            hits.push(Hit::new(
                format!(
                    "{verb} reads all of {name} ({size}) sequentially for `{filter}` although an index leads with {}: the planner expects the filter to match too many rows for the index to pay",
                    columns[0]
                ),
                "Batch the statement by primary key ranges (`… AND id BETWEEN 1 AND 10000`, then the next range), so that each batch reads one range through the primary key.",
            ));
            continue;
        }
        let help = if columns.is_empty() {
            format!(
                "No index can serve this filter as written; rewrite it on indexed columns, or add an expression index that matches it with CREATE INDEX CONCURRENTLY … ON {table} (…) before the migration."
            )
        } else {
            format!(
                "Create the index first, in its own step outside a transaction block: {} then run the statement in batches.",
                super::say::create_index(table, &columns, true)
            )
        };
        let on = if columns.is_empty() {
            String::new()
        } else {
            format!(" on {}", columns.join(", "))
        };
        hits.push(
            Hit::new(
                format!(
                    "{verb} reads all of {name} ({size}) sequentially to apply `{filter}`: no index serves the filter{on}"
                ),
                help,
            )
            .with_risk(Risk::Medium),
        );
    }
    hits
}
