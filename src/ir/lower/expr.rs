//! Expressions and type names: what the rules read of them (calls, columns, constness; base type,
//! modifiers, array-ness), from sqlparser's nodes or from SQL text.

use crate::ir::{Expr, TypeName};
use sqlparser::ast as sq;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// SQL value functions that are written without parentheses but are calls.
const VALUE_FUNCTIONS: &[&str] = &[
    "current_timestamp",
    "current_date",
    "current_time",
    "localtime",
    "localtimestamp",
    "current_user",
    "session_user",
    "current_role",
    "user",
];

/// Words inside expressions that are neither columns nor calls.
const EXPR_WORDS: &[&str] = &[
    "and", "or", "not", "null", "is", "true", "false", "in", "like", "ilike", "between", "case",
    "when", "then", "else", "end", "as", "cast", "interval", "distinct", "from", "any", "all",
    "some", "exists", "similar", "to", "escape", "collate", "at", "time", "zone", "with",
    "without", "array", "row",
];

pub(super) fn expr(e: &sq::Expr) -> Expr {
    expr_from_sql(e.to_string(), constant(e))
}

fn constant(e: &sq::Expr) -> bool {
    match e {
        sq::Expr::Value(_) => true,
        sq::Expr::Cast { expr, .. } => constant(expr),
        sq::Expr::UnaryOp { expr, .. } => constant(expr),
        sq::Expr::Nested(e) => constant(e),
        sq::Expr::TypedString(_) => true,
        _ => false,
    }
}

/// Builds an [`Expr`] from SQL text: the words before `(` are calls, other plain words columns.
pub(in crate::ir) fn expr_from_sql(sql: String, constant: bool) -> Expr {
    let dialect = PostgreSqlDialect {};
    let tokens: Vec<Token> = Tokenizer::new(&dialect, &sql)
        .tokenize()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let mut calls = Vec::new();
    let mut columns = Vec::new();
    // After `::` or `AS` come type names (`x::varchar(255)`, `CAST(x AS character varying(9))`):
    // neither calls nor columns.
    let mut in_type = false;
    for (i, t) in tokens.iter().enumerate() {
        let Token::Word(w) = t else {
            in_type = matches!(t, Token::DoubleColon)
                || (in_type
                    && matches!(
                        t,
                        Token::LParen | Token::RParen | Token::Comma | Token::Number(..)
                    ));
            continue;
        };
        if in_type {
            continue;
        }
        if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("as") {
            in_type = true;
            continue;
        }
        let name = if w.quote_style.is_some() {
            w.value.clone()
        } else {
            w.value.to_lowercase()
        };
        let next = tokens.get(i + 1);
        let prev = i.checked_sub(1).and_then(|j| tokens.get(j));
        let call = next == Some(&Token::LParen)
            || (w.quote_style.is_none() && VALUE_FUNCTIONS.contains(&name.as_str()));
        if call {
            if !calls.contains(&name) {
                calls.push(name);
            }
        } else if prev == Some(&Token::DoubleColon)
            || next == Some(&Token::Period)
            || (w.quote_style.is_none() && EXPR_WORDS.contains(&name.as_str()))
        {
            // a type after `::`, a qualifier before `.`, or a key word
        } else if !columns.contains(&name) {
            columns.push(name);
        }
    }
    Expr {
        sql,
        calls,
        columns,
        constant,
    }
}

/// Canonical names of PostgreSQL's built-in types under their SQL spellings
/// (https://www.postgresql.org/docs/current/datatype.html, table 8.1).
fn canonical_type(words: &str) -> String {
    let base = match words {
        "int" | "integer" | "int4" | "serial" | "serial4" => "int4",
        "bigint" | "int8" | "bigserial" | "serial8" => "int8",
        "smallint" | "int2" | "smallserial" | "serial2" => "int2",
        "character varying" | "varchar" => "varchar",
        "character" | "char" | "bpchar" => "bpchar",
        "boolean" | "bool" => "bool",
        "decimal" | "numeric" => "numeric",
        "double precision" | "float8" | "double" => "float8",
        "real" | "float4" => "float4",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "timestamp with time zone" | "timestamptz" => "timestamptz",
        "time" | "time without time zone" => "time",
        "time with time zone" | "timetz" => "timetz",
        "bit varying" | "varbit" => "varbit",
        other => other,
    };
    base.to_string()
}

/// Splits a type's SQL text into base words, numeric modifiers and array-ness.
pub(in crate::ir) fn type_from_sql(sql: &str) -> TypeName {
    let lower = sql.to_lowercase();
    let mut array = false;
    let mut body = lower.trim().to_string();
    while let Some(stripped) = body.strip_suffix("[]") {
        array = true;
        body = stripped.trim_end().to_string();
    }
    if let Some(stripped) = body.strip_prefix('_') {
        // internal array names: _int4
        if !stripped.is_empty() && !stripped.contains(' ') {
            array = true;
            body = stripped.to_string();
        }
    }
    let mut words = String::new();
    let mut modifiers = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in body.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if let Ok(n) = current.trim().parse() {
                    modifiers.push(n);
                }
                current.clear();
            }
            ',' if depth > 0 => {
                if let Ok(n) = current.trim().parse() {
                    modifiers.push(n);
                }
                current.clear();
            }
            _ if depth > 0 => current.push(c),
            _ => words.push(c),
        }
    }
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    let words = words
        .strip_prefix("pg_catalog.")
        .unwrap_or(&words)
        .to_string();
    let base = canonical_type(&words);
    let serial = matches!(
        words.as_str(),
        "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
    );
    TypeName {
        sql: sql.trim().to_string(),
        base: if serial {
            format!("{base} (serial)")
        } else {
            base
        },
        modifiers,
        array,
    }
}

pub(super) fn ty(d: &sq::DataType) -> TypeName {
    type_from_sql(&d.to_string())
}
