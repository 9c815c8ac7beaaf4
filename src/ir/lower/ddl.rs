//! Statements that create, alter or drop schema objects.

use super::expr::expr;
use super::reads::reads;
use super::table::{alter_actions, column_def, table_constraint};
use super::{fold, last_ident, name_parts, qual};
use crate::ir::{IndexDef, ObjectKind, Op, QualName, TableExtras};
use sqlparser::ast as sq;

/// CREATE of a table, index, type, sequence, view, domain, function, trigger, extension or schema.
pub(super) fn create(s: &sq::Statement) -> Option<Op> {
    use sq::Statement as S;
    let op = match s {
        S::CreateTable(ct) => create_table(ct),
        S::CreateIndex(ci) => create_index(ci),
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
        // Read from the tokens (`fallback::before_sqlparser`), which keep the options as written.
        S::CreateSequence {
            if_not_exists,
            name,
            ..
        } => Op::CreateSequence {
            name: qual(name),
            if_not_exists: *if_not_exists,
            options: String::new(),
            owned_by: None,
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
            // Filled from the tokens (`fallback::complete`).
            sql: String::new(),
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
        _ => return None,
    };
    Some(op)
}

/// CREATE TABLE; with AS or LIKE not all its columns are listed (`as_query`).
fn create_table(ct: &sq::CreateTable) -> Op {
    Op::CreateTable {
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
        extras: table_extras(ct),
    }
}

/// `WITH (…)` storage parameters and `INHERITS (…)`.
fn table_extras(ct: &sq::CreateTable) -> Option<Box<TableExtras>> {
    let with: Vec<(String, String)> = match &ct.table_options {
        sq::CreateTableOptions::With(options) => options
            .iter()
            .filter_map(|o| match o {
                sq::SqlOption::KeyValue { key, value } => Some((
                    name_parts(key).join("."),
                    value.to_string().trim_matches('\'').to_string(),
                )),
                sq::SqlOption::Ident(key) => Some((name_parts(key).join("."), "true".to_string())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let inherits: Vec<QualName> = ct.inherits.iter().flatten().map(qual).collect();
    (!with.is_empty() || !inherits.is_empty()).then(|| Box::new(TableExtras { with, inherits }))
}

/// CREATE INDEX: the keys as written (with their operator class) and the plain-column keys.
fn create_index(ci: &sq::CreateIndex) -> Op {
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

/// ALTER of a table, index or type, and COMMENT ON, which changes an existing object.
pub(super) fn alter(s: &sq::Statement) -> Option<Op> {
    use sq::Statement as S;
    let op = match s {
        S::AlterTable(at) => Op::AlterTable {
            name: qual(&at.name),
            if_exists: at.if_exists,
            only: at.only,
            actions: alter_actions(&at.operations),
        },
        S::AlterIndex { name, operation } => match operation {
            sq::AlterIndexOperation::RenameIndex { index_name } => Op::AlterIndex {
                name: qual(name),
                rename_to: Some(last_ident(index_name)),
                sql_tail: None,
            },
        },
        S::AlterType(at) => alter_type(at),
        S::Comment {
            object_type,
            object_name,
            ..
        } => comment(object_type, object_name),
        _ => return None,
    };
    Some(op)
}

/// ALTER TYPE … ADD VALUE, RENAME VALUE and RENAME TO.
fn alter_type(at: &sq::AlterType) -> Op {
    match &at.operation {
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
    }
}

/// COMMENT ON: a column's comment is on its table.
fn comment(object_type: &sq::CommentObject, object_name: &sq::ObjectName) -> Op {
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

/// DROP of any kind of object; DROP TRIGGER keeps its table.
pub(super) fn drop(s: &sq::Statement) -> Option<Op> {
    use sq::Statement as S;
    let op = match s {
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
        _ => return None,
    };
    Some(op)
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
