//! What the pass carries from one statement to the next: the schema, the session's settings (`SET`,
//! `SET LOCAL`) and the transaction block with the locks it holds.

use crate::catalog::Catalog;
use crate::ir::{Op, TxControl};
use crate::pg::types::TimeZone;
use crate::rules::TxState;
use crate::vocab::Transaction;

/// The state before the statement the pass is at.
pub(super) struct State {
    /// The schema before the statement.
    pub catalog: Catalog,
    /// The transaction block, its locks, and the settings in force.
    pub tx: TxState,
    /// Settings that outlive a transaction (`SET`).
    session: Settings,
    /// Settings that end with the transaction (`SET LOCAL`).
    local: Settings,
}

impl State {
    pub fn new(catalog: Catalog) -> Self {
        State {
            catalog,
            tx: TxState::default(),
            session: Settings::default(),
            local: Settings::default(),
        }
    }

    /// Statement `index` is about to run.
    pub fn before(&mut self, index: usize, op: &Op) {
        // A BEGIN inside a block is ignored by PostgreSQL (a warning): the block and its locks go
        // on.
        if let (Op::Transaction(TxControl::Begin), false) = (op, self.tx.in_transaction) {
            self.tx.begin_block(index + 1);
        }
        let (local, session) = (&self.local, &self.session);
        self.tx.lock_timeout = local.lock_timeout.or(session.lock_timeout).unwrap_or(false);
        self.tx.statement_timeout = local
            .statement_timeout
            .or(session.statement_timeout)
            .unwrap_or(false);
        self.tx.timezone = local
            .timezone
            .clone()
            .or_else(|| session.timezone.clone())
            .unwrap_or(TimeZone::Unknown);
    }

    /// Statement `index` ran: `op`, taking `locks` on pre-existing tables.
    pub fn after(
        &mut self,
        index: usize,
        op: &Op,
        locks: &[(crate::ir::QualName, crate::pg::LockMode)],
    ) {
        match op {
            Op::Transaction(TxControl::Commit | TxControl::Rollback) => {
                self.tx.end_block(index + 1);
                self.local = Settings::default();
            }
            // SET LOCAL outside a transaction block has no effect (PostgreSQL warns).
            Op::Set {
                name,
                value,
                local: true,
            } if self.tx.in_transaction => self.local.set(name, value),
            Op::Set { local: true, .. } => {}
            Op::Set { name, value, .. } => {
                self.session.set(name, value);
                // A plain SET inside a block also replaces a SET LOCAL of the same name.
                self.local.reset(Some(name.as_str()));
            }
            Op::Reset { name } => {
                self.session.reset(name.as_deref());
                self.local.reset(name.as_deref());
            }
            _ => {}
        }
        if self.tx.in_transaction {
            self.tx.record(index, op, locks);
        }
        // A table the schema does not list is assumed to exist from the first statement naming it.
        for (table, _) in locks {
            self.catalog.assume_exists(table);
        }
        self.catalog.track_rows(index, op);
        self.catalog.apply(op, true);
    }
}

/// The settings the rules care about; `None` where the migration has not set them.
#[derive(Debug, Clone, Default)]
struct Settings {
    lock_timeout: Option<bool>,
    statement_timeout: Option<bool>,
    timezone: Option<TimeZone>,
}

impl Settings {
    fn set(&mut self, name: &str, value: &str) {
        let v = value.trim().trim_matches('\'').trim_matches('"').trim();
        // `0` in any unit, and DEFAULT (the server default is 0), disable a timeout.
        let digits: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
        let on = !(v.eq_ignore_ascii_case("default")
            || (!digits.is_empty() && digits.chars().all(|c| c == '0')));
        match name {
            "lock_timeout" => self.lock_timeout = Some(on),
            "statement_timeout" => self.statement_timeout = Some(on),
            "timezone" | "time zone" | "time_zone" => {
                self.timezone = Some(TimeZone::from_setting(value))
            }
            _ => {}
        }
    }

    fn reset(&mut self, name: Option<&str>) {
        match name {
            None | Some("all") => *self = Settings::default(),
            Some("lock_timeout") => self.lock_timeout = None,
            Some("statement_timeout") => self.statement_timeout = None,
            Some("timezone") => self.timezone = None,
            Some(_) => {}
        }
    }
}

/// Where each statement runs: explicit blocks from BEGIN to COMMIT/ROLLBACK (which count as
/// inside), autocommit outside them, bookkeeping for the migration tools' version tables.
pub(super) fn transactions(ops: &[Op]) -> Vec<Transaction> {
    let mut in_block = false;
    ops.iter()
        .map(|op| {
            let state = if in_block {
                Transaction::InTransaction
            } else {
                Transaction::Autocommit
            };
            match op {
                Op::Transaction(TxControl::Begin) => {
                    in_block = true;
                    Transaction::InTransaction
                }
                Op::Transaction(TxControl::Commit | TxControl::Rollback) => {
                    in_block = false;
                    state
                }
                op if op.is_bookkeeping() => Transaction::Bookkeeping,
                _ => state,
            }
        })
        .collect()
}
