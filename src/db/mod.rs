//! A restored copy of production (feature `postgres`): its catalog and table sizes
//! ([`introspect`]), EXPLAIN plans of the migration's DML ([`explain`]), and a verification run
//! of the migration and its rollback in a transaction that is always rolled back ([`verify`]).
//!
//! Safety: introspection and EXPLAIN run in `READ ONLY` transactions; every transaction sets
//! `statement_timeout` and `lock_timeout`; nothing ever commits (every transaction ends in
//! ROLLBACK, and a dropped connection rolls back too); connection strings never appear in
//! messages (passwords are redacted).
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

pub mod explain;
pub mod introspect;
pub mod verify;

#[cfg(test)]
mod introspect_tests;

use crate::analyze::{Analyzer, Facts};
use crate::error::Error;
use crate::report::{DatabaseReport, Report};
use crate::source::Source;
pub use postgres::Client;
use postgres::NoTls;

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
    /// Run the migration and its rollback in a transaction that is rolled back (`--verify`).
    pub verify: bool,
    /// `EXPLAIN ANALYZE` (executes the statement, in a transaction that is rolled back).
    pub explain_analyze: bool,
    /// Run the verification as this role (`SET ROLE`, inside the rolled-back transaction): what the
    /// deploy role may not do fails there, as it would in production.
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
            verify: false,
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
            .field("verify", &self.verify)
            .field("explain_analyze", &self.explain_analyze)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl DbOptions {
    pub fn verify(mut self, on: bool) -> Self {
        self.verify = on;
        self
    }

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

    /// The role the verification runs as (`--role`).
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    pub fn progress(mut self, f: impl FnMut(&str) + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }
}

/// The session settings every transaction starts with.
pub(crate) struct Session {
    statement_timeout_ms: u64,
    lock_timeout_ms: u64,
}

impl Session {
    /// A READ ONLY transaction with the timeouts set.
    pub(crate) fn read_only<'c>(
        &self,
        client: &'c mut Client,
    ) -> Result<postgres::Transaction<'c>, Error> {
        let mut tx = client
            .build_transaction()
            .read_only(true)
            .start()
            .map_err(|e| db_error("starting a read-only transaction", &e))?;
        self.set_timeouts(&mut tx, self.statement_timeout_ms)?;
        Ok(tx)
    }

    /// A read-write transaction (always rolled back by its callers) with the timeouts set.
    pub(crate) fn read_write<'c>(
        &self,
        client: &'c mut Client,
        statement_timeout_ms: u64,
    ) -> Result<postgres::Transaction<'c>, Error> {
        let mut tx = client
            .transaction()
            .map_err(|e| db_error("starting a transaction", &e))?;
        self.set_timeouts(&mut tx, statement_timeout_ms)?;
        Ok(tx)
    }

    fn set_timeouts(
        &self,
        tx: &mut postgres::Transaction<'_>,
        statement_timeout_ms: u64,
    ) -> Result<(), Error> {
        tx.batch_execute(&format!(
            "SET LOCAL statement_timeout = {statement_timeout_ms}; SET LOCAL lock_timeout = {}; SET LOCAL idle_in_transaction_session_timeout = 0",
            self.lock_timeout_ms
        ))
        .map_err(|e| db_error("setting timeouts", &e))
    }
}

/// Connects to `url` (a `postgres://` URL or `key=value` string) without TLS. The error never
/// repeats the URL or its password.
pub fn connect(url: &str) -> Result<Client, Error> {
    let mut client = Client::connect(url, NoTls).map_err(|e| Error::Database {
        message: format!(
            "cannot connect to {}: {}",
            redact(url),
            redact_in(&error_text(&e), url)
        ),
    })?;
    // Visible in pg_stat_activity on the copy.
    let _ = client.batch_execute("SET application_name = 'migsafe'");
    Ok(client)
}

/// The schema and table sizes of the database, read in a READ ONLY transaction with the options'
/// timeouts (what `migsafe rollback --database URL` uses instead of a schema dump).
pub fn read_catalog(client: &mut Client, options: &DbOptions) -> Result<crate::Catalog, Error> {
    let session = Session {
        statement_timeout_ms: options.statement_timeout_ms,
        lock_timeout_ms: options.lock_timeout_ms,
    };
    Ok(introspect::introspect(client, &session)?.catalog)
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

/// The URL with its password replaced by `***` (`postgres://app:***@host/db`, `password=***`).
pub fn redact(url: &str) -> String {
    if let Some(rest) = url
        .strip_prefix("postgres://")
        .map(|r| ("postgres://", r))
        .or_else(|| {
            url.strip_prefix("postgresql://")
                .map(|r| ("postgresql://", r))
        })
    {
        let (scheme, rest) = rest;
        if let Some((userinfo, host)) = rest.rsplit_once('@') {
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            return format!("{scheme}{masked}@{host}");
        }
        return url.to_string();
    }
    // key=value form: mask the password's value.
    url.split_whitespace()
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Removes the password of `url` from a message, should a driver ever repeat it.
fn redact_in(message: &str, url: &str) -> String {
    match password_of(url) {
        Some(p) if !p.is_empty() => message.replace(&p, "***"),
        _ => message.to_string(),
    }
}

fn password_of(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"));
    match rest {
        Some(rest) => {
            let (userinfo, _) = rest.rsplit_once('@')?;
            userinfo.split_once(':').map(|(_, p)| p.to_string())
        }
        None => url.split_whitespace().find_map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| k.eq_ignore_ascii_case("password"))
                .map(|(_, v)| v.to_string())
        }),
    }
}

/// The server's message (with its SQLSTATE) or the driver's, on one line.
pub(crate) fn error_text(e: &postgres::Error) -> String {
    let text = match e.as_db_error() {
        Some(db) => format!("{}: {} ({})", db.severity(), db.message(), db.code().code()),
        None => e.to_string(),
    };
    text.replace('\n', " ")
}

/// An [`Error::Database`] for a failure while doing `what`.
pub(crate) fn db_error(what: &str, e: &postgres::Error) -> Error {
    Error::Database {
        message: format!("{what}: {}", error_text(e)),
    }
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
    pub fn options(mut self, options: DbOptions) -> Self {
        self.options = options;
        self
    }

    /// Analyses one migration with the database's facts. Fails (never half-way silently) when the
    /// database cannot be read: connection lost, timeouts or permissions during introspection or
    /// EXPLAIN. Statements of the migration that fail in the verification run are findings.
    pub fn analyze(mut self, source: Source<'_>) -> Result<Report, Error> {
        let session = Session {
            statement_timeout_ms: self.options.statement_timeout_ms,
            lock_timeout_ms: self.options.lock_timeout_ms,
        };
        self.say("reading the catalog and table sizes");
        let intro = introspect::introspect(self.client, &session)?;
        let server_version = {
            let row = self
                .client
                .query_one("SELECT current_setting('server_version')", &[])
                .map_err(|e| db_error("reading server_version", &e))?;
            row.try_get::<_, String>(0)
                .map_err(|e| db_error("reading server_version", &e))?
        };
        let mut notes = Vec::new();
        if self.analyzer.catalog().is_some() {
            notes.push(
                "the catalog read from the database replaces the schema given with --schema"
                    .to_string(),
            );
        }
        let major: u32 = server_version
            .split(['.', ' '])
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let wanted = self.analyzer.settings().pg_version;
        if let (Some(role), false) = (&self.options.role, self.options.verify) {
            notes.push(format!(
                "--role {role} takes effect only with --verify: nothing ran as {role}"
            ));
        }
        if major != 0 && major != wanted {
            notes.push(format!(
                "the analysis assumes PostgreSQL {wanted}; the copy runs {server_version}, so what it shows may differ"
            ));
        }
        let relations = intro.relations;
        let analyzer = self.analyzer.schema(intro.catalog.clone());
        let first = analyzer.analyze(source.clone())?;
        let mut facts = Facts::default();
        let (explained, verified, rollback_verified, rollback_differences) = if self.options.verify
        {
            let progress = self.options.progress.as_mut();
            let run = verify::verify(
                self.client,
                &session,
                source.text,
                &first,
                self.options.verify_timeout_ms,
                self.options.role.as_deref(),
                progress,
            )?;
            notes.extend(run.notes);
            facts.plans = run.plans;
            facts.observed = run.observed;
            let explained = facts.plans.len();
            (
                explained,
                true,
                run.rollback_verified,
                run.rollback_differences,
            )
        } else {
            let progress = self.options.progress.as_mut();
            let ex = explain::explain_all(
                self.client,
                &session,
                &first,
                self.options.explain_analyze,
                progress,
            )?;
            notes.extend(ex.notes);
            facts.plans = ex.plans;
            (facts.plans.len(), false, None, Vec::new())
        };
        facts.database = Some(DatabaseReport {
            server_version,
            tables: relations,
            explained,
            verified,
            rollback_verified,
            rollback_differences,
            notes,
        });
        analyzer.facts(facts).analyze(source)
    }

    fn say(&mut self, line: &str) {
        if let Some(p) = self.options.progress.as_mut() {
            p(line);
        }
    }
}

/// An error of the statement (the session goes on), not of the session: FATAL and PANIC end the
/// connection (`pg_terminate_backend`, a server shutdown), as does a broken socket.
pub(crate) fn is_statement_error(e: &postgres::Error) -> bool {
    !e.is_closed()
        && e.as_db_error()
            .is_some_and(|d| !matches!(d.severity(), "FATAL" | "PANIC"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/prod"),
            "postgres://app:***@db:5432/prod"
        );
        assert_eq!(
            redact("postgresql://app@db/prod"),
            "postgresql://app@db/prod"
        );
        assert_eq!(
            redact("host=db user=app password=s3cret dbname=prod"),
            "host=db user=app password=*** dbname=prod"
        );
        assert_eq!(
            redact_in("auth failed for s3cret", "postgres://a:s3cret@h/d"),
            "auth failed for ***"
        );
        assert_eq!(password_of("host=h password=pw"), Some("pw".to_string()));
    }
}
