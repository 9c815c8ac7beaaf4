//! # missing-statement-timeout
//! A table stays blocked for a scan or rewrite with no statement_timeout: nothing bounds the outage.
//!
//! ## What it does
//! Flags a statement that rewrites or reads in full a table that existed before the migration
//! while a lock that blocks writes is in place (its own, like the ACCESS EXCLUSIVE of a rewriting
//! `ALTER TABLE` or the SHARE of `CREATE INDEX`, or one held from an earlier statement of the same
//! transaction), and no non-zero `statement_timeout` is in force. Work that does not block the
//! table (`CREATE INDEX CONCURRENTLY`, `VALIDATE CONSTRAINT` on its own) is not flagged. One
//! `SET` fixes a whole transaction block (or all the statements outside blocks): the first
//! statement gets the finding, the later ones a note that points at it.
//!
//! ## Why is this bad?
//! How long a scan or rewrite takes depends on the production table's size, I/O and
//! concurrent load, which a review cannot see; and `statement_timeout` defaults to 0, no limit.
//! If the statement takes far longer than expected, the table stays blocked for as long as it
//! runs, and the only way out is someone noticing and cancelling it by hand. A
//! `statement_timeout` turns that into a bounded outage: the statement is cancelled, the
//! transaction rolls back and releases its locks, and the migration fails visibly.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);  -- rewrite under ACCESS EXCLUSIVE
//! ```
//!
//! ## Use instead
//! Prefer a form that does not block the table (see the statement's other findings). Where the
//! blocking form is accepted, bound it with the longest outage you can afford:
//! ```sql
//! SET statement_timeout = '2min';
//! ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);
//! RESET statement_timeout;
//! ```
//! Alembic: `op.execute("SET statement_timeout = '2min'")` before the operation (or once in
//! `env.py`); Django: a `RunSQL("SET statement_timeout = '2min'", RunSQL.noop)` operation first.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES

use super::{Ctx, Hit, Rule, say};
use crate::ir::QualName;
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "missing-statement-timeout",
    severity: Severity::Info,
    summary: "A table stays blocked for a scan or rewrite with no statement_timeout: nothing bounds the outage.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    if ctx.tx.statement_timeout {
        return Vec::new();
    }
    let e = ctx.effect;
    let (work, target) = match (e.rewrites.first(), e.scans.first()) {
        (Some(t), _) => ("rewrites", t),
        (None, Some(t)) => ("reads all of", t),
        (None, None) => return Vec::new(),
    };
    // The blocking lock: the strongest of this statement's own and those held in the block,
    // preferring one on the table being worked on, and the statement's own among equals.
    let key = |t: &QualName, m: LockMode, own: bool| (m, t == target, own);
    let own = e
        .locks
        .iter()
        .filter(|(_, m)| m.blocks_writes())
        .max_by_key(|(t, m)| key(t, *m, true));
    // Among held locks of the strongest mode: the one on the target, else the last table locked.
    let held = ctx
        .tx
        .strongest_blocking()
        .filter(|_| ctx.tx.in_transaction)
        .map(|(t, m)| match ctx.tx.held_on(target) {
            Some(on_target) if on_target == m => (target, m),
            _ => (t, m),
        });
    let kind = ctx.op.kind().replace('_', " ").to_uppercase();
    let (table, mode, whose) = match (own, held) {
        (Some((t, m)), Some((ht, hm))) if key(ht, hm, false) > key(t, *m, true) => (ht, hm, HELD),
        (Some((t, m)), _) => (t, *m, OWN),
        (None, Some((t, m))) => (t, m, HELD),
        (None, None) => return Vec::new(),
    };
    let lock = say::a_lock_on(mode, table);
    let under = if whose == OWN {
        format!("under {lock}")
    } else {
        format!("while the transaction holds {lock} from an earlier statement")
    };
    vec![Hit::new(
        format!(
            "this {kind} {work} {} {under}, with no statement_timeout: nothing bounds how long {} stays blocked",
            target.display_qualified(),
            table.display_qualified()
        ),
        "Prefer a non-blocking form; otherwise set statement_timeout to the longest outage you accept before it (SET statement_timeout = '2min'; Alembic: op.execute, Django: RunSQL), so the statement is cancelled and its locks released instead of blocking the table indefinitely.",
    )
    .because(format!("statement-timeout:{}", super::timeout_scope(ctx)))]
}

const OWN: &str = "own";
const HELD: &str = "held";

