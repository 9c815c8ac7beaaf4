//! # lock-held-during-work
//! Long work runs while the transaction still holds a lock, from an earlier statement, that blocks the table.
//!
//! ## What it does
//! Inside a `BEGIN … COMMIT` block, flags a statement whose work grows with the size of a table
//! (a rewrite, a full scan or index build, an `UPDATE`/`DELETE` that reads the whole table or
//! joins another table, an `INSERT … SELECT` reading a whole table, a `MERGE`) while an earlier
//! statement of the same block took a lock that blocks writes (SHARE or stronger, above all ACCESS
//! EXCLUSIVE) on a table that existed before the migration. The finding names the held locks,
//! strongest first, and the statement that took the strongest. It is not raised when the statement
//! itself takes the same or a stronger lock on that table anyway (its own finding covers that), nor
//! in autocommit mode, where every statement releases its locks at once. A block is one cause: the
//! first such statement gets the finding, the later ones a note that points at it.
//!
//! ## Why is this bad?
//! PostgreSQL keeps every lock until the transaction ends. An `ALTER TABLE … ADD COLUMN` on its own
//! holds ACCESS EXCLUSIVE for milliseconds; followed in the same transaction by a backfill `UPDATE`,
//! the lock is held for the whole backfill, and every query on the table, reads included, waits
//! for minutes or hours. The same holds for any long statement after any blocking lock: the
//! blocked table does not have to be the one being worked on.
//!
//! ## Example
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD COLUMN status_code integer;
//! UPDATE orders SET status_code = 0;      -- runs under ACCESS EXCLUSIVE on orders
//! COMMIT;
//! ```
//!
//! ## Use instead
//! Commit right after the short DDL and do the long work in separate transactions, in batches:
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD COLUMN status_code integer;
//! COMMIT;
//! -- then, batch by batch, each in its own transaction, outside the schema migration:
//! UPDATE orders SET status_code = 0 WHERE id BETWEEN 1 AND 10000;
//! ```
//! In Alembic put the DDL and the backfill in separate revisions (or run the backfill inside
//! `op.get_context().autocommit_block()`); in Django put the backfill in its own data migration
//! (with `atomic = False` to commit per batch).
//!
//! ## References
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES ("once acquired, a lock is normally held until the end of the transaction")
//! - https://www.postgresql.org/docs/current/sql-altertable.html
//! - https://docs.djangoproject.com/en/stable/howto/writing-migrations/#non-atomic-migrations

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{Op, QualName};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "lock-held-during-work",
    severity: Severity::Error,
    summary: "Long work runs while the transaction still holds a lock, from an earlier statement, that blocks the table.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    if !ctx.tx.in_transaction {
        return Vec::new();
    }
    let Some(work) = work(ctx) else {
        return Vec::new();
    };
    // Held locks that block writes and that this statement does not take itself at the same
    // strength: those are what the earlier statement adds to this one's blocking.
    // One entry per table in `held()`, so each is looked at once.
    let mut held: Vec<(&QualName, LockMode)> = Vec::new();
    for &(ref t, mode) in ctx.tx.held() {
        if !mode.blocks_writes() {
            continue;
        }
        let own = ctx
            .effect
            .locks
            .iter()
            .filter(|(n, _)| n == t)
            .map(|(_, m)| *m)
            .max();
        if own.is_some_and(|m| m >= mode) {
            continue;
        }
        held.push((t, mode));
    }
    // The strongest first (stable: statement order among equals).
    held.sort_by_key(|h| std::cmp::Reverse(h.1));
    let Some((table, mode)) = held.first() else {
        return Vec::new();
    };
    let by = taken_by(ctx, table)
        .map(|d| format!(" taken by the earlier {d}"))
        .unwrap_or_default();
    // The other held tables, strongest first: the whole set stays blocked, not only the first.
    let others: Vec<String> = held
        .iter()
        .skip(1)
        .take(3)
        .map(|(t, m)| format!("{} on {}", m.sql_name(), t.display_qualified()))
        .collect();
    let more = match held.len().saturating_sub(1) {
        0 => String::new(),
        n if n <= 3 => format!(" (it also holds {})", others.join(", ")),
        n => format!(
            " (it also holds {} and locks on {} more tables)",
            others.join(", "),
            n - 3
        ),
    };
    vec![Hit::new(
        format!(
            "{work} while the transaction still holds the {}{by}{more}: {} stays blocked while it runs and until COMMIT",
            say::lock_on(*mode, table),
            table.display_qualified()
        ),
        "COMMIT right after the short DDL and run the long work in its own transactions, in batches (Alembic: a separate revision or an autocommit_block(); Django: a separate data migration).",
    )
    .because(format!("held:{}", unit_of(ctx)))]
}

/// The commit unit of the statement (one transaction block): the cause its hits share.
fn unit_of(ctx: &Ctx) -> usize {
    ctx.units.unit_index(ctx.index).unwrap_or(ctx.index)
}

/// What this statement does that grows with table size, in words.
fn work(ctx: &Ctx) -> Option<String> {
    let e = ctx.effect;
    let kind = ctx.op.kind().replace('_', " ").to_uppercase();
    if let Some(t) = e.rewrites.first() {
        return Some(format!("this {kind} rewrites {}", t.display_qualified()));
    }
    if let Some(t) = e.scans.first() {
        return Some(format!(
            "this {kind} reads all of {}",
            t.display_qualified()
        ));
    }
    match ctx.op {
        // A join touches as many rows as it matches, whatever the filter's index.
        Op::Update {
            table, from: true, ..
        } if ctx.catalog.pre_existing(table) => Some(format!(
            "this UPDATE … FROM changes every row of {} that the join matches",
            normal(table).display_qualified()
        )),
        // The source of a MERGE is not modelled: it may be as large as the table.
        Op::Merge { table, .. } if ctx.catalog.pre_existing(table) => Some(format!(
            "this MERGE matches its whole source against {}",
            normal(table).display_qualified()
        )),
        _ => None,
    }
}

/// The earlier statement of the block that took the lock held on `table`, described ("ALTER TABLE
/// public.orders"): the transaction state records it when the lock is taken.
pub(crate) fn taken_by(ctx: &Ctx, table: &QualName) -> Option<String> {
    ctx.tx
        .held_by(table)
        .and_then(|i| ctx.ops.get(i))
        .map(describe)
}

/// "ALTER TABLE public.orders", "CREATE INDEX", "LOCK".
pub(crate) fn describe(op: &Op) -> String {
    let kind = op.kind().replace('_', " ").to_uppercase();
    match op.target_table() {
        Some(t) => format!("{kind} {}", normal(t).display_qualified()),
        None => kind,
    }
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
    fn a_weaker_held_lock_on_another_table_counts() {
        // CREATE INDEX holds SHARE on customers; the later backfill of orders keeps customers'
        // writers waiting.
        let sql = "BEGIN;\nCREATE INDEX ix_customers_email ON customers (email);\nUPDATE orders SET note = '';\nCOMMIT;";
        let f = findings(15, None, sql);
        assert_eq!(f.iter().map(Vec::len).collect::<Vec<_>>(), vec![0, 0, 1, 0]);
        assert!(f.concat().iter().any(|m| m.contains("SHARE lock on public.customers") && m.contains("CREATE INDEX")), "{f:?}");
    }

    #[test]
    fn same_lock_again_adds_nothing() {
        let sql =
            "BEGIN;\nCREATE INDEX ix_a ON orders (a);\nCREATE INDEX ix_b ON orders (b);\nCOMMIT;";
        assert_eq!(fired(15, None, sql), vec![0, 0, 0, 0]);
    }

    #[test]
    fn merge_into_an_existing_table() {
        let sql = "BEGIN;\nALTER TABLE customers ADD COLUMN tier text;\nMERGE INTO orders o USING staging s ON o.id = s.id WHEN MATCHED THEN UPDATE SET note = s.note;\nCOMMIT;";
        assert_eq!(fired(15, None, sql), vec![0, 0, 1, 0]);
    }

    #[test]
    fn one_finding_per_transaction_and_notes_on_the_later_statements() {
        use crate::{Analyzer, Settings, Source};
        let sql = "BEGIN;\nALTER TABLE orders ADD COLUMN a int;\nUPDATE orders SET a = 0;\nUPDATE orders SET b = 0;\nUPDATE orders SET c = 0;\nCOMMIT;";
        let report = Analyzer::new(Settings::default())
            .analyze(Source::new("m.sql", sql))
            .expect("analyses");
        let here = |i: usize| {
            let s = &report.statements[i];
            let found = s.findings.iter().filter(|f| f.rule == super::RULE.id);
            let noted = s.notes.iter().filter(|n| n.rule == super::RULE.id);
            (found.count(), noted.map(|n| n.finding_at).collect::<Vec<_>>())
        };
        assert_eq!(here(2), (1, vec![]));
        assert_eq!(here(3), (0, vec![2]));
        assert_eq!(here(4), (0, vec![2]));
        let primary = &report.statements[2].findings;
        assert!(
            primary
                .iter()
                .any(|f| f.message.ends_with("; the same holds for 2 later statements (lines 4 and 5), noted there")),
            "{primary:?}"
        );
    }
}
