//! # uncommitted-transaction
//! BEGIN without a COMMIT before the end of the file: the migration's work is rolled back or left holding its locks.
//!
//! ## What it does
//! Flags a `BEGIN` / `START TRANSACTION` that opens a transaction block which no `COMMIT` (or
//! `END`, `ROLLBACK`, `ABORT`) closes before the end of the file. This happens when an export is
//! cut short, when migration code issues its own `BEGIN`, or when an Alembic `--sql` range is
//! concatenated by hand.
//!
//! ## Why is this bad?
//! Nothing inside an open transaction block is permanent. When the file is run with `psql -f`, the
//! session ends at the end of the file and PostgreSQL rolls the whole block back, without an error
//! message: the deploy looks successful, but nothing inside the block happened, including the
//! update of the version table if it sits there. When the SQL is fed to a session that
//! stays open (a console, a pooled connection), the block stays open instead and keeps every lock
//! its statements took, often ACCESS EXCLUSIVE on the altered tables, until someone notices.
//!
//! ## Example
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD COLUMN note text;
//! UPDATE alembic_version SET version_num = '7a3d5b1e9f62';
//! -- end of file: no COMMIT
//! ```
//!
//! ## Use instead
//! End every block explicitly; regenerate the export with the tool (Alembic `upgrade A:B --sql`,
//! Django `sqlmigrate`), which writes the `COMMIT`, rather than editing it by hand:
//! ```sql
//! BEGIN;
//! ALTER TABLE orders ADD COLUMN note text;
//! UPDATE alembic_version SET version_num = '7a3d5b1e9f62';
//! COMMIT;
//! ```
//! Running files with `psql -v ON_ERROR_STOP=1 --single-transaction` also makes the transaction
//! boundaries explicit.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-begin.html
//! - https://www.postgresql.org/docs/current/sql-commit.html
//! - https://www.postgresql.org/docs/current/app-psql.html (`--single-transaction`, `ON_ERROR_STOP`)

use super::transaction_nesting::open_block_before;
use super::{Ctx, Hit, Rule};
use crate::ir::{Op, TxControl};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "uncommitted-transaction",
    severity: Severity::Error,
    summary: "BEGIN without a COMMIT before the end of the file: the migration's work is rolled back or left holding its locks.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    if !matches!(ctx.op, Op::Transaction(TxControl::Begin)) {
        return Vec::new();
    }
    // A BEGIN inside an open block opens nothing (transaction-nesting reports it); the one that
    // opened the block gets this finding.
    if open_block_before(ctx).is_some() {
        return Vec::new();
    }
    let closed =
        ctx.any_later(|op| matches!(op, Op::Transaction(TxControl::Commit | TxControl::Rollback)));
    if closed {
        return Vec::new();
    }
    let after = ctx
        .later()
        .iter()
        .filter(|op| !matches!(op, Op::Empty | Op::Text))
        .count();
    vec![Hit::new(
        format!(
            "this BEGIN opens a transaction block that nothing commits before the end of the file: the {after} statement(s) after it are rolled back when the session ends (psql -f reports no error), or, in a session that stays open, keep their locks"
        ),
        "Add COMMIT; at the end of the block (regenerate the export with alembic upgrade --sql / manage.py sqlmigrate rather than editing it).",
    )]
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
    fn only_the_opening_begin() {
        let sql = "BEGIN;\nSELECT 1;\nBEGIN;\nSELECT 2;";
        assert_eq!(fired(15, None, sql), vec![1, 0, 0, 0]);
    }

    #[test]
    fn end_and_abort_close_a_block() {
        assert_eq!(fired(15, None, "BEGIN;\nSELECT 1;\nEND;"), vec![0, 0, 0]);
        assert_eq!(
            fired(15, None, "START TRANSACTION;\nSELECT 1;\nABORT;"),
            vec![0, 0, 0]
        );
    }
}
