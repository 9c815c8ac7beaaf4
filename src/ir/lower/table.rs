//! The parts of tables: column definitions, constraints, and the actions of ALTER TABLE.

use super::expr::{expr, ty};
use super::{fold, last_ident, qual};
use crate::ir::{AlterAction, ColumnDef, Constraint, ConstraintKind, Identity, RefAction};
use sqlparser::ast as sq;

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

pub(super) fn table_constraint(c: &sq::TableConstraint, not_valid: bool) -> Constraint {
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

pub(super) fn column_def(c: &sq::ColumnDef) -> ColumnDef {
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
        A::AlterColumn { column_name, op } => alter_column(column_name, op),
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
                // The parameters are read from the tokens (`fallback::complete`).
                AlterAction::SetStorageParams {
                    sql,
                    params: Vec::new(),
                }
            } else {
                AlterAction::Other { sql }
            }
        }
    }
}

/// ALTER TABLE … ALTER COLUMN: one action on one column.
fn alter_column(column_name: &sq::Ident, op: &sq::AlterColumnOperation) -> AlterAction {
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
        sq::AlterColumnOperation::AddGenerated { generated_as, .. } => AlterAction::AddIdentity {
            column,
            identity: match generated_as {
                Some(sq::GeneratedAs::ByDefault) => Identity::ByDefault,
                _ => Identity::Always,
            },
        },
        other => AlterAction::Other {
            sql: format!("ALTER COLUMN {column_name} {other}"),
        },
    }
}

pub(super) fn alter_actions(ops: &[sq::AlterTableOperation]) -> Vec<AlterAction> {
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
