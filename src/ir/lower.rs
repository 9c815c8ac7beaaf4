//! The only file that matches sqlparser's AST: turns a parsed statement into our [`Op`].

use super::fallback;
use super::*;
use crate::parse::Parsed;
use sqlparser::ast as sq;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// Reads one statement of the source into an [`Op`]: parsed by sqlparser and lowered, or by the
/// keyword fallback; printed text, empty statements and statements with an unterminated token keep
/// their kind.
pub(crate) fn lower_statement(text: &str, st: &crate::source::SourceStatement) -> Op {
    use crate::source::RawKind;
    match (st.kind, &st.tokenizer_error) {
        (RawKind::Empty, _) => Op::Empty,
        (RawKind::Text, _) => Op::Text,
        (RawKind::Sql, Some(e)) => Op::Unparsed { error: e.clone() },
        (RawKind::Sql, None) => {
            let parsed = crate::parse::parse(
                &text[st.body.clone()],
                st.span.start_line,
                st.span.start_column,
            );
            lower(&parsed)
        }
    }
}

/// Lowers one parsed statement. Statements sqlparser rejects, or is known to misread, go to the
/// keyword fallback; what neither understands is `Op::Unparsed` with sqlparser's message.
pub(crate) fn lower(parsed: &Parsed) -> Op {
    if let Some(op) = fallback::before_sqlparser(&parsed.tokens) {
        return op;
    }
    match &parsed.statement {
        Ok(stmt) => statement(stmt),
        Err(error) => fallback::recognise(&parsed.tokens).unwrap_or_else(|| Op::Unparsed {
            error: error.clone(),
        }),
    }
}

pub(super) fn fold(id: &sq::Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

/// The folded parts of a dotted name.
fn name_parts(name: &sq::ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            sq::ObjectNamePart::Identifier(i) => fold(i),
            other => other.to_string(),
        })
        .collect()
}

fn qual(name: &sq::ObjectName) -> QualName {
    match name_parts(name).as_slice() {
        [] => QualName::new(None, ""),
        [n] => QualName::new(None, n),
        [.., s, n] => QualName::new(Some(s), n),
    }
}

fn last_ident(name: &sq::ObjectName) -> String {
    qual(name).name
}

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
pub(super) fn expr_from_sql(sql: String, constant: bool) -> Expr {
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
pub(super) fn type_from_sql(sql: &str) -> TypeName {
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

fn ty(d: &sq::DataType) -> TypeName {
    type_from_sql(&d.to_string())
}

fn ref_action(a: &Option<sq::ReferentialAction>) -> Option<RefAction> {
    a.as_ref().map(|a| match a {
        sq::ReferentialAction::Restrict => RefAction::Restrict,
        sq::ReferentialAction::Cascade => RefAction::Cascade,
        sq::ReferentialAction::SetNull => RefAction::SetNull,
        sq::ReferentialAction::NoAction => RefAction::NoAction,
        sq::ReferentialAction::SetDefault => RefAction::SetDefault,
    })
}

/// A foreign key on `columns` (the table constraint's own, or the one column of an inline REFERENCES).
fn foreign_key(fk: &sq::ForeignKeyConstraint, columns: Vec<String>) -> ConstraintKind {
    ConstraintKind::ForeignKey {
        columns,
        ref_table: qual(&fk.foreign_table),
        ref_columns: fk.referred_columns.iter().map(fold).collect(),
        on_delete: ref_action(&fk.on_delete),
        on_update: ref_action(&fk.on_update),
        deferrable: fk
            .characteristics
            .as_ref()
            .and_then(|c| c.deferrable)
            .unwrap_or(false),
        initially_deferred: fk
            .characteristics
            .as_ref()
            .is_some_and(|c| matches!(c.initially, Some(sq::DeferrableInitial::Deferred))),
    }
}

fn index_column_names(cols: &[sq::IndexColumn]) -> Vec<String> {
    cols.iter()
        .map(|c| match &c.column.expr {
            sq::Expr::Identifier(i) => fold(i),
            other => other.to_string(),
        })
        .collect()
}

fn table_constraint(c: &sq::TableConstraint, not_valid: bool) -> Constraint {
    let opt = |i: &Option<sq::Ident>| i.as_ref().map(fold);
    let (name, kind) = match c {
        sq::TableConstraint::PrimaryKey(pk) => (
            opt(&pk.name),
            ConstraintKind::PrimaryKey {
                columns: index_column_names(&pk.columns),
                using_index: None,
            },
        ),
        sq::TableConstraint::Unique(u) => (
            opt(&u.name),
            ConstraintKind::Unique {
                columns: index_column_names(&u.columns),
                using_index: None,
            },
        ),
        sq::TableConstraint::ForeignKey(fk) => (
            opt(&fk.name),
            foreign_key(fk, fk.columns.iter().map(fold).collect()),
        ),
        sq::TableConstraint::Check(ck) => (
            opt(&ck.name),
            ConstraintKind::Check {
                expr: expr(&ck.expr),
            },
        ),
        sq::TableConstraint::PrimaryKeyUsingIndex(u) => (
            opt(&u.name),
            ConstraintKind::PrimaryKey {
                columns: Vec::new(),
                using_index: Some(fold(&u.index_name)),
            },
        ),
        sq::TableConstraint::UniqueUsingIndex(u) => (
            opt(&u.name),
            ConstraintKind::Unique {
                columns: Vec::new(),
                using_index: Some(fold(&u.index_name)),
            },
        ),
        sq::TableConstraint::Exclude(x) => {
            (opt(&x.name), ConstraintKind::Exclude { sql: c.to_string() })
        }
        other => (
            None,
            ConstraintKind::Exclude {
                sql: other.to_string(),
            },
        ),
    };
    Constraint {
        name,
        kind,
        not_valid,
        sql: c.to_string(),
    }
}

fn column_def(c: &sq::ColumnDef) -> ColumnDef {
    let name = fold(&c.name);
    let mut col = ColumnDef {
        name: name.clone(),
        ty: ty(&c.data_type),
        not_null: false,
        default: None,
        identity: None,
        generated: None,
        collation: None,
        constraints: Vec::new(),
    };
    for o in &c.options {
        let cname = o.name.as_ref().map(fold);
        let sql = o.to_string();
        let mut push = |kind| {
            col.constraints.push(Constraint {
                name: cname.clone(),
                kind,
                not_valid: false,
                sql: sql.clone(),
            })
        };
        match &o.option {
            sq::ColumnOption::NotNull => col.not_null = true,
            sq::ColumnOption::Null => col.not_null = false,
            sq::ColumnOption::Default(e) => col.default = Some(expr(e)),
            sq::ColumnOption::PrimaryKey(_) => {
                col.not_null = true;
                push(ConstraintKind::PrimaryKey {
                    columns: vec![name.clone()],
                    using_index: None,
                });
            }
            sq::ColumnOption::Unique(_) => push(ConstraintKind::Unique {
                columns: vec![name.clone()],
                using_index: None,
            }),
            sq::ColumnOption::ForeignKey(fk) => push(foreign_key(fk, vec![name.clone()])),
            sq::ColumnOption::Check(ck) => push(ConstraintKind::Check {
                expr: expr(&ck.expr),
            }),
            sq::ColumnOption::Collation(n) => col.collation = Some(n.to_string()),
            sq::ColumnOption::Generated {
                generated_as,
                generation_expr,
                ..
            } => match (generated_as, generation_expr) {
                (_, Some(e)) => col.generated = Some(Box::new(expr(e))),
                (sq::GeneratedAs::ByDefault, None) => col.identity = Some(Identity::ByDefault),
                _ => col.identity = Some(Identity::Always),
            },
            sq::ColumnOption::Identity(_) => col.identity = Some(Identity::ByDefault),
            _ => {}
        }
    }
    if col.identity.is_some() {
        col.not_null = true;
    }
    col
}

fn alter_action(op: &sq::AlterTableOperation) -> AlterAction {
    use sq::AlterTableOperation as A;
    match op {
        A::AddColumn {
            if_not_exists,
            column_def: c,
            ..
        } => AlterAction::AddColumn {
            column: Box::new(column_def(c)),
            if_not_exists: *if_not_exists,
        },
        A::AlterColumn { column_name, op } => {
            let column = fold(column_name);
            match op {
                sq::AlterColumnOperation::SetNotNull => AlterAction::SetNotNull { column },
                sq::AlterColumnOperation::DropNotNull => AlterAction::DropNotNull { column },
                sq::AlterColumnOperation::SetDefault { value } => AlterAction::SetDefault {
                    column,
                    expr: expr(value),
                },
                sq::AlterColumnOperation::DropDefault => AlterAction::DropDefault { column },
                sq::AlterColumnOperation::SetDataType {
                    data_type, using, ..
                } => AlterAction::AlterColumnType {
                    column,
                    ty: ty(data_type),
                    using: using.as_ref().map(|e| Box::new(expr(e))),
                },
                sq::AlterColumnOperation::AddGenerated { generated_as, .. } => {
                    AlterAction::AddIdentity {
                        column,
                        identity: match generated_as {
                            Some(sq::GeneratedAs::ByDefault) => Identity::ByDefault,
                            _ => Identity::Always,
                        },
                    }
                }
                other => AlterAction::Other {
                    sql: format!("ALTER COLUMN {column_name} {other}"),
                },
            }
        }
        A::AddConstraint {
            constraint,
            not_valid,
        } => AlterAction::AddConstraint {
            constraint: Box::new(table_constraint(constraint, *not_valid)),
        },
        A::DropConstraint {
            if_exists,
            name,
            drop_behavior,
        } => AlterAction::DropConstraint {
            name: fold(name),
            if_exists: *if_exists,
            cascade: matches!(drop_behavior, Some(sq::DropBehavior::Cascade)),
        },
        A::ValidateConstraint { name } => AlterAction::ValidateConstraint { name: fold(name) },
        A::RenameColumn {
            old_column_name,
            new_column_name,
        } => AlterAction::RenameColumn {
            from: fold(old_column_name),
            to: fold(new_column_name),
        },
        A::RenameConstraint { old_name, new_name } => AlterAction::RenameConstraint {
            from: fold(old_name),
            to: fold(new_name),
        },
        A::RenameTable { table_name } => AlterAction::RenameTable {
            to: match table_name {
                sq::RenameTableNameKind::As(n) | sq::RenameTableNameKind::To(n) => last_ident(n),
            },
        },
        A::AttachPartitionOf { partition, .. } => AlterAction::AttachPartition {
            partition: qual(partition),
        },
        A::DetachPartitionOf { partition, mode } => AlterAction::DetachPartition {
            partition: qual(partition),
            concurrently: matches!(mode, Some(sq::DetachPartitionMode::Concurrently)),
            finalize: matches!(mode, Some(sq::DetachPartitionMode::Finalize)),
        },
        A::EnableTrigger { name }
        | A::EnableAlwaysTrigger { name }
        | A::EnableReplicaTrigger { name } => AlterAction::EnableTrigger { name: fold(name) },
        A::DisableTrigger { name } => AlterAction::DisableTrigger { name: fold(name) },
        A::SetLogged => AlterAction::SetLogged,
        A::SetUnlogged => AlterAction::SetUnlogged,
        A::ReplicaIdentity { .. } => AlterAction::ReplicaIdentity,
        A::EnableRowLevelSecurity | A::ForceRowLevelSecurity => {
            AlterAction::RowLevelSecurity { enable: true }
        }
        A::DisableRowLevelSecurity | A::NoForceRowLevelSecurity => {
            AlterAction::RowLevelSecurity { enable: false }
        }
        other => {
            let sql = other.to_string();
            let upper = sql.to_uppercase();
            if upper.starts_with("SET (") || upper.starts_with("RESET (") {
                AlterAction::SetStorageParams { sql }
            } else {
                AlterAction::Other { sql }
            }
        }
    }
}

fn alter_actions(ops: &[sq::AlterTableOperation]) -> Vec<AlterAction> {
    // Sized to fit: a Vec grows to four actions on its first push, and an action is hundreds of
    // bytes, for ALTERs that nearly always hold one.
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        match op {
            // DROP COLUMN a, b is one action per column.
            sq::AlterTableOperation::DropColumn {
                column_names,
                if_exists,
                drop_behavior,
                ..
            } => {
                for c in column_names {
                    out.push(AlterAction::DropColumn {
                        name: fold(c),
                        if_exists: *if_exists,
                        cascade: matches!(drop_behavior, Some(sq::DropBehavior::Cascade)),
                    });
                }
            }
            other => out.push(alter_action(other)),
        }
    }
    out
}

fn object_kind(t: &sq::ObjectType) -> ObjectKind {
    match t {
        sq::ObjectType::Table | sq::ObjectType::ForeignTable => ObjectKind::Table,
        sq::ObjectType::View => ObjectKind::View,
        sq::ObjectType::MaterializedView => ObjectKind::MaterializedView,
        sq::ObjectType::Index => ObjectKind::Index,
        sq::ObjectType::Schema => ObjectKind::Schema,
        sq::ObjectType::Sequence => ObjectKind::Sequence,
        sq::ObjectType::Type => ObjectKind::Type,
        _ => ObjectKind::Other,
    }
}

fn comment_kind(t: &sq::CommentObject) -> ObjectKind {
    match t {
        sq::CommentObject::Table | sq::CommentObject::ForeignTable => ObjectKind::Table,
        sq::CommentObject::Column => ObjectKind::Table,
        sq::CommentObject::View => ObjectKind::View,
        sq::CommentObject::MaterializedView => ObjectKind::MaterializedView,
        sq::CommentObject::Index => ObjectKind::Index,
        sq::CommentObject::Sequence => ObjectKind::Sequence,
        sq::CommentObject::Type => ObjectKind::Type,
        sq::CommentObject::Domain => ObjectKind::Domain,
        sq::CommentObject::Schema => ObjectKind::Schema,
        sq::CommentObject::Extension => ObjectKind::Extension,
        sq::CommentObject::Function => ObjectKind::Function,
        sq::CommentObject::Procedure => ObjectKind::Procedure,
        _ => ObjectKind::Other,
    }
}

/// The tables and views a query reads (CTE names excluded), in order of appearance.
fn reads(q: &sq::Query) -> Vec<QualName> {
    let ctes: Vec<String> = q
        .with
        .as_ref()
        .map(|w| w.cte_tables.iter().map(|c| fold(&c.alias.name)).collect())
        .unwrap_or_default();
    let mut out: Vec<QualName> = Vec::new();
    let _ = sq::visit_relations(q, |n| {
        let r = qual(n);
        let cte = r.schema.is_none() && ctes.contains(&r.name);
        if !cte && !out.contains(&r) {
            out.push(r);
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    out
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

fn statement(s: &sq::Statement) -> Op {
    use sq::Statement as S;
    match s {
        S::CreateTable(ct) => Op::CreateTable {
            name: qual(&ct.name),
            if_not_exists: ct.if_not_exists,
            columns: ct.columns.iter().map(column_def).collect(),
            constraints: ct
                .constraints
                .iter()
                .map(|c| table_constraint(c, false))
                .collect(),
            as_query: ct.query.is_some() || ct.like.is_some(),
            partition_of: ct.partition_of.as_ref().map(|p| Box::new(qual(p))),
            temporary: ct.temporary,
            unlogged: ct.unlogged,
        },
        S::AlterTable(at) => Op::AlterTable {
            name: qual(&at.name),
            if_exists: at.if_exists,
            only: at.only,
            actions: alter_actions(&at.operations),
        },
        S::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            ..
        } => Op::Drop {
            kind: object_kind(object_type),
            names: names.iter().map(qual).collect(),
            if_exists: *if_exists,
            cascade: *cascade,
            concurrently: false,
        },
        S::DropFunction(df) => Op::Drop {
            kind: ObjectKind::Function,
            names: df.func_desc.iter().map(|f| qual(&f.name)).collect(),
            if_exists: df.if_exists,
            cascade: matches!(df.drop_behavior, Some(sq::DropBehavior::Cascade)),
            concurrently: false,
        },
        S::DropExtension(de) => Op::Drop {
            kind: ObjectKind::Extension,
            names: de
                .names
                .iter()
                .map(|n| QualName::new(None, &fold(n)))
                .collect(),
            if_exists: de.if_exists,
            cascade: matches!(de.cascade_or_restrict, Some(sq::ReferentialAction::Cascade)),
            concurrently: false,
        },
        S::DropDomain(dd) => Op::Drop {
            kind: ObjectKind::Domain,
            names: vec![qual(&dd.name)],
            if_exists: dd.if_exists,
            cascade: matches!(dd.drop_behavior, Some(sq::DropBehavior::Cascade)),
            concurrently: false,
        },
        S::DropTrigger(dt) => Op::DropTrigger {
            name: last_ident(&dt.trigger_name),
            table: dt.table_name.as_ref().map(qual),
            if_exists: dt.if_exists,
        },
        S::CreateIndex(ci) => {
            let keys = ci
                .columns
                .iter()
                .map(|c| {
                    let mut k = c.column.to_string();
                    if let Some(op) = &c.operator_class {
                        k = format!("{k} {op}");
                    }
                    k
                })
                .collect();
            let columns = ci
                .columns
                .iter()
                .filter_map(|c| match &c.column.expr {
                    sq::Expr::Identifier(i) => Some(fold(i)),
                    _ => None,
                })
                .collect();
            Op::CreateIndex(Box::new(IndexDef {
                name: ci.name.as_ref().map(last_ident),
                table: qual(&ci.table_name),
                unique: ci.unique,
                concurrently: ci.concurrently,
                if_not_exists: ci.if_not_exists,
                method: ci.using.as_ref().map(|m| m.to_string().to_lowercase()),
                keys,
                columns,
                include: ci.include.iter().map(fold).collect(),
                predicate: ci.predicate.as_ref().map(expr),
            }))
        }
        S::AlterIndex { name, operation } => match operation {
            sq::AlterIndexOperation::RenameIndex { index_name } => Op::AlterIndex {
                name: qual(name),
                rename_to: Some(last_ident(index_name)),
                sql_tail: None,
            },
        },
        S::CreateType {
            name,
            representation,
        } => Op::CreateType {
            name: qual(name),
            enum_values: match representation {
                Some(sq::UserDefinedTypeRepresentation::Enum { labels }) => {
                    Some(labels.iter().map(|l| l.value.clone()).collect())
                }
                _ => None,
            },
        },
        S::AlterType(at) => match &at.operation {
            sq::AlterTypeOperation::AddValue(v) => Op::AlterTypeAddValue {
                name: qual(&at.name),
                value: v.value.value.clone(),
                if_not_exists: v.if_not_exists,
                position: v.position.as_ref().map(|p| match p {
                    sq::AlterTypeAddValuePosition::Before(i) => format!("BEFORE {i}"),
                    sq::AlterTypeAddValuePosition::After(i) => format!("AFTER {i}"),
                }),
            },
            sq::AlterTypeOperation::RenameValue(v) => Op::AlterTypeRenameValue {
                name: qual(&at.name),
                from: v.from.value.clone(),
                to: v.to.value.clone(),
            },
            sq::AlterTypeOperation::Rename(r) => Op::AlterTypeRename {
                name: qual(&at.name),
                to: fold(&r.new_name),
            },
        },
        S::CreateSequence {
            if_not_exists,
            name,
            ..
        } => Op::CreateSequence {
            name: qual(name),
            if_not_exists: *if_not_exists,
        },
        S::CreateView(cv) => Op::CreateView {
            name: qual(&cv.name),
            materialized: cv.materialized,
            or_replace: cv.or_replace,
            reads: reads(&cv.query),
        },
        S::CreateDomain(d) => Op::CreateDomain {
            name: qual(&d.name),
            constrained: !d.constraints.is_empty(),
        },
        S::RefreshMaterializedView(r) => Op::RefreshMaterializedView {
            name: qual(&r.name),
            concurrently: r.concurrently,
        },
        S::CreateFunction(cf) => Op::CreateFunction {
            name: qual(&cf.name),
            or_replace: cf.or_replace,
            kind: ObjectKind::Function,
            // VOLATILE is the default (https://www.postgresql.org/docs/current/sql-createfunction.html).
            volatile: Some(!matches!(
                cf.behavior,
                Some(sq::FunctionBehavior::Immutable | sq::FunctionBehavior::Stable)
            )),
        },
        S::CreateProcedure { name, .. } => Op::CreateFunction {
            name: qual(name),
            or_replace: false,
            kind: ObjectKind::Procedure,
            volatile: None,
        },
        S::CreateTrigger(ct) => Op::CreateTrigger {
            name: last_ident(&ct.name),
            table: qual(&ct.table_name),
            or_replace: ct.or_replace,
        },
        S::CreateExtension(ce) => Op::CreateExtension {
            name: fold(&ce.name),
            if_not_exists: ce.if_not_exists,
        },
        S::CreateSchema {
            schema_name,
            if_not_exists,
            ..
        } => Op::CreateSchema {
            name: match schema_name {
                sq::SchemaName::Simple(n) | sq::SchemaName::NamedAuthorization(n, _) => {
                    last_ident(n)
                }
                sq::SchemaName::UnnamedAuthorization(i) => fold(i),
            },
            if_not_exists: *if_not_exists,
        },
        S::Comment {
            object_type,
            object_name,
            ..
        } => {
            let mut name = qual(object_name);
            let mut column = None;
            if matches!(object_type, sq::CommentObject::Column) {
                // COMMENT ON COLUMN [schema.]table.column: the object is the table.
                let parts = name_parts(object_name);
                column = parts.last().cloned();
                name = match parts.as_slice() {
                    [.., s, t, _] => QualName::new(Some(s), t),
                    [t, _] => QualName::new(None, t),
                    _ => name,
                };
            }
            Op::Comment {
                target: comment_kind(object_type),
                name,
                column,
            }
        }
        S::Insert(ins) => Op::Insert {
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
        },
        S::Update(u) => Op::Update {
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
        },
        S::Delete(d) => {
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
        // WITH … UPDATE/INSERT/DELETE is a query whose body is the data-modifying statement.
        S::Query(q) => match &*q.body {
            sq::SetExpr::Insert(inner)
            | sq::SetExpr::Update(inner)
            | sq::SetExpr::Delete(inner)
            | sq::SetExpr::Merge(inner) => statement(inner),
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
        S::Vacuum(v) => Op::Vacuum {
            tables: v.table_name.iter().map(qual).collect(),
            full: v.full,
            analyze: false,
        },
        S::Analyze(a) => Op::Analyze {
            tables: a.table_name.iter().map(qual).collect(),
        },
        S::Lock(l) => Op::Lock {
            tables: l.tables.iter().map(|t| qual(&t.name)).collect(),
            mode: l.lock_mode.as_ref().map(|m| m.to_string()),
        },
        S::Set(set) => match set {
            sq::Set::SingleAssignment {
                scope,
                variable,
                values,
                ..
            } => Op::Set {
                name: variable.to_string().to_lowercase(),
                value: values
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                local: matches!(scope, Some(sq::ContextModifier::Local)),
            },
            sq::Set::SetTimeZone { local, value } => Op::Set {
                name: "timezone".to_string(),
                value: value.to_string(),
                local: *local,
            },
            other => Op::Set {
                name: other.to_string(),
                value: String::new(),
                local: false,
            },
        },
        S::Reset(r) => Op::Reset {
            name: match &r.reset {
                sq::Reset::ConfigurationParameter(n) => Some(n.to_string().to_lowercase()),
                _ => None,
            },
        },
        S::StartTransaction { statements, .. } if statements.is_empty() => {
            Op::Transaction(TxControl::Begin)
        }
        S::Commit { .. } => Op::Transaction(TxControl::Commit),
        S::Rollback {
            savepoint: Some(_), ..
        } => Op::Transaction(TxControl::RollbackToSavepoint),
        S::Rollback { .. } => Op::Transaction(TxControl::Rollback),
        S::Savepoint { .. } => Op::Transaction(TxControl::Savepoint),
        S::ReleaseSavepoint { .. } => Op::Transaction(TxControl::ReleaseSavepoint),
        S::Grant(_) | S::GrantRole(_) => Op::Grant,
        S::Revoke(_) | S::RevokeRole(_) => Op::Revoke,
        other => {
            let text = other.to_string();
            let what: Vec<&str> = text.split_whitespace().take(2).collect();
            Op::Other {
                what: what.join(" ").to_uppercase(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn op(sql: &str) -> Op {
        lower(&parse(sql, 1, 1))
    }

    #[test]
    fn pg_dump_matviews_and_detach_finalize() {
        let Op::CreateView {
            materialized,
            reads,
            ..
        } = op("CREATE MATERIALIZED VIEW public.mv AS\n SELECT id FROM public.t\n  WITH NO DATA")
        else {
            panic!("not a view")
        };
        assert!(materialized);
        assert_eq!(reads, vec![QualName::new(Some("public"), "t")]);
        let Op::AlterTable { actions, .. } = op("ALTER TABLE m DETACH PARTITION m1 FINALIZE")
        else {
            panic!("not an ALTER TABLE")
        };
        assert!(matches!(
            actions.as_slice(),
            [AlterAction::DetachPartition {
                finalize: true,
                concurrently: false,
                ..
            }]
        ));
    }

    #[test]
    fn types() {
        let t = type_from_sql("VARCHAR(250)");
        assert_eq!(
            (t.base.as_str(), t.modifiers.as_slice(), t.array),
            ("varchar", &[250][..], false)
        );
        assert_eq!(
            type_from_sql("TIMESTAMP WITH TIME ZONE").base,
            "timestamptz"
        );
        assert_eq!(type_from_sql("NUMERIC(10, 2)").modifiers, [10, 2]);
        assert_eq!(type_from_sql("INTEGER[]").base, "int4");
        assert!(type_from_sql("INTEGER[]").array);
        assert_eq!(type_from_sql("character varying").base, "varchar");
    }

    #[test]
    fn add_column_with_default() {
        let Op::AlterTable { name, actions, .. } =
            op("ALTER TABLE public.tags ADD COLUMN created TIMESTAMP DEFAULT now() NOT NULL")
        else {
            panic!("not alter table")
        };
        assert_eq!(name.display_qualified(), "public.tags");
        let AlterAction::AddColumn { column, .. } = &actions[0] else {
            panic!("not add column")
        };
        assert!(column.not_null);
        let d = column
            .default
            .as_ref()
            .map(|d| d.calls.clone())
            .unwrap_or_default();
        assert_eq!(d, ["now"]);
    }

    #[test]
    fn quoted_names_keep_case() {
        let Op::CreateTable { name, columns, .. } =
            op("CREATE TABLE \"Auth\".\"User\" (\"Id\" serial PRIMARY KEY)")
        else {
            panic!()
        };
        assert_eq!(name, QualName::new(Some("Auth"), "User"));
        assert_eq!(columns[0].name, "Id");
        assert_eq!(columns[0].ty.base, "int4 (serial)");
    }

    #[test]
    fn foreign_key_constraint() {
        let Op::AlterTable { actions, .. } = op(
            "ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES customers (id) ON DELETE CASCADE NOT VALID",
        ) else {
            panic!()
        };
        let AlterAction::AddConstraint { constraint } = &actions[0] else {
            panic!()
        };
        assert!(constraint.not_valid);
        assert_eq!(constraint.name.as_deref(), Some("fk"));
        assert!(matches!(
            &constraint.kind,
            ConstraintKind::ForeignKey {
                on_delete: Some(RefAction::Cascade),
                ..
            }
        ));
    }

    #[test]
    fn drop_columns_one_action_each() {
        let Op::AlterTable { actions, .. } =
            op("ALTER TABLE t DROP COLUMN a, DROP COLUMN IF EXISTS b CASCADE")
        else {
            panic!("not alter table")
        };
        assert_eq!(
            actions,
            [
                AlterAction::DropColumn {
                    name: "a".into(),
                    if_exists: false,
                    cascade: false
                },
                AlterAction::DropColumn {
                    name: "b".into(),
                    if_exists: true,
                    cascade: true
                },
            ]
        );
    }

    #[test]
    fn expressions() {
        let e = expr_from_sql(
            "COALESCE(a, gen_random_uuid()) = b.c AND d IS NOT NULL".into(),
            false,
        );
        assert_eq!(e.calls, ["coalesce", "gen_random_uuid"]);
        assert_eq!(e.columns, ["a", "c", "d"]);
        assert_eq!(
            expr_from_sql("CURRENT_TIMESTAMP".into(), false).calls,
            ["current_timestamp"]
        );
    }

    #[test]
    fn kinds() {
        assert_eq!(op("BEGIN").kind(), "begin");
        assert_eq!(op("COMMIT").kind(), "commit");
        assert_eq!(op("CREATE UNIQUE INDEX ix ON t (a)").kind(), "create_index");
        assert_eq!(op("DROP TABLE t").kind(), "drop_table");
        assert_eq!(op("INSERT INTO alembic_version (version_num) VALUES ('a') RETURNING alembic_version.version_num").kind(), "insert");
        assert_eq!(op("SHOW search_path").kind(), "other");
        assert_eq!(
            op("WITH c AS (SELECT 1) UPDATE t SET a = 1 FROM c").kind(),
            "update"
        );
        assert_eq!(op("WITH c AS (SELECT 1) SELECT * FROM c").kind(), "select");
    }
}
