//! Words every layer shares: how severe a finding is and how risky a statement is. A leaf module:
//! it imports nothing of the crate, so rules, the analysis and the report all speak the same terms.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How risky a statement (or a whole migration) is to run against a live database, from `none` to
/// `critical`. Ordered: `Risk::High > Risk::Low`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
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

/// How serious a finding is. Ordered: `Severity::Error > Severity::Info`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}
