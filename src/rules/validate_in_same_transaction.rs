//! # validate-in-same-transaction
//! VALIDATE CONSTRAINT in the transaction that already locked the table: NOT VALID gains nothing.
//!
//! ## What it does
//! Flags `ALTER TABLE … VALIDATE CONSTRAINT` inside a transaction block when an earlier statement of
//! the same block took a lock that blocks writes (or reads) on that table, typically the
//! `ADD CONSTRAINT … NOT VALID` just before it. For a foreign key, a lock that the block holds on the
//! referenced table counts too. Tables the migration created are not flagged.
//!
//! ## Why is this bad?
//! `NOT VALID` followed by `VALIDATE CONSTRAINT` exists to split one long blocking step into a brief
//! lock and a scan that lets reads and writes go on (`VALIDATE` only needs SHARE UPDATE EXCLUSIVE).
//! But locks are kept until the transaction ends: when both run in one transaction, the validation
//! scan runs while the ACCESS EXCLUSIVE lock of `ADD CHECK` (or the SHARE ROW EXCLUSIVE lock of
//! `ADD FOREIGN KEY`) is still held, so the table is blocked exactly as long as without `NOT VALID`.
//! Alembic runs a whole revision (and by default the whole upgrade) in one transaction; Django runs
//! each migration in one.
//!
//! ## Example
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD CONSTRAINT orders_quantity_positive CHECK (quantity > 0) NOT VALID;
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_positive;
//! COMMIT;
//! ```
//!
//! ## Use instead
//! Commit between the two steps:
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD CONSTRAINT orders_quantity_positive CHECK (quantity > 0) NOT VALID;
//! COMMIT;
//! BEGIN;
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_positive;
//! COMMIT;
//! ```
//! In Alembic: put the `VALIDATE` in the next revision (with `transaction_per_migration=True`), or run
//! it inside `with op.get_context().autocommit_block():`. In Django: put `ValidateConstraint` in a
//! separate migration from `AddConstraintNotValid`.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES
//! - https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, ConstraintKind, Op, QualName};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "validate-in-same-transaction",
    severity: Severity::Warning,
    summary: "VALIDATE CONSTRAINT in the transaction that already locked the table: NOT VALID gains nothing.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    if !ctx.tx.in_transaction {
        return Vec::new();
    }
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    let table = normal(name);
    let mut hits = Vec::new();
    for a in actions {
        let AlterAction::ValidateConstraint { name: cname } = a else {
            continue;
        };
        // A foreign key's validation also reads the referenced table (ROW SHARE on it).
        let referenced = ctx.catalog.table(&table).and_then(|t| {
            t.constraints.iter().find_map(|c| match &c.kind {
                ConstraintKind::ForeignKey { ref_table, .. } if c.name == *cname => {
                    Some(normal(ref_table))
                }
                _ => None,
            })
        });
        // `held` lists only tables that existed before the migration.
        let blocking = |t: &QualName| {
            ctx.tx
                .held_on(t)
                .filter(|m| m.blocks_writes() || m.blocks_reads())
        };
        let mut held: Vec<String> = Vec::new();
        if let Some(m) = blocking(&table) {
            held.push(say::lock_on(m, &table));
        }
        if let Some(r) = referenced.as_ref().filter(|r| **r != table) {
            if let Some(m) = blocking(r) {
                held.push(say::lock_on(m, r));
            }
        }
        if held.is_empty() {
            continue;
        }
        let by = if added_not_valid_earlier(ctx, &table, cname) {
            format!("the ADD CONSTRAINT {cname} … NOT VALID earlier in this transaction")
        } else {
            "an earlier statement of this transaction".to_string()
        };
        hits.push(Hit::new(
            format!(
                "VALIDATE CONSTRAINT {cname} scans {table} while the transaction still holds the {} taken by {by}: the scan runs under {}, so NOT VALID bought nothing",
                held.join(" and the "),
                if held.len() > 1 { "those locks" } else { "that lock" }
            ),
            format!(
                "Commit before validating: run ALTER TABLE {name} VALIDATE CONSTRAINT {cname} in a later transaction (a separate Alembic revision or inside `with op.get_context().autocommit_block():`; a separate Django migration), where it needs only {}.",
                LockMode::ShareUpdateExclusiveLock.sql_name()
            ),
        ));
    }
    hits
}

/// Whether an earlier statement of the current transaction added `constraint` to `table` NOT VALID.
fn added_not_valid_earlier(ctx: &Ctx, table: &QualName, constraint: &str) -> bool {
    ctx.tx.alters_of(table).iter().any(|&i| match ctx.ops.get(i) {
        Some(Op::AlterTable { actions, .. }) => actions.iter().any(|a| {
            matches!(a, AlterAction::AddConstraint { constraint: c }
                    if c.not_valid && c.name.as_deref() == Some(constraint))
        }),
        _ => false,
    })
}
