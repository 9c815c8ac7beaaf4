//! # create-index-concurrently-pg14
//! On PostgreSQL 14.0–14.3, indexes built CONCURRENTLY can silently miss rows: make sure the server runs 14.4 or later.
//!
//! ## What it does
//! When the migration targets PostgreSQL 14, flags `CREATE INDEX CONCURRENTLY` and
//! `REINDEX … CONCURRENTLY` on tables that existed before the migration. Other major versions are not
//! affected, and an index on a table the migration just created has no concurrent updates to miss.
//!
//! ## Why is this bad?
//! A change in PostgreSQL 14.0 let `VACUUM` and page pruning disregard a running concurrent index
//! build. Rows that other sessions updated (and that were pruned) while the build ran could be left
//! out of the new index. The index is marked valid all the same: queries that use it silently return
//! too few rows. 14.4 reverted the change; indexes built concurrently on 14.0–14.3 stay damaged until
//! they are rebuilt.
//!
//! ## Example
//! ```sql
//! -- server: PostgreSQL 14.2
//! CREATE INDEX CONCURRENTLY ix_orders_customer_id ON orders (customer_id);
//! ```
//!
//! ## Use instead
//! Check `SHOW server_version;` on every server the migration runs on and upgrade to 14.4 or later
//! (a minor upgrade: new binaries, no dump and restore) before building indexes concurrently. If a
//! 14.0–14.3 server already built indexes concurrently, check them with `pg_amcheck` (or the
//! `amcheck` extension) and rebuild them on 14.4+:
//! ```sql
//! REINDEX INDEX CONCURRENTLY ix_orders_customer_id;
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/release/14.4/
//! - https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
//! - https://www.postgresql.org/docs/current/app-pgamcheck.html

use super::{Ctx, Hit, Rule};
use crate::ir::{ObjectKind, Op};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "create-index-concurrently-pg14",
    severity: Severity::Warning,
    summary: "On PostgreSQL 14.0–14.3, indexes built CONCURRENTLY can silently miss rows: make sure the server runs 14.4 or later.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

const HELP: &str = "Make sure every server this runs on reports `SHOW server_version` ≥ 14.4 (a minor upgrade). Indexes already built concurrently on 14.0–14.3 should be checked with pg_amcheck and rebuilt with REINDEX INDEX CONCURRENTLY on 14.4+.";

fn check(ctx: &Ctx) -> Vec<Hit> {
    // The bug exists only in the 14 series (fixed in 14.4, release notes 14.4 section E.x.2).
    if ctx.pg_version != 14 {
        return Vec::new();
    }
    let what = match ctx.op {
        // A table created by this migration has no rows updated during the build.
        Op::CreateIndex(ix) if ix.concurrently && ctx.catalog.pre_existing(&ix.table) => {
            format!(
                "CREATE INDEX CONCURRENTLY {}",
                ix.name.as_deref().unwrap_or("(unnamed)")
            )
        }
        Op::Reindex {
            target,
            name,
            concurrently: true,
        } => {
            let rebuilt = match (target, name) {
                (ObjectKind::Index, Some(n)) => {
                    match ctx.catalog.index(n) {
                        Some(ix)
                            if ix.created_in_migration || !ctx.catalog.pre_existing(&ix.table) =>
                        {
                            return Vec::new();
                        }
                        _ => {}
                    }
                    format!("index {n}")
                }
                (ObjectKind::Table, Some(n)) => {
                    if !ctx.catalog.pre_existing(n) {
                        return Vec::new();
                    }
                    format!("the indexes of {n}")
                }
                (ObjectKind::Schema, Some(n)) => format!("the indexes of schema {n}"),
                _ => "the indexes of the database".to_string(),
            };
            format!("REINDEX CONCURRENTLY of {rebuilt}")
        }
        _ => return Vec::new(),
    };
    vec![Hit::new(
        format!(
            "{what} on PostgreSQL 14: releases 14.0 to 14.3 can build the index without the rows other sessions update during the build, so queries using it silently miss rows"
        ),
        HELP,
    )]
}

#[cfg(test)]
mod tests {
    use crate::{Analyzer, Catalog, Settings, Source};

    /// The messages of this rule's findings, per statement, for `sql` on `schema` and PG `version`.
    fn findings(version: u32, schema: &str, sql: &str) -> Vec<Vec<String>> {
        let catalog = Catalog::from_sql(schema).expect("schema loads");
        let report = Analyzer::new(Settings::default().pg_version(version))
            .schema(catalog)
            .analyze(Source::new("test.sql", sql))
            .expect("analyses");
        report
            .statements
            .iter()
            .map(|s| {
                s.findings
                    .iter()
                    .filter(|f| f.rule == super::RULE.id)
                    .map(|f| format!("{} | {}", f.message, f.help))
                    .collect()
            })
            .collect()
    }

    const SCHEMA: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL);\n\
        CREATE INDEX ix_orders_customer_id ON orders (customer_id);";
    const SQL: &str = "CREATE INDEX CONCURRENTLY ix_orders_c2 ON orders (customer_id);\n\
        REINDEX INDEX CONCURRENTLY ix_orders_customer_id;";

    #[test]
    fn only_the_14_series() {
        assert!(findings(14, SCHEMA, SQL).iter().all(|f| f.len() == 1));
        for v in [13, 15, 16, 17] {
            assert!(
                findings(v, SCHEMA, SQL).iter().all(Vec::is_empty),
                "fired on PG {v}"
            );
        }
    }
}
