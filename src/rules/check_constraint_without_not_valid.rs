//! # check-constraint-without-not-valid
//! Adding a CHECK constraint without NOT VALID reads the whole table under an ACCESS EXCLUSIVE lock.
//!
//! ## What it does
//! Flags `ALTER TABLE … ADD [CONSTRAINT …] CHECK (…)` without `NOT VALID`, and a `CHECK` written on an
//! `ADD COLUMN`, when the table existed before the migration and PostgreSQL has to read it to verify
//! the constraint. A `NOT VALID` constraint and a constraint on a table the migration created are not
//! flagged; neither is one whose check runs inside a table rewrite that the same statement does anyway
//! (a volatile default), which other rules report.
//!
//! ## Why is this bad?
//! `ADD CONSTRAINT … CHECK` locks the table in ACCESS EXCLUSIVE mode and keeps the lock while it reads
//! every row to prove the condition: no one can read or write the table meanwhile. This also holds for
//! a `CHECK` on a column added in the same statement: even when the new column is NULL in every row,
//! PostgreSQL still evaluates the condition for each of them.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_quantity_positive CHECK (quantity > 0);
//! ALTER TABLE orders ADD COLUMN discount integer CHECK (discount >= 0);
//! ```
//!
//! ## Use instead
//! Add the constraint as `NOT VALID` (a brief lock, no scan: new and updated rows are checked from now
//! on), commit, then validate it in a later transaction. `VALIDATE CONSTRAINT` takes only a SHARE
//! UPDATE EXCLUSIVE lock, so reads and writes go on while it scans:
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_quantity_positive CHECK (quantity > 0) NOT VALID;
//! COMMIT;
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_positive;
//! ```
//! A column constraint cannot be `NOT VALID`: add the column first, then the constraint as above. In
//! Alembic: `op.execute(...)` with the SQL above, the `VALIDATE` in a later revision (or after
//! `op.get_context().autocommit_block()`); in Django: `AddConstraintNotValid` and
//! `ValidateConstraint` from `django.contrib.postgres.operations`, in separate migrations.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT
//! - https://docs.djangoproject.com/en/stable/ref/contrib/postgres/operations/#adding-constraints-without-enforcing-validation

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, Constraint, ConstraintKind, Op};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "check-constraint-without-not-valid",
    severity: Severity::Error,
    summary: "Adding a CHECK constraint without NOT VALID reads the whole table under an ACCESS EXCLUSIVE lock.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { name, actions, .. } = ctx.op else {
        return Vec::new();
    };
    let table = normal(name);
    // The effect lists a scan only for a table that existed before the migration. When the same
    // statement rewrites the table, the constraint is checked while the rows are copied: no extra
    // pass, and the rewrite is what another rule reports.
    if !ctx.effect.scans.contains(&table) || ctx.effect.rewrites.contains(&table) {
        return Vec::new();
    }
    let lock = ctx.lock_on(&table).unwrap_or(LockMode::AccessExclusiveLock);
    let mut hits = Vec::new();
    for a in actions {
        match a {
            AlterAction::AddConstraint { constraint } if is_valid_check(constraint) => {
                let (what, cname) = match &constraint.name {
                    Some(n) => (format!("CHECK constraint {n}"), n.clone()),
                    None => (
                        format!("CHECK ({})", check_sql(constraint)),
                        default_name(&table.name, constraint),
                    ),
                };
                hits.push(Hit::new(
                    format!(
                        "adding {what} reads every row of {table} to verify it, holding an {} until the scan ends",
                        say::lock_on(lock, &table)
                    ),
                    format!(
                        "Add it with NOT VALID (ALTER TABLE {name} ADD CONSTRAINT {cname} CHECK ({}) NOT VALID), commit, and run ALTER TABLE {name} VALIDATE CONSTRAINT {cname} in a later transaction (SHARE UPDATE EXCLUSIVE: reads and writes go on). Django: AddConstraintNotValid + ValidateConstraint in separate migrations.",
                        check_sql(constraint)
                    ),
                ));
            }
            AlterAction::AddColumn { column, .. } => {
                for c in column.constraints.iter().filter(|c| is_valid_check(c)) {
                    hits.push(Hit::new(
                        format!(
                            "the CHECK on new column {} ({}) is evaluated for every row of {table} — even where the column is NULL — under an {}",
                            column.name,
                            check_sql(c),
                            say::lock_on(lock, &table)
                        ),
                        format!(
                            "A column constraint cannot be NOT VALID: add the column without the CHECK, then ALTER TABLE {name} ADD CONSTRAINT {} CHECK ({}) NOT VALID, commit, and VALIDATE CONSTRAINT in a later transaction.",
                            c.name.clone().unwrap_or_else(|| default_name(&table.name, c)),
                            check_sql(c)
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    hits
}

fn is_valid_check(c: &Constraint) -> bool {
    !c.not_valid && matches!(c.kind, ConstraintKind::Check { .. })
}

fn check_sql(c: &Constraint) -> &str {
    match &c.kind {
        ConstraintKind::Check { expr } => &expr.sql,
        _ => "",
    }
}

/// The name PostgreSQL gives an unnamed CHECK: table, first column, `check`
/// (`ChooseConstraintName` in src/backend/catalog/pg_constraint.c).
fn default_name(table: &str, c: &Constraint) -> String {
    match &c.kind {
        ConstraintKind::Check { expr } => match expr.columns.first() {
            Some(col) => format!("{table}_{col}_check"),
            None => format!("{table}_check"),
        },
        _ => format!("{table}_check"),
    }
}
