//! The report: plain serde data, the JSON contract (schema_version 1, `schema/report.schema.json`).
//! Tools read it back with serde; renderers see only this module's types.

pub mod render;
pub mod schema;

use crate::source::{Direction, Span};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::sync::Arc;

/// The version of the JSON layout ([`Report::schema_version`]): it changes only when a field changes
/// meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

pub use crate::pg::LockMode;
pub use crate::vocab::{Risk, Severity, Transaction};

/// How far the generated rollback undoes a statement (or a revision: its worst statement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reversibility {
    /// The generated rollback gives everything back.
    Exact,
    /// The rollback restores the schema, but some data cannot come back (a dropped column's values).
    Lossy,
    /// Nothing migsafe can generate undoes it: restore from a backup.
    Impossible,
}

/// The program that wrote the report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Tool {
    /// Always `migsafe`.
    pub name: String,
    /// The crate version.
    pub version: String,
}

/// One Alembic revision (or Django migration) found in the file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RevisionReport {
    /// The revision id, e.g. `7ac759974ad8`.
    pub id: String,
    /// The revisions it follows (several for a merge, none for the first).
    pub parents: Vec<String>,
    /// Whether the step upgrades or downgrades.
    #[schemars(with = "schema::DirectionSchema")]
    pub direction: Direction,
    /// Indexes into `statements`.
    pub statements: Vec<usize>,
    /// How far the generated rollback undoes the revision: its worst statement.
    pub reversible: Reversibility,
    /// What a failure of each of the revision's commit units leaves behind, in order.
    pub failure_modes: Vec<FailureMode>,
    /// The revision's Python file (`--alembic-versions`), where annotations point; absent when
    /// unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The line in `file` where the revision's `upgrade()` (or `downgrade()`) is defined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_line: Option<u32>,
}

/// One commit unit (a transaction block, or one statement outside any block) and what its failure
/// leaves behind: the earlier units of the same revision stay committed, and some statements leave
/// objects behind even though they failed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct FailureMode {
    /// The unit's number in the file, from 1 (units without work are not counted).
    pub unit: usize,
    /// Its statements (indexes into `statements`), transaction control included.
    pub statements: Vec<usize>,
    /// The unit is a transaction block: a failure undoes all of it.
    pub in_transaction: bool,
    /// Statements of the same revision (of the file, outside revisions) that earlier units have
    /// committed when this unit fails: the first 20 of them (`committed_count` counts all).
    // Shared: the lists of a revision's units stop growing at 20, and a file of many autocommit
    // statements has a unit per statement.
    pub committed: Arc<[usize]>,
    /// How many statements earlier units have committed.
    pub committed_count: usize,
    /// Committed statements that fail (or do their work twice) when the revision runs again: the
    /// first 20 (`rerun_fail_count` counts all).
    pub rerun_fails: Arc<[RerunFailure]>,
    /// How many committed statements fail (or do their work twice) when the revision runs again.
    pub rerun_fail_count: usize,
    /// What a failure of the unit itself leaves behind.
    pub leftovers: Vec<Leftover>,
    /// All of the above in plain words, with what to run next.
    pub message: String,
}

/// A committed statement that a retry of its revision runs again, and why that fails.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RerunFailure {
    /// Index into `statements`.
    pub statement: usize,
    /// Why running it again fails (or does its work twice).
    pub reason: String,
}

/// An object a failed statement leaves behind.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Leftover {
    /// What state the object is left in.
    pub kind: LeftoverKind,
    /// The object (schema-qualified when the statement qualified it).
    pub object: String,
    /// What to run (or do) about it before retrying.
    pub fix: String,
}

/// Kinds of [`Leftover`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LeftoverKind {
    /// An index marked INVALID: ignored by queries, still updated by every write.
    InvalidIndex,
    /// A partition in the pending-detach state of an interrupted `DETACH … CONCURRENTLY`.
    PendingDetach,
}

/// A relation lock a statement requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct LockReport {
    /// Schema-qualified name of a table, view or matview that existed before the migration.
    pub table: String,
    /// The lock mode, as `pg_locks.mode` names it.
    #[schemars(with = "schema::LockModeSchema")]
    pub mode: LockMode,
}

/// A table a statement touches.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TableReport {
    /// Its schema-qualified name.
    pub name: String,
    /// Estimated rows, when a database or schema dump says so.
    pub rows: Option<u64>,
    /// Size on disk in bytes, when a database says so.
    pub bytes: Option<u64>,
    /// An earlier statement of the migration created it: it holds no production data yet.
    pub created_in_migration: bool,
}

/// One rule's finding on one statement.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Finding {
    /// The rule id (`migsafe rules` lists them).
    // Borrowed from the rule registry: a report can hold hundreds of thousands of findings.
    pub rule: Cow<'static, str>,
    /// How serious it is (the rule's default unless the settings change it).
    pub severity: Severity,
    /// What the statement does and why it matters.
    pub message: String,
    /// What to do instead.
    // Shared: a rule usually gives the same help on every statement it flags.
    pub help: Arc<str>,
    /// Where in the file (the statement's span).
    #[schemars(with = "schema::SpanSchema")]
    pub span: Span,
    /// How much it matters: what `--fail-on` compares. A warning or an error carries the risk of
    /// its statement's effect; an info finding only its own.
    pub risk: Risk,
    /// The cause the finding shares with other statements' (see [`StatementReport::notes`]).
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) cause: Option<String>,
}

/// A hazard of this statement that a finding on an earlier statement already reports: one
/// cause, one finding (a transaction holding a lock through several long statements, a missing
/// timeout, a statement a retry cannot run again).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Note {
    /// The rule that would have flagged this statement.
    pub rule: Cow<'static, str>,
    /// The severity its finding here would have had.
    pub severity: Severity,
    /// What it says about this statement.
    pub message: String,
    /// The index of the statement whose finding covers this one.
    pub finding_at: usize,
}

/// Everything known about one statement of the migration.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct StatementReport {
    /// Position in `statements`, from 0.
    pub index: usize,
    /// The revision the statement belongs to, if the file names revisions.
    pub revision: Option<String>,
    /// The statement exactly as written (cut from the file by byte range).
    pub sql: String,
    /// Where the statement is in the file.
    #[schemars(with = "schema::SpanSchema")]
    pub span: Span,
    /// What the statement is, e.g. `alter_table`, `create_index`, `unparsed`.
    pub kind: Cow<'static, str>,
    /// Whether the SQL parser read it (otherwise a keyword fallback or nothing did).
    pub parsed: bool,
    /// Where it runs: in a transaction block, on its own, or as the migration tool's bookkeeping.
    pub transaction: Transaction,
    /// The relation locks the statement itself requests on tables that existed before the migration.
    pub locks: Vec<LockReport>,
    /// The strongest of `locks`; null for none.
    #[schemars(with = "Option<schema::LockModeSchema>")]
    pub lock: Option<LockMode>,
    /// The strongest lock already held by the transaction from earlier statements while this one runs.
    #[schemars(with = "Option<schema::LockModeSchema>")]
    pub held: Option<LockMode>,
    /// The table (or matview) gets new storage.
    pub rewrites_table: bool,
    /// The statement reads (at least half of) a pre-existing table sequentially.
    pub full_scan: bool,
    /// Rows, columns or tables holding data are dropped or emptied, or a type change loses values.
    pub destroys_data: bool,
    /// Blocks reads or writes for work that grows with the table's size.
    pub lock_heavy: bool,
    /// How far the generated rollback undoes it.
    pub reversible: Reversibility,
    /// How risky it is to run against a live database: the worst of its findings and effects.
    pub risk: Risk,
    /// The tables it touches.
    pub tables: Vec<TableReport>,
    /// What the rules found, less what an `-- migsafe: ignore` directive acknowledged.
    pub findings: Vec<Finding>,
    /// Findings an `-- migsafe: ignore` directive acknowledged: listed, never counted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acknowledged: Vec<Finding>,
    /// Hazards of this statement that an earlier statement's finding reports, with its cause.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
    /// The statements that undo this one, in the order to run them.
    pub rollback: Vec<String>,
    /// What running it on a restored copy showed (`--verify`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<Box<Observed>>,
}

/// What one statement did when it ran on the restored copy, inside the verification transaction
/// that is always rolled back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[non_exhaustive]
pub struct Observed {
    /// Not run, and why (e.g. VACUUM cannot run in a transaction block; the migration's own
    /// BEGIN/COMMIT).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The SQL that ran when it is not the statement as written (CONCURRENTLY removed: a
    /// transaction block cannot hold it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ran_as: Option<String>,
    /// Relation locks the statement newly took on tables that existed before the migration
    /// (`pg_locks` of the verifying session; a mode the transaction already held does not show).
    pub locks: Vec<LockReport>,
    /// Tables whose storage changed (`pg_class.relfilenode`).
    pub rewrote: Vec<String>,
    /// Tables read sequentially (`pg_stat_xact_user_tables.seq_scan` grew).
    pub seq_scans: Vec<String>,
    /// Wall-clock time on the copy.
    pub duration_ms: f64,
    /// The server's error, when the statement failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why the server cancelled the statement before it finished (a timeout or the time budget),
    /// when it did: then `error` holds the server's message and the data did not decide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<String>,
    /// Where what the server did differs from migsafe's prediction, in words.
    pub differences: Vec<String>,
}

impl Observed {
    /// The risk of the statement as the run measured it (its duration under the strongest lock it
    /// held, graded as `sizes` grades estimates), with `held` the strongest lock its
    /// transaction held before it. `None` when the run did not measure the statement as written:
    /// not run, run in another form (CONCURRENTLY removed), or failed for a reason other than a
    /// cancellation (a cancelled statement ran at least that long, which is what counts).
    pub fn measured_risk(
        &self,
        held: Option<crate::pg::LockMode>,
        sizes: &crate::pg::duration::SizeSettings,
    ) -> Option<crate::vocab::Risk> {
        if self.skipped.is_some()
            || self.ran_as.is_some()
            || (self.error.is_some() && self.cancelled.is_none())
        {
            return None;
        }
        let strongest = self.locks.iter().map(|l| l.mode).max().max(held);
        Some(crate::pg::duration::observed_risk(
            self.duration_ms / 1000.0,
            strongest,
            sizes,
        ))
    }
}

/// The restored copy a report was checked against.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct DatabaseReport {
    /// `server_version` of the copy.
    pub server_version: String,
    /// Tables, views and materialized views read from its catalog.
    pub tables: usize,
    /// Statements EXPLAINed.
    pub explained: usize,
    /// The migration ran statement by statement in a transaction that was rolled back.
    pub verified: bool,
    /// Whether the generated rollback, run after the migration in the same transaction, gave back
    /// the catalog as it was (null: not verified).
    pub rollback_verified: Option<bool>,
    /// How the catalog after the rollback differs from the one before (empty when verified).
    pub rollback_differences: Vec<String>,
    /// What was not checked and why, and how the run was done.
    pub notes: Vec<String>,
}

/// A statement the rollback script cannot undo.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Irreversible {
    /// Index into `statements`.
    pub statement: usize,
    /// Why it cannot be undone.
    pub reason: String,
}

/// A statement the rollback script undoes, but not everything it changed comes back.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Lossy {
    /// Index into `statements`.
    pub statement: usize,
    /// What does not come back (rows, a column's values, a sequence's position, a row order).
    pub loses: String,
}

/// The generated rollback of the whole file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RollbackReport {
    /// Every statement is undone (exactly or lossily) by `script`.
    pub complete: bool,
    /// The rollback SQL: per revision, in reverse order, with migration bookkeeping.
    pub script: String,
    /// The statements it cannot undo.
    pub irreversible: Vec<Irreversible>,
    /// The statements it undoes with a loss: the schema comes back, these values do not.
    #[serde(default)]
    pub lossy: Vec<Lossy>,
}

/// Findings by severity.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct FindingCounts {
    /// Findings of severity `error`.
    pub error: usize,
    /// Findings of severity `warning`.
    pub warning: usize,
    /// Findings of severity `info`.
    pub info: usize,
}

/// The file at a glance.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Summary {
    /// How many statements the file holds.
    pub statements: usize,
    /// Statements nothing could read.
    pub unparsed: usize,
    /// Findings by severity (acknowledged ones not counted).
    pub findings: FindingCounts,
    /// Findings an `-- migsafe: ignore` directive acknowledged.
    pub acknowledged: usize,
    /// The highest risk among the findings that remain: what the gate compares.
    pub risk: Risk,
    /// The level from which findings fail the check (`--fail-on`, default `high`).
    pub fail_on: Risk,
    /// How many remaining findings reach `fail_on`: the check fails when there is one.
    pub failing: usize,
}

/// Everything migsafe found about one migration file: the JSON report of DESIGN.md (schema_version 1).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Report {
    /// Version of this JSON layout; changes only when a field changes meaning or disappears.
    pub schema_version: u32,
    /// The program that wrote it.
    pub tool: Tool,
    /// The PostgreSQL major version the analysis assumed.
    pub pg_version: u32,
    /// The file name as given (relative paths stay relative), or `<stdin>`.
    pub source: String,
    /// Every statement of the file, in order.
    pub statements: Vec<StatementReport>,
    /// The Alembic revisions (or Django migrations) the file holds, in order.
    pub revisions: Vec<RevisionReport>,
    /// Failure modes of the commit units outside any revision (files without revision markers).
    pub failure_modes: Vec<FailureMode>,
    /// The generated rollback.
    pub rollback: RollbackReport,
    /// The file at a glance.
    pub summary: Summary,
    /// The restored copy the migration was checked against (`--database`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseReport>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// rustc-style diagnostics for a terminal.
    Text,
    /// A PR comment: summary table, findings, collapsed rollback script.
    Markdown,
    /// The JSON contract (schema in `schema/report.schema.json`).
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…::…`), shown as annotations on the PR.
    Github,
}

impl Format {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [Format; 5] = [
        Format::Text,
        Format::Markdown,
        Format::Json,
        Format::Sarif,
        Format::Github,
    ];

    /// The name the CLI uses (`--format NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
        }
    }

    /// Parses a [`Format::name`].
    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// How to render: options that do not change what a report says, only how it looks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions<'a> {
    /// ANSI colours (text format only). The library never guesses: the caller knows whether its
    /// output is a terminal and whether `NO_COLOR` is set.
    pub color: bool,
    /// The rules a SARIF log describes in its rule table (see [`crate::rules`]); none by default.
    pub rules: &'a [RuleInfo],
    /// The text report adds the statement table, the database section, failure modes, the rollback
    /// script and the acknowledged findings to its diagnostics and summary.
    pub verbose: bool,
}

impl<'a> RenderOptions<'a> {
    /// With or without ANSI colours.
    pub fn color(mut self, on: bool) -> Self {
        self.color = on;
        self
    }

    /// The rules a SARIF log lists.
    pub fn rules(mut self, rules: &'a [RuleInfo]) -> Self {
        self.rules = rules;
        self
    }

    /// The full text report (see [`RenderOptions::verbose`]) or the concise one.
    pub fn verbose(mut self, on: bool) -> Self {
        self.verbose = on;
        self
    }
}

/// A rule as a reader of reports sees it: its id, default severity, summary and documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleInfo {
    /// The rule's id, e.g. `drop-column`.
    pub id: &'static str,
    /// The severity of its findings unless the settings change it.
    pub severity: Severity,
    /// One line: what it flags.
    pub summary: &'static str,
    /// Its documentation in Markdown (What it does / Why is this bad? / Example / Use instead /
    /// References).
    pub docs: String,
}

impl Report {
    /// The generated rollback script.
    pub fn rollback_script(&self) -> &str {
        &self.rollback.script
    }

    /// Whether a remaining finding reaches `level`.
    pub fn fails_at(&self, level: Risk) -> bool {
        self.summary.risk >= level
    }

    /// Whether the check fails: a remaining finding reaches the settings' `fail_on`.
    pub fn fails(&self) -> bool {
        self.summary.failing > 0
    }

    /// The remaining findings that reach the settings' `fail_on`: what fails the check, with
    /// their statements.
    pub fn deciding(&self) -> impl Iterator<Item = (&StatementReport, &Finding)> {
        let level = self.summary.fail_on;
        self.statements.iter().flat_map(move |s| {
            s.findings
                .iter()
                .filter(move |f| f.risk >= level)
                .map(move |f| (s, f))
        })
    }
}
