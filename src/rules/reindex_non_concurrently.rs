//! # reindex-non-concurrently
//! REINDEX without CONCURRENTLY blocks writes to the table and queries that use its indexes.
//!
//! ## What it does
//! Flags `REINDEX INDEX` and `REINDEX TABLE` without `CONCURRENTLY` on an index or table that existed
//! before the migration. On PostgreSQL 11 and older, which have no concurrent form, it still flags the
//! statement, with a lower risk and the manual replacement as help.
//!
//! ## Why is this bad?
//! `REINDEX` locks the table in SHARE mode, so every `INSERT`, `UPDATE` and `DELETE` waits for the
//! whole rebuild. It also locks each index it rebuilds in ACCESS EXCLUSIVE mode, and the planner locks
//! every index of a table when it plans a query on it: plain `SELECT`s on the table wait as well, even
//! those that would never use the index. `REINDEX TABLE` does this for every index of the table, one
//! after another, inside the same statement.
//!
//! ## Example
//! ```sql
//! REINDEX INDEX ix_orders_created_at;
//! REINDEX TABLE orders;
//! ```
//!
//! ## Use instead
//! On PostgreSQL 12 and later, rebuild concurrently, outside a transaction block (in Alembic:
//! `op.execute(...)` inside `with op.get_context().autocommit_block():`; in Django: `RunSQL` in a
//! migration with `atomic = False`):
//! ```sql
//! REINDEX INDEX CONCURRENTLY ix_orders_created_at;
//! ```
//! On PostgreSQL 11 and older, build a copy and swap it in:
//! ```sql
//! CREATE INDEX CONCURRENTLY ix_orders_created_at_new ON orders (created_at);
//! DROP INDEX CONCURRENTLY ix_orders_created_at;
//! ALTER INDEX ix_orders_created_at_new RENAME TO ix_orders_created_at;
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-reindex.html
//! - https://www.postgresql.org/docs/current/sql-reindex.html#SQL-REINDEX-CONCURRENTLY
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{ObjectKind, Op, QualName};
use crate::pg::LockMode;
use crate::vocab::{Risk, Severity};

pub(crate) const RULE: Rule = Rule {
    id: "reindex-non-concurrently",
    severity: Severity::Error,
    summary: "REINDEX without CONCURRENTLY blocks writes to the table and queries that use its indexes.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

/// `REINDEX … CONCURRENTLY` exists since PostgreSQL 12 (release notes 12, docs: sql-reindex.html).
const CONCURRENT_SINCE: u32 = 12;

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::Reindex {
        target,
        name: Some(name),
        concurrently: false,
    } = ctx.op
    else {
        return Vec::new();
    };
    // What is rebuilt, and on which table (None: the schema does not say).
    let (what, table): (String, Option<QualName>) = match target {
        ObjectKind::Index => match ctx.catalog.index(name) {
            // Built earlier in this migration: nobody uses it yet.
            Some(ix) if ix.created_in_migration => return Vec::new(),
            Some(ix) => (format!("index {name}"), Some(normal(&ix.table))),
            None => (format!("index {name}"), None),
        },
        ObjectKind::Table => (format!("every index of {name}"), Some(normal(name))),
        _ => return Vec::new(),
    };
    // REINDEX takes SHARE on the table and ACCESS EXCLUSIVE on each index (docs: sql-reindex.html;
    // observed on PostgreSQL 15: a SELECT from another session waits for the index lock while
    // planning). The effect lists the table lock only for a table that existed before the migration.
    let lock = match &table {
        Some(t) => {
            match ctx
                .effect
                .locks
                .iter()
                .find(|(n, _)| n == t)
                .map(|(_, m)| *m)
            {
                Some(m) => say::lock_on(m, t),
                None => return Vec::new(),
            }
        }
        None => format!(
            "{} lock on its table (which the schema does not name)",
            LockMode::ShareLock.sql_name()
        ),
    };
    let message = format!(
        "rebuilding {what} takes a {lock} and an ACCESS EXCLUSIVE lock on each index it rebuilds; the planner locks all indexes of a table it plans a query on, so plain SELECTs wait too until the rebuild ends"
    );
    let stmt = match target {
        ObjectKind::Index => format!("REINDEX INDEX CONCURRENTLY {name};"),
        _ => format!("REINDEX TABLE CONCURRENTLY {name};"),
    };
    if ctx.pg_version >= CONCURRENT_SINCE {
        vec![Hit::new(
            message,
            format!(
                "Use {stmt} outside a transaction block (Alembic: op.execute(...) inside `with op.get_context().autocommit_block():`; Django: RunSQL with atomic = False). It takes SHARE UPDATE EXCLUSIVE, which lets reads and writes go on."
            ),
        )]
    } else {
        vec![
            Hit::new(
                format!(
                    "{message}; PostgreSQL {} has no REINDEX CONCURRENTLY (it came in 12)",
                    ctx.pg_version
                ),
                "Build a replacement with CREATE INDEX CONCURRENTLY <name>_new ON … (same definition), then DROP INDEX CONCURRENTLY the old one and ALTER INDEX <name>_new RENAME TO <name>, each outside a transaction block; or run the REINDEX in a maintenance window.",
            )
            .with_risk(Risk::Medium),
        ]
    }
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

    const SCHEMA: &str = "CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint NOT NULL);\n\
        CREATE INDEX ix_invoices_customer_id ON invoices (customer_id);";

    #[test]
    fn before_12_still_fires_with_the_manual_replacement() {
        let sql = "REINDEX INDEX ix_invoices_customer_id;";
        let catalog = Catalog::from_sql(SCHEMA).expect("schema loads");
        let report = Analyzer::new(Settings::default().pg_version(11))
            .schema(catalog)
            .analyze(Source::new("test.sql", sql))
            .expect("analyses");
        let st = &report.statements[0];
        let f = st
            .findings
            .iter()
            .find(|f| f.rule == super::RULE.id)
            .expect("fires on PG 11");
        assert!(
            f.message.contains("no REINDEX CONCURRENTLY"),
            "{}",
            f.message
        );
        assert!(f.help.contains("CREATE INDEX CONCURRENTLY"), "{}", f.help);
        // The hit carries a warning-level risk (no concurrent form to switch to); the statement's
        // own risk still reflects the write-blocking rebuild.
        assert!(st.risk >= crate::Risk::Medium);
    }

    #[test]
    fn from_12_suggests_concurrently() {
        let got = findings(
            12,
            SCHEMA,
            "REINDEX TABLE invoices;\nREINDEX TABLE CONCURRENTLY invoices;",
        );
        assert_eq!(got[0].len(), 1);
        assert!(
            got[0][0].contains("REINDEX TABLE CONCURRENTLY invoices"),
            "{:?}",
            got[0]
        );
        assert!(got[1].is_empty());
    }

    #[test]
    fn schema_and_database_are_not_this_rule() {
        let got = findings(15, SCHEMA, "REINDEX SCHEMA public;\nREINDEX DATABASE;");
        assert!(got.iter().all(Vec::is_empty), "{got:?}");
    }
}
