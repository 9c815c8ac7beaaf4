#![warn(missing_docs)]
//! migsafe reads PostgreSQL migration SQL — above all the offline exports of Python migration tools
//! (`alembic upgrade A:B --sql`, Django's `sqlmigrate`) and plain SQL files — and tells a reviewer
//! what every statement does: its revision, its transaction, its locks, rewrites, scans and data loss.
//!
//! ```
//! let sql = "BEGIN;\n\n-- Running upgrade  -> 1a2b3c4d5e6f\n\nALTER TABLE tags ADD COLUMN note text;\n\nCOMMIT;\n";
//! let report = migsafe::analyze(sql);
//! assert_eq!(report.revisions[0].id, "1a2b3c4d5e6f");
//! assert_eq!(report.statements[1].kind, "alter_table");
//! println!("{}", report.render(migsafe::Format::Json));
//! ```
//!
//! With settings and a named source:
//!
//! ```
//! use migsafe::{Analyzer, Settings, Source};
//! let report = Analyzer::new(Settings::default().pg_version(14))
//!     .analyze(Source::new("migrations/0042.sql", "DROP INDEX CONCURRENTLY ix_a;"))?;
//! assert_eq!(report.statements[0].kind, "drop_index");
//! # Ok::<(), migsafe::Error>(())
//! ```

mod analyze;
mod catalog;
#[cfg(feature = "postgres")]
pub mod db;
mod error;
mod ir;
mod parse;
mod pg;
pub mod project;
pub mod report;
mod rollback;
mod rules;
mod source;
#[cfg(test)]
mod test_fixtures;
#[cfg(feature = "insta")]
pub mod testing;
mod vocab;

pub use analyze::{Analyzer, Facts, RuleSettings, Settings, SizeSettings, check_text};
pub use catalog::{Catalog, Skipped, TableSize};
pub use error::Error;
pub use pg::duration::Rates;
pub use pg::plan::Plan;
pub use report::{Format, LockMode, RenderOptions, Report, Risk, RuleInfo, Severity};
pub use source::Source;

/// Analyses `sql` with default settings (PostgreSQL 15, no schema). Never fails: statements that
/// cannot be read are reported as findings.
pub fn analyze(sql: &str) -> Report {
    Analyzer::default().analyze_text("-", sql)
}

/// Hooks for the project's own differential tests and fuzz targets: not part of the API, and may
/// change without notice.
#[doc(hidden)]
pub mod internals {
    /// Byte ranges: (start, end).
    pub type Ranges = Vec<(usize, usize)>;

    /// Where psql's statements and meta-commands are in `text`, read on a connection whose
    /// `standard_conforming_strings` starts as given: (start, end of the statement's own
    /// text, before its `;`) of every statement but empty ones (`;` alone: psql sends them, the
    /// server does nothing), and (start, end) of every meta-command, in bytes.
    pub fn boundaries(text: &str, standard_conforming_strings: bool) -> (Ranges, Ranges) {
        let split = crate::source::split::split_with(text, standard_conforming_strings);
        let statements = split
            .statements
            .iter()
            .filter(|s| s.kind != crate::source::RawKind::Empty)
            .map(|s| (s.span.start_byte, s.body_end))
            .collect();
        let meta = split
            .meta_commands
            .iter()
            .map(|m| (m.span.start_byte, m.span.end_byte))
            .collect();
        (statements, meta)
    }
}

/// Every rule migsafe has, in alphabetical order of id, with its documentation.
pub fn rules() -> Vec<RuleInfo> {
    rules::RULES
        .iter()
        .map(|entry| RuleInfo {
            id: entry.rule.id,
            severity: entry.rule.severity,
            summary: entry.rule.summary,
            docs: entry.docs(),
        })
        .collect()
}

impl Report {
    /// Renders the report in `format`, without colour; a SARIF log lists every rule.
    pub fn render(&self, format: Format) -> String {
        let rules = rules();
        self.render_with(format, RenderOptions::default().rules(&rules))
    }

    /// Renders the report in `format` with `options`.
    pub fn render_with(&self, format: Format, options: RenderOptions) -> String {
        report::render::render_many(std::slice::from_ref(self), format, options)
    }
}
