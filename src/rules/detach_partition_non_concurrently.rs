//! # detach-partition-non-concurrently
//! DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the partitioned table.
//!
//! ## What it does
//! On PostgreSQL 14 and later, flags `ALTER TABLE … DETACH PARTITION …` without `CONCURRENTLY` when the
//! partitioned table existed before the migration. Older versions have no concurrent form, so the
//! statement is not flagged there.
//!
//! ## Why is this bad?
//! A plain detach locks the parent table (and the partition) in ACCESS EXCLUSIVE mode. The detach
//! itself is quick, but the lock has to wait for every running query on any partition of the table,
//! and meanwhile all new queries on the table queue behind it: one long report stalls every reader
//! and writer of every partition.
//!
//! ## Example
//! ```sql
//! ALTER TABLE measurements DETACH PARTITION measurements_2020;
//! ```
//!
//! ## Use instead
//! Detach concurrently (PostgreSQL 14+), outside a transaction block and as the only action of its
//! `ALTER TABLE`. The parent then only takes SHARE UPDATE EXCLUSIVE, which lets reads and writes go on:
//! ```sql
//! ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;
//! ```
//! It is not allowed when the table has a `DEFAULT` partition. If it is interrupted, finish it with
//! `ALTER TABLE measurements DETACH PARTITION measurements_2020 FINALIZE`. In Alembic run it with
//! `op.execute(...)` inside `with op.get_context().autocommit_block():`; in Django with `RunSQL` in a
//! migration with `atomic = False`.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DETACH-PARTITION
//! - https://www.postgresql.org/docs/release/14.0/

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, Op};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "detach-partition-non-concurrently",
    severity: Severity::Warning,
    summary: "DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the partitioned table.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

/// `DETACH PARTITION … CONCURRENTLY` exists since PostgreSQL 14 (release notes 14.0).
const CONCURRENT_SINCE: u32 = 14;

fn check(ctx: &Ctx) -> Vec<Hit> {
    if ctx.pg_version < CONCURRENT_SINCE {
        return Vec::new();
    }
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    let parent = normal(name);
    // A plain detach locks the parent ACCESS EXCLUSIVE (`AlterTableGetLockLevel`, AT_DetachPartition;
    // observed on PostgreSQL 15). The effect lists it only for a table that existed before.
    let Some(mode) = ctx
        .effect
        .locks
        .iter()
        .find(|(t, _)| *t == parent)
        .map(|(_, m)| *m)
    else {
        return Vec::new();
    };
    actions
        .iter()
        .filter_map(|a| match a {
            AlterAction::DetachPartition {
                partition,
                concurrently: false,
                finalize: false,
            } => Some(Hit::new(
                format!(
                    "detaching {partition} takes an {}: the detach is quick, but while it waits for running queries on the table every later query on any of its partitions queues behind it",
                    say::lock_on(mode, &parent)
                ),
                format!(
                    "Use ALTER TABLE {name} DETACH PARTITION {partition} CONCURRENTLY; on its own, outside a transaction block (Alembic: op.execute(...) inside `with op.get_context().autocommit_block():`; Django: RunSQL with atomic = False). Not possible while {name} has a DEFAULT partition."
                ),
            )),
            _ => None,
        })
        .collect()
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

    const SCHEMA: &str = "CREATE TABLE measurements (sensor_id bigint, taken_at timestamptz) PARTITION BY RANGE (taken_at);\n\
        CREATE TABLE measurements_2020 (sensor_id bigint, taken_at timestamptz);";
    const SQL: &str = "ALTER TABLE measurements DETACH PARTITION measurements_2020;";

    #[test]
    fn before_14_there_is_no_alternative() {
        for v in [11, 12, 13] {
            assert!(
                findings(v, SCHEMA, SQL).iter().all(Vec::is_empty),
                "fired on PG {v}"
            );
        }
    }

    #[test]
    fn from_14_it_fires() {
        for v in [14, 15, 17] {
            let got = findings(v, SCHEMA, SQL);
            assert_eq!(got[0].len(), 1, "PG {v}: {got:?}");
            assert!(got[0][0].contains("CONCURRENTLY"));
        }
    }
}
