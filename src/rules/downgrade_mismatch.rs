//! # downgrade-mismatch
//! The author's downgrade does not restore what the upgrade changed.
//!
//! ## What it does
//! With `--downgrade FILE` (the author's `alembic downgrade B:A --sql` export), migsafe applies each
//! revision's downgrade to the schema after the upgrade and compares the result with the schema
//! before it: tables, columns (type, NOT NULL, default), constraints (and their validity), indexes
//! and enum types. Every difference is a finding on the revision's first statement, and the help
//! lists how the downgrade's statements differ from the rollback migsafe generates.
//!
//! ## Why is this bad?
//! A downgrade is what the team runs when a release goes wrong, under pressure and rarely tested. One
//! that forgets an index, a default or a function leaves the database in a state no revision
//! describes: the next upgrade fails (`relation already exists`) or, worse, silently behaves
//! differently.
//!
//! ## Example
//! ```sql
//! -- upgrade
//! CREATE INDEX ix_runs_status ON runs (status);
//! ALTER TABLE runs ALTER COLUMN priority SET DEFAULT 2;
//! -- downgrade: forgets the index and the old default
//! ALTER TABLE runs ALTER COLUMN priority DROP DEFAULT;
//! ```
//!
//! ## Use instead
//! ```sql
//! DROP INDEX IF EXISTS ix_runs_status;
//! ALTER TABLE runs ALTER COLUMN priority SET DEFAULT 3;
//! ```
//! Or start the downgrade from the script `migsafe rollback` generates.
//!
//! ## References
//! - https://alembic.sqlalchemy.org/en/latest/offline.html
//! - https://alembic.sqlalchemy.org/en/latest/tutorial.html#downgrading

use super::{Hit, Migration, Rule};
use crate::catalog::Catalog;
use crate::ir::{Op, QualName};
use crate::rollback;
use crate::source::{self, Direction, Read, RevisionStep};
use crate::vocab::{Severity, Transaction};
use std::borrow::Cow;
use std::collections::BTreeSet;

pub(crate) const RULE: Rule = Rule {
    id: "downgrade-mismatch",
    severity: Severity::Warning,
    summary: "The author's downgrade does not restore what the upgrade changed.",
    scales_with_size: false,
    check: None,
    check_migration: Some(check_migration),
};

/// Replays the migration over the schema, and compares each upgrade revision's downgrade with the
/// schema before the revision and with the generated rollback. Findings go to the revision's first
/// statement that does something.
fn check_migration(m: &Migration) -> Vec<(usize, Hit)> {
    let Some(text) = m.downgrade else {
        return Vec::new();
    };
    let down = Downgrade::read(text, m.standard_conforming_strings);
    let mut out = Vec::new();
    let mut catalog = m.schema.clone();
    let mut revision: Option<usize> = None;
    let mut open: Option<(usize, Snapshot)> = None;
    for (index, st) in m.read.statements.iter().enumerate() {
        if index == 0 || st.revision != revision {
            if let Some((r, before)) = open.take() {
                out.extend(compare(m, &down, r, &before, &catalog));
            }
            open = st
                .revision
                .and_then(|r| Snapshot::take(&catalog, m, r, &down).map(|s| (r, s)));
            revision = st.revision;
        }
        if let Some(op) = m.ops.get(index) {
            catalog.apply(op, true);
        }
    }
    if let Some((r, before)) = open.take() {
        out.extend(compare(m, &down, r, &before, &catalog));
    }
    out
}

/// The author's downgrade export, read and lowered once.
struct Downgrade<'d> {
    text: &'d str,
    read: Read,
    ops: Vec<Op>,
    bookkeeping: Vec<bool>,
}

impl<'d> Downgrade<'d> {
    fn read(text: &'d str, standard_conforming_strings: bool) -> Self {
        let read = source::read_with(text, standard_conforming_strings);
        let ops: Vec<Op> = read
            .statements
            .iter()
            .map(|st| crate::ir::lower_statement(text, st))
            .collect();
        let bookkeeping = ops.iter().map(Op::is_bookkeeping).collect();
        Downgrade {
            text,
            read,
            ops,
            bookkeeping,
        }
    }

    /// The downgrade's step for revision `id`.
    fn step(&self, id: &str) -> Option<&RevisionStep> {
        self.read
            .revisions
            .iter()
            .find(|d| d.marker.direction == Direction::Downgrade && d.marker.id == id)
    }

    /// The statements of the step for revision `id`, without the migration tool's bookkeeping.
    fn step_statements(&self, id: &str) -> Vec<usize> {
        self.step(id)
            .into_iter()
            .flat_map(|d| d.statements.iter().copied())
            .filter(|&i| !self.bookkeeping.get(i).copied().unwrap_or(false))
            .collect()
    }
}

/// The catalog at the start of an upgrade revision: only the tables the revision and its downgrade
/// change, when no statement of either reaches beyond them (a whole copy per revision made a long
/// history over a large schema quadratic).
struct Snapshot {
    catalog: Catalog,
    /// The tables kept (`None`: the whole catalog).
    tables: Option<BTreeSet<QualName>>,
}

impl Snapshot {
    fn take(catalog: &Catalog, m: &Migration, r: usize, down: &Downgrade) -> Option<Snapshot> {
        let rev = m.read.revisions.get(r)?;
        if rev.marker.direction != Direction::Upgrade {
            return None;
        }
        let upgrade = rev.statements.iter().filter_map(|&i| m.ops.get(i));
        let downgrade = down
            .step_statements(&rev.marker.id)
            .into_iter()
            .filter_map(|i| down.ops.get(i));
        let mut tables = Some(BTreeSet::new());
        for op in upgrade.chain(downgrade) {
            match (catalog.tables_changed_by(op), tables.as_mut()) {
                (Some(changed), Some(set)) => set.extend(changed),
                _ => {
                    tables = None;
                    break;
                }
            }
        }
        Some(Snapshot {
            catalog: match &tables {
                Some(set) => catalog.subset(set),
                None => catalog.clone(),
            },
            tables,
        })
    }

    /// The same part of `catalog` (at the end of the revision).
    fn same_part<'c>(&self, catalog: &'c Catalog) -> Cow<'c, Catalog> {
        match &self.tables {
            Some(set) => Cow::Owned(catalog.subset(set)),
            None => Cow::Borrowed(catalog),
        }
    }
}

/// What the downgrade of upgrade revision `r` leaves different from the schema before it
/// (`before`; `catalog` is the schema after it), and how its statements differ from the generated
/// rollback.
fn compare(
    m: &Migration,
    down: &Downgrade,
    r: usize,
    before: &Snapshot,
    catalog: &Catalog,
) -> Vec<(usize, Hit)> {
    let Some(rev) = m.read.revisions.get(r) else {
        return Vec::new();
    };
    let bookkeeping = |i: usize| m.transactions.get(i) == Some(&Transaction::Bookkeeping);
    // The statement findings attach to: the revision's first real statement.
    let Some(&target) = rev.statements.iter().find(|&&i| {
        !bookkeeping(i)
            && !matches!(
                m.ops.get(i),
                Some(Op::Transaction(_) | Op::Empty | Op::Text | Op::Set { .. })
            )
    }) else {
        return Vec::new();
    };
    let generated: Vec<String> = rev
        .statements
        .iter()
        .rev()
        .filter(|&&i| !bookkeeping(i))
        .filter_map(|&i| m.inverses.get(i))
        .flat_map(|inv| inv.steps().iter().map(|s| s.sql.clone()))
        .collect();
    let (messages, help) = match down.step(&rev.marker.id) {
        None if generated.is_empty() => return Vec::new(),
        None => (
            vec![format!(
                "the downgrade has no step for revision {}",
                rev.marker.id
            )],
            String::new(),
        ),
        Some(_) => differences(down, &rev.marker.id, before, catalog, &generated),
    };
    let help = if help.is_empty() {
        "Compare the revision's downgrade() with the generated rollback (`migsafe rollback`)."
            .to_string()
    } else {
        help
    };
    messages
        .into_iter()
        .map(|message| {
            let message = format!("revision {}: {message}", rev.marker.id);
            (target, Hit::new(message, help.clone()))
        })
        .collect()
}

/// What the downgrade step for `id` leaves different from the schema before the revision, and a
/// help text naming the statements only one of the downgrade and the generated rollback has.
fn differences(
    down: &Downgrade,
    id: &str,
    before: &Snapshot,
    catalog: &Catalog,
    generated: &[String],
) -> (Vec<String>, String) {
    let after = before.same_part(catalog);
    let real = down.step_statements(id);
    let mine: Vec<Op> = real.iter().filter_map(|&i| down.ops.get(i).cloned()).collect();
    let messages = rollback::downgrade_differences(&before.catalog, after.as_ref(), &mine);
    if messages.is_empty() {
        return (messages, String::new());
    }
    let theirs: Vec<String> = real
        .iter()
        .filter(|&&i| {
            !matches!(
                down.ops.get(i),
                Some(Op::Transaction(_) | Op::Empty | Op::Text)
            )
        })
        .filter_map(|&i| down.read.statements.get(i))
        .map(|st| down.text[st.span.start_byte..st.span.end_byte].to_string())
        .collect();
    let (only_generated, only_downgrade) = rollback::statement_diff(generated, &theirs);
    let mut help = String::new();
    if !only_generated.is_empty() {
        help.push_str(&format!(
            "The generated rollback has, and the downgrade has not: {}. ",
            only_generated.join("; ")
        ));
    }
    if !only_downgrade.is_empty() {
        help.push_str(&format!(
            "The downgrade has, and the generated rollback has not: {}. ",
            only_downgrade.join("; ")
        ));
    }
    (messages, help.trim_end().to_string())
}
