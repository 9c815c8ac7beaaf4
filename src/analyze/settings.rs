//! What the analysis assumes and which rules run: [`Settings`], and the facts a database adds
//! ([`Facts`]).

pub use crate::pg::duration::SizeSettings;
use crate::pg::plan::Plan;
use crate::report::{DatabaseReport, Observed};
use crate::vocab::{Risk, Severity};
use std::collections::BTreeMap;

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

/// What the analysis assumes about the target server, and which rules run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// PostgreSQL major version the migration will run on (11–17).
    pub pg_version: u32,
    /// Which rules run and at what severity.
    pub rules: RuleSettings,
    /// How table sizes turn into risk.
    pub sizes: SizeSettings,
    /// Whether the connection the migration runs on reads a backslash in `'…'` as a plain
    /// character (PostgreSQL's default, `on`); `off` makes `\'` an escaped quote, which moves
    /// where statements end. `SET standard_conforming_strings` in the file is followed from there.
    pub standard_conforming_strings: bool,
    /// The level from which a remaining finding fails the check (`Report::fails`); `high` by
    /// default.
    pub fail_on: Risk,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            pg_version: 15,
            rules: RuleSettings::default(),
            sizes: SizeSettings::default(),
            standard_conforming_strings: true,
            fail_on: Risk::High,
        }
    }
}

impl Settings {
    /// Sets the PostgreSQL major version the migration will run on.
    pub fn pg_version(mut self, v: u32) -> Self {
        self.pg_version = v;
        self
    }

    /// Sets the connection's `standard_conforming_strings` the migration is read with.
    pub fn standard_conforming_strings(mut self, on: bool) -> Self {
        self.standard_conforming_strings = on;
        self
    }

    /// The level from which a remaining finding fails the check.
    pub fn fail_on(mut self, level: Risk) -> Self {
        self.fail_on = level;
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

    pub(crate) fn selected(&self, id: &str) -> bool {
        self.rules
            .only
            .as_ref()
            .is_none_or(|only| only.iter().any(|o| o == id))
            && !self.rules.disabled.iter().any(|d| d == id)
    }

    pub(crate) fn severity_of(&self, id: &str, default: Severity) -> Severity {
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
    /// EXPLAIN plans, by statement index.
    pub plans: BTreeMap<usize, Plan>,
    /// What running the statement on a restored copy showed, by statement index.
    pub observed: BTreeMap<usize, Observed>,
    /// Where the facts came from, and what could not be checked.
    pub database: Option<DatabaseReport>,
}
