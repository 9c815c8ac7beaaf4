//! Commit units: how a migration commits. A `BEGIN … COMMIT` block is one unit, and every statement
//! outside a block is its own (autocommit). When a unit fails, PostgreSQL undoes that unit, but the
//! earlier units stay committed while the migration tool's version row (bumped at the end of the
//! revision) still names the previous revision: a retry runs the whole revision again. The rules
//! about retries ask these questions; the report's failure modes describe them.

use crate::ir::{Op, TxControl};
use crate::pg::rerun::rerun_failure;
use crate::vocab::Transaction;

/// A list of statements names at most this many; counts cover them all. Each unit lists what the
/// units before it committed, so without a bound a revision (or a file without revisions) of
/// thousands of autocommit statements would make the report quadratic in the file's size.
pub const LISTED: usize = 20;

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

/// The commit units of a file, which unit each statement belongs to, and per revision the units
/// that do work (rules ask about the other units of a statement's revision for every statement:
/// the per-revision sums keep each question cheap).
#[derive(Debug, Clone, Default)]
pub struct Units {
    /// Every unit, in order.
    pub units: Vec<CommitUnit>,
    /// Per statement: its unit (index into `units`), `None` for empty statements, printed text and
    /// stray transaction control outside a block.
    unit_of: Vec<Option<usize>>,
    /// Per statement: its revision (index into the file's revisions).
    revision_of: Vec<Option<usize>>,
    /// Per unit: its revision.
    unit_revision: Vec<Option<usize>>,
    /// Per revision (index 0: outside every revision, then revision `r` at `r + 1`).
    by_revision: Vec<RevisionUnits>,
}

#[derive(Debug, Clone, Default)]
struct RevisionUnits {
    /// The revision's units that do work, in order.
    work_units: Vec<usize>,
    /// Per entry of `work_units`: how many statements the work units up to it hold.
    statements_through: Vec<usize>,
    /// Per entry of `work_units`: how many work statements the autocommit units up to it hold.
    autocommit_work_through: Vec<usize>,
    /// The first statement of the revision that fails when run again, and its unit.
    first_rerun_failure: Option<(usize, usize)>,
    has_block: bool,
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
        unit_of: Vec::with_capacity(ops.len()),
        revision_of,
        ..Units::default()
    };
    let mut open: Option<usize> = None;
    for (i, op) in ops.iter().enumerate() {
        let unit = match (open, op) {
            (None, Op::Transaction(TxControl::Begin)) => {
                open = Some(out.push_unit(true));
                open
            }
            (Some(u), Op::Transaction(TxControl::Commit | TxControl::Rollback)) => {
                open = None;
                Some(u)
            }
            (Some(u), _) => Some(u),
            // Outside a block: empty statements, printed text and stray COMMITs commit nothing.
            (None, Op::Empty | Op::Text | Op::Transaction(_)) => None,
            (None, _) => Some(out.push_unit(false)),
        };
        let tx = transactions
            .get(i)
            .copied()
            .unwrap_or(Transaction::Autocommit);
        if let Some(u) = unit.and_then(|u| out.units.get_mut(u)) {
            u.statements.push(i);
            if is_work(op, tx) {
                u.work.push(i);
            }
        }
        out.unit_of.push(unit);
    }
    // A plain file has a unit per statement: no spare room in their lists.
    for u in &mut out.units {
        u.statements.shrink_to_fit();
        u.work.shrink_to_fit();
    }
    out.units.shrink_to_fit();
    out.index(ops);
    out
}

impl Units {
    fn push_unit(&mut self, in_transaction: bool) -> usize {
        self.units.push(CommitUnit {
            statements: Vec::new(),
            in_transaction,
            work: Vec::new(),
        });
        self.units.len() - 1
    }

    /// Fills the per-unit revisions and the per-revision sums.
    fn index(&mut self, ops: &[Op]) {
        for (i, unit) in self.units.iter().enumerate() {
            let revision = self.revision(unit);
            self.unit_revision.push(revision);
            let slot = revision.map_or(0, |r| r + 1);
            if self.by_revision.len() <= slot {
                self.by_revision
                    .resize_with(slot + 1, RevisionUnits::default);
            }
            let r = &mut self.by_revision[slot];
            r.has_block |= unit.in_transaction;
            if unit.work.is_empty() {
                continue;
            }
            let autocommit_work = if unit.in_transaction {
                0
            } else {
                unit.work.len()
            };
            let statements = r.statements_through.last().copied().unwrap_or(0);
            let autocommit = r.autocommit_work_through.last().copied().unwrap_or(0);
            r.work_units.push(i);
            r.statements_through
                .push(statements + unit.statements.len());
            r.autocommit_work_through.push(autocommit + autocommit_work);
            if r.first_rerun_failure.is_none() {
                r.first_rerun_failure = unit
                    .work
                    .iter()
                    .find(|&&w| ops.get(w).and_then(rerun_failure).is_some())
                    .map(|&w| (i, w));
            }
        }
        self.unit_revision.shrink_to_fit();
        for r in &mut self.by_revision {
            r.work_units.shrink_to_fit();
            r.statements_through.shrink_to_fit();
            r.autocommit_work_through.shrink_to_fit();
        }
    }

    /// The unit's revision: that of its first statement doing work.
    pub fn revision(&self, unit: &CommitUnit) -> Option<usize> {
        unit.work
            .first()
            .or(unit.statements.first())
            .and_then(|&i| self.revision_of.get(i).copied().flatten())
    }

    /// The unit `statement` belongs to (index into `units`).
    pub fn unit_index(&self, statement: usize) -> Option<usize> {
        self.unit_of.get(statement).copied().flatten()
    }

    /// The units before `unit` (an index into `units`) of the same revision that do work: what is
    /// committed when `unit` fails.
    pub fn committed_before(&self, unit: usize) -> impl Iterator<Item = &CommitUnit> {
        let same = self.same_revision(unit);
        let before = same.partition_point(|&u| u < unit);
        same[..before].iter().filter_map(|&u| self.units.get(u))
    }

    /// The units of `unit`'s revision that do work, in order.
    fn same_revision(&self, unit: usize) -> &[usize] {
        self.revision_slot(unit)
            .map_or(&[], |r| r.work_units.as_slice())
    }

    fn revision_slot(&self, unit: usize) -> Option<&RevisionUnits> {
        let rev = self.unit_revision.get(unit).copied()?;
        self.by_revision.get(rev.map_or(0, |r| r + 1))
    }

    /// Whether a later unit of the same revision does work: a failure there leaves `unit`
    /// committed, and a retry runs it again.
    pub fn work_follows(&self, unit: usize) -> bool {
        self.same_revision(unit).last().is_some_and(|&l| l > unit)
    }

    /// Whether the revision of `unit` also has a transaction block.
    pub fn revision_has_block(&self, unit: usize) -> bool {
        self.revision_slot(unit).is_some_and(|r| r.has_block)
    }

    /// The first statement committed before `unit` (same revision) that fails when run again,
    /// with why, and the committed statements (the first [`LISTED`], with their count).
    pub fn rerun_blocker(&self, unit: usize, ops: &[Op]) -> Option<(usize, String, Listed)> {
        // Earlier units come first, and within a unit its statements in order: the first one
        // of the revision that fails a rerun is the blocker, if its unit is before this one.
        let (_, i) = self
            .revision_slot(unit)?
            .first_rerun_failure
            .filter(|&(u, _)| u < unit)?;
        let reason = ops.get(i).and_then(rerun_failure)?;
        let mut committed = Listed {
            listed: Vec::new(),
            count: self.total_before(unit, |r| &r.statements_through),
        };
        for c in self.committed_before(unit) {
            let room = LISTED.saturating_sub(committed.listed.len());
            if room == 0 {
                break;
            }
            committed
                .listed
                .extend(c.statements.iter().copied().take(room));
        }
        Some((i, reason, committed))
    }

    /// The work statements of the autocommit units before `unit` of its revision (what committed
    /// on its own before a transaction block): the first [`LISTED`], and their count.
    pub fn autocommit_work_before(&self, unit: usize) -> Listed {
        let count = self.total_before(unit, |r| &r.autocommit_work_through);
        let listed = if count == 0 {
            Vec::new()
        } else {
            self.committed_before(unit)
                .filter(|c| !c.in_transaction)
                .flat_map(|c| c.work.iter().copied())
                .take(LISTED)
                .collect()
        };
        Listed { listed, count }
    }

    /// A running total of `unit`'s revision (`totals` picks it) over the work units before `unit`.
    fn total_before(&self, unit: usize, totals: impl Fn(&RevisionUnits) -> &Vec<usize>) -> usize {
        self.revision_slot(unit).map_or(0, |r| {
            let before = r.work_units.partition_point(|&u| u < unit);
            before
                .checked_sub(1)
                .and_then(|last| totals(r).get(last).copied())
                .unwrap_or(0)
        })
    }
}

/// Statement indexes, of which only the first [`LISTED`] are kept, and how many there are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listed {
    /// The first statements (at most [`LISTED`]).
    pub listed: Vec<usize>,
    /// How many there are in all.
    pub count: usize,
}

impl Listed {
    /// `statements 1–4`, or `statements 1–20, … (3000 in all)`.
    pub fn numbers(&self) -> String {
        if self.count <= self.listed.len() {
            statement_numbers(&self.listed)
        } else {
            format!(
                "statements {}, … ({} in all)",
                ranges(&self.listed),
                self.count
            )
        }
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

/// `1–6, 9` from indexes `[0..=5, 8]`.
pub fn ranges(list: &[usize]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_compact_and_one_based() {
        assert_eq!(ranges(&[0, 1, 2, 3, 4, 5]), "1–6");
        assert_eq!(ranges(&[1, 3, 4, 8]), "2, 4–5, 9");
        assert_eq!(ranges(&[]), "");
    }

    #[test]
    fn blocks_and_autocommit_statements_make_units() {
        let sql = "CREATE TABLE a (id int);\nBEGIN;\nALTER TABLE a ADD COLUMN b int;\nSET lock_timeout = '1s';\nCOMMIT;\nCOMMIT;\nCREATE INDEX ix ON a (b);\n";
        let ops = crate::ir::read_ops(sql);
        let tx = [
            Transaction::Autocommit,
            Transaction::InTransaction,
            Transaction::InTransaction,
            Transaction::InTransaction,
            Transaction::InTransaction,
            Transaction::Autocommit,
            Transaction::Autocommit,
        ];
        let u = units(&ops, &tx, vec![None; ops.len()]);
        assert_eq!(u.units.len(), 3);
        assert_eq!(u.units[1].statements, [1, 2, 3, 4]);
        assert_eq!(u.units[1].work, [2]);
        assert_eq!(u.unit_index(5), None);
        assert_eq!(u.unit_index(6), Some(2));
        assert!(u.work_follows(0) && !u.work_follows(2));
        assert_eq!(u.committed_before(2).count(), 2);
        assert_eq!(u.autocommit_work_before(2).listed, [0]);
    }
}
