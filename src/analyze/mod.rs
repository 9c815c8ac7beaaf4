//! The analysis: read the text, lower every statement, then one plain loop over the statements in
//! order, keeping the schema and the transaction state, asking the rules about each statement;
//! then the migration-level rules, and the report.

mod build;
mod failure_modes;
mod findings;
mod settings;
mod state;

pub use settings::{Facts, RuleSettings, Settings, SizeSettings};

use crate::catalog::Catalog;
use crate::error::Error;
use crate::ir::{self, Op};
use crate::pg::LockMode;
use crate::pg::duration;
use crate::pg::effect::{self, Effect};
use crate::report::{LockReport, Report, StatementReport};
use crate::rollback::{self, Inverse};
use crate::rules::{self, Ctx, Migration};
use crate::source::{self, Read, Source, SourceStatement};
use crate::vocab::Transaction;
use rayon::prelude::*;
use state::State;
use std::borrow::Cow;

/// Analyses migrations with the given settings.
#[derive(Debug, Clone, Default)]
pub struct Analyzer {
    settings: Settings,
    catalog: Option<Catalog>,
    /// The author's own downgrade export, compared with the generated rollback.
    downgrade: Option<String>,
    facts: Facts,
}

impl Analyzer {
    /// An analyzer with `settings`, no schema, no downgrade and no database facts.
    pub fn new(settings: Settings) -> Self {
        Analyzer {
            settings,
            ..Analyzer::default()
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The settings, to change one (the database mode sets what the connection says).
    pub(crate) fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    /// The schema given with [`Analyzer::schema`], if any.
    pub fn catalog(&self) -> Option<&Catalog> {
        self.catalog.as_ref()
    }

    /// Plans and observations from a database, by statement index (see [`Facts`]).
    pub fn facts(mut self, facts: Facts) -> Self {
        self.facts = facts;
        self
    }

    /// The schema before the migration (from [`Catalog::from_sql`] or a database). Without one,
    /// tables the migration does not create are assumed to exist with unknown columns.
    pub fn schema(mut self, catalog: Catalog) -> Self {
        self.catalog = Some(catalog);
        self
    }

    /// The author's own downgrade (`alembic downgrade B:A --sql`): every revision's downgrade is
    /// compared with the schema before the upgrade and with the generated rollback, and what it
    /// misses or adds becomes a `downgrade-mismatch` finding.
    pub fn downgrade(mut self, source: Source<'_>) -> Self {
        self.downgrade = Some(source.text.to_string());
        self
    }

    /// Analyses one migration. Unreadable statements become findings; this fails only for inputs
    /// that are not text at all (see [`check_text`]).
    pub fn analyze(&self, source: Source<'_>) -> Result<Report, Error> {
        Ok(self.analyze_text(&source.name, source.text))
    }

    pub(crate) fn analyze_text(&self, name: &str, text: &str) -> Report {
        let read = source::read_with(text, self.settings.standard_conforming_strings);
        let ops = lower_all(text, &read.statements);
        let transactions = state::transactions(&ops);
        let revision_of = read.statements.iter().map(|s| s.revision).collect();
        let units = crate::pg::units::units(&ops, &transactions, revision_of);
        let schema = self.catalog.clone().unwrap_or_default();
        let migration = Lowered {
            text,
            read: &read,
            ops: &ops,
            units: &units,
        };
        let mut state = State::new(schema.clone());
        let mut statements = Vec::with_capacity(ops.len());
        let mut inverses = Vec::with_capacity(ops.len());
        let mut silenced = Vec::with_capacity(ops.len());
        let mut helps = findings::Helps::default();
        let each = read.statements.iter().zip(&ops).zip(&transactions);
        for (index, ((st, op), &transaction)) in each.enumerate() {
            state.before(index, op);
            let bookkeeping = transaction == Transaction::Bookkeeping;
            let eff = statement_effect(op, &state, self.settings.pg_version, bookkeeping);
            let here = Here {
                index,
                st,
                op,
                transaction,
            };
            let (report, inverse, used) =
                self.statement(&migration, here, &eff, &state, &mut helps);
            state.after(index, op, &eff.locks);
            statements.push(report);
            inverses.push(inverse);
            silenced.push(used);
        }
        // The schema as the migration leaves it is not read again.
        drop(state);
        findings::one_per_cause(&mut statements);
        let migration = Migration {
            read: &read,
            ops: &ops,
            transactions: &transactions,
            inverses: &inverses,
            schema: &schema,
            standard_conforming_strings: self.settings.standard_conforming_strings,
            downgrade: self.downgrade.as_deref(),
            silenced: &silenced,
        };
        for (index, rule, hit) in
            rules::check_migration(&migration, |id| self.settings.selected(id))
        {
            if let Some(s) = statements.get_mut(index) {
                let (finding, risk) =
                    findings::migration_finding(rule, hit, s.span, &self.settings, &mut helps);
                s.risk = s.risk.max(risk);
                s.findings.push(finding);
            }
        }
        drop((schema, silenced, transactions, helps));
        let mut report = build::report(build::Pass {
            name,
            text,
            read,
            ops,
            units,
            inverses,
            statements,
            pg_version: self.settings.pg_version,
            fail_on: self.settings.fail_on,
        });
        report.database = self.facts.database.clone();
        report
    }

    /// Describes the statement the pass is at: its findings and inverse against the state before it, given
    /// its effect. Returns its report, its inverse and the ignore directives that silenced
    /// something.
    fn statement(
        &self,
        migration: &Lowered,
        here: Here,
        eff: &Effect,
        state: &State,
        helps: &mut findings::Helps,
    ) -> (StatementReport, Inverse, Vec<String>) {
        let Lowered {
            text,
            read,
            ops,
            units,
        } = *migration;
        let Here {
            index,
            st,
            op,
            transaction,
        } = here;
        let pg_version = self.settings.pg_version;
        let (catalog, tx) = (&state.catalog, &state.tx);
        let bookkeeping = transaction == Transaction::Bookkeeping;
        let lock = eff.strongest();
        let held = tx.in_transaction.then(|| tx.strongest_held()).flatten();
        let rewrites_table = !eff.rewrites.is_empty();
        let full_scan = !eff.scans.is_empty();
        let destroys_data = !eff.destroys.is_empty();
        let lock_heavy =
            (rewrites_table || full_scan) && lock.max(held).is_some_and(LockMode::blocks_writes);
        let estimate = duration::estimate(op, eff, catalog, &self.settings.sizes.rates);
        let judged = if bookkeeping {
            None
        } else {
            let ctx = Ctx {
                index,
                op,
                ops,
                effect: eff,
                catalog,
                tx,
                pg_version,
                sizes: &self.settings.sizes,
                estimate: estimate.as_ref(),
                plan: self.facts.plans.get(&index),
                observed: self.facts.observed.get(&index),
                units,
            };
            let facts = findings::EffectFacts {
                lock,
                held,
                lock_heavy,
                destroys_data,
            };
            Some(findings::judge(&ctx, st, &self.settings, &facts, helps))
        };
        // The inverse is computed against the catalog before the statement.
        let inverse = if bookkeeping {
            rollback::bookkeeping_inverse(op, catalog)
        } else {
            let cx = rollback::Context {
                catalog,
                timezone: &tx.timezone,
                pg_version,
            };
            rollback::inverse(op, &cx)
        };
        let (findings, acknowledged, risk, silenced) = match judged {
            Some(j) => (j.findings, j.acknowledged, j.risk, j.silenced),
            None => (Vec::new(), Vec::new(), crate::vocab::Risk::None, Vec::new()),
        };
        let report = StatementReport {
            index,
            revision: st
                .revision
                .and_then(|r| read.revisions.get(r))
                .map(|r| r.marker.id.clone()),
            sql: text[st.span.start_byte..st.span.end_byte].to_string(),
            span: st.span,
            kind: Cow::Borrowed(op.kind()),
            parsed: op.is_parsed(),
            transaction,
            locks: eff
                .locks
                .iter()
                .map(|(t, m)| LockReport {
                    table: t.display_qualified(),
                    mode: *m,
                })
                .collect(),
            lock,
            held,
            rewrites_table,
            full_scan,
            destroys_data,
            lock_heavy,
            reversible: build::reversibility(&inverse),
            risk,
            tables: build::tables(op, &eff.locks, catalog),
            findings,
            acknowledged,
            notes: Vec::new(),
            // Filled from the inverse once the rollback script is written (one copy of each step).
            rollback: Vec::new(),
            observed: self.facts.observed.get(&index).cloned().map(Box::new),
        };
        (report, inverse, silenced)
    }
}

/// The migration as read and lowered, before the pass.
#[derive(Clone, Copy)]
struct Lowered<'a> {
    text: &'a str,
    read: &'a Read,
    ops: &'a [Op],
    units: &'a crate::pg::units::Units,
}

/// The statement the pass is at.
#[derive(Clone, Copy)]
struct Here<'a> {
    index: usize,
    st: &'a SourceStatement,
    op: &'a Op,
    transaction: Transaction,
}

/// What the statement does to pre-existing tables, in the state before it.
fn statement_effect(op: &Op, state: &State, pg_version: u32, bookkeeping: bool) -> Effect {
    // A statement that cannot run in a transaction block fails there before it locks anything
    // (concurrently-in-transaction reports it).
    if state.tx.in_transaction && effect::no_transaction_block(op, pg_version).is_some() {
        return Effect::default();
    }
    let cx = effect::Context {
        catalog: &state.catalog,
        pg_version,
        timezone: &state.tx.timezone,
    };
    let mut eff = effect::effect(op, &cx);
    if bookkeeping {
        // The version rows are the migration tool's, and the rollback writes them back exactly:
        // not application data.
        eff.destroys.clear();
    }
    eff
}

/// Every statement lowered to our IR, in order. Each statement is parsed on its own, so the work
/// spreads over the cores.
fn lower_all(text: &str, statements: &[SourceStatement]) -> Vec<Op> {
    statements
        .par_iter()
        .with_min_len(16)
        .map(|st| ir::lower_statement(text, st))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The connection's `standard_conforming_strings` decides where statements end: with it off,
    /// `\'` does not end a string, so what looks like one string holds the next statements.
    #[test]
    fn statements_end_where_the_connection_reads_them() {
        let sql = "SELECT 'it\\'s'; COMMIT; DROP TABLE t; SELECT 'harmless';\n";
        let kinds = |on: bool| -> Vec<String> {
            Analyzer::new(Settings::default().standard_conforming_strings(on))
                .analyze_text("-", sql)
                .statements
                .into_iter()
                .map(|s| s.kind.into_owned())
                .collect()
        };
        // On: `'it\'` ends at the second quote and `s'; COMMIT; …` is one unterminated statement.
        assert_eq!(kinds(true), ["unparsed"]);
        // Off: `'it\'s'` is one string, and the DROP is a statement of its own (the SQL parser
        // reads backslashes as standard SQL does, so the SELECT itself stays unparsed).
        assert_eq!(kinds(false), ["unparsed", "commit", "drop_table", "select"]);
    }
}
