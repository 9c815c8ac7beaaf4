//! What happens when a statement runs a second time on the state it left: the question a retry asks
//! after a migration stopped half-way (its earlier commit units committed, the migration tool's
//! version row not yet bumped, so the tool runs the whole revision again).
//!
//! Only schema statements are judged: a DML statement's second run depends on the data.

use crate::ir::{AlterAction, ConstraintKind, ObjectKind, Op};

/// Why running `op` again after it committed fails (or does the work twice), or `None` when a
/// second run is harmless.
pub fn rerun_failure(op: &Op) -> Option<String> {
    match op {
        Op::CreateTable {
            name,
            if_not_exists: false,
            temporary: false,
            ..
        } => Some(format!(
            "CREATE TABLE {name} without IF NOT EXISTS fails: the table exists"
        )),
        Op::CreateIndex(ix) if !ix.if_not_exists => Some(match &ix.name {
            Some(n) => format!("CREATE INDEX {n} without IF NOT EXISTS fails: the index exists"),
            None => "an unnamed CREATE INDEX builds a second, duplicate index".to_string(),
        }),
        Op::CreateType { name, .. } => Some(format!(
            "CREATE TYPE {name} fails: the type exists (CREATE TYPE has no IF NOT EXISTS)"
        )),
        Op::CreateDomain { name, .. } => Some(format!(
            "CREATE DOMAIN {name} fails: the domain exists (CREATE DOMAIN has no IF NOT EXISTS)"
        )),
        Op::CreateSequence {
            name,
            if_not_exists: false,
            ..
        } => Some(format!(
            "CREATE SEQUENCE {name} without IF NOT EXISTS fails: the sequence exists"
        )),
        Op::CreateSchema {
            name,
            if_not_exists: false,
        } => Some(format!(
            "CREATE SCHEMA {name} without IF NOT EXISTS fails: the schema exists"
        )),
        Op::CreateExtension {
            name,
            if_not_exists: false,
        } => Some(format!(
            "CREATE EXTENSION {name} without IF NOT EXISTS fails: the extension exists"
        )),
        Op::CreateView {
            name,
            or_replace: false,
            ..
        } => Some(format!(
            "CREATE VIEW {name} without OR REPLACE fails: the view exists"
        )),
        Op::CreateFunction {
            name,
            or_replace: false,
            ..
        } => Some(format!(
            "CREATE FUNCTION {name} without OR REPLACE fails: the function exists"
        )),
        Op::CreateTrigger {
            name,
            or_replace: false,
            ..
        } => Some(format!(
            "CREATE TRIGGER {name} without OR REPLACE fails: the trigger exists"
        )),
        Op::Drop {
            kind,
            names,
            if_exists: false,
            ..
        } => {
            let what = match kind {
                ObjectKind::Table => "TABLE",
                ObjectKind::View => "VIEW",
                ObjectKind::MaterializedView => "MATERIALIZED VIEW",
                ObjectKind::Index => "INDEX",
                ObjectKind::Sequence => "SEQUENCE",
                ObjectKind::Statistics => "STATISTICS",
                ObjectKind::Type => "TYPE",
                ObjectKind::Domain => "DOMAIN",
                ObjectKind::Schema => "SCHEMA",
                ObjectKind::Extension => "EXTENSION",
                ObjectKind::Function => "FUNCTION",
                ObjectKind::Procedure => "PROCEDURE",
                ObjectKind::Trigger => "TRIGGER",
                ObjectKind::Other => "",
            };
            let list: Vec<String> = names.iter().map(ToString::to_string).collect();
            Some(format!(
                "DROP {what} {} without IF EXISTS fails: it is gone already",
                list.join(", ")
            ))
        }
        Op::DropTrigger {
            name,
            if_exists: false,
            ..
        } => Some(format!(
            "DROP TRIGGER {name} without IF EXISTS fails: it is gone already"
        )),
        Op::AlterTypeAddValue {
            name,
            value,
            if_not_exists: false,
            ..
        } => Some(format!(
            "ALTER TYPE {name} ADD VALUE '{value}' without IF NOT EXISTS fails: the value exists"
        )),
        Op::AlterTypeRenameValue { name, from, .. } => Some(format!(
            "ALTER TYPE {name} RENAME VALUE '{from}' fails: the value has its new name already"
        )),
        Op::AlterTypeRename { name, .. } => Some(format!(
            "ALTER TYPE {name} RENAME fails: the type has its new name already"
        )),
        Op::AlterIndex {
            name,
            rename_to: Some(_),
            ..
        } => Some(format!(
            "ALTER INDEX {name} RENAME fails: the index has its new name already"
        )),
        Op::AlterTable { name, actions, .. } => actions.iter().find_map(|a| alter_rerun(a, name)),
        _ => None,
    }
}

fn alter_rerun(a: &AlterAction, table: &crate::ir::QualName) -> Option<String> {
    match a {
        AlterAction::AddColumn {
            column,
            if_not_exists: false,
        } => Some(format!(
            "ALTER TABLE {table} ADD COLUMN {} without IF NOT EXISTS fails: the column exists",
            column.name
        )),
        AlterAction::DropColumn {
            name,
            if_exists: false,
            ..
        } => Some(format!(
            "ALTER TABLE {table} DROP COLUMN {name} without IF EXISTS fails: the column is gone"
        )),
        AlterAction::AddConstraint { constraint } => {
            Some(match (&constraint.name, &constraint.kind) {
                (Some(n), _) => format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {n} fails: the constraint exists (ADD CONSTRAINT has no IF NOT EXISTS)"
                ),
                (None, ConstraintKind::PrimaryKey { .. }) => format!(
                    "ALTER TABLE {table} ADD PRIMARY KEY fails: the table has a primary key already"
                ),
                (None, _) => format!(
                    "ALTER TABLE {table} ADD of an unnamed constraint adds a second, duplicate one"
                ),
            })
        }
        AlterAction::DropConstraint {
            name,
            if_exists: false,
            ..
        } => Some(format!(
            "ALTER TABLE {table} DROP CONSTRAINT {name} without IF EXISTS fails: it is gone already"
        )),
        AlterAction::RenameColumn { from, .. } => Some(format!(
            "ALTER TABLE {table} RENAME COLUMN {from} fails: the column has its new name already"
        )),
        AlterAction::RenameConstraint { from, .. } => Some(format!(
            "ALTER TABLE {table} RENAME CONSTRAINT {from} fails: the constraint has its new name already"
        )),
        AlterAction::RenameTable { .. } => Some(format!(
            "ALTER TABLE {table} RENAME TO fails: the table has its new name already"
        )),
        AlterAction::SetSchema { .. } => Some(format!(
            "ALTER TABLE {table} SET SCHEMA fails: the table has moved already"
        )),
        AlterAction::AddIdentity { column, .. } => Some(format!(
            "ALTER TABLE {table} ALTER COLUMN {column} ADD GENERATED AS IDENTITY fails: it is an identity column already"
        )),
        AlterAction::DropIdentity {
            column,
            if_exists: false,
        } => Some(format!(
            "ALTER TABLE {table} ALTER COLUMN {column} DROP IDENTITY without IF EXISTS fails: it is not an identity column any more"
        )),
        AlterAction::AttachPartition { partition } => Some(format!(
            "ALTER TABLE {table} ATTACH PARTITION {partition} fails: it is attached already"
        )),
        AlterAction::DetachPartition {
            partition,
            finalize: false,
            ..
        } => Some(format!(
            "ALTER TABLE {table} DETACH PARTITION {partition} fails: it is detached already"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::rerun_failure;
    use crate::ir::Op;

    fn op(sql: &str) -> Op {
        let text = sql.to_string();
        let read = crate::source::read(&text);
        let st = read.statements.first().expect("one statement");
        crate::ir::lower_statement(&text, st)
    }

    #[test]
    fn guarded_statements_can_run_again() {
        for sql in [
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON t (a);",
            "ALTER TABLE t ADD COLUMN IF NOT EXISTS c int;",
            "ALTER TABLE t DROP COLUMN IF EXISTS c;",
            "CREATE TABLE IF NOT EXISTS t (a int);",
            "DROP INDEX CONCURRENTLY IF EXISTS ix;",
            "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'happy';",
            "ALTER TABLE t ALTER COLUMN c TYPE bigint;",
            "ALTER TABLE t ALTER COLUMN c SET NOT NULL;",
            "UPDATE t SET a = 1 WHERE id < 100;",
            "CREATE OR REPLACE VIEW v AS SELECT 1;",
        ] {
            assert_eq!(rerun_failure(&op(sql)), None, "{sql}");
        }
    }

    #[test]
    fn unguarded_statements_say_why_they_fail() {
        assert_eq!(
            rerun_failure(&op(
                "CREATE INDEX CONCURRENTLY ix_runs_status ON runs (status);"
            )),
            Some(
                "CREATE INDEX ix_runs_status without IF NOT EXISTS fails: the index exists"
                    .to_string()
            )
        );
        assert_eq!(
            rerun_failure(&op("ALTER TABLE runs ADD COLUMN note text;")),
            Some(
                "ALTER TABLE runs ADD COLUMN note without IF NOT EXISTS fails: the column exists"
                    .to_string()
            )
        );
        assert_eq!(
            rerun_failure(&op("ALTER TYPE mood ADD VALUE 'happy';")),
            Some(
                "ALTER TYPE mood ADD VALUE 'happy' without IF NOT EXISTS fails: the value exists"
                    .to_string()
            )
        );
    }
}
