//! Words every layer shares: how severe a finding is, how risky a statement is, and where it runs. A leaf module:
//! it imports nothing of the crate, so rules, the analysis and the report all speak the same terms.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How risky a statement (or a whole migration) is to run against a live database, from `none` to
/// `critical` (in that order).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Nothing that blocks others or loses data.
    None,
    /// A brief lock that blocks reads or writes (it still queues behind long transactions), or a
    /// minor finding.
    Low,
    /// A warning-level hazard, or table-sized work of a few seconds.
    Medium,
    /// Table-sized work under a blocking lock, lost data, or an error-level finding.
    High,
    /// Lost data together with table-sized blocking work, or an outage-length estimate.
    Critical,
}

impl Risk {
    /// The name used in reports and on the command line.
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

/// How serious a finding is, from `info` to `error` (in that order).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; rarely a reason to change the migration.
    Info,
    /// A hazard that depends on the table's size or traffic.
    Warning,
    /// A hazard that blocks production, loses data or fails.
    Error,
}

impl Severity {
    /// The name used in reports and configuration: `error`, `warning`, `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Where a statement runs: inside an explicit transaction block, on its own (autocommit), or as
/// migration-tool bookkeeping (`alembic_version`, `django_migrations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transaction {
    /// Inside an explicit `BEGIN … COMMIT` block (the BEGIN and COMMIT included).
    InTransaction,
    /// On its own, committed when it ends.
    Autocommit,
    /// The migration tool's version bookkeeping (`alembic_version`, `django_migrations`).
    Bookkeeping,
}
