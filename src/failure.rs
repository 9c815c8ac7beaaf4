//! Failure modes: what a migration that stops half-way leaves behind, and what to run next.
//!
//! A migration commits in *commit units*: a `BEGIN … COMMIT` block is one unit, and every statement
//! outside a block is its own (autocommit). When a unit fails, PostgreSQL undoes that unit, but the
//! earlier units stay committed, while the migration tool's version row (bumped at the end of the
//! revision) still names the previous revision: a retry runs the whole revision again. A few
//! statements leave something behind even though they failed (an INVALID index after a failed
//! `CREATE INDEX CONCURRENTLY`).
//!
//! This module sees only our IR and the report's statements; `analyze` calls it once, after the pass.

use crate::ir::{AlterAction, ObjectKind, Op, QualName, TxControl};
use crate::pg::rerun::rerun_failure;
use crate::report::{
    FailureMode, Leftover, LeftoverKind, RerunFailure, StatementReport, Transaction,
};
use std::fmt::Write;

/// One commit unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitUnit {
    /// Its statements in order, transaction control included.
    pub statements: Vec<usize>,
    /// A `BEGIN … COMMIT` block (otherwise one statement in autocommit).
    pub in_transaction: bool,
    /// The statements that change something (not transaction control, `SET`, empty statements or
    /// migration-tool bookkeeping).
    pub work: Vec<usize>,
}

/// The commit units of a file, and which unit each statement belongs to.
#[derive(Debug, Clone, Default)]
pub struct Units {
    pub units: Vec<CommitUnit>,
    /// Per statement: its unit (index into `units`), `None` for empty statements and text outside
    /// a block.
    pub unit_of: Vec<Option<usize>>,
    /// Per statement: its revision (index into the file's revisions).
    pub revision_of: Vec<Option<usize>>,
}

impl Units {
    /// The unit's revision: that of its first statement doing work.
    pub fn revision(&self, unit: &CommitUnit) -> Option<usize> {
        unit.work
            .first()
            .or(unit.statements.first())
            .and_then(|&i| self.revision_of.get(i).copied().flatten())
    }

    /// The units before `unit` (an index into `units`) of the same revision that do work: what is
    /// committed when `unit` fails.
    pub fn committed_before(&self, unit: usize) -> impl Iterator<Item = &CommitUnit> {
        let rev = self.units.get(unit).and_then(|u| self.revision(u));
        self.units
            .iter()
            .take(unit)
            .filter(move |u| !u.work.is_empty() && self.revision(u) == rev)
    }
}

impl Units {
    /// The unit `statement` belongs to (index into `units`).
    pub fn unit_index(&self, statement: usize) -> Option<usize> {
        self.unit_of.get(statement).copied().flatten()
    }

    /// Whether a later unit of the same revision does work: a failure there leaves `unit`
    /// committed, and a retry runs it again.
    pub fn work_follows(&self, unit: usize) -> bool {
        let Some(u) = self.units.get(unit) else {
            return false;
        };
        let rev = self.revision(u);
        self.units
            .iter()
            .skip(unit + 1)
            .any(|l| !l.work.is_empty() && self.revision(l) == rev)
    }

    /// Whether the revision of `unit` also has a transaction block.
    pub fn revision_has_block(&self, unit: usize) -> bool {
        let Some(u) = self.units.get(unit) else {
            return false;
        };
        let rev = self.revision(u);
        self.units
            .iter()
            .any(|l| l.in_transaction && self.revision(l) == rev)
    }

    /// The first statement committed before `unit` (same revision) that fails when run again,
    /// with why, and every committed statement.
    pub fn rerun_blocker(&self, unit: usize, ops: &[Op]) -> Option<(usize, String, Vec<usize>)> {
        let committed: Vec<usize> = self
            .committed_before(unit)
            .flat_map(|c| c.statements.iter().copied())
            .collect();
        self.committed_before(unit)
            .flat_map(|c| c.work.iter().copied())
            .find_map(|i| ops.get(i).and_then(rerun_failure).map(|r| (i, r)))
            .map(|(i, r)| (i, r, committed))
    }
}

/// `statements 3–5` (numbered from 1, as in reports and the rollback script).
pub fn statement_numbers(list: &[usize]) -> String {
    if list.len() == 1 {
        format!("statement {}", ranges(list))
    } else {
        format!("statements {}", ranges(list))
    }
}

/// Whether a statement changes anything a failure could leave half-done.
fn is_work(op: &Op, transaction: Transaction) -> bool {
    transaction != Transaction::Bookkeeping
        && !matches!(
            op,
            Op::Transaction(_)
                | Op::Set { .. }
                | Op::Reset { .. }
                | Op::SetConstraints { .. }
                | Op::Select { .. }
                | Op::Empty
                | Op::Text
        )
}

/// Groups the statements into commit units. A `BEGIN` inside a block is ignored by PostgreSQL (the
/// block goes on), so it does not start a unit; a block still open at the end of the file is a unit
/// too (it commits, or not, when the session ends: `uncommitted-transaction` reports it).
pub fn units(ops: &[Op], transactions: &[Transaction], revision_of: Vec<Option<usize>>) -> Units {
    let mut out = Units {
        units: Vec::new(),
        unit_of: vec![None; ops.len()],
        revision_of,
    };
    let mut open: Option<usize> = None;
    for (i, op) in ops.iter().enumerate() {
        let tx = transactions
            .get(i)
            .copied()
            .unwrap_or(Transaction::Autocommit);
        let unit = match (open, op) {
            (None, Op::Transaction(TxControl::Begin)) => {
                out.units.push(CommitUnit {
                    statements: Vec::new(),
                    in_transaction: true,
                    work: Vec::new(),
                });
                open = Some(out.units.len() - 1);
                open
            }
            (Some(u), Op::Transaction(TxControl::Commit | TxControl::Rollback)) => {
                open = None;
                Some(u)
            }
            (Some(u), _) => Some(u),
            // Outside a block: empty statements, printed text and stray COMMITs commit nothing.
            (None, Op::Empty | Op::Text | Op::Transaction(_)) => None,
            (None, _) => {
                out.units.push(CommitUnit {
                    statements: Vec::new(),
                    in_transaction: false,
                    work: Vec::new(),
                });
                Some(out.units.len() - 1)
            }
        };
        if let Some(u) = unit.and_then(|u| out.units.get_mut(u)) {
            u.statements.push(i);
            if is_work(op, tx) {
                u.work.push(i);
            }
        }
        if let Some(slot) = out.unit_of.get_mut(i) {
            *slot = unit;
        }
    }
    out
}

/// What the file's revisions are, for the wording.
pub struct RevisionNames<'a> {
    pub id: &'a str,
    pub parents: &'a [String],
}

/// The failure modes: per revision (same order as `revisions`), and for the units outside any
/// revision. Units without work are left out: their failure changes nothing.
pub fn failure_modes(
    units: &Units,
    ops: &[Op],
    statements: &[StatementReport],
    revisions: &[RevisionNames],
    rollback_complete: bool,
) -> (Vec<Vec<FailureMode>>, Vec<FailureMode>) {
    let mut per_revision: Vec<Vec<FailureMode>> = vec![Vec::new(); revisions.len()];
    let mut outside = Vec::new();
    let mut number = 0;
    for (u, unit) in units.units.iter().enumerate() {
        if unit.work.is_empty() {
            continue;
        }
        number += 1;
        let rev = units.revision(unit);
        let committed: Vec<usize> = units
            .committed_before(u)
            .flat_map(|c| c.statements.iter().copied())
            .collect();
        let rerun_fails: Vec<RerunFailure> = units
            .committed_before(u)
            .flat_map(|c| c.work.iter().copied())
            .filter_map(|i| {
                ops.get(i)
                    .and_then(rerun_failure)
                    .map(|reason| RerunFailure {
                        statement: i,
                        reason,
                    })
            })
            .collect();
        let leftovers: Vec<Leftover> = if unit.in_transaction {
            // A CONCURRENTLY statement in a block fails before it does anything.
            Vec::new()
        } else {
            unit.work
                .iter()
                .filter_map(|&i| ops.get(i))
                .flat_map(leftovers_of)
                .collect()
        };
        let message = describe(
            unit,
            &committed,
            &rerun_fails,
            &leftovers,
            statements,
            rev.and_then(|r| revisions.get(r)),
            ops,
            rollback_complete,
        );
        let mode = FailureMode {
            unit: number,
            statements: unit.statements.clone(),
            in_transaction: unit.in_transaction,
            committed,
            rerun_fails,
            leftovers,
            message,
        };
        match rev.and_then(|r| per_revision.get_mut(r)) {
            Some(list) => list.push(mode),
            None => outside.push(mode),
        }
    }
    (per_revision, outside)
}

/// What a failed statement leaves behind although it failed (outside a transaction block).
fn leftovers_of(op: &Op) -> Vec<Leftover> {
    match op {
        // "If a problem arises while scanning the table, such as a deadlock or a uniqueness
        // violation in a unique index, the CREATE INDEX command will fail but leave behind an
        // 'invalid' index. This index will be ignored for querying purposes because it might be
        // incomplete; however it will still consume update overhead. […] The recommended recovery
        // method in such cases is to drop the index and try again."
        // https://www.postgresql.org/docs/15/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
        Op::CreateIndex(ix) if ix.concurrently => {
            let (object, mut fix) = match &ix.name {
                Some(n) => {
                    let q = QualName::new(ix.table.schema.as_deref(), n);
                    (
                        q.to_string(),
                        format!("drop it before retrying: DROP INDEX CONCURRENTLY IF EXISTS {q};"),
                    )
                }
                None => (
                    format!("(unnamed index on {})", ix.table),
                    "find it with SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid; and drop it with DROP INDEX CONCURRENTLY before retrying".to_string(),
                ),
            };
            if ix.if_not_exists {
                fix.push_str(
                    " (IF NOT EXISTS does not help: it skips the invalid index, so the retry succeeds without a usable index)",
                );
            }
            vec![Leftover {
                kind: LeftoverKind::InvalidIndex,
                object,
                fix,
            }]
        }
        // DROP INDEX CONCURRENTLY first marks the index invalid and commits, then waits for other
        // transactions before it removes the index: a failure in between leaves it INVALID
        // (PostgreSQL commit 9511fb37ac78, "Reset indisreplident for an invalid index in DROP
        // INDEX CONCURRENTLY", describes that state).
        Op::Drop {
            kind: ObjectKind::Index,
            names,
            concurrently: true,
            ..
        } => names
            .iter()
            .map(|n| Leftover {
                kind: LeftoverKind::InvalidIndex,
                object: n.to_string(),
                fix: format!("run the drop again to finish it: DROP INDEX CONCURRENTLY IF EXISTS {n};"),
            })
            .collect(),
        // "If a problem arises while rebuilding the indexes, such as a uniqueness violation in a
        // unique index, the REINDEX command will fail but leave behind an 'invalid' new index in
        // addition to the pre-existing one. […] The concurrent index created during the processing
        // has a name ending in the suffix ccnew, or ccold if it is an old index definition which
        // we failed to drop." https://www.postgresql.org/docs/15/sql-reindex.html#SQL-REINDEX-CONCURRENTLY
        Op::Reindex {
            name,
            concurrently: true,
            ..
        } => vec![Leftover {
            kind: LeftoverKind::InvalidIndex,
            object: match name {
                Some(n) => format!("indexes of {n} named …_ccnew / …_ccold"),
                None => "indexes named …_ccnew / …_ccold".to_string(),
            },
            fix: "drop them before retrying: SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid; lists them, DROP INDEX CONCURRENTLY drops them".to_string(),
        }],
        // "If DETACH PARTITION … CONCURRENTLY is cancelled or interrupted, the partition remains
        // in a pending-detach state, and FINALIZE completes it."
        // https://www.postgresql.org/docs/15/sql-altertable.html#SQL-ALTERTABLE-DETACH-PARTITION
        Op::AlterTable { name, actions, .. } => actions
            .iter()
            .filter_map(|a| match a {
                AlterAction::DetachPartition {
                    partition,
                    concurrently: true,
                    finalize: false,
                } => Some(Leftover {
                    kind: LeftoverKind::PendingDetach,
                    object: partition.to_string(),
                    fix: format!(
                        "finish the detach before anything else: ALTER TABLE {name} DETACH PARTITION {partition} FINALIZE;"
                    ),
                }),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `statement 7 (line 40)` / `statements 3–9 (lines 10–25)`, numbered from 1 as in the rollback
/// script.
fn which(list: &[usize], statements: &[StatementReport]) -> String {
    let lines: Vec<u32> = list
        .iter()
        .filter_map(|&i| statements.get(i))
        .map(|s| s.span.start_line)
        .collect();
    let line_range = match (lines.first(), lines.last()) {
        (Some(a), Some(b)) if a != b => format!("lines {a}–{b}"),
        (Some(a), _) => format!("line {a}"),
        _ => String::new(),
    };
    let numbers = ranges(list);
    if list.len() == 1 {
        format!("statement {numbers} ({line_range})")
    } else {
        format!("statements {numbers} ({line_range})")
    }
}

/// `1–6, 9` from indexes `[0..=5, 8]`.
fn ranges(list: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < list.len() {
        let start = list[i];
        let mut end = start;
        while i + 1 < list.len() && list[i + 1] == end + 1 {
            i += 1;
            end = list[i];
        }
        parts.push(if start == end {
            format!("{}", start + 1)
        } else {
            format!("{}–{}", start + 1, end + 1)
        });
        i += 1;
    }
    parts.join(", ")
}

#[allow(clippy::too_many_arguments)]
fn describe(
    unit: &CommitUnit,
    committed: &[usize],
    rerun_fails: &[RerunFailure],
    leftovers: &[Leftover],
    statements: &[StatementReport],
    revision: Option<&RevisionNames>,
    ops: &[Op],
    rollback_complete: bool,
) -> String {
    let mut out = String::new();
    if unit.work.len() == 1 {
        let _ = write!(out, "If {} fails, ", which(&unit.work, statements));
    } else {
        let _ = write!(out, "If any of {} fails, ", which(&unit.work, statements));
    }
    if unit.in_transaction {
        out.push_str("its transaction rolls back and leaves nothing of it");
    } else if leftovers.is_empty() {
        out.push_str("it leaves nothing behind (it runs on its own, outside a transaction block)");
    } else {
        out.push_str("it runs outside a transaction block and can leave something behind");
    }
    let lost_enum = committed
        .iter()
        .any(|&i| matches!(ops.get(i), Some(Op::AlterTypeAddValue { .. })));
    if committed.is_empty() {
        out.push('.');
    } else {
        let verb = if committed.len() == 1 { "is" } else { "are" };
        let scope = match revision {
            Some(r) => {
                let parents = if r.parents.is_empty() {
                    "base".to_string()
                } else {
                    r.parents.join(", ")
                };
                format!(
                    " of revision {} {verb} committed already, while alembic_version still says {parents}: a retry runs the whole revision again",
                    r.id
                )
            }
            None => format!(" {verb} committed already: a retry runs the whole file again"),
        };
        let _ = write!(out, "; {}{scope}.", which(committed, statements));
    }
    for l in leftovers {
        let _ = match l.kind {
            LeftoverKind::InvalidIndex => write!(
                out,
                " The index {} may be left INVALID (ignored by queries, still updated by every write): {}",
                l.object, l.fix
            ),
            LeftoverKind::PendingDetach => write!(
                out,
                " The partition {} may be left pending detach: {}",
                l.object, l.fix
            ),
        };
        // A fix that ends with a statement ends the sentence with its `;`.
        if !out.ends_with([';', '.']) {
            out.push('.');
        }
    }
    if !rerun_fails.is_empty() {
        let first = &rerun_fails[0];
        let _ = write!(
            out,
            " The retry fails at {}: {}",
            which(&[first.statement], statements),
            first.reason
        );
        if rerun_fails.len() > 1 {
            let _ = write!(out, " (and {} more like it)", rerun_fails.len() - 1);
        }
        out.push_str(
            ". Finish by running the remaining statements by hand, or undo with the generated rollback",
        );
        if rollback_complete {
            out.push_str(" (it skips what never ran) and retry.");
        } else {
            out.push_str(" (incomplete: see its header) and retry.");
        }
    } else if !committed.is_empty() {
        out.push_str(" None of their schema changes fails on a second run");
        let dml = committed.iter().any(|&i| {
            matches!(
                ops.get(i),
                Some(
                    Op::Insert { .. }
                        | Op::Update { .. }
                        | Op::Delete { .. }
                        | Op::Merge { .. }
                        | Op::Copy { .. }
                        | Op::Do { .. }
                )
            )
        });
        if dml {
            out.push_str(", but their data changes run twice: check that they may");
        }
        out.push('.');
    }
    if lost_enum {
        out.push_str(" An enum value added by ALTER TYPE … ADD VALUE stays: it cannot be removed.");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::ranges;

    #[test]
    fn ranges_are_compact_and_one_based() {
        assert_eq!(ranges(&[0, 1, 2, 3, 4, 5]), "1–6");
        assert_eq!(ranges(&[1, 3, 4, 8]), "2, 4–5, 9");
        assert_eq!(ranges(&[]), "");
    }
}
