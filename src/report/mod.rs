//! The report: plain serde data, the JSON contract of DESIGN.md (schema_version 1). Renderers see only
//! this module's types.

pub mod render;

use crate::source::{Direction, Span};
use serde::Serialize;

pub const SCHEMA_VERSION: u32 = 1;

pub use crate::pg::LockMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::None => "none",
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Critical => "critical",
        }
    }

    /// Parses `low|medium|high|critical` (and `none`).
    pub fn parse(s: &str) -> Option<Risk> {
        Some(match s {
            "none" => Risk::None,
            "low" => Risk::Low,
            "medium" => Risk::Medium,
            "high" => Risk::High,
            "critical" => Risk::Critical,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reversibility {
    Exact,
    Lossy,
    Impossible,
}

/// Where a statement runs: inside an explicit transaction block, on its own (autocommit), or as
/// migration-tool bookkeeping (`alembic_version`, `django_migrations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transaction {
    InTransaction,
    Autocommit,
    Bookkeeping,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevisionReport {
    pub id: String,
    pub parents: Vec<String>,
    pub direction: Direction,
    pub statements: Vec<usize>,
    pub reversible: Reversibility,
}

#[derive(Debug, Clone, Serialize)]
pub struct LockReport {
    pub table: String,
    pub mode: LockMode,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    pub name: String,
    pub rows: Option<u64>,
    pub bytes: Option<u64>,
    pub created_in_migration: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub help: String,
    pub span: Span,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatementReport {
    pub index: usize,
    pub revision: Option<String>,
    pub sql: String,
    pub span: Span,
    pub kind: String,
    pub parsed: bool,
    pub transaction: Transaction,
    pub locks: Vec<LockReport>,
    pub lock: Option<LockMode>,
    pub held: Option<LockMode>,
    pub rewrites_table: bool,
    pub full_scan: bool,
    pub destroys_data: bool,
    pub lock_heavy: bool,
    pub reversible: Reversibility,
    pub risk: Risk,
    pub tables: Vec<TableReport>,
    pub findings: Vec<Finding>,
    pub rollback: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Irreversible {
    pub statement: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    pub complete: bool,
    pub script: String,
    pub irreversible: Vec<Irreversible>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingCounts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub statements: usize,
    pub unparsed: usize,
    pub findings: FindingCounts,
    pub risk: Risk,
}

/// Everything migsafe found about one migration file.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub pg_version: u32,
    pub source: String,
    pub revisions: Vec<RevisionReport>,
    pub statements: Vec<StatementReport>,
    pub rollback: RollbackReport,
    pub summary: Summary,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "text" => Some(Format::Text),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

impl Report {
    /// Renders the report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => render::text::render(self),
            Format::Json => render::json::render(self),
        }
    }

    /// The generated rollback script.
    pub fn rollback_script(&self) -> &str {
        &self.rollback.script
    }

    /// Whether anything reaches `level` (the CLI's `--fail-on`).
    pub fn fails_at(&self, level: Risk) -> bool {
        self.summary.risk >= level
    }
}
