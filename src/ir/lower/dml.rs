//! Statements that read or change rows: INSERT, UPDATE, DELETE, MERGE, queries, TRUNCATE, COPY.

use super::expr::expr;
use super::reads::reads;
use super::{last_ident, qual};
use crate::ir::{Expr, Op, QualName};
use sqlparser::ast as sq;

/// INSERT, UPDATE, DELETE, MERGE, queries, TRUNCATE and COPY.
pub(super) fn statement(s: &sq::Statement) -> Option<Op> {
    use sq::Statement as S;
    let op = match s {
        S::Insert(ins) => insert(ins),
        S::Update(u) => update(u),
        S::Delete(d) => delete(d),
        // WITH … UPDATE/INSERT/DELETE is a query whose body is the data-modifying statement.
        S::Query(q) => match &*q.body {
            sq::SetExpr::Insert(inner)
            | sq::SetExpr::Update(inner)
            | sq::SetExpr::Delete(inner)
            | sq::SetExpr::Merge(inner) => super::statement(inner),
            _ => Op::Select {
                reads: reads(q),
                filter: top_filter(q).map(Box::new),
            },
        },
        S::Merge(m) => Op::Merge {
            table: match &m.table {
                sq::TableFactor::Table { name, .. } => qual(name),
                other => QualName::new(None, &other.to_string()),
            },
        },
        S::Truncate(t) => Op::Truncate {
            tables: t.table_names.iter().map(|t| qual(&t.name)).collect(),
            cascade: matches!(t.cascade, Some(sq::CascadeOption::Cascade)),
        },
        S::Copy {
            source, to, target, ..
        } => Op::Copy {
            table: match source {
                sq::CopySource::Table { table_name, .. } => Some(qual(table_name)),
                sq::CopySource::Query(_) => None,
            },
            from_stdin: !*to && matches!(target, sq::CopyTarget::Stdin),
        },
        _ => return None,
    };
    Some(op)
}

/// INSERT: the values of a VALUES list, or what its query reads.
fn insert(ins: &sq::Insert) -> Op {
    Op::Insert {
        table: match &ins.table {
            sq::TableObject::TableName(n) => qual(n),
            other => QualName::new(None, &other.to_string()),
        },
        columns: ins.columns.iter().map(last_ident).collect(),
        from_select: ins
            .source
            .as_ref()
            .is_some_and(|q| !matches!(*q.body, sq::SetExpr::Values(_))),
        returning: ins.returning.is_some(),
        reads: ins.source.as_deref().map(reads).unwrap_or_default(),
        values: match ins.source.as_deref().map(|q| &*q.body) {
            Some(sq::SetExpr::Values(v)) => v
                .rows
                .iter()
                .flat_map(|r| r.content.iter())
                .map(expr)
                .collect(),
            _ => Vec::new(),
        },
        filter: ins.source.as_deref().and_then(top_filter).map(Box::new),
    }
}

/// UPDATE: the assigned columns and the WHERE clause.
fn update(u: &sq::Update) -> Op {
    Op::Update {
        table: relation(&u.table).unwrap_or_else(|| QualName::new(None, "")),
        has_where: u.selection.is_some(),
        filter: u.selection.as_ref().map(|e| Box::new(expr(e))),
        from: u.from.is_some(),
        assignments: u
            .assignments
            .iter()
            .map(|a| {
                let column = match &a.target {
                    sq::AssignmentTarget::ColumnName(n) => last_ident(n),
                    sq::AssignmentTarget::Tuple(_) => String::new(),
                };
                (column, expr(&a.value))
            })
            .collect(),
    }
}

/// DELETE: the first table of FROM and the WHERE clause.
fn delete(d: &sq::Delete) -> Op {
    let tables = match &d.from {
        sq::FromTable::WithFromKeyword(t) | sq::FromTable::WithoutKeyword(t) => t,
    };
    Op::Delete {
        table: tables
            .first()
            .and_then(relation)
            .unwrap_or_else(|| QualName::new(None, "")),
        has_where: d.selection.is_some(),
        filter: d.selection.as_ref().map(|e| Box::new(expr(e))),
    }
}

/// The query's top-level WHERE clause (what decides whether it reads whole tables).
fn top_filter(q: &sq::Query) -> Option<Expr> {
    match &*q.body {
        sq::SetExpr::Select(s) => s.selection.as_ref().map(expr),
        _ => None,
    }
}

fn relation(t: &sq::TableWithJoins) -> Option<QualName> {
    match &t.relation {
        sq::TableFactor::Table { name, .. } => Some(qual(name)),
        _ => None,
    }
}
