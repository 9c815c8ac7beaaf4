//! Failure modes: what a migration that stops half-way leaves behind, and what to run next, per
//! commit unit ([`crate::pg::units`]). A few statements leave something behind even though they
//! failed (an INVALID index after a failed `CREATE INDEX CONCURRENTLY`).

use crate::ir::{AlterAction, ObjectKind, Op, QualName};
use crate::pg::rerun::rerun_failure;
use crate::pg::units::{CommitUnit, LISTED, Units, ranges};
use crate::report::{FailureMode, Leftover, LeftoverKind, RerunFailure};
use std::fmt::Write;
use std::sync::Arc;

/// What the file's revisions are, for the wording.
pub struct RevisionNames<'a> {
    pub id: &'a str,
    pub parents: &'a [String],
}

/// What the failure modes need to know of one statement, read off its lowered form so that the
/// lowered statements can be dropped before the failure modes are written.
#[derive(Default)]
pub struct StatementFacts {
    /// It changes data: its rerun does the work twice.
    dml: bool,
    /// It adds an enum value, which stays after a rollback.
    lost_enum: bool,
    /// It fails (or does its work twice) when run again. The reason is kept for the first
    /// [`LISTED`] such statements of each revision, the ones a failure mode names.
    rerun: Option<Option<String>>,
    /// What a failure of it leaves behind outside a transaction block.
    leftovers: Vec<Leftover>,
}

/// The facts of every statement (by index).
pub fn statement_facts(units: &Units, ops: &[Op]) -> Vec<StatementFacts> {
    let mut facts: Vec<StatementFacts> = Vec::new();
    facts.resize_with(ops.len(), StatementFacts::default);
    // Per revision slot (0: outside every revision, revision `r` at `r + 1`): reasons kept so far.
    let mut reasons: Vec<usize> = Vec::new();
    for unit in &units.units {
        let slot = units.revision(unit).map_or(0, |r| r + 1);
        if reasons.len() <= slot {
            reasons.resize(slot + 1, 0);
        }
        for &i in &unit.work {
            let (Some(op), Some(f)) = (ops.get(i), facts.get_mut(i)) else {
                continue;
            };
            f.dml = matches!(
                op,
                Op::Insert { .. }
                    | Op::Update { .. }
                    | Op::Delete { .. }
                    | Op::Merge { .. }
                    | Op::Copy { .. }
                    | Op::Do { .. }
            );
            f.lost_enum = matches!(op, Op::AlterTypeAddValue { .. });
            f.rerun = rerun_failure(op).map(|reason| {
                reasons[slot] += 1;
                (reasons[slot] <= LISTED).then_some(reason)
            });
            // A CONCURRENTLY statement in a block fails before it does anything.
            if !unit.in_transaction {
                f.leftovers = leftovers_of(op);
            }
        }
    }
    facts
}

/// What the earlier units of one revision have committed, kept up to date unit by unit. The lists
/// stop growing at [`LISTED`] entries, so the failure modes of the units after that share them
/// (a plain file of many autocommit statements has one unit per statement).
#[derive(Default)]
struct Committed {
    listed: Arc<[usize]>,
    count: usize,
    /// The last committed statement (for the line range of the message).
    last: Option<usize>,
    rerun: Arc<[RerunFailure]>,
    rerun_count: usize,
    /// Some committed statement changes data (its rerun does the work twice).
    dml: bool,
    /// Some committed statement adds an enum value (it stays after a rollback).
    lost_enum: bool,
}

impl Committed {
    fn add(&mut self, unit: &CommitUnit, facts: &[StatementFacts]) {
        let room = LISTED.saturating_sub(self.listed.len());
        if room > 0 {
            let more = unit.statements.iter().take(room);
            self.listed = self.listed.iter().chain(more).copied().collect();
        }
        self.count += unit.statements.len();
        self.last = unit.statements.last().copied().or(self.last);
        let mut rerun = Vec::new();
        for (i, f) in unit.work.iter().filter_map(|&i| Some((i, facts.get(i)?))) {
            self.dml |= f.dml;
            self.lost_enum |= f.lost_enum;
            if let Some(reason) = &f.rerun {
                if let Some(reason) = reason
                    .as_ref()
                    .filter(|_| self.rerun.len() + rerun.len() < LISTED)
                {
                    rerun.push(RerunFailure {
                        statement: i,
                        reason: reason.clone(),
                    });
                }
                self.rerun_count += 1;
            }
        }
        if !rerun.is_empty() {
            self.rerun = self.rerun.iter().cloned().chain(rerun).collect();
        }
    }
}

/// The failure modes: per revision (same order as `revisions`), and for the units outside any
/// revision. Units without work are left out: their failure changes nothing.
pub fn failure_modes(
    units: &Units,
    facts: &[StatementFacts],
    lines: &[u32],
    revisions: &[RevisionNames],
    rollback_complete: bool,
) -> (Vec<Vec<FailureMode>>, Vec<FailureMode>) {
    // Index 0: outside every revision; revision `r` at `r + 1`. The lists are sized first: a
    // plain file has a failure mode per statement, and growing the list would copy it.
    let slot_of = |rev: Option<usize>| rev.filter(|&r| r < revisions.len()).map_or(0, |r| r + 1);
    let mut sizes = vec![0; revisions.len() + 1];
    for unit in units.units.iter().filter(|u| !u.work.is_empty()) {
        sizes[slot_of(units.revision(unit))] += 1;
    }
    let mut lists: Vec<Vec<FailureMode>> = sizes.iter().map(|&n| Vec::with_capacity(n)).collect();
    let mut committed: Vec<Committed> = Vec::new();
    committed.resize_with(lists.len(), Committed::default);
    // Per slot, the last unit seen: added to what is committed only when a later unit of its
    // revision asks (the last unit of a revision commits before nothing).
    let mut pending: Vec<Option<&CommitUnit>> = vec![None; lists.len()];
    let mut number = 0;
    for unit in &units.units {
        if unit.work.is_empty() {
            continue;
        }
        number += 1;
        let rev = units.revision(unit);
        let slot = slot_of(rev);
        if let Some(earlier) = pending[slot].replace(unit) {
            committed[slot].add(earlier, facts);
        }
        let before = &committed[slot];
        let leftovers: Vec<Leftover> = unit
            .work
            .iter()
            .filter_map(|&i| facts.get(i))
            .flat_map(|f| f.leftovers.iter().cloned())
            .collect();
        let message = describe(
            unit,
            before,
            &leftovers,
            lines,
            rev.and_then(|r| revisions.get(r)),
            rollback_complete,
        );
        lists[slot].push(FailureMode {
            unit: number,
            statements: unit.statements.clone(),
            in_transaction: unit.in_transaction,
            committed: before.listed.clone(),
            committed_count: before.count,
            rerun_fails: before.rerun.clone(),
            rerun_fail_count: before.rerun_count,
            leftovers,
            message,
        });
    }
    let mut lists = lists.into_iter();
    let outside = lists.next().unwrap_or_default();
    (lists.collect(), outside)
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
    out.shrink_to_fit();
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
    use super::*;

    #[test]
    fn a_failed_concurrent_index_leaves_an_invalid_index() {
        let ops = crate::ir::read_ops("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON t (a);");
        let left = leftovers_of(&ops[0]);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].object, "ix");
        assert!(left[0].fix.contains("IF NOT EXISTS does not help"));
    }
}
