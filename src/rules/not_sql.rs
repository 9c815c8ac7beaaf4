//! # not-sql
//! Text in the export that PostgreSQL cannot run: psql stops there.
//!
//! ## What it does
//! Flags text of the migration export that PostgreSQL rejects: lines that are not SQL at all
//! (output that migration code printed: `print()` in an Alembic `upgrade()` lands in the `--sql`
//! output; notes pasted into the file) and statements whose syntax PostgreSQL's grammar has no
//! place for: a misspelt command (`ALTER TABL`), MySQL's `MODIFY`/`CHANGE` column actions,
//! backtick quoting, `AUTO_INCREMENT`, `UNSIGNED`, `ENGINE=…`.
//!
//! ## Why is this bad?
//! `psql -v ON_ERROR_STOP=1` stops at the statement, so the migration stops half-way (what ran
//! before it outside a transaction stays); without `ON_ERROR_STOP` psql reports the error and
//! goes on, and the database ends up in a state nobody reviewed. Either way the export is not
//! what runs in production, so the review of it is worth little.
//!
//! ## Example
//! ```sql
//! Running upgrade 1a2b -> 3c4d
//! ALTER TABLE runs MODIFY COLUMN note varchar(200);
//! ```
//!
//! ## Use instead
//! ```sql
//! ALTER TABLE runs ALTER COLUMN note TYPE varchar(200);
//! ```
//! Alembic: remove `print()` from `upgrade()` (use `logging`, which goes to stderr), and write
//! PostgreSQL in `op.execute(...)`, or `op.alter_column("runs", "note", type_=sa.String(200))`.
//! Django: write PostgreSQL in `migrations.RunSQL(...)`, or use `AlterField`.
//!
//! ## References
//! - https://alembic.sqlalchemy.org/en/latest/offline.html
//! - https://www.postgresql.org/docs/current/app-psql.html (ON_ERROR_STOP)
//! - https://www.postgresql.org/docs/current/sql-altertable.html

use super::{Ctx, Hit, Rule};
use crate::ir::Op;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "not-sql",
    severity: Severity::Error,
    summary: "Text in the export that PostgreSQL cannot run: psql stops there.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let message = match ctx.op {
        Op::Text => "this text is not SQL (output printed by migration code?): PostgreSQL \
                     rejects it, so psql stops here (ON_ERROR_STOP) or goes on past an error"
            .to_string(),
        Op::Rejected { reason } => format!(
            "PostgreSQL rejects this statement ({reason}): psql stops here (ON_ERROR_STOP) or \
             goes on past an error"
        ),
        _ => return Vec::new(),
    };
    vec![Hit::new(
        message,
        "Remove print() output from the migration (log to stderr instead) and write the \
         statement as PostgreSQL reads it; then export again.",
    )]
}
