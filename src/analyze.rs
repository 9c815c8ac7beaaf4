//! The single ordered pass: read, parse, lower, then describe every statement.

use crate::catalog::{Catalog, normal};
use crate::error::Error;
use crate::failure;
use crate::ir::{self, ConstraintKind, Op, QualName, TxControl};
use crate::pg::LockMode;
use crate::pg::duration::{self, Rates};
use crate::pg::effect::{self, Effect};
use crate::pg::plan::Plan;
use crate::pg::types::TimeZone;
use crate::report::{
    DatabaseReport, Finding, FindingCounts, Irreversible, LockReport, Observed, Report,
    Reversibility, RevisionReport, Risk, RollbackReport, Severity, StatementReport, Summary,
    TableReport, Tool, Transaction,
};
use crate::rollback::{self, Inverse};
use crate::rules::{self, Ctx, TxState};
use crate::source::{self, Source};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

/// Which rules run and at what severity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleSettings {
    /// Only these rules run (all when `None`).
    pub only: Option<Vec<String>>,
    /// These rules do not run.
    pub disabled: Vec<String>,
    /// Severity overrides per rule.
    pub severity: Vec<(String, Severity)>,
}

/// How table sizes (from a database) turn into risk. The risk of work that grows with a table — a
/// scan or rewrite, which the rules with [`Rule::scales_with_size`](crate::rules::Rule) describe
/// — follows its estimated duration ([`crate::pg::duration`]):
///
/// | estimated work              | risk     |
/// |-----------------------------|----------|
/// | under `brief_ms` (1 s)      | low      |
/// | under `long_ms` (5 s)       | medium   |
/// | under `outage_ms` (60 s)    | high     |
/// | from `outage_ms`            | critical |
///
/// Without sizes, such work is high risk, as if the table were large.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SizeSettings {
    pub brief_ms: u64,
    pub long_ms: u64,
    pub outage_ms: u64,
    /// A sequential scan with a filter (EXPLAIN) or an unindexed foreign key matters from this
    /// many rows on (default 100,000).
    pub large_rows: u64,
    /// Bytes per second of scans, rewrites and index builds, for the duration estimates.
    pub rates: Rates,
}

impl Default for SizeSettings {
    fn default() -> Self {
        SizeSettings {
            brief_ms: 1_000,
            long_ms: 5_000,
            outage_ms: 60_000,
            large_rows: 100_000,
            rates: Rates::default(),
        }
    }
}

impl SizeSettings {
    /// The risk of table-sized work estimated at `seconds`.
    pub fn risk(&self, seconds: f64) -> Risk {
        let ms = seconds * 1000.0;
        if ms < self.brief_ms as f64 {
            Risk::Low
        } else if ms < self.long_ms as f64 {
            Risk::Medium
        } else if ms < self.outage_ms as f64 {
            Risk::High
        } else {
            Risk::Critical
        }
    }

    pub fn large_rows(mut self, rows: u64) -> Self {
        self.large_rows = rows;
        self
    }

    /// Sets the risk thresholds (milliseconds of estimated work).
    pub fn thresholds(mut self, brief_ms: u64, long_ms: u64, outage_ms: u64) -> Self {
        self.brief_ms = brief_ms;
        self.long_ms = long_ms;
        self.outage_ms = outage_ms;
        self
    }

    pub fn rates(mut self, rates: Rates) -> Self {
        self.rates = rates;
        self
    }
}

/// What the analysis assumes about the target server, and which rules run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// PostgreSQL major version the migration will run on (11–17).
    pub pg_version: u32,
    pub rules: RuleSettings,
    pub sizes: SizeSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            pg_version: 15,
            rules: RuleSettings::default(),
            sizes: SizeSettings::default(),
        }
    }
}

impl Settings {
    pub fn pg_version(mut self, v: u32) -> Self {
        self.pg_version = v;
        self
    }

    /// How table sizes turn into risk.
    pub fn sizes(mut self, sizes: SizeSettings) -> Self {
        self.sizes = sizes;
        self
    }

    /// Runs only the named rules.
    pub fn only_rules<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.rules.only = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Does not run the named rule.
    pub fn disable_rule(mut self, id: impl Into<String>) -> Self {
        self.rules.disabled.push(id.into());
        self
    }

    /// Reports the named rule at `severity`.
    pub fn rule_severity(mut self, id: impl Into<String>, severity: Severity) -> Self {
        self.rules.severity.push((id.into(), severity));
        self
    }

    fn selected(&self, id: &str) -> bool {
        self.rules
            .only
            .as_ref()
            .is_none_or(|only| only.iter().any(|o| o == id))
            && !self.rules.disabled.iter().any(|d| d == id)
    }

    fn severity_of(&self, id: &str, default: Severity) -> Severity {
        self.rules
            .severity
            .iter()
            .rev()
            .find(|(r, _)| r == id)
            .map(|(_, s)| *s)
            .unwrap_or(default)
    }
}

/// What a database said about the statements of one migration, by statement index: EXPLAIN plans
/// and what running them on a restored copy showed. The `db` module fills it; tests can attach
/// captured plans.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Facts {
    pub plans: BTreeMap<usize, Plan>,
    pub observed: BTreeMap<usize, Observed>,
    /// Where the facts came from, and what could not be checked.
    pub database: Option<DatabaseReport>,
}

/// Analyses migrations with the given settings.
#[derive(Debug, Clone, Default)]
pub struct Analyzer {
    settings: Settings,
    catalog: Option<Catalog>,
    /// The author's own downgrade export (name, text), compared with the generated rollback.
    downgrade: Option<(String, String)>,
    facts: Facts,
}

/// Session settings that outlive a transaction (`SET`) and those that end with it (`SET LOCAL`).
#[derive(Debug, Clone, Default)]
struct Gucs {
    lock_timeout: Option<bool>,
    statement_timeout: Option<bool>,
    timezone: Option<TimeZone>,
}

impl Gucs {
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
            None | Some("all") => *self = Gucs::default(),
            Some("lock_timeout") => self.lock_timeout = None,
            Some("statement_timeout") => self.statement_timeout = None,
            Some("timezone") => self.timezone = None,
            Some(_) => {}
        }
    }
}

impl Analyzer {
    pub fn new(settings: Settings) -> Self {
        Analyzer {
            settings,
            catalog: None,
            downgrade: None,
            facts: Facts::default(),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
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
        self.downgrade = Some((source.name, source.text.to_string()));
        self
    }

    /// Analyses one migration. Unreadable statements become findings; this fails only for inputs
    /// that are not text at all (see [`check_text`]).
    pub fn analyze(&self, source: Source<'_>) -> Result<Report, Error> {
        Ok(self.analyze_text(&source.name, source.text))
    }

    /// [`analyze`](Self::analyze), handing each statement's report to `sink` as soon as it is
    /// final, in statement order, instead of keeping it: the returned report has no `statements`
    /// (its summary, revisions, failure modes and rollback cover them all). Memory then holds the
    /// migration's IR and not its report: a tool that writes each statement out as it comes (the
    /// CLI's JSON output does, with [`json::Stream`](crate::report::render::json::Stream)) needs a
    /// fraction of the memory. A statement is final when the pass leaves it, or, with
    /// [`downgrade`](Self::downgrade), when the pass leaves its revision (the comparison adds
    /// findings to the revision's first statement).
    pub fn analyze_each(
        &self,
        source: Source<'_>,
        sink: &mut dyn FnMut(StatementReport),
    ) -> Result<Report, Error> {
        Ok(self.pass(&source.name, source.text, &mut Each(sink)))
    }

    pub(crate) fn analyze_text(&self, name: &str, text: &str) -> Report {
        let mut statements = Vec::new();
        let mut report = self.pass(name, text, &mut statements);
        report.statements = statements;
        report
    }

    fn pass(&self, name: &str, text: &str, sink: &mut dyn Sink) -> Report {
        self.pass_in_chunks(name, text, sink, LOWER_CHUNK)
    }

    fn pass_in_chunks(&self, name: &str, text: &str, sink: &mut dyn Sink, chunk: usize) -> Report {
        let read = source::read(text);
        // Parsing and lowering see one statement at a time: they run on the other cores while
        // this thread judges the statements already lowered, and on this one when it would wait.
        crate::par::stream(
            &read.statements,
            chunk,
            |st| ir::lower_statement(text, st),
            |pull| self.pass_over(name, text, &read, pull, sink),
        )
    }

    fn pass_over(
        &self,
        name: &str,
        text: &str,
        read: &source::Read,
        pull: &mut Pull<'_, '_>,
        sink: &mut dyn Sink,
    ) -> Report {
        let mut low = Lowered::new(read);
        let n = read.statements.len();
        // The last statements, lowered here first: the rules that look ahead find a block's
        // COMMIT there without waiting for everything before it. Only short ones: each is
        // lowered twice, and a long one (seed data) would cost its parse twice.
        let short_tail = read
            .statements
            .iter()
            .rev()
            .take(if n >= TAIL_FROM { TAIL } else { 0 })
            .take_while(|st| {
                st.span.end_byte.saturating_sub(st.span.start_byte) <= TAIL_STATEMENT_BYTES
            })
            .count();
        let tail_start = n - short_tail;
        let tail: Vec<Op> = read
            .statements
            .get(tail_start..)
            .unwrap_or_default()
            .iter()
            .map(|st| ir::lower_statement(text, st))
            .collect();
        let mut catalog = self.catalog.clone().unwrap_or_default();
        let mut session = Gucs::default();
        let mut local = Gucs::default();
        let mut tx = TxState::default();
        sink.expect(n);
        let mut inverses: Vec<Inverse> = Vec::with_capacity(n);
        // The author's downgrade is compared revision by revision as the pass leaves each one:
        // only the catalog at the start of the current revision is kept (keeping every revision's
        // catalogs took gigabytes for a long history over a large schema).
        let downgrade = self
            .downgrade
            .as_ref()
            .filter(|_| self.settings.selected("downgrade-mismatch"))
            .map(|(_, text)| Downgrade::read(text));
        if downgrade.is_some() {
            // The comparison and the snapshots read whole revisions, and ops are slimmed a
            // revision at a time: everything is lowered first.
            low.all(pull);
        }
        let mut out = Out::new(sink, downgrade.is_some());
        let mut revision_start: Option<Snapshot> = None;
        let mut current_revision: Option<usize> = None;
        // Statements before this one are slimmed (`Op::slim`) once nothing reads them whole: right
        // after the pass leaves them, or, when the author's downgrade is compared, after their
        // revision is (the comparison reads the revision's statements).
        let mut slimmed = 0;
        for (index, st) in read.statements.iter().enumerate() {
            low.units_for(index, pull);
            if let Some(down) = downgrade
                .as_ref()
                .filter(|_| st.revision != current_revision)
            {
                if let (Some(r), Some(before)) = (current_revision, revision_start.take()) {
                    let done = Done {
                        ops: &low.ops,
                        inverses: &inverses,
                        transactions: &low.transactions,
                    };
                    self.compare_revision(down, read, r, before, &catalog, &done, &mut out.pending);
                }
                out.flush();
                revision_start = st
                    .revision
                    .and_then(|r| Snapshot::take(&catalog, read, r, &low.ops, down));
                current_revision = st.revision;
                for op in low.ops.get_mut(slimmed..index).into_iter().flatten() {
                    op.slim();
                }
                slimmed = index;
            }
            let Some(op) = low.ops.get(index) else { break };
            let bookkeeping = low.transactions[index] == Transaction::Bookkeeping;
            // A BEGIN inside a block is ignored by PostgreSQL (a warning): the block and its
            // locks go on.
            if let (Op::Transaction(TxControl::Begin), false) = (op, tx.in_transaction) {
                tx.begin_block(index + 1);
            }
            tx.lock_timeout = local.lock_timeout.or(session.lock_timeout).unwrap_or(false);
            tx.statement_timeout = local
                .statement_timeout
                .or(session.statement_timeout)
                .unwrap_or(false);
            tx.timezone = local
                .timezone
                .clone()
                .or_else(|| session.timezone.clone())
                .unwrap_or(TimeZone::Unknown);
            let cx = effect::Context {
                catalog: &catalog,
                pg_version: self.settings.pg_version,
                timezone: &tx.timezone,
            };
            // A statement that cannot run in a transaction block fails there before it locks
            // anything (concurrently-in-transaction reports it).
            let fails_here = tx.in_transaction
                && effect::no_transaction_block(op, self.settings.pg_version).is_some();
            let mut eff = if fails_here {
                Effect::default()
            } else {
                effect::effect(op, &cx)
            };
            if bookkeeping {
                // The version rows are the migration tool's, and the rollback writes them back
                // exactly: not application data.
                eff.destroys.clear();
            }
            let mut tables: Vec<TableReport> = Vec::new();
            for t in tables_of(op)
                .into_iter()
                .map(|t| normal(&t))
                .chain(eff.locks.iter().map(|(t, _)| t.clone()))
            {
                let name = t.display_qualified();
                if tables.iter().all(|r| r.name != name) {
                    let created_in_migration = !catalog.pre_existing(&t);
                    let size = catalog.size(&t).filter(|_| !created_in_migration);
                    tables.push(TableReport {
                        name,
                        rows: size.map(|s| s.rows),
                        bytes: size.map(|s| s.total_bytes),
                        created_in_migration,
                    });
                }
            }
            let lock = eff.strongest();
            let held = if tx.in_transaction {
                tx.strongest_held()
            } else {
                None
            };
            let rewrites_table = !eff.rewrites.is_empty();
            let full_scan = !eff.scans.is_empty();
            let destroys_data = !eff.destroys.is_empty();
            let lock_heavy = (rewrites_table || full_scan)
                && lock.max(held).is_some_and(LockMode::blocks_writes);
            let sizes = &self.settings.sizes;
            let estimate = duration::estimate(op, &eff, &catalog, &sizes.rates);
            let size_risk = estimate.as_ref().map(|e| sizes.risk(e.seconds));

            let mut findings = Vec::new();
            let mut risk = Risk::None;
            if !bookkeeping {
                let mut further = 0;
                let hits = loop {
                    let Some(op) = low.ops.get(index) else {
                        break Vec::new();
                    };
                    let ctx = Ctx {
                        index,
                        op,
                        ops: &low.ops,
                        all_lowered: low.ops.len() == n,
                        tail: &tail,
                        tail_start,
                        later_wanted: Cell::new(false),
                        effect: &eff,
                        catalog: &catalog,
                        tx: &tx,
                        pg_version: self.settings.pg_version,
                        sizes,
                        estimate: estimate.as_ref(),
                        plan: self.facts.plans.get(&index),
                        observed: self.facts.observed.get(&index),
                        units: low.units.units(),
                    };
                    let hits = rules::check(&ctx, |id| self.settings.selected(id));
                    if !ctx.later_wanted.get() {
                        break hits;
                    }
                    // A rule looked beyond the statements lowered so far: a few more chunks
                    // usually decide (a foreign key's index follows it in its revision);
                    // otherwise everything is lowered. Then the statement is judged again.
                    if further < LOOKAHEAD_CHUNKS && low.pull(pull) {
                        further += 1;
                    } else {
                        low.all(pull);
                    }
                };
                let mut used: Vec<&str> = Vec::new();
                for (rule, hit) in hits {
                    if let Some(ig) = st
                        .ignore
                        .iter()
                        .find(|r| r.as_str() == rule.id || r.as_str() == "all")
                    {
                        used.push(ig.as_str());
                        continue;
                    }
                    let severity = self.settings.severity_of(rule.id, rule.severity);
                    let mut message = hit.message;
                    match (&estimate, size_risk) {
                        // The table's size decides how much the work matters.
                        (Some(e), Some(sr)) if rule.scales_with_size => {
                            risk = risk.max(hit.risk.unwrap_or(Risk::None).max(sr));
                            message.push_str(&format!(" [{}]", describe_estimate(e)));
                        }
                        _ => risk = risk.max(hit.risk.unwrap_or(severity_risk(severity))),
                    }
                    for a in &eff.assumptions {
                        if !message.contains(a.as_str()) {
                            message.push_str(&format!(" (assumption: {a})"));
                        }
                    }
                    findings.push(Finding {
                        rule: rule.id.to_string(),
                        severity,
                        message,
                        help: hit.help,
                        span: st.span,
                    });
                }
                if self.settings.selected("unused-ignore") {
                    for ig in &st.ignore {
                        if used.contains(&ig.as_str()) {
                            continue;
                        }
                        let message = if ig != "all" && rules::rule(ig).is_none() {
                            format!("`-- migsafe: ignore {ig}` names no rule migsafe has")
                        } else {
                            format!("`-- migsafe: ignore {ig}` silences nothing on this statement")
                        };
                        let severity = self.settings.severity_of("unused-ignore", Severity::Info);
                        risk = risk.max(severity_risk(severity));
                        findings.push(Finding {
                            rule: "unused-ignore".to_string(),
                            severity,
                            message,
                            help: "Remove the directive, or correct the rule name (`migsafe rules` lists them).".to_string(),
                            span: st.span,
                        });
                    }
                }
                risk = risk.max(effect_risk(lock, lock_heavy, destroys_data, size_risk));
            }
            let Some(op) = low.ops.get(index) else { break };
            // The inverse is computed against the catalog before the statement.
            let inverse = if bookkeeping {
                rollback::bookkeeping_inverse(op)
            } else {
                rollback::inverse(
                    op,
                    &rollback::Context {
                        catalog: &catalog,
                        timezone: &tx.timezone,
                        pg_version: self.settings.pg_version,
                    },
                )
            };
            let reversible = reversibility(&inverse);
            let rollback_sql: Vec<String> = inverse.steps().iter().map(|s| s.sql.clone()).collect();
            inverses.push(inverse);
            let report = StatementReport {
                index,
                revision: st
                    .revision
                    .and_then(|r| read.revisions.get(r))
                    .map(|r| r.marker.id.clone()),
                sql: text[st.span.start_byte..st.span.end_byte].to_string(),
                span: st.span,
                kind: op.kind().to_string(),
                parsed: op.is_parsed(),
                transaction: low.transactions[index],
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
                reversible,
                risk,
                tables,
                findings,
                rollback: rollback_sql,
                observed: self.facts.observed.get(&index).cloned(),
            };
            out.take(report);

            // The state after the statement.
            match op {
                Op::Transaction(TxControl::Commit | TxControl::Rollback) => {
                    tx.end_block(index + 1);
                    local = Gucs::default();
                }
                // SET LOCAL outside a transaction block has no effect (PostgreSQL warns).
                Op::Set {
                    name,
                    value,
                    local: true,
                } if tx.in_transaction => local.set(name, value),
                Op::Set { local: true, .. } => {}
                Op::Set { name, value, .. } => {
                    session.set(name, value);
                    // A plain SET inside a block also replaces a SET LOCAL of the same name.
                    local.reset(Some(name.as_str()));
                }
                Op::Reset { name } => {
                    session.reset(name.as_deref());
                    local.reset(name.as_deref());
                }
                _ => {}
            }
            if tx.in_transaction {
                tx.record(index, op, &eff.locks);
            }
            catalog.apply(op, true);
            if downgrade.is_none() {
                if let Some(op) = low.ops.get_mut(index) {
                    op.slim();
                }
            }
        }
        if let (Some(down), Some(r), Some(before)) =
            (downgrade.as_ref(), current_revision, revision_start.take())
        {
            let done = Done {
                ops: &low.ops,
                inverses: &inverses,
                transactions: &low.transactions,
            };
            self.compare_revision(down, read, r, before, &catalog, &done, &mut out.pending);
        }
        out.flush();
        // The catalog and the author's downgrade are not read again (what follows needs the IR at
        // most): freed before the rest of the report is built.
        drop((catalog, downgrade));
        let summary = out.summary;
        let mut revisions: Vec<RevisionReport> = read
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
                        .filter_map(|&i| inverses.get(i))
                        .map(reversibility),
                ),
                failure_modes: Vec::new(),
            })
            .collect();
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
        // Failure modes (issue 8): what each commit unit's failure leaves behind.
        let names: Vec<failure::RevisionNames> = read
            .revisions
            .iter()
            .map(|r| failure::RevisionNames {
                id: &r.marker.id,
                parents: &r.marker.parents,
            })
            .collect();
        let lines: Vec<u32> = read.statements.iter().map(|s| s.span.start_line).collect();
        let Lowered {
            ops,
            transactions,
            units,
            ..
        } = low;
        let units = units.finish(&ops);
        let (per_revision, failure_modes) =
            failure::failure_modes(&units, &ops, &lines, &names, irreversible.is_empty());
        // The IR and the commit units are not read again either: freeing them before the rollback
        // script is written keeps the script (a few megabytes for a long history) from adding to
        // the pass's peak.
        drop((ops, units, transactions));
        let rollback_units: Vec<rollback::Unit> = read
            .statements
            .iter()
            .zip(&inverses)
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
                upgrade: r.marker.direction == source::Direction::Upgrade,
            })
            .collect();
        let script = rollback::script(name, &rollback_units, &infos);
        for (r, modes) in revisions.iter_mut().zip(per_revision) {
            r.failure_modes = modes;
        }
        Report {
            schema_version: crate::report::SCHEMA_VERSION,
            tool: Tool {
                name: "migsafe".to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            pg_version: self.settings.pg_version,
            source: name.to_string(),
            revisions,
            failure_modes,
            rollback: RollbackReport {
                complete: irreversible.is_empty(),
                script,
                irreversible,
            },
            statements: Vec::new(),
            summary,
            database: self.facts.database.clone(),
        }
    }
}

impl Analyzer {
    /// Adds `downgrade-mismatch` findings for revision `r`, which the pass has just left (`statements`
    /// holds its reports, not yet handed out): what the
    /// author's downgrade of it leaves different from the schema before it (`before`; `catalog` is
    /// the catalog after it), and how its statements differ from the generated rollback.
    #[allow(clippy::too_many_arguments)]
    fn compare_revision(
        &self,
        down: &Downgrade<'_>,
        read: &source::Read,
        r: usize,
        before: Snapshot,
        catalog: &Catalog,
        done: &Done<'_>,
        statements: &mut [StatementReport],
    ) {
        let after = before.same_part(catalog);
        let (before, after) = (&before.catalog, after.as_ref());
        let Some(rev) = read.revisions.get(r) else {
            return;
        };
        if rev.marker.direction != source::Direction::Upgrade {
            return;
        }
        let (ops, inverses, transactions) = (done.ops, done.inverses, done.transactions);
        let (dread, dops, dtx) = (&down.read, &down.ops, &down.transactions);
        let down = down.text;
        let severity = self
            .settings
            .severity_of("downgrade-mismatch", Severity::Warning);
        // The statement findings attach to: the revision's first real statement.
        let Some(&target) = rev.statements.iter().find(|&&i| {
            transactions.get(i) != Some(&Transaction::Bookkeeping)
                && !matches!(
                    ops.get(i),
                    Some(Op::Transaction(_) | Op::Empty | Op::Text | Op::Set { .. })
                )
        }) else {
            return;
        };
        let generated: Vec<String> = rev
            .statements
            .iter()
            .rev()
            .filter(|&&i| transactions.get(i) != Some(&Transaction::Bookkeeping))
            .filter_map(|&i| inverses.get(i))
            .flat_map(|inv| inv.steps().iter().map(|s| s.sql.clone()))
            .collect();
        let mut messages = Vec::new();
        let mut help = String::new();
        match down_step(dread, &rev.marker.id) {
            None => {
                if generated.is_empty() {
                    return;
                }
                messages.push(format!(
                    "the downgrade has no step for revision {}",
                    rev.marker.id
                ));
            }
            Some(d) => {
                let real: Vec<usize> = d
                    .statements
                    .iter()
                    .copied()
                    .filter(|&i| dtx.get(i) != Some(&Transaction::Bookkeeping))
                    .collect();
                let mine: Vec<Op> = real.iter().filter_map(|&i| dops.get(i).cloned()).collect();
                messages.extend(rollback::downgrade_differences(before, after, &mine));
                let theirs: Vec<String> = real
                    .iter()
                    .filter(|&&i| {
                        !matches!(dops.get(i), Some(Op::Transaction(_) | Op::Empty | Op::Text))
                    })
                    .filter_map(|&i| dread.statements.get(i))
                    .map(|st| down[st.span.start_byte..st.span.end_byte].to_string())
                    .collect();
                let (only_generated, only_downgrade) =
                    rollback::statement_diff(&generated, &theirs);
                if messages.is_empty() {
                    return;
                }
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
            }
        }
        if help.is_empty() {
            help = "Compare the revision's downgrade() with the generated rollback (`migsafe rollback`).".to_string();
        }
        if let Some(s) = statements.iter_mut().find(|s| s.index == target) {
            for m in messages {
                s.risk = s.risk.max(severity_risk(severity));
                s.findings.push(Finding {
                    rule: "downgrade-mismatch".to_string(),
                    severity,
                    message: format!("revision {}: {m}", rev.marker.id),
                    help: help.trim_end().to_string(),
                    span: s.span,
                });
            }
        }
    }
}

/// What receives the statements' reports from the pass.
trait Sink {
    /// How many reports will come (told once, before the first).
    fn expect(&mut self, _count: usize) {}
    fn take(&mut self, s: StatementReport);
}

/// [`Analyzer::analyze`]: all of them, in a vector of the right size.
impl Sink for Vec<StatementReport> {
    fn expect(&mut self, count: usize) {
        self.reserve_exact(count);
    }

    fn take(&mut self, s: StatementReport) {
        self.push(s);
    }
}

/// [`Analyzer::analyze_each`]: the caller's function.
struct Each<'f>(&'f mut dyn FnMut(StatementReport));

impl Sink for Each<'_> {
    fn take(&mut self, s: StatementReport) {
        (self.0)(s);
    }
}

/// Where the pass sends each statement's report, counting the summary as they go.
struct Out<'s> {
    sink: &'s mut dyn Sink,
    summary: Summary,
    /// Whether reports wait for the end of their revision (a downgrade comparison may add findings).
    hold: bool,
    /// The current revision's reports, when they wait.
    pending: Vec<StatementReport>,
}

impl<'s> Out<'s> {
    fn new(sink: &'s mut dyn Sink, hold: bool) -> Self {
        Out {
            sink,
            hold,
            summary: Summary {
                statements: 0,
                unparsed: 0,
                findings: FindingCounts::default(),
                risk: Risk::None,
            },
            pending: Vec::new(),
        }
    }

    /// The report of the statement the pass has just left.
    fn take(&mut self, s: StatementReport) {
        if self.hold {
            self.pending.push(s);
        } else {
            self.emit(s);
        }
    }

    fn emit(&mut self, s: StatementReport) {
        let sum = &mut self.summary;
        sum.statements += 1;
        sum.unparsed += usize::from(!s.parsed);
        sum.risk = sum.risk.max(s.risk);
        for f in &s.findings {
            match f.severity {
                Severity::Error => sum.findings.error += 1,
                Severity::Warning => sum.findings.warning += 1,
                Severity::Info => sum.findings.info += 1,
            }
        }
        self.sink.take(s);
    }

    fn flush(&mut self) {
        for s in std::mem::take(&mut self.pending) {
            self.emit(s);
        }
    }
}

fn reversibility(inverse: &Inverse) -> Reversibility {
    match inverse {
        Inverse::Exact(_) => Reversibility::Exact,
        Inverse::Lossy { .. } => Reversibility::Lossy,
        Inverse::Impossible { .. } => Reversibility::Impossible,
    }
}

/// Statements lowered per chunk handed from the lowering threads to the pass: small enough that
/// the pass starts early, large enough that handing over costs nothing next to lowering.
const LOWER_CHUNK: usize = 64;

/// How many more chunks the pass takes, one at a time, for a rule that looks beyond the
/// statements lowered so far, before it lowers them all.
const LOOKAHEAD_CHUNKS: usize = 4;

/// How many of the last statements are lowered ahead ([`Ctx::tail`](crate::rules::Ctx)), in files
/// of at least `TAIL_FROM` statements (in smaller ones everything is lowered as soon).
const TAIL: usize = 16;
const TAIL_FROM: usize = 4 * LOWER_CHUNK;
/// The longest statement lowered ahead in the tail (a COMMIT is a few bytes).
const TAIL_STATEMENT_BYTES: usize = 4 << 10;

type Pull<'s, 'r> = crate::par::Pull<'s, source::SourceStatement, Op>;

/// The statements lowered so far, in order, with what the pass needs to know of them: their
/// transaction state and their commit units.
struct Lowered<'r> {
    read: &'r source::Read,
    ops: Vec<Op>,
    transactions: Vec<Transaction>,
    /// The state [`transactions`] carries from one statement to the next.
    in_block: bool,
    units: failure::UnitsBuilder,
    /// The units answer for the statements before this one.
    units_valid: usize,
    /// The last cut seen (a statement, and how many units there are before it): see
    /// [`Lowered::append`].
    cut: (usize, usize),
}

impl<'r> Lowered<'r> {
    fn new(read: &'r source::Read) -> Self {
        let n = read.statements.len();
        Lowered {
            read,
            ops: Vec::with_capacity(n),
            transactions: Vec::with_capacity(n),
            in_block: false,
            units: failure::UnitsBuilder::new(read.statements.iter().map(|s| s.revision).collect()),
            units_valid: 0,
            cut: (0, 0),
        }
    }

    /// Takes the next lowered chunk; false when every statement is lowered.
    fn pull(&mut self, pull: &mut Pull<'_, '_>) -> bool {
        let from = self.ops.len();
        if !pull.next_into(&mut self.ops) {
            return false;
        }
        for i in from..self.ops.len() {
            self.append(i);
        }
        true
    }

    /// Lowers every statement.
    fn all(&mut self, pull: &mut Pull<'_, '_>) {
        while self.pull(pull) {}
    }

    fn append(&mut self, i: usize) {
        let Some(op) = self.ops.get(i) else { return };
        let tx = next_transaction(&mut self.in_block, op);
        self.transactions.push(tx);
        self.units.push(op, tx);
        // A cut: no block open, and the next statement starts a revision. Every unit before it
        // is complete, and no unit after it can belong to a revision before it (revisions only
        // go forward, and nothing after the first marker is outside every revision), so the
        // units before it answer every question about their statements as the units of the
        // whole file would.
        let statements = &self.read.statements;
        if let (Some(this), Some(next)) = (statements.get(i), statements.get(i + 1))
            && next.revision.is_some()
            && next.revision != this.revision
            && !self.units.in_block()
        {
            self.cut = (i + 1, self.units.count());
        }
    }

    /// Makes statement `index` lowered, and the commit units answer for it: for a statement of
    /// a transaction block, once the block's revision is known; for the others, at the next cut
    /// after it, or at the end of the file.
    fn units_for(&mut self, index: usize, pull: &mut Pull<'_, '_>) {
        while self.ops.len() <= index {
            if !self.pull(pull) {
                return;
            }
        }
        while self.units_valid <= index {
            if let Some(block) = self.units.block_of(index)
                && self.units.open_block(block, &self.ops)
            {
                return;
            }
            let (at, count) = self.cut;
            if at > self.units_valid {
                self.units.index_closed(count, &self.ops);
                self.units_valid = at;
            } else if !self.pull(pull) {
                self.units.index_closed(self.units.count(), &self.ops);
                self.units_valid = usize::MAX;
            }
        }
    }
}

/// What the pass has built so far, for the downgrade comparison.
struct Done<'a> {
    ops: &'a [Op],
    inverses: &'a [Inverse],
    transactions: &'a [Transaction],
}

/// The author's downgrade export, read and lowered once.
struct Downgrade<'d> {
    text: &'d str,
    read: source::Read,
    ops: Vec<Op>,
    transactions: Vec<Transaction>,
}

impl<'d> Downgrade<'d> {
    fn read(text: &'d str) -> Self {
        let read = source::read(text);
        let ops: Vec<Op> = crate::par::map(&read.statements, |st| ir::lower_statement(text, st));
        let transactions = transactions(&ops);
        Downgrade {
            text,
            read,
            ops,
            transactions,
        }
    }
}

impl Downgrade<'_> {
    /// The ops of the downgrade's step for revision `id`, without the migration tool's bookkeeping.
    fn step_ops(&self, id: &str) -> impl Iterator<Item = &Op> {
        down_step(&self.read, id)
            .into_iter()
            .flat_map(|d| d.statements.iter().copied())
            .filter(|&i| self.transactions.get(i) != Some(&Transaction::Bookkeeping))
            .filter_map(|i| self.ops.get(i))
    }
}

/// The catalog at the start of an upgrade revision, for the downgrade comparison: only the tables
/// the revision and its downgrade change, when no statement of either reaches beyond them (a
/// whole copy per revision made a long history over a large schema quadratic).
struct Snapshot {
    catalog: Catalog,
    /// The tables kept (`None`: the whole catalog).
    tables: Option<BTreeSet<QualName>>,
}

impl Snapshot {
    fn take(
        catalog: &Catalog,
        read: &source::Read,
        r: usize,
        ops: &[Op],
        down: &Downgrade<'_>,
    ) -> Option<Snapshot> {
        let rev = read.revisions.get(r)?;
        if rev.marker.direction != source::Direction::Upgrade {
            return None;
        }
        let mut tables = Some(BTreeSet::new());
        let upgrade = rev.statements.iter().filter_map(|&i| ops.get(i));
        for op in upgrade.chain(down.step_ops(&rev.marker.id)) {
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
    fn same_part<'c>(&self, catalog: &'c Catalog) -> std::borrow::Cow<'c, Catalog> {
        match &self.tables {
            Some(set) => std::borrow::Cow::Owned(catalog.subset(set)),
            None => std::borrow::Cow::Borrowed(catalog),
        }
    }
}

/// The downgrade's step for revision `id`.
fn down_step<'r>(read: &'r source::Read, id: &str) -> Option<&'r source::RevisionStep> {
    read.revisions
        .iter()
        .find(|d| d.marker.direction == source::Direction::Downgrade && d.marker.id == id)
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

/// The transaction state of every statement: explicit blocks from BEGIN to COMMIT/ROLLBACK (which
/// count as inside), autocommit outside them, bookkeeping for the migration tools' version tables.
fn transactions(ops: &[Op]) -> Vec<Transaction> {
    let mut in_block = false;
    ops.iter()
        .map(|op| next_transaction(&mut in_block, op))
        .collect()
}

/// The transaction state of the statement after those that left `in_block`.
fn next_transaction(in_block: &mut bool, op: &Op) -> Transaction {
    let state = if *in_block {
        Transaction::InTransaction
    } else {
        Transaction::Autocommit
    };
    match op {
        Op::Transaction(TxControl::Begin) => {
            *in_block = true;
            Transaction::InTransaction
        }
        Op::Transaction(TxControl::Commit | TxControl::Rollback) => {
            *in_block = false;
            state
        }
        op if op.is_bookkeeping() => Transaction::Bookkeeping,
        _ => state,
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

fn severity_risk(s: Severity) -> Risk {
    match s {
        Severity::Error => Risk::High,
        Severity::Warning => Risk::Medium,
        Severity::Info => Risk::Low,
    }
}

/// The risk of what the statement does, whatever the rules say: work that grows with the table
/// under a lock that blocks writes (its own or one its transaction holds), or lost data, is high;
/// both together are critical; taking a brief lock that blocks reads or writes is low (it still
/// queues behind long transactions). When the table's size is known (`size_risk`), the work under
/// the lock is as risky as its estimated duration.
fn effect_risk(
    lock: Option<LockMode>,
    lock_heavy: bool,
    destroys_data: bool,
    size_risk: Option<Risk>,
) -> Risk {
    let heavy = if lock_heavy {
        size_risk.unwrap_or(Risk::High)
    } else {
        Risk::None
    };
    let blocking = if lock.is_some_and(LockMode::blocks_writes) {
        Risk::Low
    } else {
        Risk::None
    };
    if destroys_data && heavy >= Risk::High {
        Risk::Critical
    } else if destroys_data {
        Risk::High.max(heavy)
    } else {
        heavy.max(blocking)
    }
}

/// "public.events: 2.3 M rows, 350 MB; about 12 s of work at this machine's rates"
fn describe_estimate(e: &duration::Estimate) -> String {
    let tables: Vec<String> = e
        .tables
        .iter()
        .map(|(t, s)| format!("{}: {}", t.display_qualified(), duration::describe_size(s)))
        .collect();
    format!(
        "{}; {} of work at the calibrated rates",
        tables.join(", "),
        duration::describe_seconds(e.seconds)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole report of `text`, read `chunk` statements at a time.
    fn report_json(analyzer: &Analyzer, text: &str, chunk: usize) -> String {
        let mut statements = Vec::new();
        let mut report = analyzer.pass_in_chunks("-", text, &mut statements, chunk);
        report.statements = statements;
        serde_json::to_string(&report).unwrap_or_default()
    }

    /// However far the lowering is ahead of the pass (one statement, a chunk, or the whole file
    /// before the first is judged, as before the pass overlapped with it), every report is the
    /// same: the commit units indexed at cuts and the rules that look ahead answer as if the whole
    /// file were read. Over every fixture, and over all of them in one file (thousands of
    /// statements, so the lowering runs on other threads too).
    #[test]
    fn reports_do_not_depend_on_how_far_the_lowering_is() {
        let mut texts = crate::test_fixtures::texts();
        let all: String = texts.iter().map(|(_, t)| format!("{t}\n;\n")).collect();
        texts.push(("all fixtures, four times".to_string(), all.repeat(4)));
        for shape in Shape::ALL {
            texts.push((format!("{shape:?}"), generated(shape, 300)));
        }
        // A block whose first statements come before its first work, in an earlier revision: its
        // revision (that of its first work) is not known until that work is lowered.
        let mut late_work = String::from("SET lock_timeout = '2s';\n");
        for r in 0..40 {
            late_work.push_str(&format!(
                "-- Running upgrade {a:012x} -> {b:012x}\nBEGIN;\nCREATE TABLE n{r} (id int);\nCOMMIT;\nBEGIN;\nSELECT * FROM t{r};\n-- Running upgrade {b:012x} -> {c:012x}\nALTER TABLE t{r} ADD COLUMN c int;\nCOMMIT;\n",
                a = 2 * r,
                b = 2 * r + 1,
                c = 2 * r + 2
            ));
        }
        texts.push(("block before its first work".to_string(), late_work));
        assert!(
            texts
                .iter()
                .filter(|(_, t)| source::read(t).statements.len() > 4 * crate::par::MIN_PER_THREAD)
                .count()
                > Shape::ALL.len()
        );
        let analyzer = Analyzer::default();
        let mut checked = 0;
        for (name, text) in texts.iter().map(|(n, t)| (n.as_str(), t.as_str())) {
            let whole = report_json(&analyzer, text, usize::MAX);
            for chunk in [1, 3, LOWER_CHUNK] {
                assert!(
                    report_json(&analyzer, text, chunk) == whole,
                    "{name}: the report differs when the lowering hands over {chunk} statement(s) at a time"
                );
                checked += 1;
            }
        }
        assert!(checked > 150);
    }

    /// The arrangements of an Alembic history in which the lowering and the pass meet different
    /// questions: where the commit units end, where a COMMIT or an index is found.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Shape {
        PerRevision,
        OneBlock,
        Autocommit,
        Plain,
        IndexesAtTheEnd,
        Uncommitted,
        LockTimeout,
        ConcurrentlyBesideBlocks,
    }

    impl Shape {
        const ALL: [Shape; 8] = [
            Shape::PerRevision,
            Shape::OneBlock,
            Shape::Autocommit,
            Shape::Plain,
            Shape::IndexesAtTheEnd,
            Shape::Uncommitted,
            Shape::LockTimeout,
            Shape::ConcurrentlyBesideBlocks,
        ];
    }

    /// `revisions` revisions of about ten statements each, arranged as `shape`.
    fn generated(shape: Shape, revisions: usize) -> String {
        use std::fmt::Write;
        let blocks = matches!(
            shape,
            Shape::PerRevision
                | Shape::IndexesAtTheEnd
                | Shape::LockTimeout
                | Shape::ConcurrentlyBesideBlocks
                | Shape::Plain
        );
        let mut out = String::new();
        if matches!(shape, Shape::OneBlock | Shape::Uncommitted) {
            out.push_str("BEGIN;\n\n");
        }
        if shape == Shape::LockTimeout {
            out.push_str("SET lock_timeout = '2s';\n\n");
        }
        for r in 0..revisions {
            let t = format!("table_{r}");
            if blocks {
                out.push_str("BEGIN;\n\n");
            }
            if shape != Shape::Plain {
                let _ = write!(out, "-- Running upgrade {r:012x} -> {:012x}\n\n", r + 1);
            }
            if matches!(shape, Shape::ConcurrentlyBesideBlocks | Shape::LockTimeout) && r % 3 == 0 {
                // Outside the block: commits on its own before the block.
                let _ = write!(
                    out,
                    "COMMIT;\n\nCREATE INDEX CONCURRENTLY ix_c_{r} ON {t} (code);\n\nBEGIN;\n\n"
                );
            }
            let _ = write!(
                out,
                "CREATE TABLE new_{r} (\n    id INTEGER NOT NULL, \n    ref INTEGER, \n    PRIMARY KEY (id)\n);\n\n\
                 CREATE INDEX ix_{t}_{r} ON {t} (name);\n\n\
                 ALTER TABLE {t} ALTER COLUMN code TYPE VARCHAR(20);\n\n\
                 UPDATE {t} SET status='old' WHERE created < now() - interval '1 day';\n\n\
                 ALTER TABLE new_{r} ADD CONSTRAINT fk_{r} FOREIGN KEY (ref) REFERENCES {t} (id);\n\n\
                 ALTER TABLE {t} DROP COLUMN legacy_{r};\n\n\
                 DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 't{r}') THEN CREATE TYPE t{r} AS ENUM ('a', 'b'); END IF; END $$;\n\n"
            );
            if shape == Shape::PerRevision && r % 2 == 0 {
                // The foreign key's index, a few statements later in the same revision.
                let _ = write!(out, "CREATE INDEX ix_ref_{r} ON new_{r} (ref);\n\n");
            }
            let _ = write!(
                out,
                "UPDATE alembic_version SET version_num='{:012x}' WHERE alembic_version.version_num = '{r:012x}';\n\n",
                r + 1
            );
            if blocks {
                out.push_str("COMMIT;\n\n");
            }
        }
        if shape == Shape::IndexesAtTheEnd {
            for r in (0..revisions).step_by(3) {
                let _ = write!(out, "CREATE INDEX ix_ref_{r} ON new_{r} (ref);\n\n");
            }
        }
        if shape == Shape::OneBlock {
            out.push_str("COMMIT;\n\n");
        }
        out
    }
}
