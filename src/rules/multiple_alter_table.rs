//! # multiple-alter-table
//! Several ALTER TABLEs of one table in a transaction repeat work or lock requests that one ALTER TABLE would do once.
//!
//! ## What it does
//! Inside a transaction block, flags an `ALTER TABLE` of a table that existed before the migration
//! when an earlier `ALTER TABLE` of the same table in the same block means that splitting them
//! costs something:
//! - both pass over the table's rows (a rewrite, or a scan verifying `SET NOT NULL` or a `CHECK`
//!   constraint), where one `ALTER TABLE` with all the actions passes over the rows once; or
//! - this one needs a stronger lock than the block already holds on the table, so it queues for
//!   the lock a second time.
//!
//! Statements that merely follow each other under a lock the block already holds (Django's
//! `ADD COLUMN … DEFAULT …` followed by `ALTER COLUMN … DROP DEFAULT`, say) are not flagged: once
//! the lock is held, splitting them changes nothing. Different tables, separate transactions and
//! tables the migration created are not flagged either.
//!
//! ## Why is this bad?
//! PostgreSQL runs all actions of one `ALTER TABLE` together: at most one rewrite of the table,
//! and one scan that checks all new `NOT NULL` and `CHECK` constraints at once. Split into
//! several statements, each one reads (or rewrites) the whole table again, all under ACCESS
//! EXCLUSIVE, so the table is blocked two or three times as long. A statement that needs a
//! stronger lock than the one held (ACCESS EXCLUSIVE after a SHARE UPDATE EXCLUSIVE, say) waits
//! in the lock queue again, while already holding the weaker lock; two sessions doing this can
//! deadlock.
//!
//! ## Example
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
//! ALTER TABLE orders ALTER COLUMN placed_at SET NOT NULL;   -- a second full scan
//! COMMIT;
//! ```
//!
//! ## Use instead
//! One `ALTER TABLE` with all the actions, separated by commas:
//! ```sql
//! ALTER TABLE orders
//!     ALTER COLUMN customer_id SET NOT NULL,
//!     ALTER COLUMN placed_at SET NOT NULL;
//! ```
//! In Alembic, `with op.batch_alter_table("orders") as batch:` does not combine actions on
//! PostgreSQL; write the combined statement with `op.execute()`. In Django, combine them in a
//! `RunSQL` with `state_operations` describing the model changes.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html (Notes: several changes in one ALTER TABLE let "multiple table scans or rewrites … be combined into a single pass over the table")
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
//! - https://docs.djangoproject.com/en/stable/ref/migration-operations/#runsql

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, ConstraintKind, Op, QualName};
use crate::pg::LockMode;
use crate::pg::effect::{Context, Effect, effect};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "multiple-alter-table",
    severity: Severity::Info,
    summary: "Several ALTER TABLEs of one table in a transaction repeat work or lock requests that one ALTER TABLE would do once.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, .. } = ctx.op else {
        return Vec::new();
    };
    if !ctx.tx.in_transaction || !ctx.catalog.pre_existing(name) {
        return Vec::new();
    }
    let table = normal(name);
    let earlier_alters = ctx.tx.alters_of(&table);
    if earlier_alters.is_empty() {
        return Vec::new();
    }
    // Walked only when this statement makes a pass over the rows (a block may hold thousands of
    // ALTER TABLEs of one table: collecting them for every statement would be quadratic).
    let mut earlier = earlier_alters.iter().filter_map(|&i| ctx.ops.get(i));
    let mut reasons = Vec::new();

    // 1. The lock: does this statement need a mode that the held one does not cover?
    let own = ctx
        .effect
        .locks
        .iter()
        .filter(|(t, _)| *t == table)
        .map(|(_, m)| *m)
        .max();
    if let (Some(want), Some(have)) = (own, ctx.tx.held_on(&table)) {
        if !covers(have, want) {
            reasons.push(format!(
                "it needs {} while the block holds only {} on it, so it waits in the lock queue again, holding the weaker lock meanwhile (a deadlock risk)",
                say::a_lock_on(want, &table),
                have.sql_name()
            ));
        }
    }

    // 2. The work: a second pass over the rows that one ALTER TABLE would share.
    if let Some(this_pass) = row_pass(ctx.op, ctx.effect, &table) {
        if let Some(before) = earlier.find_map(|op| earlier_pass(ctx, op, &table)) {
            reasons.push(format!(
                "an earlier ALTER TABLE of it in this transaction already {before}, and this one {this_pass}: two passes over the rows under ACCESS EXCLUSIVE, where one ALTER TABLE with all the actions makes a single pass"
            ));
        }
    }

    if reasons.is_empty() {
        return Vec::new();
    }
    vec![Hit::new(
        format!(
            "another ALTER TABLE of {} in the same transaction: {}",
            table.display_qualified(),
            reasons.join("; ")
        ),
        format!(
            "Combine the actions into one statement: ALTER TABLE {table} <action>, <action>, …; (one lock request, at most one pass over the rows)."
        ),
    )]
}

/// Whether holding `have` already blocks everything `want` would block, so no new wait is needed
/// (conflict table: https://www.postgresql.org/docs/current/explicit-locking.html#TABLE-LOCK-COMPATIBILITY).
fn covers(have: LockMode, want: LockMode) -> bool {
    LockMode::ALL
        .into_iter()
        .all(|other| !want.conflicts_with(other) || have.conflicts_with(other))
}

/// The pass an earlier ALTER TABLE made over `table`'s rows. Its effect cannot simply be recomputed:
/// the catalog now shows the state after it (the column it set NOT NULL is NOT NULL, the column it
/// retyped has the new type). So only what does not depend on that state counts: rewriting actions,
/// a new column whose value is computed per row (its effect depends only on the column definition),
/// SET NOT NULL unless a valid CHECK proves the column (PG ≥ 12), and valid CHECK constraints. A type
/// change is left out, since whether it rewrote depends on the old type, which is gone.
fn earlier_pass(ctx: &Ctx, op: &Op, table: &QualName) -> Option<&'static str> {
    let Op::AlterTable { name, actions, .. } = op else {
        return None;
    };
    let cx = Context {
        catalog: ctx.catalog,
        pg_version: ctx.pg_version,
        timezone: &ctx.tx.timezone,
    };
    let rewrites = actions.iter().any(|a| match a {
        AlterAction::SetLogged
        | AlterAction::SetUnlogged
        | AlterAction::SetAccessMethod
        | AlterAction::SetTablespace { .. } => true,
        AlterAction::AddColumn { .. } => {
            let alone = Op::AlterTable {
                name: name.clone(),
                if_exists: false,
                only: false,
                actions: vec![a.clone()],
            };
            effect(&alone, &cx).rewrites.contains(table)
        }
        _ => false,
    });
    if rewrites {
        return Some("rewrote the table");
    }
    let verifies = actions.iter().any(|a| match a {
        AlterAction::SetNotNull { column } => {
            !(ctx.pg_version >= 12 && ctx.catalog.has_not_null_check(table, column))
        }
        AlterAction::AddConstraint { constraint } => {
            !constraint.not_valid && matches!(constraint.kind, ConstraintKind::Check { .. })
        }
        AlterAction::AddColumn { column, .. } => column
            .constraints
            .iter()
            .any(|c| !c.not_valid && matches!(c.kind, ConstraintKind::Check { .. })),
        _ => false,
    });
    verifies.then_some("scanned the table to verify a constraint")
}

/// The pass over `table`'s rows that PostgreSQL shares between the actions of one ALTER TABLE
/// (phase 3 of ALTER TABLE, `ATRewriteTables` in tablecmds.c: one rewrite, or one scan checking all
/// new NOT NULL and CHECK constraints). Index builds and foreign key validations are separate
/// passes either way and do not count.
fn row_pass(op: &Op, e: &Effect, table: &QualName) -> Option<&'static str> {
    let Op::AlterTable { actions, .. } = op else {
        return None;
    };
    if e.rewrites.contains(table) {
        return Some("rewrites the table");
    }
    if !e.scans.contains(table) {
        return None;
    }
    let verifies = actions.iter().any(|a| match a {
        AlterAction::SetNotNull { .. } => true,
        AlterAction::AddConstraint { constraint } => {
            !constraint.not_valid
                && matches!(
                    constraint.kind,
                    ConstraintKind::Check { .. }
                        | ConstraintKind::PrimaryKey {
                            using_index: Some(_),
                            ..
                        }
                )
        }
        AlterAction::AddColumn { column, .. } => column
            .constraints
            .iter()
            .any(|c| !c.not_valid && matches!(c.kind, ConstraintKind::Check { .. })),
        _ => false,
    });
    verifies.then_some("scans the table to verify a constraint")
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

    const SCHEMA: &str =
        "CREATE TABLE shop_product (id bigint PRIMARY KEY, title varchar(100), price integer);";

    #[test]
    fn retyping_then_set_not_null_is_not_assumed_to_rewrite() {
        // varchar(100) -> varchar(255) keeps the storage; the earlier statement's old type is gone
        // from the catalog by the time of the second, so no second pass is claimed.
        let sql = "BEGIN;\nALTER TABLE shop_product ALTER COLUMN title TYPE varchar(255);\nALTER TABLE shop_product ALTER COLUMN title SET NOT NULL;\nCOMMIT;";
        assert_eq!(fired(15, Some(SCHEMA), sql), vec![0, 0, 0, 0]);
    }

    #[test]
    fn a_volatile_default_then_a_check() {
        let sql = "BEGIN;\nALTER TABLE shop_product ADD COLUMN token uuid DEFAULT gen_random_uuid();\nALTER TABLE shop_product ADD CONSTRAINT price_positive CHECK (price > 0);\nCOMMIT;";
        assert_eq!(fired(15, Some(SCHEMA), sql), vec![0, 0, 1, 0]);
    }

    #[test]
    fn set_not_null_proven_by_a_check_is_no_pass() {
        let schema = "CREATE TABLE shop_product (id bigint PRIMARY KEY, title varchar(100), price integer, CONSTRAINT title_nn CHECK (title IS NOT NULL));";
        let sql = "BEGIN;\nALTER TABLE shop_product ALTER COLUMN title SET NOT NULL;\nALTER TABLE shop_product ALTER COLUMN price SET NOT NULL;\nCOMMIT;";
        assert_eq!(fired(15, Some(schema), sql), vec![0, 0, 0, 0]);
        // PostgreSQL 11 does not use the CHECK: both statements scan.
        assert_eq!(fired(11, Some(schema), sql), vec![0, 0, 1, 0]);
    }
}
