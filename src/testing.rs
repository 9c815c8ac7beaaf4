//! Snapshot tests for migration PRs (feature `insta`).
//!
//! [`assert_migration_snapshot!`](crate::assert_migration_snapshot) analyses a migration file and
//! snapshots its Markdown report (the same text `migsafe snapshot` writes to `FILE.migsafe.md`) with
//! [insta](https://insta.rs): a PR that changes a migration's locks, risk or rollback changes the
//! snapshot, and `cargo insta review` shows how.
//!
//! ```no_run
//! // tests/migrations.rs, with `migsafe = { version = "…", features = ["insta"] }` and `insta` in
//! // [dev-dependencies]:
//! #[test]
//! fn add_index_migration() {
//!     migsafe::assert_migration_snapshot!("migrations/0042_add_index.sql");
//! }
//!
//! // With a schema dump or other settings: pass an Analyzer.
//! #[test]
//! fn add_index_migration_on_pg14() {
//!     let analyzer = migsafe::Analyzer::new(migsafe::Settings::default().pg_version(14));
//!     migsafe::assert_migration_snapshot!("migrations/0042_add_index.sql", &analyzer);
//! }
//! ```
//!
//! Over every migration of a folder, with insta's `glob!` (one snapshot per file):
//!
//! ```no_run
//! insta::glob!("../migrations", "*.sql", |path| {
//!     migsafe::assert_migration_snapshot!(path);
//! });
//! ```
//!
//! Paths in the report are as given; an absolute path (as `glob!` passes) is made relative to the
//! current directory, so the snapshot is the same on every machine.

use crate::{Analyzer, Report, Source};
use std::path::{Path, PathBuf};

#[doc(hidden)]
pub use insta as __insta;

/// Why a migration could not be snapshot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The migration file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not text.
    #[error(transparent)]
    Analyze(#[from] crate::Error),
}

/// The name a report gives `path`: as given, or relative to the current directory when absolute.
pub fn source_name(path: &Path) -> String {
    let relative = if path.is_absolute() {
        std::env::current_dir()
            .ok()
            .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
    } else {
        None
    };
    // Forward slashes everywhere, so a snapshot taken on Windows matches one taken elsewhere.
    relative
        .as_deref()
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Reads and analyses the migration at `path`.
pub fn analyze_file(analyzer: &Analyzer, path: impl AsRef<Path>) -> Result<Report, Error> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name = source_name(path);
    let text = crate::check_text(&name, &bytes)?;
    Ok(analyzer.analyze(Source::new(name, text))?)
}

/// The snapshot text of a report: its Markdown rendering (which includes the rollback script).
pub fn snapshot(report: &Report) -> String {
    report.render(crate::Format::Markdown)
}

/// Snapshots the Markdown report of a migration file with insta.
///
/// `assert_migration_snapshot!(path)` uses default settings; `assert_migration_snapshot!(path,
/// &analyzer)` uses an [`Analyzer`](crate::Analyzer) (schema, PostgreSQL version, rules). Panics,
/// like any assertion, when the file cannot be read or the snapshot differs.
#[macro_export]
macro_rules! assert_migration_snapshot {
    ($path:expr $(,)?) => {
        $crate::assert_migration_snapshot!($path, &$crate::Analyzer::default())
    };
    ($path:expr, $analyzer:expr $(,)?) => {{
        let report = match $crate::testing::analyze_file($analyzer, $path) {
            Ok(report) => report,
            Err(e) => panic!("assert_migration_snapshot!: {e}"),
        };
        // Bound to a name so insta's snapshot header reads `expression: migration_report`.
        let migration_report = $crate::testing::snapshot(&report);
        $crate::testing::__insta::assert_snapshot!(migration_report);
    }};
}
