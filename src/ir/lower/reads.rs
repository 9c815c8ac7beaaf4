//! The tables and views a query reads: the names in its FROM lists and joins, in its CTEs (whose
//! own names are not tables) and in subqueries inside its expressions.

use super::{fold, qual};
use crate::ir::QualName;
use sqlparser::ast as sq;

/// The tables and views a query reads (CTE names excluded), in order of appearance.
pub(super) fn reads(q: &sq::Query) -> Vec<QualName> {
    let mut ctes: Vec<String> = Vec::new();
    let mut found: Vec<QualName> = Vec::new();
    // A work list rather than recursion: exports can nest subqueries thousands deep.
    let mut todo = vec![Node::Query(q)];
    while let Some(node) = todo.pop() {
        let mut next = Vec::new();
        match node {
            Node::Query(q) => {
                if let Some(with) = &q.with {
                    for cte in &with.cte_tables {
                        ctes.push(fold(&cte.alias.name));
                        next.push(Node::Query(&cte.query));
                    }
                }
                next.push(Node::Set(&q.body));
            }
            Node::Set(s) => set_expr(s, &mut next, &mut found),
            Node::Factor(f) => table_factor(f, &mut next, &mut found),
            Node::Expr(e) => expr(e, &mut next),
        }
        // Last pushed is taken first: reversed, the children are read in order.
        todo.extend(next.into_iter().rev());
    }
    found.retain(|r| r.schema.is_some() || !ctes.contains(&r.name));
    let mut out: Vec<QualName> = Vec::new();
    for r in found {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// A part of a query that can name a relation.
enum Node<'a> {
    Query(&'a sq::Query),
    Set(&'a sq::SetExpr),
    Factor(&'a sq::TableFactor),
    Expr(&'a sq::Expr),
}

fn set_expr<'a>(s: &'a sq::SetExpr, next: &mut Vec<Node<'a>>, found: &mut Vec<QualName>) {
    match s {
        sq::SetExpr::Select(select) => {
            for item in &select.projection {
                if let sq::SelectItem::UnnamedExpr(e)
                | sq::SelectItem::ExprWithAlias { expr: e, .. } = item
                {
                    next.push(Node::Expr(e));
                }
            }
            for t in &select.from {
                next.push(Node::Factor(&t.relation));
                next.extend(t.joins.iter().map(|j| Node::Factor(&j.relation)));
            }
            next.extend(select.selection.iter().map(Node::Expr));
            next.extend(select.having.iter().map(Node::Expr));
        }
        sq::SetExpr::Query(q) => next.push(Node::Query(q)),
        sq::SetExpr::SetOperation { left, right, .. } => {
            next.push(Node::Set(left));
            next.push(Node::Set(right));
        }
        sq::SetExpr::Values(values) => {
            for row in &values.rows {
                next.extend(row.content.iter().map(Node::Expr));
            }
        }
        sq::SetExpr::Table(t) => {
            if let Some(name) = &t.table_name {
                let schema = t.schema_name.as_ref().map(fold);
                found.push(QualName::new(schema.as_deref(), &fold(name)));
            }
        }
        sq::SetExpr::Insert(sq::Statement::Insert(ins)) => {
            next.extend(ins.source.iter().map(|q| Node::Query(q)));
        }
        sq::SetExpr::Insert(_)
        | sq::SetExpr::Update(_)
        | sq::SetExpr::Delete(_)
        | sq::SetExpr::Merge(_) => {}
    }
}

fn table_factor<'a>(f: &'a sq::TableFactor, next: &mut Vec<Node<'a>>, found: &mut Vec<QualName>) {
    match f {
        // With arguments it is a set-returning function (`generate_series(1, 10)`).
        sq::TableFactor::Table {
            name, args: None, ..
        } => found.push(qual(name)),
        sq::TableFactor::Derived { subquery, .. } => next.push(Node::Query(subquery)),
        sq::TableFactor::NestedJoin {
            table_with_joins: t,
            ..
        } => {
            next.push(Node::Factor(&t.relation));
            next.extend(t.joins.iter().map(|j| Node::Factor(&j.relation)));
        }
        _ => {}
    }
}

/// Subqueries inside an expression, through the operators that commonly hold them.
fn expr<'a>(e: &'a sq::Expr, next: &mut Vec<Node<'a>>) {
    use sq::Expr as E;
    match e {
        E::Subquery(q) | E::Exists { subquery: q, .. } => next.push(Node::Query(q)),
        E::In { expr, target, .. } => {
            next.push(Node::Expr(expr));
            match target {
                sq::InTarget::List(list) => next.extend(list.iter().map(Node::Expr)),
                sq::InTarget::Subquery(q) => next.push(Node::Query(q)),
                _ => {}
            }
        }
        E::BinaryOp { left, right, .. }
        | E::AnyOp { left, right, .. }
        | E::AllOp { left, right, .. }
        | E::IsDistinctFrom(left, right)
        | E::IsNotDistinctFrom(left, right)
        | E::Like {
            expr: left,
            pattern: right,
            ..
        }
        | E::ILike {
            expr: left,
            pattern: right,
            ..
        } => {
            next.push(Node::Expr(left));
            next.push(Node::Expr(right));
        }
        E::UnaryOp { expr, .. }
        | E::Nested(expr)
        | E::Cast { expr, .. }
        | E::Collate { expr, .. }
        | E::IsNull(expr)
        | E::IsNotNull(expr)
        | E::IsTrue(expr)
        | E::IsNotTrue(expr)
        | E::IsFalse(expr)
        | E::IsNotFalse(expr) => next.push(Node::Expr(expr)),
        E::Between {
            expr, low, high, ..
        } => next.extend([expr, low, high].map(|e| Node::Expr(e))),
        E::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            next.extend(operand.iter().map(|e| Node::Expr(e)));
            for when in conditions {
                next.push(Node::Expr(&when.condition));
                next.push(Node::Expr(&when.result));
            }
            next.extend(else_result.iter().map(|e| Node::Expr(e)));
        }
        E::Tuple(list) => next.extend(list.iter().map(Node::Expr)),
        E::Function(f) => match &f.args {
            sq::FunctionArguments::Subquery(q) => next.push(Node::Query(q)),
            sq::FunctionArguments::List(list) => {
                for arg in &list.args {
                    let (sq::FunctionArg::Named { arg, .. }
                    | sq::FunctionArg::ExprNamed { arg, .. }
                    | sq::FunctionArg::Unnamed(arg)) = arg;
                    if let sq::FunctionArgExpr::Expr(e) = arg {
                        next.push(Node::Expr(e));
                    }
                }
            }
            sq::FunctionArguments::None => {}
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    fn names(sql: &str) -> Vec<String> {
        let parsed = Parser::parse_sql(&PostgreSqlDialect {}, sql);
        let Ok(statements) = parsed else {
            panic!("does not parse: {sql}");
        };
        let Some(sq::Statement::Query(q)) = statements.first() else {
            panic!("not a query: {sql}");
        };
        reads(q).iter().map(QualName::display_qualified).collect()
    }

    #[test]
    fn from_lists_joins_and_subqueries() {
        assert_eq!(
            names(
                "SELECT (SELECT max(id) FROM a), b.x FROM b JOIN s.c ON true, \
                 (SELECT * FROM d) AS dd WHERE b.y IN (SELECT y FROM e) \
                 AND EXISTS (SELECT 1 FROM f WHERE f.z = coalesce((SELECT 1 FROM g), 0))"
            ),
            [
                "public.a", "public.b", "s.c", "public.d", "public.e", "public.f", "public.g"
            ]
        );
    }

    #[test]
    fn ctes_are_not_tables_and_functions_are_not_relations() {
        assert_eq!(
            names(
                "WITH batch AS (SELECT id FROM t LIMIT 10) \
                 SELECT * FROM batch, generate_series(1, 3) UNION ALL TABLE u"
            ),
            ["public.t", "public.u"]
        );
    }
}
