//! Statements that change no schema object and no rows: transaction control, session settings,
//! privileges and maintenance.

use super::qual;
use crate::ir::{Op, TxControl};
use sqlparser::ast as sq;

/// BEGIN, COMMIT, ROLLBACK, savepoints, and LOCK, which holds until the transaction ends. A BEGIN
/// with statements of its own is not transaction control.
pub(super) fn transaction(s: &sq::Statement) -> Option<Op> {
    use sq::Statement as S;
    let op = match s {
        S::Lock(l) => Op::Lock {
            tables: l.tables.iter().map(|t| qual(&t.name)).collect(),
            mode: l.lock_mode.as_ref().map(|m| m.to_string()),
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
        _ => return None,
    };
    Some(op)
}

/// SET, RESET, GRANT and REVOKE.
pub(super) fn session(s: &sq::Statement) -> Option<Op> {
    use sq::Statement as S;
    let op = match s {
        S::Set(set) => set_statement(set),
        S::Reset(r) => Op::Reset {
            name: match &r.reset {
                sq::Reset::ConfigurationParameter(n) => Some(n.to_string().to_lowercase()),
                _ => None,
            },
        },
        // What they grant is read from the tokens (`fallback::before_sqlparser`).
        S::Grant(_) | S::GrantRole(_) => Op::Grant(None),
        S::Revoke(_) | S::RevokeRole(_) => Op::Revoke(None),
        _ => return None,
    };
    Some(op)
}

/// SET name = value and SET TIME ZONE; other forms keep their text as the name.
fn set_statement(set: &sq::Set) -> Op {
    match set {
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
    }
}

/// VACUUM, ANALYZE and REFRESH MATERIALIZED VIEW.
pub(super) fn maintenance(s: &sq::Statement) -> Option<Op> {
    use sq::Statement as S;
    let op = match s {
        S::Vacuum(v) => Op::Vacuum {
            tables: v.table_name.iter().map(qual).collect(),
            full: v.full,
            analyze: false,
        },
        S::Analyze(a) => Op::Analyze {
            tables: a.table_name.iter().map(qual).collect(),
        },
        S::RefreshMaterializedView(r) => Op::RefreshMaterializedView {
            name: qual(&r.name),
            concurrently: r.concurrently,
        },
        _ => return None,
    };
    Some(op)
}
