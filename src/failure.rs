//! Failure modes: what a migration that stops half-way leaves behind, and what to run next.
//!
//! A migration commits in *commit units*: a `BEGIN … COMMIT` block is one unit, and every statement
//! outside a block is its own (autocommit). When a unit fails, PostgreSQL undoes that unit, but the
//! earlier units stay committed, while the migration tool's version row (bumped at the end of the
//! revision) still names the previous revision: a retry runs the whole revision again. A few
//! statements leave something behind even though they failed (an INVALID index after a failed
//! `CREATE INDEX CONCURRENTLY`).
//!
//! This module sees only our IR and each statement's first line; `analyze` calls it once, after the pass.

use crate::ir::{AlterAction, ObjectKind, Op, QualName, TxControl};
use crate::pg::rerun::rerun_failure;
use crate::report::{FailureMode, Leftover, LeftoverKind, RerunFailure, Transaction};
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
    /// Per unit: its revision ([`Units::revision`], computed once).
    unit_revision: Vec<Option<usize>>,
    /// Per revision (index 0: outside every revision, then revision `r` at `r + 1`): its units
    /// that do work, in order, and whether it has a transaction block. Rules ask about the other
    /// units of a statement's revision for every statement; scanning all units each time was
    /// quadratic in a file of many autocommit statements.
    by_revision: Vec<RevisionUnits>,
    /// How many units (from the first) `unit_revision` and `by_revision` cover. `unit_revision`
    /// may hold one more entry: the revision of the block being read ([`UnitsBuilder::open_block`]).
    indexed: usize,
}

#[derive(Debug, Clone, Default)]
struct RevisionUnits {
    work_units: Vec<usize>,
    /// Per entry of `work_units`: how many statements the work units up to it hold.
    statements_through: Vec<usize>,
    /// Per entry of `work_units`: how many work statements the autocommit units up to it hold.
    autocommit_work_through: Vec<usize>,
    /// The first statement of the revision that fails when run again, and its unit.
    first_rerun_failure: Option<(usize, usize)>,
    has_block: bool,
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

    /// Indexes the units from the first not yet indexed up to `until` (exclusive), in order. Each
    /// must be complete: its block closed, or its one autocommit statement read.
    fn index(&mut self, until: usize, ops: &[Op]) {
        let from = self.indexed;
        self.unit_revision.truncate(from);
        self.indexed = self.indexed.max(until.min(self.units.len()));
        for (i, unit) in self.units.iter().enumerate().take(until).skip(from) {
            let revision = self.revision(unit);
            self.unit_revision.push(revision);
            let slot = revision.map_or(0, |r| r + 1);
            if self.by_revision.len() <= slot {
                self.by_revision
                    .resize_with(slot + 1, RevisionUnits::default);
            }
            let r = &mut self.by_revision[slot];
            r.has_block |= unit.in_transaction;
            if !unit.work.is_empty() {
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
        }
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
        // The count from the per-revision sums, the list from the first units: a rule asks this
        // once per unit, so walking all earlier units would be quadratic in a long revision.
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
    pub listed: Vec<usize>,
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
    let mut units = UnitsBuilder::new(revision_of);
    for (i, op) in ops.iter().enumerate() {
        let tx = transactions
            .get(i)
            .copied()
            .unwrap_or(Transaction::Autocommit);
        units.push(op, tx);
    }
    units.finish(ops)
}

/// [`units`] a statement at a time, for a pass that reads the statements as they are lowered.
/// The units it has indexed answer every question of [`Units`] exactly as the units of the whole
/// file would: for the statements before the cut they were indexed at
/// ([`UnitsBuilder::index_closed`]), and for those of a block whose revision is known
/// ([`UnitsBuilder::open_block`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct UnitsBuilder {
    out: Units,
    /// The block being read.
    open: Option<usize>,
}

impl UnitsBuilder {
    pub(crate) fn new(revision_of: Vec<Option<usize>>) -> Self {
        UnitsBuilder {
            out: Units {
                unit_of: Vec::with_capacity(revision_of.len()),
                revision_of,
                ..Units::default()
            },
            open: None,
        }
    }

    /// Adds the next statement.
    pub(crate) fn push(&mut self, op: &Op, tx: Transaction) {
        let i = self.out.unit_of.len();
        let out = &mut self.out;
        let unit = match (self.open, op) {
            (None, Op::Transaction(TxControl::Begin)) => {
                out.units.push(CommitUnit {
                    statements: Vec::new(),
                    in_transaction: true,
                    work: Vec::new(),
                });
                self.open = Some(out.units.len() - 1);
                self.open
            }
            (Some(u), Op::Transaction(TxControl::Commit | TxControl::Rollback)) => {
                self.open = None;
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
        out.unit_of.push(unit);
    }

    /// Whether a transaction block is open after the statements pushed so far.
    pub(crate) fn in_block(&self) -> bool {
        self.open.is_some()
    }

    /// How many units the statements pushed so far make.
    pub(crate) fn count(&self) -> usize {
        self.out.units.len()
    }

    /// Indexes the first `count` units (a [`UnitsBuilder::count`] taken when no block was open,
    /// so each of them is complete). `ops` holds at least their statements, slimmed or not
    /// (`rerun_failure` reads a slimmed statement the same: see the test below).
    pub(crate) fn index_closed(&mut self, count: usize, ops: &[Op]) {
        self.out.index(count, ops);
    }

    /// Whether `statement` (pushed) is in a transaction block, and which unit that is.
    pub(crate) fn block_of(&self, statement: usize) -> Option<usize> {
        self.out
            .unit_index(statement)
            .filter(|&u| self.out.units.get(u).is_some_and(|c| c.in_transaction))
    }

    /// Makes the units answer for the statements of block `unit`, if what is pushed so far is
    /// enough; false otherwise. A rule asks about a block's own unit only what the units before
    /// it decide (what they committed, their first rerun failure, their autocommit work) and the
    /// block's revision: the units before it are complete (only the last unit can be open), and
    /// the revision of a block is that of its first statement doing work, known once one is
    /// pushed. What a rule asks only of autocommit units (whether work follows in the revision,
    /// whether the revision has a block) needs the revision's end: a cut.
    pub(crate) fn open_block(&mut self, unit: usize, ops: &[Op]) -> bool {
        let closed = self.open != Some(unit);
        self.out.index(if closed { unit + 1 } else { unit }, ops);
        if closed {
            return true;
        }
        match self.out.units.get(unit) {
            Some(u) if !u.work.is_empty() => {
                let revision = self.out.revision(u);
                self.out.unit_revision.push(revision);
                true
            }
            _ => false,
        }
    }

    /// The units as far as they are indexed.
    pub(crate) fn units(&self) -> &Units {
        &self.out
    }

    /// The units of the whole file, once every statement is pushed (a block still open at the
    /// end of the file is a unit too).
    pub(crate) fn finish(mut self, ops: &[Op]) -> Units {
        self.out.index(self.out.units.len(), ops);
        self.out
    }
}

/// What the file's revisions are, for the wording.
pub struct RevisionNames<'a> {
    pub id: &'a str,
    pub parents: &'a [String],
}

/// A failure mode lists at most this many committed statements (`committed`) and committed
/// statements whose rerun fails (`rerun_fails`); `committed_count` and `rerun_fail_count` count them
/// all, and the message covers them all. Each unit lists what the units before it committed, so
/// without a bound a revision (or a file without revisions) of thousands of autocommit statements
/// made the report quadratic in the file's size: a plain 5,000-statement file gave 760 MB of JSON.
pub const LISTED: usize = 20;

/// What the earlier units of one revision have committed, kept up to date unit by unit.
#[derive(Default)]
struct Committed {
    listed: Vec<usize>,
    count: usize,
    /// The last committed statement (for the line range of the message).
    last: Option<usize>,
    rerun: Vec<RerunFailure>,
    rerun_count: usize,
    /// Some committed statement changes data (its rerun does the work twice).
    dml: bool,
    /// Some committed statement adds an enum value (it stays after a rollback).
    lost_enum: bool,
}

impl Committed {
    fn add(&mut self, unit: &CommitUnit, ops: &[Op]) {
        for &i in &unit.statements {
            if self.listed.len() < LISTED {
                self.listed.push(i);
            }
            self.count += 1;
            self.last = Some(i);
        }
        for &i in &unit.work {
            let op = ops.get(i);
            self.dml |= matches!(
                op,
                Some(
                    Op::Insert { .. }
                        | Op::Update { .. }
                        | Op::Delete { .. }
                        | Op::Merge { .. }
                        | Op::Copy { .. }
                        | Op::Do { .. }
                )
            );
            self.lost_enum |= matches!(op, Some(Op::AlterTypeAddValue { .. }));
            if let Some(reason) = op.and_then(rerun_failure) {
                if self.rerun.len() < LISTED {
                    self.rerun.push(RerunFailure {
                        statement: i,
                        reason,
                    });
                }
                self.rerun_count += 1;
            }
        }
    }
}

/// The failure modes: per revision (same order as `revisions`), and for the units outside any
/// revision. Units without work are left out: their failure changes nothing.
pub fn failure_modes(
    units: &Units,
    ops: &[Op],
    lines: &[u32],
    revisions: &[RevisionNames],
    rollback_complete: bool,
) -> (Vec<Vec<FailureMode>>, Vec<FailureMode>) {
    let mut per_revision: Vec<Vec<FailureMode>> = vec![Vec::new(); revisions.len()];
    let mut outside = Vec::new();
    // Index 0: outside every revision; revision `r` at `r + 1`.
    let mut committed: Vec<Committed> = Vec::new();
    committed.resize_with(revisions.len() + 1, Committed::default);
    // Per slot, the last unit seen: added to what is committed only when a later unit of its
    // revision asks (the last unit of a revision commits before nothing, and adding it formats
    // the rerun failure of each of its statements).
    let mut pending: Vec<Option<&CommitUnit>> = vec![None; revisions.len() + 1];
    let mut number = 0;
    for unit in &units.units {
        if unit.work.is_empty() {
            continue;
        }
        number += 1;
        let rev = units.revision(unit);
        let slot = rev.map_or(0, |r| r + 1);
        if committed.len() <= slot {
            committed.resize_with(slot + 1, Committed::default);
            pending.resize(slot + 1, None);
        }
        if let Some(earlier) = pending[slot].replace(unit) {
            committed[slot].add(earlier, ops);
        }
        let before = &committed[slot];
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
            before,
            &leftovers,
            lines,
            rev.and_then(|r| revisions.get(r)),
            rollback_complete,
        );
        let mode = FailureMode {
            unit: number,
            statements: unit.statements.clone(),
            in_transaction: unit.in_transaction,
            committed: before.listed.clone(),
            committed_count: before.count,
            rerun_fails: before.rerun.clone(),
            rerun_fail_count: before.rerun_count,
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
fn which(list: &[usize], lines: &[u32]) -> String {
    let lines: Vec<u32> = list.iter().filter_map(|&i| lines.get(i).copied()).collect();
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

fn describe(
    unit: &CommitUnit,
    committed: &Committed,
    leftovers: &[Leftover],
    lines: &[u32],
    revision: Option<&RevisionNames>,
    rollback_complete: bool,
) -> String {
    let mut out = String::new();
    if unit.work.len() == 1 {
        let _ = write!(out, "If {} fails, ", which(&unit.work, lines));
    } else {
        let _ = write!(out, "If any of {} fails, ", which(&unit.work, lines));
    }
    if unit.in_transaction {
        out.push_str("its transaction rolls back and leaves nothing of it");
    } else if leftovers.is_empty() {
        out.push_str("it leaves nothing behind (it runs on its own, outside a transaction block)");
    } else {
        out.push_str("it runs outside a transaction block and can leave something behind");
    }
    if committed.count == 0 {
        out.push('.');
    } else {
        let verb = if committed.count == 1 { "is" } else { "are" };
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
        let _ = write!(out, "; {}{scope}.", which_committed(committed, lines));
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
    if let Some(first) = committed.rerun.first() {
        let _ = write!(
            out,
            " The retry fails at {}: {}",
            which(&[first.statement], lines),
            first.reason
        );
        if committed.rerun_count > 1 {
            let _ = write!(out, " (and {} more like it)", committed.rerun_count - 1);
        }
        out.push_str(
            ". Finish by running the remaining statements by hand, or undo with the generated rollback",
        );
        if rollback_complete {
            out.push_str(" (it skips what never ran) and retry.");
        } else {
            out.push_str(" (incomplete: see its header) and retry.");
        }
    } else if committed.count > 0 {
        out.push_str(" None of their schema changes fails on a second run");
        if committed.dml {
            out.push_str(", but their data changes run twice: check that they may");
        }
        out.push('.');
    }
    if committed.lost_enum {
        out.push_str(" An enum value added by ALTER TYPE … ADD VALUE stays: it cannot be removed.");
    }
    out
}

/// [`which`] for what earlier units committed: the listed statements, and how many more.
fn which_committed(c: &Committed, lines: &[u32]) -> String {
    if c.count <= c.listed.len() {
        return which(&c.listed, lines);
    }
    let line = |i: Option<&usize>| i.and_then(|&i| lines.get(i)).copied().unwrap_or(0);
    format!(
        "statements {}, … ({} in all, lines {}–{})",
        ranges(&c.listed),
        c.count,
        line(c.listed.first()),
        line(c.last.as_ref())
    )
}

#[cfg(test)]
mod tests {
    use super::{leftovers_of, ranges, rerun_failure};

    /// The pass slims each statement's IR once it has left it (`Op::slim`); the failure modes, the
    /// retry rules and the lock descriptions read earlier statements afterwards and must see the
    /// same thing.
    #[test]
    fn slimmed_statements_read_the_same_for_what_comes_after() {
        let sql = "CREATE TABLE t (id int PRIMARY KEY, name text DEFAULT 'x' REFERENCES u (n));
CREATE TABLE IF NOT EXISTS u (id int, CHECK (id > 0));
CREATE INDEX CONCURRENTLY ix ON t (lower(name)) INCLUDE (id) WHERE id > 0;
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix2 ON t (name);
CREATE UNIQUE INDEX ON t (id);
INSERT INTO t (id) SELECT id FROM u WHERE id > 1;
INSERT INTO t (id, name) VALUES (1, 'a');
UPDATE t SET name = 'y' FROM u WHERE t.id = u.id;
DELETE FROM t WHERE id = 2;
SELECT * FROM t JOIN u USING (id) WHERE id = 3;
DO $$ BEGIN CREATE TYPE e AS ENUM ('a'); END $$;
ALTER TABLE t ADD COLUMN c int DEFAULT 0;
";
        let ops = crate::ir::read_ops(sql);
        assert_eq!(ops.len(), 12);
        let mut changed = 0;
        for op in &ops {
            let mut slim = op.clone();
            slim.slim();
            changed += usize::from(slim != *op);
            assert_eq!(slim.kind(), op.kind());
            assert_eq!(slim.target_table(), op.target_table());
            assert_eq!(slim.is_parsed(), op.is_parsed());
            assert_eq!(rerun_failure(&slim), rerun_failure(op), "{op:?}");
            assert_eq!(
                format!("{:?}", leftovers_of(&slim)),
                format!("{:?}", leftovers_of(op)),
                "{op:?}"
            );
        }
        // Everything but the ALTER TABLE had something to free.
        assert_eq!(changed, 11);
    }

    #[test]
    fn ranges_are_compact_and_one_based() {
        assert_eq!(ranges(&[0, 1, 2, 3, 4, 5]), "1–6");
        assert_eq!(ranges(&[1, 3, 4, 8]), "2, 4–5, 9");
        assert_eq!(ranges(&[]), "");
    }
}
