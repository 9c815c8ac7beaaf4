//! A restored copy of production (feature `postgres`): its catalog and table sizes, EXPLAIN plans
//! of the migration's DML, and a verification run of the migration and its rollback in a
//! transaction that is always rolled back.
//!
//! Safety (docs/database.md says it in full): every statement is one extended-protocol message,
//! which the server refuses to treat as a batch; introspection and EXPLAIN run in `READ ONLY`
//! transactions and the session is read-only between them; every transaction ends in ROLLBACK and
//! is checked to still be migsafe's after each statement (`session`); what would act outside a
//! transaction is not run (`outside`, `tainted`), and sequence values and session state are
//! put back (`leftovers`); the limits are set again after every statement, within a time budget;
//! `--verify` refuses a database other sessions are using; passwords never appear in messages, and
//! a connection string migsafe cannot read is not repeated at all (`conninfo`).
//!
//! ```no_run
//! use migsafe::{Analyzer, Settings, Source};
//! use migsafe::db::{self, DbOptions};
//! let mut client = db::connect("postgres://app@db-copy/prod")?;
//! let report = Analyzer::new(Settings::default())
//!     .database(&mut client)
//!     .options(DbOptions::default().verify(true))
//!     .analyze(Source::new("0042.sql", "ALTER TABLE runs ADD COLUMN note text;"))?;
//! # Ok::<(), migsafe::Error>(())
//! ```

mod conninfo;
mod explain;
mod introspect;
mod leftovers;
mod outside;
mod session;
mod tainted;
mod verify;

#[cfg(test)]
mod introspect_tests;

use crate::analyze::{Analyzer, Facts};
use crate::error::Error;
use crate::report::{DatabaseReport, Report};
use crate::source::Source;
pub use conninfo::redact;
pub use postgres::Client;
use postgres::NoTls;
use session::{Budget, Limits};

/// A callback that receives one line of progress.
pub type Progress = Box<dyn FnMut(&str)>;

/// How the database work runs.
#[non_exhaustive]
pub struct DbOptions {
    /// `statement_timeout` of introspection and EXPLAIN (default 30 s).
    pub statement_timeout_ms: u64,
    /// `lock_timeout` of every transaction (default 5 s): a copy nobody else uses grants locks at
    /// once, so waiting means something else holds them.
    pub lock_timeout_ms: u64,
    /// `statement_timeout` of each migration statement in the verification run (default 10 min).
    pub verify_timeout_ms: u64,
    /// `idle_in_transaction_session_timeout` of every transaction (default 10 s): should migsafe
    /// stall while it holds locks, the server ends its session and the locks go.
    pub idle_timeout_ms: u64,
    /// The time all the database work of one analysis may take (default 30 min): each
    /// statement's `statement_timeout` is at most what remains of it.
    pub time_budget_ms: u64,
    /// Run the migration and its rollback in a transaction that is rolled back (`--verify`).
    pub verify: bool,
    /// Verify although other sessions are running queries on the database (`--allow-live`).
    pub allow_live: bool,
    /// `EXPLAIN ANALYZE` (executes the statement, in a transaction that is rolled back).
    pub explain_analyze: bool,
    /// Run the verification as this role (`SET SESSION AUTHORIZATION`, or `SET ROLE` when the
    /// connecting user is not a superuser, inside the rolled-back transaction): what the deploy
    /// role may not do fails there, as it would in production.
    pub role: Option<String>,
    /// Called with a line of progress for long runs (the CLI prints it when stderr is a terminal).
    pub progress: Option<Progress>,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            statement_timeout_ms: 30_000,
            lock_timeout_ms: 5_000,
            verify_timeout_ms: 600_000,
            idle_timeout_ms: 10_000,
            time_budget_ms: 1_800_000,
            verify: false,
            allow_live: false,
            explain_analyze: false,
            role: None,
            progress: None,
        }
    }
}

impl std::fmt::Debug for DbOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbOptions")
            .field("statement_timeout_ms", &self.statement_timeout_ms)
            .field("lock_timeout_ms", &self.lock_timeout_ms)
            .field("verify_timeout_ms", &self.verify_timeout_ms)
            .field("idle_timeout_ms", &self.idle_timeout_ms)
            .field("time_budget_ms", &self.time_budget_ms)
            .field("verify", &self.verify)
            .field("allow_live", &self.allow_live)
            .field("explain_analyze", &self.explain_analyze)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl DbOptions {
    /// Runs the migration and its rollback in a transaction that is rolled back.
    pub fn verify(mut self, on: bool) -> Self {
        self.verify = on;
        self
    }

    /// Verifies even when other sessions are running queries on the database.
    pub fn allow_live(mut self, on: bool) -> Self {
        self.allow_live = on;
        self
    }

    /// EXPLAIN ANALYZE instead of EXPLAIN (the DML runs, in a transaction that is rolled back).
    pub fn explain_analyze(mut self, on: bool) -> Self {
        self.explain_analyze = on;
        self
    }

    /// Sets the statement and lock timeouts (milliseconds) of introspection and EXPLAIN.
    pub fn timeouts(mut self, statement_ms: u64, lock_ms: u64) -> Self {
        self.statement_timeout_ms = statement_ms;
        self.lock_timeout_ms = lock_ms;
        self
    }

    /// The statement timeout of each statement of the verification run.
    pub fn verify_timeout(mut self, ms: u64) -> Self {
        self.verify_timeout_ms = ms;
        self
    }

    /// The `idle_in_transaction_session_timeout` of migsafe's transactions.
    pub fn idle_timeout(mut self, ms: u64) -> Self {
        self.idle_timeout_ms = ms;
        self
    }

    /// The time all the database work of one analysis may take.
    pub fn time_budget(mut self, ms: u64) -> Self {
        self.time_budget_ms = ms;
        self
    }

    /// The role the verification runs as (`--role`).
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// Receives a line of progress for long runs.
    pub fn progress(mut self, f: impl FnMut(&str) + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    fn limits(&self) -> Limits {
        Limits {
            statement_ms: self.statement_timeout_ms,
            lock_ms: self.lock_timeout_ms,
            idle_ms: self.idle_timeout_ms,
        }
    }
}

/// Connects without TLS to a connection string as libpq reads it (a `postgres://` URI or
/// `key=value` pairs; `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, … and the password
/// file fill what it leaves out). No message ever holds the password, and a string migsafe cannot
/// read is not repeated at all.
pub fn connect(conninfo: &str) -> Result<Client, Error> {
    let target =
        conninfo::resolve(conninfo, &conninfo::Env::process()).map_err(|e| Error::Database {
            message: format!("cannot connect: {}", e.0),
        })?;
    let config = target.config().map_err(|e| Error::Database {
        message: format!("cannot connect to {}: {}", target.display(), e.0),
    })?;
    config.connect(NoTls).map_err(|e| {
        let mut text = error_text(&e);
        if let Some(p) = target.password.as_deref().filter(|p| !p.is_empty()) {
            text = text.replace(p, "***");
        }
        Error::Database {
            message: format!("cannot connect to {}: {text}", target.display()),
        }
    })
}

/// The schema and table sizes of the database, read in a READ ONLY transaction with the options'
/// timeouts (what `migsafe rollback --database URL` uses instead of a schema dump).
pub fn read_catalog(client: &mut Client, options: &DbOptions) -> Result<crate::Catalog, Error> {
    let budget = Budget::new(options.time_budget_ms);
    Ok(introspect::introspect(client, options.limits(), budget)?.catalog)
}

/// The major version of the server (`server_version_num / 10000`).
pub fn server_major(client: &mut Client) -> Result<u32, Error> {
    let row = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .map_err(|e| db_error("reading server_version_num", &e))?;
    let n: i32 = row
        .try_get(0)
        .map_err(|e| db_error("reading server_version_num", &e))?;
    Ok((n / 10000) as u32)
}

/// The server's message (with its SQLSTATE) or the driver's, on one line.
pub(crate) fn error_text(e: &postgres::Error) -> String {
    let text = match e.as_db_error() {
        Some(db) => format!("{}: {} ({})", db.severity(), db.message(), db.code().code()),
        None => e.to_string(),
    };
    text.replace('\n', " ")
}

/// An [`Error::Database`] for a failure while doing `what`; a missing privilege says whose.
pub(crate) fn db_error(what: &str, e: &postgres::Error) -> Error {
    let whose = if e.code().is_some_and(|c| c.code() == "42501") {
        ": the user migsafe connects as lacks this privilege"
    } else {
        ""
    };
    Error::Database {
        message: format!("{what}: {}{whose}", error_text(e)),
    }
}

/// FATAL and PANIC end the session (`pg_terminate_backend`, a server shutdown).
pub(crate) fn is_fatal(e: &postgres::Error) -> bool {
    e.as_db_error()
        .is_some_and(|d| matches!(d.severity(), "FATAL" | "PANIC"))
}

/// An [`Analyzer`] with a restored copy: built by [`Analyzer::database`].
pub struct DatabaseAnalyzer<'c> {
    analyzer: Analyzer,
    client: &'c mut Client,
    options: DbOptions,
}

impl Analyzer {
    /// Checks the migration against a restored copy of production: the catalog and table sizes come
    /// from the database (replacing [`Analyzer::schema`]), DML is EXPLAINed, and with
    /// [`DbOptions::verify`] the migration and its rollback run in a transaction that is rolled back.
    pub fn database(self, client: &mut Client) -> DatabaseAnalyzer<'_> {
        DatabaseAnalyzer {
            analyzer: self,
            client,
            options: DbOptions::default(),
        }
    }
}

impl DatabaseAnalyzer<'_> {
    /// How the database work runs (timeouts, `--verify`, the role, …).
    pub fn options(mut self, options: DbOptions) -> Self {
        self.options = options;
        self
    }

    /// Analyses one migration with the database's facts. Fails (never half-way silently) when the
    /// database cannot be read: connection lost, timeouts or permissions during introspection or
    /// EXPLAIN, other sessions at work when verifying, a statement that left migsafe's
    /// transaction. Statements of the migration that fail in the verification run are findings.
    /// Outside its own transactions the session is read-only while this runs.
    pub fn analyze(mut self, source: Source<'_>) -> Result<Report, Error> {
        let prior = session::read_only_by_default(self.client)?;
        let result = self.analyze_read_only(source);
        session::restore_read_only_default(self.client, &prior);
        result
    }

    fn analyze_read_only(&mut self, source: Source<'_>) -> Result<Report, Error> {
        let budget = Budget::new(self.options.time_budget_ms);
        let limits = self.options.limits();
        if self.options.verify && !self.options.allow_live {
            refuse_live(self.client)?;
        }
        self.say("reading the catalog and table sizes");
        let intro = introspect::introspect(self.client, limits, budget)?;
        let (server_version, conforming) = server_settings(self.client)?;
        let mut notes = self.first_notes(&server_version, conforming);
        let relations = intro.relations;
        // The migration is read as psql would read it on this connection.
        let mut analyzer = self.analyzer.clone().schema(intro.catalog.clone());
        analyzer.settings_mut().standard_conforming_strings = conforming;
        let first = analyzer.analyze(source.clone())?;
        let mut facts = Facts::default();
        // Taken out of the options, which the run reads while it reports progress.
        let mut progress = self.options.progress.take();
        let progress = progress.as_mut();
        let (verified, rollback_verified, rollback_differences) = if self.options.verify {
            let input = verify::Input {
                text: source.text,
                standard_conforming_strings: conforming,
                report: &first,
                catalog: &intro.catalog,
                options: &self.options,
                limits,
                budget,
            };
            let run = verify::verify(self.client, &input, progress)?;
            notes.extend(run.notes);
            facts.plans = run.plans;
            facts.observed = run.observed;
            (true, run.rollback_verified, run.rollback_differences)
        } else {
            let settings = explain::Settings {
                analyze: self.options.explain_analyze,
                allow_live: self.options.allow_live,
                limits,
                budget,
            };
            let ex = explain::explain_all(self.client, &first, &settings, progress)?;
            notes.extend(ex.notes);
            facts.plans = ex.plans;
            (false, None, Vec::new())
        };
        facts.database = Some(DatabaseReport {
            server_version,
            tables: relations,
            explained: facts.plans.len(),
            verified,
            rollback_verified,
            rollback_differences,
            notes,
        });
        analyzer.facts(facts).analyze(source)
    }

    /// Notes about how the copy differs from what the analysis assumes.
    fn first_notes(&self, server_version: &str, conforming: bool) -> Vec<String> {
        let mut notes = Vec::new();
        if self.analyzer.catalog().is_some() {
            notes.push(
                "the catalog read from the database replaces the schema given with --schema"
                    .to_string(),
            );
        }
        if let (Some(role), false) = (&self.options.role, self.options.verify) {
            notes.push(format!(
                "--role {role} takes effect only with --verify: nothing ran as {role}"
            ));
        }
        let major: u32 = server_version
            .split(['.', ' '])
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let wanted = self.analyzer.settings().pg_version;
        if major != 0 && major != wanted {
            notes.push(format!(
                "the analysis assumes PostgreSQL {wanted}; the copy runs {server_version}, so what it shows may differ"
            ));
        }
        if !conforming {
            notes.push("the copy's standard_conforming_strings is off: a backslash escapes a quote in '…' strings there".to_string());
        }
        notes
    }

    fn say(&mut self, line: &str) {
        if let Some(p) = self.options.progress.as_mut() {
            p(line);
        }
    }
}

/// `--verify` refuses a database where other sessions are at work: its locks would stop them,
/// and their changes would blur what the run observes.
fn refuse_live(client: &mut Client) -> Result<(), Error> {
    let (active, unknown) = session::other_active_sessions(client)?;
    if active == 0 {
        return Ok(());
    }
    let unseen = if unknown > 0 {
        format!(
            " ({unknown} of other users, whose state the connecting user may not see without pg_read_all_stats)"
        )
    } else {
        String::new()
    };
    Err(Error::Database {
        message: format!(
            "refusing to verify: {active} other session{} running queries on this database{unseen}; the run's locks would stop them (pass --allow-live to verify anyway)",
            if active == 1 { " is" } else { "s are" }
        ),
    })
}

/// `server_version`, and whether `standard_conforming_strings` is on.
fn server_settings(client: &mut Client) -> Result<(String, bool), Error> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), current_setting('standard_conforming_strings') = 'on'",
            &[],
        )
        .map_err(|e| db_error("reading server_version", &e))?;
    let version = row
        .try_get(0)
        .map_err(|e| db_error("reading server_version", &e))?;
    let conforming = row
        .try_get(1)
        .map_err(|e| db_error("reading standard_conforming_strings", &e))?;
    Ok((version, conforming))
}

#[cfg(test)]
#[allow(dead_code)]
#[path = "../../tests/common/pg.rs"]
mod test_server;

#[cfg(test)]
mod tests;
