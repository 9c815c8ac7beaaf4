//! # may-fail-on-existing-rows
//! The statement checks the table's existing rows and fails on one that does not fit: run the query given first.
//!
//! ## What it does
//! Flags statements on a table with rows (one that existed before the migration and that no earlier
//! statement emptied) that succeed or fail depending on the data:
//! - `ALTER COLUMN … TYPE` to a type some old values do not convert to: a shorter length
//!   (`varchar(3000)` → `varchar(1500)`), a smaller integer or numeric, text to `json`, `jsonb`, an
//!   enum or a number;
//! - a new `UNIQUE` or `PRIMARY KEY` constraint, or a `CREATE UNIQUE INDEX`, which fails on
//!   duplicates;
//! - a `FOREIGN KEY` or `CHECK` constraint added without `NOT VALID`, which fails on a row that
//!   breaks it.
//!
//! Each finding gives a read-only query that finds an offending row; it returns nothing when the
//! statement will succeed on that data. Columns the migration added hold no old values and are left
//! out. It is advice (info): whether a row fails depends on data the file does not show.
//!
//! ## Why is this bad?
//! A development database rarely holds the values production does. The statement passes in CI and
//! stops the deploy with `value too long for type character varying(1500)`, `could not create unique
//! index`, `violates foreign key constraint` or `invalid input syntax for type json`, rolling back
//! the revision, often after a long lock.
//!
//! ## Example
//! ```sql
//! ALTER TABLE events ALTER COLUMN payload TYPE varchar(1500);   -- was varchar(3000)
//! ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
//! ```
//!
//! ## Use instead
//! Run the query on production (or a recent copy) first, and clean or convert the rows it finds in
//! an earlier revision:
//! ```sql
//! SELECT 1 FROM events WHERE length(payload) > 1500 LIMIT 1;
//! SELECT email FROM users GROUP BY email HAVING count(*) > 1 LIMIT 1;
//! ```
//! For constraints, add them `NOT VALID` and `VALIDATE CONSTRAINT` separately (Alembic:
//! `op.create_check_constraint(..., postgresql_not_valid=True)` or `op.execute`; Django:
//! `AddConstraint` through `SeparateDatabaseAndState` with raw SQL): existing rows are then checked
//! by the validation, which can be retried once the data is clean.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DATA-TYPE
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT
//! - https://www.postgresql.org/docs/current/sql-createindex.html ("… fails if there are duplicate values")

use super::{Ctx, Hit, Rule};
use crate::catalog::Column;
use crate::ir::{AlterAction, ConstraintKind, Expr, Op, QualName, TypeName, quote_ident};
use crate::pg::types::type_change;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "may-fail-on-existing-rows",
    severity: Severity::Info,
    summary: "The statement checks the table's existing rows and fails on one that does not fit: run the query given first.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let (table, fails) = match ctx.op {
        Op::AlterTable { name, actions, .. } => (name, alter(ctx, name, actions)),
        Op::CreateIndex(ix) if ix.unique && !ix.columns.is_empty() => {
            let cols: Vec<&str> = ix.columns.iter().map(String::as_str).collect();
            (&ix.table, vec![duplicates(&ix.table, &cols, "the unique index")])
        }
        _ => return Vec::new(),
    };
    if fails.is_empty() || !ctx.catalog.holds_rows(table) {
        return Vec::new();
    }
    fails
        .into_iter()
        .map(|(what, query)| {
            Hit::new(
                format!("{what}; to know before the deploy, run: {query}"),
                "Run the query on production or a recent copy; clean or convert the rows it returns in an earlier revision. For constraints, add them NOT VALID and VALIDATE them separately (Alembic: postgresql_not_valid=True or op.execute; Django: raw SQL in SeparateDatabaseAndState): the validation can be retried once the data is clean.",
            )
        })
        .collect()
}

/// What each action of `ALTER TABLE name` fails on, and the query that finds such a row.
fn alter(ctx: &Ctx, name: &QualName, actions: &[AlterAction]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in actions {
        match a {
            AlterAction::AlterColumnType {
                column, ty, using, ..
            } => {
                let Some(old) = ctx.catalog.column(name, column) else {
                    continue;
                };
                if old.created_in_migration {
                    continue;
                }
                let tz = &ctx.tx.timezone;
                let change = type_change(&old.ty, ty, using.as_deref(), column, tz, ctx.pg_version);
                if change.may_fail && change.lossy.is_none() {
                    let what = format!(
                        "changing {column} from {} to {} fails on a value of {} that does not convert",
                        old.ty.sql,
                        ty.sql,
                        name.display_qualified()
                    );
                    out.push((what, conversion_query(name, old, ty, using.as_deref())));
                }
            }
            AlterAction::AddConstraint { constraint } => {
                let fresh = |c: &String| {
                    ctx.catalog
                        .column(name, c)
                        .is_some_and(|c| c.created_in_migration)
                };
                match &constraint.kind {
                    ConstraintKind::Unique {
                        columns,
                        using_index: None,
                    }
                    | ConstraintKind::PrimaryKey {
                        columns,
                        using_index: None,
                    } if !columns.is_empty() && !columns.iter().any(fresh) => {
                        let cols: Vec<&str> = columns.iter().map(String::as_str).collect();
                        out.push(duplicates(name, &cols, "the new key"));
                    }
                    ConstraintKind::ForeignKey {
                        columns,
                        ref_table,
                        ref_columns,
                        ..
                    } if !constraint.not_valid
                        && !columns.is_empty()
                        && columns.len() == ref_columns.len()
                        && !columns.iter().any(fresh) =>
                    {
                        out.push(orphans(name, columns, ref_table, ref_columns));
                    }
                    ConstraintKind::Check { expr } if !constraint.not_valid => {
                        let query = format!(
                            "SELECT 1 FROM {} WHERE NOT ({}) LIMIT 1;",
                            name.display_qualified(),
                            expr.sql
                        );
                        let what = format!(
                            "the CHECK constraint fails on a row of {} that breaks it",
                            name.display_qualified()
                        );
                        out.push((what, query));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    out
}

/// The query that finds a value of `old` that does not convert to `new`.
fn conversion_query(table: &QualName, old: &Column, new: &TypeName, using: Option<&Expr>) -> String {
    let t = table.display_qualified();
    let c = quote_ident(&old.name);
    let limit = new.modifiers.first();
    let condition = match (new.base.as_str(), limit) {
        ("varchar" | "bpchar", Some(n)) if using.is_none() => Some(format!("length({c}) > {n}")),
        ("int2", _) => Some(format!("{c} NOT BETWEEN -32768 AND 32767")),
        ("int4", _) if old.ty.base != "numeric" && !old.ty.base.starts_with("float") => {
            Some(format!("{c} NOT BETWEEN -2147483648 AND 2147483647"))
        }
        ("numeric", Some(&p)) => {
            let scale = new.modifiers.get(1).copied().unwrap_or(0);
            Some(format!("abs({c}) >= 1e{}", p.saturating_sub(scale)))
        }
        _ => None,
    };
    match condition {
        Some(cond) => format!("SELECT 1 FROM {t} WHERE {cond} LIMIT 1;"),
        // Any other conversion: run it without storing it, it stops at the first bad value.
        None => {
            let value = using.map_or_else(|| format!("{c}::{}", new.sql), |u| u.sql.clone());
            format!("SELECT count({value}) FROM {t};")
        }
    }
}

/// What a new unique key fails on, and the query that finds duplicates.
fn duplicates(table: &QualName, columns: &[&str], what: &str) -> (String, String) {
    let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    let cols = cols.join(", ");
    (
        format!(
            "{what} ({cols}) fails if two rows of {} share a value",
            table.display_qualified()
        ),
        format!(
            "SELECT {cols} FROM {} GROUP BY {cols} HAVING count(*) > 1 LIMIT 1;",
            table.display_qualified()
        ),
    )
}

/// What a validated foreign key fails on, and the query that finds a row without its referenced row.
fn orphans(
    table: &QualName,
    columns: &[String],
    ref_table: &QualName,
    ref_columns: &[String],
) -> (String, String) {
    let pairs: Vec<String> = columns
        .iter()
        .zip(ref_columns)
        .map(|(c, r)| format!("r.{} = t.{}", quote_ident(r), quote_ident(c)))
        .collect();
    let not_null: Vec<String> = columns
        .iter()
        .map(|c| format!("t.{} IS NOT NULL", quote_ident(c)))
        .collect();
    (
        format!(
            "the foreign key to {} fails on a row of {} without a matching row",
            ref_table.display_qualified(),
            table.display_qualified()
        ),
        format!(
            "SELECT 1 FROM {} t WHERE {} AND NOT EXISTS (SELECT 1 FROM {} r WHERE {}) LIMIT 1;",
            table.display_qualified(),
            not_null.join(" AND "),
            ref_table.display_qualified(),
            pairs.join(" AND ")
        ),
    )
}

#[cfg(test)]
mod tests {
    fn messages(schema: &str, sql: &str) -> Vec<Vec<String>> {
        crate::rules::test_support::messages(super::RULE.id, 15, Some(schema), sql)
    }

    const SCHEMA: &str = "CREATE TABLE events (id bigint PRIMARY KEY, payload varchar(3000), n bigint, doc text, owner_id bigint);\nCREATE TABLE owners (id bigint PRIMARY KEY);";

    #[test]
    fn narrowing_types_give_the_query_that_finds_a_misfit() {
        let m = messages(SCHEMA, "ALTER TABLE events ALTER COLUMN payload TYPE varchar(1500);\nALTER TABLE events ALTER COLUMN n TYPE integer;\nALTER TABLE events ALTER COLUMN doc TYPE jsonb USING doc::jsonb;\nALTER TABLE events ALTER COLUMN payload TYPE varchar(4000);");
        assert!(m[0][0].ends_with("run: SELECT 1 FROM public.events WHERE length(payload) > 1500 LIMIT 1;"), "{m:?}");
        assert!(m[1][0].ends_with("WHERE n NOT BETWEEN -2147483648 AND 2147483647 LIMIT 1;"), "{m:?}");
        assert!(m[2][0].ends_with("run: SELECT count(doc::JSONB) FROM public.events;"), "{m:?}");
        assert!(m[3].is_empty(), "widening cannot fail: {m:?}");
    }

    #[test]
    fn keys_and_validated_constraints() {
        let m = messages(SCHEMA, "ALTER TABLE events ADD CONSTRAINT events_payload_key UNIQUE (payload);\nALTER TABLE events ADD CONSTRAINT fk FOREIGN KEY (owner_id) REFERENCES owners (id);\nALTER TABLE events ADD CONSTRAINT fk2 FOREIGN KEY (owner_id) REFERENCES owners (id) NOT VALID;\nALTER TABLE events ADD CONSTRAINT pos CHECK (n > 0);\nCREATE UNIQUE INDEX ix ON events (doc);");
        assert!(m[0][0].ends_with("SELECT payload FROM public.events GROUP BY payload HAVING count(*) > 1 LIMIT 1;"), "{m:?}");
        assert!(m[1][0].ends_with("SELECT 1 FROM public.events t WHERE t.owner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM public.owners r WHERE r.id = t.owner_id) LIMIT 1;"), "{m:?}");
        assert!(m[2].is_empty(), "NOT VALID checks nothing now: {m:?}");
        assert!(m[3][0].ends_with("SELECT 1 FROM public.events WHERE NOT (n > 0) LIMIT 1;"), "{m:?}");
        assert!(m[4][0].starts_with("the unique index (doc) fails if two rows of public.events share a value; to know"), "{m:?}");
    }

    #[test]
    fn new_and_emptied_tables_have_no_rows_to_fail_on() {
        let m = messages(SCHEMA, "TRUNCATE events;\nALTER TABLE events ADD CONSTRAINT k UNIQUE (payload);\nCREATE TABLE t (a text);\nCREATE UNIQUE INDEX ix_t ON t (a);");
        assert!(m.iter().all(Vec::is_empty), "{m:?}");
    }
}
