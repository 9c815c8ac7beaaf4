//! The rules: one file per rule. Each file's `//!` comment is the rule's documentation (What it does /
//! Why is this bad? / Example / Use instead / References) and is what `migsafe rules RULE` prints; its
//! `RULE` constant is the check. `tests/rules.rs` keeps this registry, the docs and the fixtures in
//! `fixtures/rules/<rule>.sql` in step.
//!
//! Rules see only our IR, the catalog before the statement, the statement's [`Effect`] and the
//! transaction state: never sqlparser.
//!
//! A rule's docs are Markdown for `migsafe rules`, SARIF viewers and `docs/rules.md`, where a bare
//! address is a link: rustdoc's wish for angle brackets does not apply to them.
#![allow(rustdoc::bare_urls)]

use crate::catalog::Catalog;
use crate::catalog::normal;
use crate::ir::{ObjectKind, Op, QualName};
use crate::pg::LockMode;
use crate::pg::effect::Effect;
use crate::pg::types::TimeZone;
use crate::vocab::{Risk, Severity};
use std::collections::HashMap;
use std::ops::Range;

/// The transaction state while a statement runs.
///
/// Rules ask about the block for every statement, and Alembic's offline export runs the whole
/// upgrade in one block by default: tens of thousands of statements and thousands of tables. So
/// the state is kept up to date statement by statement and indexed, and no question scans the
/// block (scanning made a 20,000-statement single-block export take 32 s).
#[derive(Debug, Clone)]
pub struct TxState {
    /// Inside an explicit `BEGIN … COMMIT` block.
    pub in_transaction: bool,
    /// The statements of the current transaction block before this one (empty outside a block).
    pub earlier: Range<usize>,
    /// Locks on pre-existing tables held from earlier statements of the same transaction: one entry
    /// per table, with its strongest mode, in the order the tables were first locked.
    held: Vec<(QualName, LockMode)>,
    /// Per entry of `held`: the statement that took its mode first.
    held_by: Vec<usize>,
    /// Position in `held` of each table.
    held_at: HashMap<QualName, usize>,
    /// The strongest mode in `held` (asked for every statement: kept, not recomputed).
    strongest: Option<LockMode>,
    /// The strongest mode among held locks that block writes, and the last position in `held`
    /// with that mode.
    strongest_blocking: Option<(LockMode, usize)>,
    /// ALTER TABLE statements of the block, by table (normalised).
    alters: HashMap<QualName, Vec<usize>>,
    /// ALTER TYPE … ADD VALUE statements of the block.
    enum_adds: Vec<usize>,
    /// A non-zero `lock_timeout` is in force.
    pub lock_timeout: bool,
    /// A non-zero `statement_timeout` is in force.
    pub statement_timeout: bool,
    pub timezone: TimeZone,
}

impl Default for TxState {
    fn default() -> Self {
        TxState {
            in_transaction: false,
            earlier: 0..0,
            held: Vec::new(),
            held_by: Vec::new(),
            held_at: HashMap::new(),
            strongest: None,
            strongest_blocking: None,
            alters: HashMap::new(),
            enum_adds: Vec::new(),
            lock_timeout: false,
            statement_timeout: false,
            timezone: TimeZone::Unknown,
        }
    }
}

impl TxState {
    /// Locks on pre-existing tables held from earlier statements of the same transaction: one per
    /// table, its strongest mode, in the order the tables were first locked.
    pub fn held(&self) -> &[(QualName, LockMode)] {
        &self.held
    }

    /// The strongest lock held on `table` (normalised) from earlier statements of the transaction.
    pub fn held_on(&self, table: &QualName) -> Option<LockMode> {
        self.held_at
            .get(table)
            .and_then(|&i| self.held.get(i))
            .map(|(_, m)| *m)
    }

    /// The earlier statement of the block that took the lock now held on `table`.
    pub fn held_by(&self, table: &QualName) -> Option<usize> {
        self.held_at
            .get(table)
            .and_then(|&i| self.held_by.get(i))
            .copied()
    }

    /// The strongest lock held from earlier statements of the transaction, on any table.
    pub fn strongest_held(&self) -> Option<LockMode> {
        self.strongest
    }

    /// The strongest held lock that blocks writes (the last table locked in that mode among
    /// equals).
    pub fn strongest_blocking(&self) -> Option<(&QualName, LockMode)> {
        let (mode, at) = self.strongest_blocking?;
        self.held.get(at).map(|(t, _)| (t, mode))
    }

    /// The earlier ALTER TABLE statements of the block on `table` (normalised).
    pub fn alters_of(&self, table: &QualName) -> &[usize] {
        self.alters.get(table).map_or(&[], Vec::as_slice)
    }

    /// The earlier ALTER TYPE … ADD VALUE statements of the block.
    pub fn enum_adds(&self) -> &[usize] {
        &self.enum_adds
    }

    /// A block opens; its first statement is `first`.
    pub fn begin_block(&mut self, first: usize) {
        self.in_transaction = true;
        self.reset_block(first);
    }

    /// The block ended; the next statement is `next`.
    pub fn end_block(&mut self, next: usize) {
        self.in_transaction = false;
        self.reset_block(next);
    }

    fn reset_block(&mut self, at: usize) {
        self.earlier = at..at;
        self.held.clear();
        self.held_by.clear();
        self.held_at.clear();
        self.strongest = None;
        self.strongest_blocking = None;
        self.alters.clear();
        self.enum_adds.clear();
    }

    /// Statement `index` of the open block ran: `op`, taking `locks` on pre-existing tables.
    pub fn record(&mut self, index: usize, op: &Op, locks: &[(QualName, LockMode)]) {
        self.earlier.end = index + 1;
        for (t, m) in locks {
            let at = match self.held_at.get(t) {
                Some(&at) => {
                    let Some((_, held)) = self.held.get_mut(at) else {
                        continue;
                    };
                    if *m <= *held {
                        continue;
                    }
                    *held = *m;
                    if let Some(by) = self.held_by.get_mut(at) {
                        *by = index;
                    }
                    at
                }
                None => {
                    self.held.push((t.clone(), *m));
                    self.held_by.push(index);
                    self.held_at.insert(t.clone(), self.held.len() - 1);
                    self.held.len() - 1
                }
            };
            self.strongest = self.strongest.max(Some(*m));
            if m.blocks_writes() {
                self.strongest_blocking = match self.strongest_blocking {
                    Some((best, last)) if best > *m => Some((best, last)),
                    Some((best, last)) if best == *m => Some((best, last.max(at))),
                    _ => Some((*m, at)),
                };
            }
        }
        match op {
            Op::AlterTable { name, .. } => self.alters.entry(normal(name)).or_default().push(index),
            Op::AlterTypeAddValue { .. } => self.enum_adds.push(index),
            _ => {}
        }
    }
}

/// Everything a rule may look at for one statement.
pub struct Ctx<'a> {
    /// The statement's position in the migration, from 0.
    pub index: usize,
    /// The statement.
    pub op: &'a Op,
    /// Every statement of the migration, in order (`ops[index]` is this one).
    pub ops: &'a [Op],
    /// What this statement does to pre-existing tables.
    pub effect: &'a Effect,
    /// The schema before this statement.
    pub catalog: &'a Catalog,
    /// The transaction state while the statement runs.
    pub tx: &'a TxState,
    /// The PostgreSQL major version the migration will run on.
    pub pg_version: u32,
    /// How table sizes turn into risk, and what counts as a large table.
    pub sizes: &'a crate::pg::duration::SizeSettings,
    /// The estimated table-sized work of this statement, when the database gave every size.
    pub estimate: Option<&'a crate::pg::duration::Estimate>,
    /// The statement's EXPLAIN plan on the database, if one was taken.
    pub plan: Option<&'a crate::pg::plan::Plan>,
    /// What running the statement on a restored copy showed (`--verify`).
    pub observed: Option<&'a crate::report::Observed>,
    /// The file's commit units and each statement's revision (for the rules about retries).
    pub units: &'a crate::pg::units::Units,
}

impl Ctx<'_> {
    /// The statements after this one.
    pub fn later(&self) -> &[Op] {
        self.ops.get(self.index + 1..).unwrap_or(&[])
    }

    /// Whether a statement after this one satisfies `pred`.
    pub fn any_later(&self, pred: impl FnMut(&Op) -> bool) -> bool {
        self.later().iter().any(pred)
    }

    /// The lock this statement takes on `table` (normalised name), if it existed before.
    pub fn lock_on(&self, table: &QualName) -> Option<LockMode> {
        self.effect
            .locks
            .iter()
            .find(|(t, _)| t == table)
            .map(|(_, m)| *m)
    }
}

/// Everything a migration-level check may look at: the whole migration, once every statement's own
/// checks have run.
pub struct Migration<'a> {
    /// The statements and revisions read from `text`.
    pub read: &'a crate::source::Read,
    /// Every statement, lowered.
    pub ops: &'a [Op],
    /// Where each statement runs.
    pub transactions: &'a [crate::vocab::Transaction],
    /// The generated rollback of each statement.
    pub inverses: &'a [crate::rollback::Inverse],
    /// The schema before the migration.
    pub schema: &'a Catalog,
    /// The connection's `standard_conforming_strings` the migration is read with.
    pub standard_conforming_strings: bool,
    /// The author's own downgrade export, when one was given.
    pub downgrade: Option<&'a str>,
    /// Per statement: the `-- migsafe: ignore` directives that silenced a finding of its own
    /// checks. Migration-level findings are not silenced by directives: a directive names what
    /// the statement itself does.
    pub silenced: &'a [Vec<String>],
}

/// One finding of a rule, before severity and span are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub message: String,
    pub help: String,
    /// A risk above what the severity implies (e.g. the statement always fails).
    pub risk: Option<Risk>,
    /// What the hazard comes from, when several statements share it (e.g. `held:3`, the locks
    /// held in commit unit 3): the hits of one cause make one finding, on the first statement,
    /// and notes on the others.
    pub cause: Option<String>,
}

impl Hit {
    pub fn new(message: impl Into<String>, help: impl Into<String>) -> Hit {
        Hit {
            message: message.into(),
            help: help.into(),
            risk: None,
            cause: None,
        }
    }

    /// The hit shares its cause with other statements' hits: see [`Hit::cause`].
    pub fn because(mut self, cause: impl Into<String>) -> Hit {
        self.cause = Some(cause.into());
        self
    }

    pub fn with_risk(mut self, risk: Risk) -> Hit {
        self.risk = Some(risk);
        self
    }
}

/// Where a session setting such as a timeout is missing: the statement's transaction block, or
/// all the statements that run outside one (a single `SET` at the start covers them).
pub(crate) fn timeout_scope(ctx: &Ctx) -> String {
    match ctx.units.unit_index(ctx.index) {
        Some(unit) if ctx.tx.in_transaction => format!("block {unit}"),
        _ => "autocommit".to_string(),
    }
}

/// A rule's check of one statement: its findings there.
pub type StatementCheck = fn(&Ctx) -> Vec<Hit>;

/// A rule's check of the whole migration: its findings, each with the index of the statement it
/// is attached to.
pub type MigrationCheck = fn(&Migration) -> Vec<(usize, Hit)>;

/// A rule: its id, default severity, one-line summary and check.
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// The hazard is work that grows with the table (a scan or rewrite): when the database gives
    /// the table's size, the finding states the estimated duration and its risk follows the size
    /// (see [`crate::pg::duration::SizeSettings`]).
    pub scales_with_size: bool,
    /// The per-statement check.
    pub check: Option<StatementCheck>,
    /// The per-migration check, run after every statement's.
    pub check_migration: Option<MigrationCheck>,
}

/// A registered rule with its documentation.
pub struct RuleEntry {
    pub rule: &'static Rule,
    /// The rule file's source; [`RuleEntry::docs`] extracts its `//!` comment.
    source: &'static str,
}

impl RuleEntry {
    /// The rule's documentation (Markdown), from its file's `//!` comment.
    pub fn docs(&self) -> String {
        let mut out = String::new();
        for line in self.source.lines() {
            let Some(rest) = line.trim_start().strip_prefix("//!") else {
                if !out.is_empty() {
                    break;
                }
                continue;
            };
            out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            out.push('\n');
        }
        out
    }
}

macro_rules! registry {
    ($($module:ident),* $(,)?) => {
        $(mod $module;)*
        /// Every rule, in alphabetical order of id.
        pub static RULES: &[RuleEntry] = &[
            $(RuleEntry { rule: &$module::RULE, source: include_str!(concat!(stringify!($module), ".rs")) },)*
        ];
    };
}

registry!(
    alter_column_type_rewrite,
    attach_partition_scan,
    ban_char_type,
    cascade,
    check_constraint_without_not_valid,
    concurrently_in_transaction,
    constrained_domain_column,
    create_index_concurrently_pg14,
    create_index_non_concurrently,
    detach_partition_non_concurrently,
    downgrade_mismatch,
    drop_column,
    drop_index_non_concurrently,
    drop_schema,
    drop_table,
    enum_value_ordering,
    enum_value_used_in_same_transaction,
    exclude_constraint,
    fails_on_copy,
    foreign_key_without_index,
    foreign_key_without_not_valid,
    lock_held_during_work,
    lock_timeout_without_retry,
    lossy_type_change,
    may_fail_on_existing_rows,
    missing_lock_timeout,
    missing_statement_timeout,
    mixed_transaction_units,
    multiple_alter_table,
    non_idempotent_outside_transaction,
    not_null_column_without_default,
    not_null_on_unfilled_column,
    not_sql,
    observed_differs,
    prefer_bigint_primary_key,
    prefer_jsonb,
    prefer_timestamptz,
    primary_key_using_index_nullable,
    refresh_materialized_view_non_concurrently,
    reindex_non_concurrently,
    rename_column,
    rename_table,
    seq_scan_on_large_table,
    serial_or_identity_column_rewrite,
    set_not_null_scan,
    stored_generated_column,
    table_rewrite_setting,
    transaction_nesting,
    truncate,
    type_change_revalidates_check,
    unbatched_backfill,
    uncommitted_transaction,
    unique_constraint_builds_index,
    unknown_table,
    unparsed_statement,
    unused_ignore,
    vacuum_full_or_cluster,
    validate_in_same_transaction,
    volatile_default_rewrite,
);

#[cfg(any(test, doctest))]
mod reference;

/// Looks a rule up by id.
pub fn rule(id: &str) -> Option<&'static RuleEntry> {
    RULES.iter().find(|r| r.rule.id == id)
}

/// Runs every selected rule's per-statement check on one statement.
pub(crate) fn check(ctx: &Ctx, selected: impl Fn(&str) -> bool) -> Vec<(&'static Rule, Hit)> {
    let mut out = Vec::new();
    if skipped_if_exists(ctx) {
        return out;
    }
    for rule in RULES.iter().map(|e| e.rule).filter(|r| selected(r.id)) {
        if let Some(check) = rule.check {
            out.extend(check(ctx).into_iter().map(|hit| (rule, hit)));
        }
    }
    out
}

/// `… IF EXISTS` of tables the schema given does not list: the statement does nothing.
fn skipped_if_exists(ctx: &Ctx) -> bool {
    match ctx.op {
        Op::AlterTable {
            name,
            if_exists: true,
            ..
        } => ctx.catalog.unknown(name),
        Op::Drop {
            kind: ObjectKind::Table,
            names,
            if_exists: true,
            ..
        } => !names.is_empty() && names.iter().all(|n| ctx.catalog.unknown(n)),
        _ => false,
    }
}

/// Runs every selected rule's per-migration check: findings with the statement they belong to.
pub(crate) fn check_migration(
    migration: &Migration,
    selected: impl Fn(&str) -> bool,
) -> Vec<(usize, &'static Rule, Hit)> {
    let mut out = Vec::new();
    for rule in RULES.iter().map(|e| e.rule).filter(|r| selected(r.id)) {
        if let Some(check) = rule.check_migration {
            out.extend(check(migration).into_iter().map(|(i, hit)| (i, rule, hit)));
        }
    }
    out
}

/// Columns a statement declares or retypes: (table, column, type) — for the rules about column
/// types.
pub(crate) fn declared_columns(op: &Op) -> Vec<(&QualName, &str, &crate::ir::TypeName)> {
    use crate::ir::AlterAction;
    match op {
        Op::CreateTable { name, columns, .. } => columns
            .iter()
            .map(|c| (name, c.name.as_str(), &c.ty))
            .collect(),
        Op::AlterTable { name, actions, .. } => actions
            .iter()
            .filter_map(|a| match a {
                AlterAction::AddColumn { column, .. } => {
                    Some((name, column.name.as_str(), &column.ty))
                }
                AlterAction::AlterColumnType { column, ty, .. } => {
                    Some((name, column.as_str(), ty))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Helpers for the rules' unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::{Analyzer, Catalog, Settings, Source};

    /// How many findings of `rule` each statement of `sql` gets (PostgreSQL 15, no schema).
    pub(crate) fn counts(rule: &str, sql: &str) -> Vec<usize> {
        messages(rule, 15, None, sql).iter().map(Vec::len).collect()
    }

    /// `rule`'s messages per statement, for `sql` analysed on `schema` (none: no schema) for
    /// PostgreSQL `version`.
    pub(crate) fn messages(
        rule: &str,
        version: u32,
        schema: Option<&str>,
        sql: &str,
    ) -> Vec<Vec<String>> {
        let mut analyzer = Analyzer::new(Settings::default().pg_version(version));
        if let Some(s) = schema {
            analyzer = analyzer.schema(Catalog::from_sql(s).expect("schema loads"));
        }
        let report = analyzer
            .analyze(Source::new("test.sql", sql))
            .expect("analyses");
        report
            .statements
            .iter()
            .map(|s| {
                // What the rule found there, also when an earlier finding of the same cause
                // covers it (a note).
                let found = s.findings.iter().map(|f| (&f.rule, &f.message));
                let noted = s.notes.iter().map(|n| (&n.rule, &n.message));
                found
                    .chain(noted)
                    .filter(|(r, _)| r.as_ref() == rule)
                    .map(|(_, m)| m.clone())
                    .collect()
            })
            .collect()
    }
}

/// Shared wording for findings.
pub(crate) mod say {
    use crate::ir::{QualName, quote_ident};
    use crate::pg::LockMode;

    /// `CREATE INDEX [CONCURRENTLY] ix_<table>_<columns> ON <table> (<columns>);`, the name cut to
    /// PostgreSQL's 63 bytes of identifier (NAMEDATALEN - 1).
    pub fn create_index(table: &QualName, columns: &[String], concurrently: bool) -> String {
        let ix: String = format!("ix_{}_{}", table.name, columns.join("_"))
            .chars()
            .take(63)
            .collect();
        let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
        format!(
            "CREATE INDEX{} {} ON {table} ({});",
            if concurrently { " CONCURRENTLY" } else { "" },
            quote_ident(&ix),
            cols.join(", ")
        )
    }

    /// "an ACCESS EXCLUSIVE lock on public.runs (blocks reads and writes)"
    pub fn a_lock_on(mode: LockMode, table: &QualName) -> String {
        let article = if mode.sql_name().starts_with(['A', 'E']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {}", lock_on(mode, table))
    }

    /// "ACCESS EXCLUSIVE lock on public.runs (blocks reads and writes)"
    pub fn lock_on(mode: LockMode, table: &QualName) -> String {
        format!(
            "{} lock on {} ({})",
            mode.sql_name(),
            table.display_qualified(),
            mode.blocks_what()
        )
    }
}

#[cfg(test)]
mod tx_state_tests {
    use super::TxState;
    use crate::ir::{Op, QualName};
    use crate::pg::LockMode::{
        AccessExclusiveLock, AccessShareLock, ShareLock, ShareRowExclusiveLock,
    };

    fn q(name: &str) -> QualName {
        QualName::new(Some("public"), name)
    }

    #[test]
    fn one_entry_per_table_with_its_strongest_mode_and_who_took_it() {
        let mut tx = TxState::default();
        tx.begin_block(1);
        tx.record(
            1,
            &Op::Empty,
            &[(q("a"), ShareLock), (q("b"), AccessShareLock)],
        );
        tx.record(2, &Op::Empty, &[(q("b"), ShareRowExclusiveLock)]);
        tx.record(3, &Op::Empty, &[(q("a"), AccessShareLock)]);
        assert_eq!(
            tx.held(),
            &[(q("a"), ShareLock), (q("b"), ShareRowExclusiveLock)]
        );
        // The weaker lock of statement 3 changes nothing: statement 1 took a's lock.
        assert_eq!(tx.held_by(&q("a")), Some(1));
        assert_eq!(tx.held_by(&q("b")), Some(2));
        assert_eq!(tx.held_on(&q("c")), None);
        assert_eq!(tx.earlier, 1..4);
        assert_eq!(
            tx.strongest_blocking(),
            Some((&q("b"), ShareRowExclusiveLock))
        );
        // Among equals, the last table locked in that mode.
        tx.record(4, &Op::Empty, &[(q("a"), ShareRowExclusiveLock)]);
        assert_eq!(
            tx.strongest_blocking(),
            Some((&q("b"), ShareRowExclusiveLock))
        );
        tx.record(5, &Op::Empty, &[(q("c"), ShareRowExclusiveLock)]);
        assert_eq!(
            tx.strongest_blocking(),
            Some((&q("c"), ShareRowExclusiveLock))
        );
        tx.record(6, &Op::Empty, &[(q("a"), AccessExclusiveLock)]);
        assert_eq!(
            tx.strongest_blocking(),
            Some((&q("a"), AccessExclusiveLock))
        );
        assert_eq!(tx.held_by(&q("a")), Some(6));
        tx.end_block(7);
        assert!(tx.held().is_empty());
        assert_eq!(tx.strongest_blocking(), None);
        assert_eq!(tx.earlier, 7..7);
    }

    #[test]
    fn access_share_never_blocks_writes() {
        let mut tx = TxState::default();
        tx.begin_block(0);
        tx.record(0, &Op::Empty, &[(q("a"), AccessShareLock)]);
        assert_eq!(tx.strongest_blocking(), None);
        assert_eq!(tx.strongest_held(), Some(AccessShareLock));
    }

    #[test]
    fn alters_and_enum_values_by_statement() {
        let sql = "ALTER TABLE A ADD COLUMN x int; ALTER TABLE public.a DROP COLUMN y; ALTER TABLE b ADD COLUMN z int; ALTER TYPE e ADD VALUE 'v';";
        let report_ops: Vec<Op> = crate::source::read(sql)
            .statements
            .iter()
            .map(|st| crate::ir::lower_statement(sql, st))
            .collect();
        let mut tx = TxState::default();
        tx.begin_block(0);
        for (i, op) in report_ops.iter().enumerate() {
            tx.record(i, op, &[]);
        }
        assert_eq!(tx.alters_of(&q("a")), &[0, 1]);
        assert_eq!(tx.alters_of(&q("b")), &[2]);
        assert_eq!(tx.enum_adds(), &[3]);
    }
}
