//! The single ordered pass: read, parse, lower, then describe every statement.

use crate::error::Error;
use crate::ir::{self, ConstraintKind, Op, QualName, TxControl};
use crate::parse;
use crate::report::{
    Finding, FindingCounts, Irreversible, Report, Reversibility, RevisionReport, Risk,
    RollbackReport, Severity, StatementReport, Summary, TableReport, Tool, Transaction,
};
use crate::source::{self, RawKind, Source, alembic};
use std::collections::HashSet;

/// What the analysis assumes about the target server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// PostgreSQL major version the migration will run on (11–17).
    pub pg_version: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { pg_version: 15 }
    }
}

impl Settings {
    pub fn pg_version(mut self, v: u32) -> Self {
        self.pg_version = v;
        self
    }
}

/// Analyses migrations with the given settings.
#[derive(Debug, Clone, Default)]
pub struct Analyzer {
    settings: Settings,
}

/// One statement after reading and lowering.
pub(crate) struct Lowered {
    pub(crate) op: Op,
}

impl Analyzer {
    pub fn new(settings: Settings) -> Self {
        Analyzer { settings }
    }

    /// Analyses one migration. Unreadable statements become findings; this fails only for inputs
    /// that are not text at all (see [`check_text`]).
    pub fn analyze(&self, source: Source<'_>) -> Result<Report, Error> {
        Ok(self.analyze_text(&source.name, source.text))
    }

    pub(crate) fn analyze_text(&self, name: &str, text: &str) -> Report {
        let read = source::read(text);
        let lowered: Vec<Lowered> = read
            .statements
            .iter()
            .map(|st| Lowered {
                op: lower_statement(text, st),
            })
            .collect();
        let transactions = transactions(&lowered);
        let mut created: HashSet<QualName> = HashSet::new();
        let mut statements = Vec::with_capacity(lowered.len());
        for (index, (st, low)) in read.statements.iter().zip(&lowered).enumerate() {
            let op = &low.op;
            let tables = tables_of(op)
                .into_iter()
                .map(|t| {
                    let key = normal(&t);
                    TableReport {
                        name: t.display_qualified(),
                        rows: None,
                        bytes: None,
                        created_in_migration: created.contains(&key),
                    }
                })
                .collect();
            if let Op::CreateTable { name, .. } = op {
                created.insert(normal(name));
            }
            let mut findings = Vec::new();
            let mut risk = Risk::None;
            match op {
                Op::Unparsed { error } => {
                    risk = Risk::Medium;
                    findings.push(Finding {
                        rule: "unparsed-statement".to_string(),
                        severity: Severity::Warning,
                        message: format!("migsafe cannot read this statement, so its locks and effects are unknown: {error}"),
                        help: "Check that it is valid PostgreSQL; if it is, review it by hand and report the statement to migsafe.".to_string(),
                        span: st.span,
                    });
                }
                Op::Text => {
                    risk = Risk::Low;
                    findings.push(Finding {
                        rule: "not-sql".to_string(),
                        severity: Severity::Warning,
                        message: "this text is not SQL (output printed by migration code?): psql would fail on it".to_string(),
                        help: "Remove print() output from the migration, or strip it from the export before running it.".to_string(),
                        span: st.span,
                    });
                }
                _ => {}
            }
            findings.retain(|f: &Finding| !st.ignore.iter().any(|r| r == &f.rule || r == "all"));
            let reversible = match (op, transactions[index]) {
                (_, Transaction::Bookkeeping)
                | (
                    Op::Transaction(_)
                    | Op::Empty
                    | Op::Text
                    | Op::Select
                    | Op::Set { .. }
                    | Op::Reset { .. },
                    _,
                ) => Reversibility::Exact,
                // Rollback generation is not built yet: claim nothing.
                _ => Reversibility::Impossible,
            };
            statements.push(StatementReport {
                index,
                revision: st
                    .revision
                    .and_then(|r| read.revisions.get(r))
                    .map(|r| r.marker.id.clone()),
                sql: text[st.span.start_byte..st.span.end_byte].to_string(),
                span: st.span,
                kind: op.kind().to_string(),
                parsed: op.is_parsed(),
                transaction: transactions[index],
                locks: Vec::new(),
                lock: None,
                held: None,
                rewrites_table: false,
                full_scan: false,
                destroys_data: false,
                lock_heavy: false,
                reversible,
                risk,
                tables,
                findings,
                rollback: Vec::new(),
            });
        }
        let revisions = read
            .revisions
            .iter()
            .map(|r| RevisionReport {
                id: r.marker.id.clone(),
                parents: r.marker.parents.clone(),
                direction: r.marker.direction,
                statements: r.statements.clone(),
                reversible: worst(
                    r.statements
                        .iter()
                        .filter_map(|&i| statements.get(i))
                        .map(|s| s.reversible),
                ),
            })
            .collect();
        let irreversible: Vec<Irreversible> = statements
            .iter()
            .filter(|s| s.reversible == Reversibility::Impossible)
            .map(|s| Irreversible {
                statement: s.index,
                reason: "no rollback is generated for this statement yet".to_string(),
            })
            .collect();
        let mut counts = FindingCounts::default();
        for f in statements.iter().flat_map(|s| &s.findings) {
            match f.severity {
                Severity::Error => counts.error += 1,
                Severity::Warning => counts.warning += 1,
                Severity::Info => counts.info += 1,
            }
        }
        let summary = Summary {
            statements: statements.len(),
            unparsed: statements.iter().filter(|s| !s.parsed).count(),
            findings: counts,
            risk: statements
                .iter()
                .map(|s| s.risk)
                .max()
                .unwrap_or(Risk::None),
        };
        Report {
            schema_version: crate::report::SCHEMA_VERSION,
            tool: Tool {
                name: "migsafe".to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            pg_version: self.settings.pg_version,
            source: name.to_string(),
            revisions,
            rollback: RollbackReport {
                complete: irreversible.is_empty(),
                script: String::new(),
                irreversible,
            },
            statements,
            summary,
        }
    }
}

/// Rejects input that is not text: NUL bytes (binary) or invalid UTF-8, naming the byte offset.
pub fn check_text<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, Error> {
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(Error::Binary {
            name: name.to_string(),
            offset,
        });
    }
    std::str::from_utf8(bytes).map_err(|e| Error::NotUtf8 {
        name: name.to_string(),
        offset: e.valid_up_to(),
    })
}

pub(crate) fn lower_statement(text: &str, st: &source::SourceStatement) -> Op {
    match (st.kind, &st.tokenizer_error) {
        (RawKind::Empty, _) => Op::Empty,
        (RawKind::Text, _) => Op::Text,
        (RawKind::Sql, Some(e)) => Op::Unparsed { error: e.clone() },
        (RawKind::Sql, None) => {
            let parsed = parse::parse(
                &text[st.body.clone()],
                st.span.start_line,
                st.span.start_column,
            );
            ir::lower(&parsed)
        }
    }
}

/// `public` for unqualified names, so `t` and `public.t` are one table.
fn normal(n: &QualName) -> QualName {
    QualName {
        schema: Some(n.schema.clone().unwrap_or_else(|| "public".to_string())),
        name: n.name.clone(),
    }
}

/// The transaction state of every statement: explicit blocks from BEGIN to COMMIT/ROLLBACK (which
/// count as inside), autocommit outside them, bookkeeping for the migration tools' version tables.
fn transactions(ops: &[Lowered]) -> Vec<Transaction> {
    let mut in_tx = false;
    ops.iter()
        .map(|l| {
            let state = if in_tx {
                Transaction::InTransaction
            } else {
                Transaction::Autocommit
            };
            match &l.op {
                Op::Transaction(TxControl::Begin) => {
                    in_tx = true;
                    Transaction::InTransaction
                }
                Op::Transaction(TxControl::Commit | TxControl::Rollback) => {
                    in_tx = false;
                    state
                }
                op if is_bookkeeping(op) => Transaction::Bookkeeping,
                _ => state,
            }
        })
        .collect()
}

fn is_bookkeeping(op: &Op) -> bool {
    match op {
        Op::Drop {
            kind: ir::ObjectKind::Table,
            names,
            ..
        } => !names.is_empty() && names.iter().all(|n| alembic::is_bookkeeping_table(&n.name)),
        _ => op
            .target_table()
            .is_some_and(|t| alembic::is_bookkeeping_table(&t.name)),
    }
}

/// Tables (and views) a statement names: its target, a foreign key's referenced table, an index's
/// table. Used for the report's `tables`.
fn tables_of(op: &Op) -> Vec<QualName> {
    let mut out: Vec<QualName> = Vec::new();
    let mut add = |n: &QualName| {
        if !n.name.is_empty() && !out.contains(n) {
            out.push(n.clone());
        }
    };
    match op {
        Op::CreateTable {
            name,
            constraints,
            columns,
            ..
        } => {
            add(name);
            for c in constraints
                .iter()
                .chain(columns.iter().flat_map(|c| &c.constraints))
            {
                if let ConstraintKind::ForeignKey { ref_table, .. } = &c.kind {
                    add(ref_table);
                }
            }
        }
        Op::AlterTable { name, actions, .. } => {
            add(name);
            for a in actions {
                let cons = match a {
                    ir::AlterAction::AddConstraint { constraint } => vec![constraint],
                    ir::AlterAction::AddColumn { column, .. } => {
                        column.constraints.iter().collect()
                    }
                    _ => Vec::new(),
                };
                for c in cons {
                    if let ConstraintKind::ForeignKey { ref_table, .. } = &c.kind {
                        add(ref_table);
                    }
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
        } => add(name),
        Op::RefreshMaterializedView { name, .. } | Op::CreateView { name, .. } => add(name),
        _ => {}
    }
    out
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
