//! # table-rewrite-setting
//! ALTER TABLE … SET TABLESPACE / LOGGED / UNLOGGED / ACCESS METHOD copies the whole table under ACCESS EXCLUSIVE.
//!
//! ## What it does
//! Flags `ALTER TABLE … SET TABLESPACE`, `SET LOGGED`, `SET UNLOGGED` and `SET ACCESS METHOD` on a
//! table that existed before the migration. Storage parameters (`SET (fillfactor = 70)`,
//! `SET (autovacuum_…)`) are not flagged: they only change the catalog, under SHARE UPDATE
//! EXCLUSIVE, and apply to rows written later. Tables the migration created are not flagged either.
//!
//! ## Why is this bad?
//! These settings change where or how the table's rows are stored, so PostgreSQL writes the whole
//! table again: `SET TABLESPACE` copies its files to the new location, `SET LOGGED` / `SET UNLOGGED`
//! and `SET ACCESS METHOD` rewrite it row by row (and rebuild its indexes). All of it happens under
//! an ACCESS EXCLUSIVE lock, so every read and write of the table waits until the copy is done;
//! `SET LOGGED` also sends the whole table through the WAL, so replicas fall behind.
//!
//! ## Example
//! ```sql
//! ALTER TABLE events SET TABLESPACE fast_ssd;
//! ALTER TABLE events SET LOGGED;
//! ```
//!
//! ## Use instead
//! Plan it as a maintenance operation rather than a schema migration step:
//! - move a table to another tablespace without blocking it with `pg_repack --tablespace=fast_ssd
//!   --table=public.events` (the copy is built while the table stays in use);
//! - for persistence or access method changes, create the new table with the wanted setting, copy
//!   the rows in batches (keeping it in step with a trigger or logical replication), then swap the
//!   names in one short transaction;
//! - or run the statement in a maintenance window with `SET lock_timeout` so that at least the wait
//!   for the lock is bounded:
//! ```sql
//! SET lock_timeout = '5s';
//! ALTER TABLE events SET TABLESPACE fast_ssd;  -- only in a maintenance window
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html (SET TABLESPACE, SET { LOGGED | UNLOGGED }, SET ACCESS METHOD, and Notes)
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
//! - https://reorg.github.io/pg_repack/

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, Op};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "table-rewrite-setting",
    severity: Severity::Error,
    summary: "ALTER TABLE … SET TABLESPACE / LOGGED / UNLOGGED / ACCESS METHOD copies the whole table under ACCESS EXCLUSIVE.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    // The effect records the rewrite only for a table that existed before the migration.
    let table = normal(name);
    if !ctx.effect.rewrites.contains(&table) {
        return Vec::new();
    }
    let lock = say::lock_on(LockMode::AccessExclusiveLock, &table);
    let mut hits = Vec::new();
    for a in actions {
        // Persistence and access method changes go through a full table rewrite
        // (ATRewriteTables in tablecmds.c); SET TABLESPACE copies the relation's files block by
        // block (ATExecSetTableSpace). All of them take ACCESS EXCLUSIVE (AlterTableGetLockLevel).
        let (what, help) = match a {
            AlterAction::SetTablespace { tablespace } => (
                format!(
                    "SET TABLESPACE {tablespace} copies every file of {} (and its indexes must be moved separately) under an {lock}",
                    table.display_qualified()
                ),
                format!(
                    "Move it without blocking with pg_repack --tablespace={tablespace} --table={}, or run it in a maintenance window with SET lock_timeout.",
                    table.display_qualified()
                ),
            ),
            AlterAction::SetLogged => (
                format!(
                    "SET LOGGED rewrites {} and writes all of it to the WAL under an {lock}",
                    table.display_qualified()
                ),
                "Create a logged copy, fill it in batches and swap names in a short transaction, or run it in a maintenance window.".to_string(),
            ),
            AlterAction::SetUnlogged => (
                format!(
                    "SET UNLOGGED rewrites {} under an {lock}; afterwards its rows are lost on a crash and are not replicated",
                    table.display_qualified()
                ),
                "Create an unlogged copy, fill it in batches and swap names in a short transaction, or run it in a maintenance window.".to_string(),
            ),
            AlterAction::SetAccessMethod => (
                if ctx.pg_version < 15 {
                    format!(
                        "SET ACCESS METHOD does not exist before PostgreSQL 15 (the statement fails); from 15 on it rewrites {} under an {lock}",
                        table.display_qualified()
                    )
                } else {
                    format!(
                        "SET ACCESS METHOD rewrites every row of {} into the new storage format under an {lock}",
                        table.display_qualified()
                    )
                },
                "Create the table anew with USING <method>, copy the rows in batches and swap names in a short transaction, or run it in a maintenance window.".to_string(),
            ),
            _ => continue,
        };
        hits.push(Hit::new(
            format!("{what}: the table is unavailable until the copy is done"),
            help,
        ));
    }
    hits
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
    fn access_method_before_15_fails() {
        let schema = Some("CREATE TABLE events (id bigint PRIMARY KEY);");
        let sql = "ALTER TABLE events SET ACCESS METHOD heap;";
        let f14 = findings(14, schema, sql);
        assert!(
            f14.concat()
                .iter()
                .any(|m| m.contains("does not exist before PostgreSQL 15"))
        );
        let f15 = findings(15, schema, sql);
        assert!(f15.concat().iter().all(|m| !m.contains("does not exist")));
        assert_eq!(fired(15, schema, sql), vec![1]);
    }

    #[test]
    fn only_the_rewriting_action_is_reported() {
        // (`SET LOGGED, SET TABLESPACE …` in one statement does not parse yet.)
        let sql = "ALTER TABLE events ADD COLUMN a integer, SET LOGGED;";
        let f = findings(15, None, sql);
        assert_eq!(f.iter().map(Vec::len).collect::<Vec<_>>(), vec![1]);
        assert!(
            f.concat().iter().all(|m| m.starts_with("SET LOGGED")),
            "{f:?}"
        );
    }
}
