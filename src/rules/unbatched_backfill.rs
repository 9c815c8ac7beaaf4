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
use crate::ir::{ConstraintKind, Expr, Op, QualName, quote_ident};
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
    // New tables hold no production rows; a statement that picks a bounded set of rows (a
    // subquery with LIMIT, a ctid list) is a batch already.
    if !ctx.catalog.pre_existing(table) || filter.is_some_and(|f| is_batch(f)) {
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
    let batch = batch_condition(ctx, &t);
    let help = if verb == "UPDATE" {
        format!(
            "Backfill in batches, each in its own transaction, outside the schema migration: UPDATE {name} SET … WHERE {batch} (then the next batch), or use a column DEFAULT instead of a backfill."
        )
    } else {
        format!(
            "Delete in batches, each in its own transaction, outside the schema migration: DELETE FROM {name} WHERE {batch} (then the next batch)."
        )
    };
    vec![Hit::new(
        format!(
            "{what}: the changed rows stay locked until commit, each leaves a dead row version behind (bloat), and the WAL burst makes replicas lag"
        ),
        help,
    )]
}

/// Whether the filter picks a bounded set of rows: a subquery with `LIMIT`, or rows by `ctid`.
fn is_batch(filter: &Expr) -> bool {
    let sql = filter.sql.to_lowercase();
    sql.contains(" limit ") || filter.columns.iter().any(|c| c == "ctid")
}

/// The condition that picks one batch of `table`, by its primary key as the schema gives it: a
/// range for an integer key, a bounded subquery for another key, `ctid` for a table without one.
fn batch_condition(ctx: &Ctx, table: &QualName) -> String {
    let known = ctx.catalog.table(table);
    let pk = known.and_then(|t| {
        t.constraints.iter().find_map(|c| match &c.kind {
            ConstraintKind::PrimaryKey { columns, .. } if !columns.is_empty() => Some(columns),
            _ => None,
        })
    });
    let name = table.display_qualified();
    match pk.map(Vec::as_slice) {
        Some([key]) => {
            let integer = ctx
                .catalog
                .column(table, key)
                .map(|c| c.ty.base.trim_end_matches(" (serial)"))
                .is_some_and(|base| matches!(base, "int2" | "int4" | "int8"));
            let k = quote_ident(key);
            if integer {
                format!("{k} BETWEEN 1 AND 10000")
            } else {
                format!("{k} IN (SELECT {k} FROM {name} WHERE … ORDER BY {k} LIMIT 10000)")
            }
        }
        Some(keys) => {
            let keys: Vec<String> = keys.iter().map(|k| quote_ident(k)).collect();
            let keys = keys.join(", ");
            format!("({keys}) IN (SELECT {keys} FROM {name} WHERE … ORDER BY {keys} LIMIT 10000)")
        }
        // A table the schema gives without a primary key: the physical row address.
        None if known.is_some_and(|t| t.complete) => format!(
            "ctid IN (SELECT ctid FROM {name} WHERE … LIMIT 10000) (the table has no primary key)"
        ),
        None => "<key> BETWEEN 1 AND 10000 for an integer primary key, or <key> IN (SELECT <key> FROM … ORDER BY <key> LIMIT 10000) for another".to_string(),
    }
}

#[cfg(test)]
mod tests {
    fn helps(schema: Option<&str>, sql: &str) -> Vec<String> {
        use crate::{Analyzer, Catalog, Settings, Source};
        let mut analyzer = Analyzer::new(Settings::default());
        if let Some(s) = schema {
            analyzer = analyzer.schema(Catalog::from_sql(s).expect("schema loads"));
        }
        let report = analyzer.analyze(Source::new("m.sql", sql)).expect("analyses");
        let found = report.statements.iter().flat_map(|s| &s.findings);
        found
            .filter(|f| f.rule == super::RULE.id)
            .map(|f| f.help.to_string())
            .collect()
    }

    #[test]
    fn batches_follow_the_real_primary_key() {
        let sql = "UPDATE t SET a = 0;";
        let int = "CREATE TABLE t (id bigint PRIMARY KEY, a int);";
        assert!(helps(Some(int), sql)[0].contains("WHERE id BETWEEN 1 AND 10000"));
        let uuid = "CREATE TABLE t (key uuid PRIMARY KEY, a int);";
        let h = helps(Some(uuid), sql);
        assert!(h[0].contains("WHERE key IN (SELECT key FROM public.t WHERE … ORDER BY key LIMIT 10000)"), "{h:?}");
        let none = "CREATE TABLE t (a int);";
        assert!(helps(Some(none), sql)[0].contains("WHERE ctid IN (SELECT ctid FROM public.t"));
    }

    #[test]
    fn a_bounded_statement_is_a_batch() {
        let schema = Some("CREATE TABLE t (id bigint PRIMARY KEY, a int, b int);");
        let ctid = "WITH batch AS (SELECT ctid FROM t WHERE a IS NULL LIMIT 10000) UPDATE t SET a = 0 FROM batch WHERE t.ctid = batch.ctid;";
        assert!(helps(schema, ctid).is_empty());
        let limited = "UPDATE t SET a = 0 WHERE id IN (SELECT id FROM t WHERE b = 1 LIMIT 10000);";
        assert!(helps(schema, limited).is_empty());
        assert_eq!(helps(schema, "UPDATE t SET a = 0 WHERE b = 1;").len(), 1);
    }
}
