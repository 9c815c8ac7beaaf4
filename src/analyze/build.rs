//! Building the report: what each statement touches, and once the pass is over, the revisions,
//! the failure modes, the rollback script and the summary.

use super::failure_modes::{self, RevisionNames};
use crate::catalog::{Catalog, normal};
use crate::ir::{self, ConstraintKind, Op, QualName};
use crate::pg::units::Units;
use crate::report::{
    FindingCounts, Irreversible, Lossy, Report, Reversibility, RevisionReport, RollbackReport,
    StatementReport, Summary, TableReport, Tool,
};
use crate::rollback::{self, Inverse};
use crate::source::{Direction, Read};
use crate::vocab::{Risk, Severity};

/// The tables a statement touches: those it names (its target, a foreign key's referenced table,
/// an index's table) and those it locks, with their sizes when they existed before the migration.
pub(super) fn tables(
    op: &Op,
    locks: &[(QualName, crate::pg::LockMode)],
    catalog: &Catalog,
) -> Vec<TableReport> {
    let mut out: Vec<TableReport> = Vec::new();
    for t in named_tables(op)
        .iter()
        .map(normal)
        .chain(locks.iter().map(|(t, _)| t.clone()))
    {
        let name = t.display_qualified();
        if out.iter().any(|r| r.name == name) {
            continue;
        }
        // The table a CREATE makes (the schema does not list it: it is not unknown) or one an
        // earlier statement made.
        let created_here = match op {
            Op::CreateTable { name, .. } | Op::CreateView { name, .. } => {
                normal(name) == t && catalog.unknown(&t)
            }
            _ => false,
        };
        let created_in_migration = created_here || !catalog.pre_existing(&t);
        let size = catalog.size(&t).filter(|_| !created_in_migration);
        out.push(TableReport {
            name,
            rows: size.map(|s| s.rows),
            bytes: size.map(|s| s.total_bytes),
            created_in_migration,
        });
    }
    out.shrink_to_fit();
    out
}

/// Tables (and views) a statement names: its target, a foreign key's referenced table, an index's
/// table.
fn named_tables(op: &Op) -> Vec<QualName> {
    let mut out: Vec<QualName> = Vec::new();
    let mut add = |n: &QualName| {
        if !n.name.is_empty() && !out.contains(n) {
            out.push(n.clone());
        }
    };
    match op {
        Op::CreateTable { name, .. } | Op::AlterTable { name, .. } => {
            add(name);
            for (_, c, _) in op.added_constraints() {
                if let ConstraintKind::ForeignKey { ref_table, .. } = &c.kind {
                    add(ref_table);
                }
            }
        }
        Op::Drop {
            kind: ir::ObjectKind::Table | ir::ObjectKind::View | ir::ObjectKind::MaterializedView,
            names,
            ..
        } => names.iter().for_each(&mut add),
        Op::CreateIndex(ix) => add(&ix.table),
        Op::CreateTrigger { table, .. } => add(table),
        Op::DropTrigger { table: Some(t), .. } => add(t),
        Op::Insert { table, .. }
        | Op::Update { table, .. }
        | Op::Delete { table, .. }
        | Op::Merge { table } => add(table),
        Op::Truncate { tables, .. }
        | Op::Vacuum { tables, .. }
        | Op::Analyze { tables }
        | Op::Lock { tables, .. } => tables.iter().for_each(&mut add),
        Op::Cluster { table: Some(t), .. } | Op::Copy { table: Some(t), .. } => add(t),
        Op::Comment {
            target: ir::ObjectKind::Table,
            name,
            ..
        } => add(name),
        Op::RefreshMaterializedView { name, .. } | Op::CreateView { name, .. } => add(name),
        _ => {}
    }
    out
}

/// How far a statement's inverse gives the schema (and data) back.
pub(super) fn reversibility(inverse: &Inverse) -> Reversibility {
    match inverse {
        Inverse::Exact(_) => Reversibility::Exact,
        Inverse::Lossy { .. } => Reversibility::Lossy,
        Inverse::Impossible { .. } => Reversibility::Impossible,
    }
}

/// The migration as the pass leaves it, owned: [`report`] drops each part as soon as what it
/// feeds is built (on a file of hundreds of thousands of statements, holding them all while the
/// failure modes and the rollback script are written would double the peak).
pub(super) struct Pass<'a> {
    pub name: &'a str,
    pub text: &'a str,
    pub read: Read,
    pub ops: Vec<Op>,
    pub units: Units,
    pub inverses: Vec<Inverse>,
    pub statements: Vec<StatementReport>,
    pub pg_version: u32,
    pub fail_on: Risk,
}

/// The report: the statements with the revisions, failure modes, rollback and summary they add up
/// to.
pub(super) fn report(pass: Pass) -> Report {
    let Pass {
        name,
        text,
        read,
        ops,
        units,
        inverses,
        mut statements,
        pg_version,
        fail_on,
    } = pass;
    let irreversible: Vec<Irreversible> = inverses
        .iter()
        .enumerate()
        .filter_map(|(i, inv)| match inv {
            Inverse::Impossible { reason } => Some(Irreversible {
                statement: i,
                reason: reason.clone(),
            }),
            _ => None,
        })
        .collect();
    let lossy: Vec<Lossy> = inverses
        .iter()
        .enumerate()
        .filter_map(|(i, inv)| match inv {
            Inverse::Lossy { loses, .. } => Some(Lossy {
                statement: i,
                loses: loses.clone(),
            }),
            _ => None,
        })
        .collect();
    let names: Vec<RevisionNames> = read
        .revisions
        .iter()
        .map(|r| RevisionNames {
            id: &r.marker.id,
            parents: &r.marker.parents,
        })
        .collect();
    let lines: Vec<u32> = read.statements.iter().map(|s| s.span.start_line).collect();
    let facts = failure_modes::statement_facts(&units, &ops);
    drop(ops);
    let (per_revision, failure_modes) =
        failure_modes::failure_modes(&units, &facts, &lines, &names, irreversible.is_empty());
    drop((names, lines, facts, units));
    let revisions = read
        .revisions
        .iter()
        .zip(per_revision)
        .map(|(r, failure_modes)| RevisionReport {
            id: r.marker.id.clone(),
            parents: r.marker.parents.clone(),
            direction: r.marker.direction,
            statements: r.statements.clone(),
            reversible: worst(
                r.statements
                    .iter()
                    .filter_map(|&i| inverses.get(i))
                    .map(reversibility),
            ),
            failure_modes,
            file: None,
            file_line: None,
        })
        .collect();
    let script = rollback_script(name, text, &read, &inverses);
    drop(read);
    for (s, inverse) in statements.iter_mut().zip(inverses) {
        s.rollback = inverse
            .into_steps()
            .into_iter()
            .map(|step| step.sql)
            .collect();
    }
    Report {
        schema_version: crate::report::SCHEMA_VERSION,
        tool: Tool {
            name: "migsafe".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        pg_version,
        source: name.to_string(),
        summary: summary(&statements, fail_on),
        statements,
        revisions,
        failure_modes,
        rollback: RollbackReport {
            complete: irreversible.is_empty(),
            script,
            irreversible,
            lossy,
        },
        database: None,
    }
}

fn rollback_script(name: &str, text: &str, read: &Read, inverses: &[Inverse]) -> String {
    let units: Vec<rollback::Unit> = read
        .statements
        .iter()
        .zip(inverses)
        .enumerate()
        .map(|(index, (st, inverse))| rollback::Unit {
            index,
            line: st.span.start_line,
            revision: st.revision,
            inverse,
            first_line: text[st.span.start_byte..st.span.end_byte]
                .lines()
                .next()
                .unwrap_or(""),
        })
        .collect();
    let infos: Vec<rollback::RevisionInfo> = read
        .revisions
        .iter()
        .map(|r| rollback::RevisionInfo {
            id: &r.marker.id,
            parents: &r.marker.parents,
            upgrade: r.marker.direction == Direction::Upgrade,
        })
        .collect();
    let mut script = rollback::script(name, &units, &infos);
    script.shrink_to_fit();
    script
}

fn summary(statements: &[StatementReport], fail_on: Risk) -> Summary {
    let mut sum = Summary {
        statements: statements.len(),
        unparsed: 0,
        findings: FindingCounts::default(),
        acknowledged: 0,
        risk: Risk::None,
        fail_on,
        failing: 0,
    };
    for s in statements {
        sum.unparsed += usize::from(!s.parsed);
        sum.acknowledged += s.acknowledged.len();
        for f in &s.findings {
            sum.risk = sum.risk.max(f.risk);
            sum.failing += usize::from(f.risk >= fail_on);
            match f.severity {
                Severity::Error => sum.findings.error += 1,
                Severity::Warning => sum.findings.warning += 1,
                Severity::Info => sum.findings.info += 1,
            }
        }
    }
    sum
}

fn worst(it: impl Iterator<Item = Reversibility>) -> Reversibility {
    let mut out = Reversibility::Exact;
    for r in it {
        out = match (out, r) {
            (Reversibility::Impossible, _) | (_, Reversibility::Impossible) => {
                Reversibility::Impossible
            }
            (Reversibility::Lossy, _) | (_, Reversibility::Lossy) => Reversibility::Lossy,
            _ => Reversibility::Exact,
        };
    }
    out
}
