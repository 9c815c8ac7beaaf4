//! # enum-value-used-in-same-transaction
//! A value added with ALTER TYPE … ADD VALUE is used before the transaction commits: the statement fails.
//!
//! ## What it does
//! Flags a statement inside a `BEGIN … COMMIT` block that uses the literal `'x'` of an enum value
//! added by an earlier `ALTER TYPE … ADD VALUE 'x'` of the same block: in a `WHERE` clause of
//! `UPDATE`/`DELETE`, a column `DEFAULT`, `SET DEFAULT`, a `CHECK` constraint, a generated column, a
//! `USING` expression or a partial index predicate. When the schema shows that the literal meets a
//! column of another type (say a `text` column), the statement is not flagged; when the column's type
//! is unknown, migsafe assumes the enum and says so.
//!
//! Not flagged: a use after the `COMMIT` (Alembic: in a later revision with
//! `transaction_per_migration=True`, or after an `autocommit_block()`), or outside any transaction
//! block.
//!
//! ## Why is this bad?
//! Since PostgreSQL 12, `ADD VALUE` may run inside a transaction block, but the new value cannot be
//! used until that transaction has committed. Any statement that converts the literal to the enum
//! fails with `ERROR: unsafe use of new value "x" of enum type …` (`HINT: New enum values must be
//! committed before they can be used.`), and the whole migration is rolled back. This is a classic
//! migration that passes on a developer machine running each step separately and fails in CI or
//! production where Alembic or Django wraps it in one transaction.
//!
//! ## Example
//! ```sql
//! BEGIN;
//! ALTER TYPE order_status ADD VALUE 'refunded';
//! UPDATE orders SET status = 'cancelled' WHERE status = 'refunded';
//! COMMIT;
//! ```
//!
//! ## Use instead
//! Commit the new value first:
//! ```sql
//! BEGIN;
//! ALTER TYPE order_status ADD VALUE 'refunded';
//! COMMIT;
//! BEGIN;
//! UPDATE orders SET status = 'cancelled' WHERE status = 'refunded';
//! COMMIT;
//! ```
//! In Alembic, put the `ALTER TYPE` in `with op.get_context().autocommit_block():` or in its own
//! revision (with `transaction_per_migration=True` in `env.py`); in Django, in its own migration.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertype.html#SQL-ALTERTYPE-NOTES
//! - https://www.postgresql.org/docs/release/12.0/
//! - https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block

use super::{Ctx, Hit, Rule};
use crate::catalog::{Catalog, same_normal};
use crate::ir::{AlterAction, ConstraintKind, Expr, Op, QualName, TypeName};
use crate::vocab::{Risk, Severity};

pub(crate) const RULE: Rule = Rule {
    id: "enum-value-used-in-same-transaction",
    severity: Severity::Error,
    summary: "A value added with ALTER TYPE … ADD VALUE is used before the transaction commits: the statement fails.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

/// Whether the literal in an expression meets the enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Binding {
    /// Every type involved is known and none is the enum.
    No,
    /// Some column's type is unknown.
    Maybe,
    /// A column of the enum type, or an explicit cast to it.
    Certain,
}

/// An expression of the statement, with the types it is compared to or assigned to: `None` for a
/// type the catalog does not know.
struct Use<'a> {
    expr: &'a Expr,
    what: &'static str,
    types: Vec<Option<TypeName>>,
}

/// The unqualified, unquoted, lower-case last part of a type or type name.
fn bare(name: &str) -> String {
    let last = name.rsplit('.').next().unwrap_or(name);
    last.trim_matches('"').to_lowercase()
}

/// The types of `columns` of `table` (unknown ones as `None`); `extra` are columns the statement
/// itself declares.
fn column_types(
    catalog: &Catalog,
    table: &QualName,
    columns: &[String],
    extra: &[(&str, &TypeName)],
) -> Vec<Option<TypeName>> {
    columns
        .iter()
        .map(|c| {
            extra
                .iter()
                .find(|(n, _)| n == c)
                .map(|(_, t)| (*t).clone())
                .or_else(|| catalog.column(table, c).map(|col| col.ty.clone()))
        })
        .collect()
}

/// The expressions of `op` that could convert a string literal to an enum value.
fn uses<'a>(op: &'a Op, catalog: &Catalog) -> Vec<Use<'a>> {
    let mut out = Vec::new();
    if let Op::Update {
        table, assignments, ..
    } = op
    {
        for (column, value) in assignments {
            let types = if column.is_empty() {
                vec![None]
            } else {
                column_types(catalog, table, std::slice::from_ref(column), &[])
            };
            out.push(Use {
                expr: value,
                what: "an UPDATE … SET value",
                types,
            });
        }
    }
    if let Op::Insert { values, .. } = op {
        for v in values {
            out.push(Use {
                expr: v,
                what: "an INSERT … VALUES row",
                types: vec![None],
            });
        }
    }
    match op {
        Op::Update {
            table,
            filter: Some(f),
            ..
        }
        | Op::Delete {
            table,
            filter: Some(f),
            ..
        } => out.push(Use {
            expr: f,
            what: "the WHERE clause",
            types: column_types(catalog, table, &f.columns, &[]),
        }),
        Op::CreateIndex(ix) => {
            if let Some(p) = &ix.predicate {
                out.push(Use {
                    expr: p,
                    what: "the index predicate",
                    types: column_types(catalog, &ix.table, &p.columns, &[]),
                });
            }
        }
        Op::CreateTable {
            name,
            columns,
            constraints,
            ..
        } => {
            let declared: Vec<(&str, &TypeName)> =
                columns.iter().map(|c| (c.name.as_str(), &c.ty)).collect();
            for c in columns {
                if let Some(d) = &c.default {
                    out.push(Use {
                        expr: d,
                        what: "a column default",
                        types: vec![Some(c.ty.clone())],
                    });
                }
                if let Some(g) = &c.generated {
                    out.push(Use {
                        expr: g,
                        what: "a generated column",
                        types: column_types(catalog, name, &g.columns, &declared),
                    });
                }
            }
            for k in constraints
                .iter()
                .chain(columns.iter().flat_map(|c| &c.constraints))
            {
                if let ConstraintKind::Check { expr } = &k.kind {
                    out.push(Use {
                        expr,
                        what: "a CHECK constraint",
                        types: column_types(catalog, name, &expr.columns, &declared),
                    });
                }
            }
        }
        Op::AlterTable { name, actions, .. } => {
            for a in actions {
                match a {
                    AlterAction::AddColumn { column, .. } => {
                        let declared = [(column.name.as_str(), &column.ty)];
                        if let Some(d) = &column.default {
                            out.push(Use {
                                expr: d,
                                what: "the column default",
                                types: vec![Some(column.ty.clone())],
                            });
                        }
                        if let Some(g) = &column.generated {
                            out.push(Use {
                                expr: g,
                                what: "the generated column",
                                types: column_types(catalog, name, &g.columns, &declared),
                            });
                        }
                        for k in &column.constraints {
                            if let ConstraintKind::Check { expr } = &k.kind {
                                out.push(Use {
                                    expr,
                                    what: "a CHECK constraint",
                                    types: column_types(catalog, name, &expr.columns, &declared),
                                });
                            }
                        }
                    }
                    AlterAction::SetDefault { column, expr } => out.push(Use {
                        expr,
                        what: "SET DEFAULT",
                        types: column_types(catalog, name, std::slice::from_ref(column), &[]),
                    }),
                    AlterAction::AlterColumnType {
                        ty, using: Some(u), ..
                    } => {
                        let mut types = column_types(catalog, name, &u.columns, &[]);
                        types.push(Some(ty.clone()));
                        out.push(Use {
                            expr: u,
                            what: "the USING expression",
                            types,
                        });
                    }
                    AlterAction::AddConstraint { constraint } => {
                        if let ConstraintKind::Check { expr } = &constraint.kind {
                            out.push(Use {
                                expr,
                                what: "the CHECK constraint",
                                types: column_types(catalog, name, &expr.columns, &[]),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    out
}

/// The (bare) type names after `::` and after `AS` in an SQL text.
fn cast_targets(sql: &str) -> Vec<String> {
    let lower = sql.to_lowercase();
    let mut out = Vec::new();
    for marker in ["::", " as "] {
        let mut rest = lower.as_str();
        while let Some(at) = rest.find(marker) {
            rest = rest.get(at + marker.len()..).unwrap_or("");
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '"' | '$'))
                .collect();
            if !name.is_empty() {
                out.push(bare(&name));
            }
        }
    }
    out
}

/// How the literal `value` in `u` meets the enum `enum_name`.
fn binding(u: &Use, enum_name: &QualName, value: &str) -> Binding {
    if !u.expr.literals().iter().any(|l| l == value) {
        return Binding::No;
    }
    let target = bare(&enum_name.name);
    // An explicit cast `'x'::order_status` / `CAST('x' AS public.order_status)`.
    if cast_targets(&u.expr.sql).contains(&target) {
        return Binding::Certain;
    }
    let mut best = Binding::No;
    for t in &u.types {
        let b = match t {
            Some(t) if bare(&t.base) == target => Binding::Certain,
            Some(_) => Binding::No,
            None => Binding::Maybe,
        };
        best = best.max(b);
    }
    best
}

/// Whether the enum already had `value` before the migration's ADD VALUEs (so `ADD VALUE IF NOT
/// EXISTS` did nothing). The catalog appends every added value at the end of the list, so a value
/// in front of the last `n` positions, `n` being the number of ADD VALUEs on the type so far, was
/// there from the start (schema or CREATE TYPE).
fn had_value(ctx: &Ctx, name: &QualName, value: &str) -> bool {
    let Some(values) = ctx
        .catalog
        .type_def(name)
        .and_then(|t| t.enum_values.as_ref())
    else {
        return false;
    };
    let adds = ctx
        .ops
        .get(..ctx.index)
        .unwrap_or(&[])
        .iter()
        .filter(
            |op| matches!(op, Op::AlterTypeAddValue { name: n, .. } if same_normal(n, name)),
        )
        .count();
    values
        .iter()
        .position(|v| v == value)
        .is_some_and(|pos| pos + adds < values.len())
}

fn check(ctx: &Ctx) -> Vec<Hit> {
    // Before PostgreSQL 12 ADD VALUE cannot run in a transaction block at all
    // (concurrently-in-transaction reports that).
    if !ctx.tx.in_transaction || ctx.pg_version < 12 {
        return Vec::new();
    }
    let added: Vec<(&QualName, &String)> = ctx
        .tx
        .enum_adds()
        .iter()
        .filter_map(|&i| ctx.ops.get(i))
        .filter_map(|op| match op {
            Op::AlterTypeAddValue { name, value, .. } if !had_value(ctx, name, value) => {
                Some((name, value))
            }
            _ => None,
        })
        .collect();
    if added.is_empty() {
        return Vec::new();
    }
    let uses = uses(ctx.op, ctx.catalog);
    let mut hits = Vec::new();
    for (enum_name, value) in added {
        let Some((u, b)) = uses
            .iter()
            .map(|u| (u, binding(u, enum_name, value)))
            .filter(|(_, b)| *b != Binding::No)
            .max_by_key(|(_, b)| *b)
        else {
            continue;
        };
        let literal = format!("'{}'", value.replace('\'', "''"));
        let assumption = if b == Binding::Maybe {
            format!(" (assuming the column it meets is of type {enum_name}: its type is unknown)")
        } else {
            String::new()
        };
        let hit = Hit::new(
            format!(
                "{} uses {literal}, which ALTER TYPE {enum_name} ADD VALUE added earlier in the same transaction: PostgreSQL rejects it with `unsafe use of new value` until the transaction commits, and the migration is rolled back{assumption}",
                u.what
            ),
            format!(
                "Commit after ALTER TYPE {enum_name} ADD VALUE {literal} and use the value in a later transaction: in Alembic wrap the ALTER TYPE in `with op.get_context().autocommit_block():` or give it its own revision (transaction_per_migration=True); in Django put it in its own migration."
            ),
        );
        hits.push(if b == Binding::Certain {
            hit.with_risk(Risk::Critical)
        } else {
            hit
        });
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::literals;

    #[test]
    fn literal_scanner() {
        assert_eq!(literals("status = 'a' OR x = 'it''s'"), ["a", "it's"]);
        assert_eq!(literals("'s'"), ["s"]);
        assert!(literals("no literals").is_empty());
        assert_eq!(literals("'unterminated"), ["unterminated"]);
    }

    #[test]
    fn casts() {
        let t = cast_targets("'x'::public.order_status OR CAST(y AS \"Order_Status\")");
        assert_eq!(t, ["order_status", "order_status"]);
    }

    #[test]
    fn used_in_set_default_of_an_enum_column() {
        let schema = "CREATE TYPE order_status AS ENUM ('new', 'paid');\n\
            CREATE TABLE orders (id bigint PRIMARY KEY, status order_status NOT NULL, note text);";
        let sql = "BEGIN;\nALTER TYPE order_status ADD VALUE 'held';\n\
            ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'held';\n\
            ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'held';\nCOMMIT;";
        let report = crate::Analyzer::new(crate::Settings::default())
            .schema(crate::Catalog::from_sql(schema).expect("schema"))
            .analyze(crate::Source::new("t.sql", sql))
            .expect("analyze");
        let fired: Vec<bool> = report
            .statements
            .iter()
            .map(|s| s.findings.iter().any(|f| f.rule == RULE.id))
            .collect();
        assert_eq!(fired, [false, false, true, false, false]);
    }

    #[test]
    fn pg11_is_left_to_concurrently_in_transaction() {
        let sql = "BEGIN;\nALTER TYPE order_status ADD VALUE 'held';\n\
            UPDATE orders SET status = 'new' WHERE status = 'held';\nCOMMIT;";
        let report = crate::Analyzer::new(crate::Settings::default().pg_version(11))
            .analyze(crate::Source::new("t.sql", sql))
            .expect("analyze");
        assert!(
            report
                .statements
                .iter()
                .all(|s| s.findings.iter().all(|f| f.rule != RULE.id))
        );
    }
}
