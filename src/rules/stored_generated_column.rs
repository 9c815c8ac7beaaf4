//! # stored-generated-column
//! Adding a STORED generated column to an existing table rewrites it under an ACCESS EXCLUSIVE lock.
//!
//! ## What it does
//! Flags `ALTER TABLE … ADD COLUMN … GENERATED ALWAYS AS (expr) STORED` on a table that existed
//! before the migration. A generated column declared in `CREATE TABLE`, or added to a table created
//! earlier in the migration, is fine.
//!
//! ## Why is this bad?
//! A stored generated column holds the computed value in every row, so PostgreSQL computes it for all
//! existing rows while writing a new copy of the table, then rebuilds every index. The statement
//! holds ACCESS EXCLUSIVE until the copy is done: reads and writes of the table all wait, and the
//! copy needs as much free disk space as the table itself.
//!
//! ## Example
//! ```sql
//! ALTER TABLE order_items
//!   ADD COLUMN line_total numeric(12,2) GENERATED ALWAYS AS (quantity * unit_price) STORED;
//! ```
//!
//! ## Use instead
//! Compute the value where it is read (a view or the query), or keep a plain column filled by a
//! trigger for new rows and by a batched backfill for existing ones:
//! ```sql
//! CREATE VIEW order_items_v AS
//!   SELECT *, quantity * unit_price AS line_total FROM order_items;
//! ```
//! ```sql
//! ALTER TABLE order_items ADD COLUMN line_total numeric(12,2);
//! -- a BEFORE INSERT OR UPDATE trigger sets NEW.line_total := NEW.quantity * NEW.unit_price
//! UPDATE order_items SET line_total = quantity * unit_price
//!  WHERE id BETWEEN 1 AND 10000;  -- repeat per batch, one transaction each
//! ```
//! In Django, `GeneratedField(db_persist=True)` (Django ≥ 5.0) emits this statement: on a large
//! table prefer the plain field plus backfill. In Alembic, `sa.Computed(..., persisted=True)` does
//! the same.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/ddl-generated-columns.html
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
//! - https://docs.djangoproject.com/en/stable/ref/models/fields/#generatedfield

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, Op};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "stored-generated-column",
    severity: Severity::Error,
    summary: "Adding a STORED generated column to an existing table rewrites it under an ACCESS EXCLUSIVE lock.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    // The effect lists a rewrite only for a table that existed before the migration.
    if !ctx.effect.rewrites.contains(&normal(name)) {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for a in actions {
        let AlterAction::AddColumn { column, .. } = a else {
            continue;
        };
        let Some(expr) = &column.generated else {
            continue;
        };
        let col = &column.name;
        // The value of a stored generated column is computed per row, so ALTER TABLE rewrites the
        // table (docs: ddl-generated-columns.html; `ATExecAddColumn` in tablecmds.c).
        hits.push(Hit::new(
            format!(
                "adding stored generated column {col} computes ({}) for every existing row: the table is rewritten with all its indexes under an {}",
                expr.sql,
                say::lock_on(LockMode::AccessExclusiveLock, name)
            ),
            format!(
                "Compute ({}) in a view or in the query, or add {col} as a plain nullable column kept up to date by a trigger and backfill existing rows in batches, one transaction each.",
                expr.sql
            ),
        ));
    }
    hits
}
