//! The transactions migsafe opens on the copy, and what holds inside them whatever a statement of
//! the migration does:
//!
//! - Every statement goes to the server alone, in the extended protocol (Parse, Bind, Execute),
//!   whose parser refuses a second command in one message: no text migsafe sends runs as a batch.
//! - After each statement the session must still be in migsafe's own transaction (the same backend
//!   and transaction start time) with the same session user, or the run stops.
//! - `lock_timeout`, `statement_timeout` and `idle_in_transaction_session_timeout` are set again
//!   (`SET LOCAL`) before every statement, so a `RESET ALL`, `SET` or `set_config()` in the
//!   migration lasts at most until the statement that made it ends; and no statement can lift the
//!   `statement_timeout` it started with (the server arms that timer when the statement starts).
//! - The transaction exports its snapshot (`pg_export_snapshot()`), which makes the server refuse
//!   `PREPARE TRANSACTION`.
//! - migsafe's own queries run with `search_path` set to `pg_catalog, pg_temp`, so that no table,
//!   function, operator or type the migration creates (or puts first on its `search_path`) can
//!   stand in for the catalog's; the migration's statements run with the migration's `search_path`.
//! - Between migsafe's transactions the session is `default_transaction_read_only`.

use super::{db_error, error_text};
use crate::error::Error;
use postgres::Client;
use postgres::types::Type;
use std::time::{Duration, Instant};

/// migsafe's limits in each of its transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// `statement_timeout` of migsafe's own reads (and EXPLAIN).
    pub statement_ms: u64,
    pub lock_ms: u64,
    pub idle_ms: u64,
}

/// The time all the database work of one analysis may take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    started: Instant,
    total: Duration,
}

impl Budget {
    pub(crate) fn new(total_ms: u64) -> Budget {
        Budget {
            started: Instant::now(),
            total: Duration::from_millis(total_ms.max(1)),
        }
    }

    /// "1500 ms", "30 min"
    pub(crate) fn describe(&self) -> String {
        let ms = self.total.as_millis();
        match ms {
            0..10_000 => format!("{ms} ms"),
            _ if ms % 60_000 == 0 => format!("{} min", ms / 60_000),
            _ => format!("{} s", ms / 1000),
        }
    }

    pub(crate) fn remaining_ms(&self) -> u64 {
        self.total
            .saturating_sub(self.started.elapsed())
            .as_millis() as u64
    }

    /// `ms`, or what remains of the budget when that is less; and whether the budget decided.
    pub(crate) fn cap(&self, ms: u64) -> (u64, bool) {
        let left = self.remaining_ms().max(1);
        if left < ms { (left, true) } else { (ms, false) }
    }
}

/// Whether a transaction may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    ReadOnly,
    ReadWrite,
}

/// Who the statements of a transaction run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RunAs {
    /// The connecting user.
    Connecting,
    /// `SET SESSION AUTHORIZATION role`: the server judges every `SET ROLE` as it would for a
    /// session of that role (the connecting user is a superuser).
    Session(String),
    /// `SET ROLE role`, when the connecting user cannot change the session user: statements that
    /// change the role are not run.
    Role(String),
}

/// How the server ended a statement it did not finish.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    /// The server's message with its SQLSTATE, on one line.
    pub text: String,
    pub code: String,
}

/// A statement that ran, or the server's refusal.
#[derive(Debug, Clone)]
pub(crate) struct Ran {
    pub duration: Duration,
    pub result: Result<(), Failure>,
    /// Whether the budget, not the per-statement limit, set the statement's timeout.
    pub budget_timeout: bool,
}

/// What the check after a statement saw.
#[derive(Debug, Clone, Default)]
pub(crate) struct Seen {
    pub current_user: String,
    /// migsafe's limits the statement changed (set again before the next one).
    pub changed: Vec<&'static str>,
}

/// One of migsafe's transactions: rolled back when dropped.
pub(crate) struct Tx<'c> {
    client: &'c mut Client,
    pid: i32,
    started: String,
    session_user: String,
    access: Access,
    limits: Limits,
    budget: Budget,
    run_as: RunAs,
    budget_timeout: bool,
    /// The `statement_timeout` set for the current statement.
    armed_ms: u64,
    /// The migration's `search_path`, put back before each of its statements.
    migration_path: String,
    open: bool,
}

impl<'c> Tx<'c> {
    /// Starts a transaction with migsafe's limits, its snapshot exported.
    pub(crate) fn begin(
        client: &'c mut Client,
        access: Access,
        limits: Limits,
        budget: Budget,
    ) -> Result<Tx<'c>, Error> {
        let start = match access {
            Access::ReadOnly => "START TRANSACTION READ ONLY",
            Access::ReadWrite => "START TRANSACTION READ WRITE",
        };
        client
            .execute_typed(start, &[])
            .map_err(|e| db_error("starting a transaction", &e))?;
        let mut tx = Tx {
            client,
            pid: 0,
            started: String::new(),
            session_user: String::new(),
            access,
            limits,
            budget,
            run_as: RunAs::Connecting,
            budget_timeout: false,
            armed_ms: 0,
            migration_path: String::new(),
            open: true,
        };
        let row = tx
            .client
            .query_one(
                "SELECT pg_catalog.pg_backend_pid(), pg_catalog.transaction_timestamp()::pg_catalog.text,
                        session_user::pg_catalog.text, pg_catalog.pg_export_snapshot(),
                        pg_catalog.current_setting('search_path'),
                        pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)",
                &[],
            )
            .map_err(|e| db_error("starting a transaction", &e))?;
        tx.pid = row
            .try_get(0)
            .map_err(|e| db_error("starting a transaction", &e))?;
        tx.started = row
            .try_get(1)
            .map_err(|e| db_error("starting a transaction", &e))?;
        tx.session_user = row
            .try_get(2)
            .map_err(|e| db_error("starting a transaction", &e))?;
        tx.migration_path = row
            .try_get(4)
            .map_err(|e| db_error("starting a transaction", &e))?;
        tx.arm(limits.statement_ms)?;
        Ok(tx)
    }

    pub(crate) fn run_as(&self) -> &RunAs {
        &self.run_as
    }

    /// Sets migsafe's limits for what comes next, with `statement_ms` as `statement_timeout`.
    pub(crate) fn arm(&mut self, statement_ms: u64) -> Result<(), Error> {
        let ms = statement_ms.max(1);
        self.armed_ms = ms;
        let values = [
            ms.to_string(),
            self.limits.lock_ms.to_string(),
            self.limits.idle_ms.max(1).to_string(),
        ];
        self.client
            .execute(
                "SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true),
                        set_config('idle_in_transaction_session_timeout', $3, true)",
                &[&values[0], &values[1], &values[2]],
            )
            .map_err(|e| db_error("setting migsafe's limits", &e))?;
        Ok(())
    }

    /// [`Tx::arm`] for a statement of the migration (or an EXPLAIN of one): its `statement_timeout`
    /// is at most what remains of the budget. migsafe's own reads are not held to the budget, so
    /// that the run can always be observed, rolled back and cleaned up.
    /// The migration's `search_path` comes back for the statement.
    fn arm_capped(&mut self, statement_ms: u64) -> Result<(), Error> {
        let (ms, by_budget) = self.budget.cap(statement_ms);
        self.budget_timeout = by_budget;
        self.arm(ms)?;
        let path = self.migration_path.clone();
        self.client
            .execute("SELECT set_config('search_path', $1, true)", &[&path])
            .map_err(|e| db_error("setting the migration's search_path", &e))?;
        Ok(())
    }

    /// Right after a statement of the migration: keeps its `search_path` for the next one, and
    /// gives migsafe's own queries the catalog's. Every name in this query is qualified, as it
    /// runs with the path the statement left.
    fn secure(&mut self) -> Result<(), Error> {
        let row = self
            .client
            .query_typed(
                "SELECT pg_catalog.current_setting('search_path'),
                        pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)",
                &[],
            )
            .map_err(|e| Error::Database {
                message: format!(
                    "the session is no longer in migsafe's transaction ({}); nothing was committed",
                    error_text(&e)
                ),
            })?;
        self.migration_path = row
            .first()
            .and_then(|r| r.try_get::<_, String>(0).ok())
            .unwrap_or_default();
        Ok(())
    }

    /// Checks that the session is still in this transaction, as the expected users, and sets
    /// migsafe's limits again (for its own reads: `statement_timeout` is `--statement-timeout`);
    /// names the limits the last statement had changed.
    pub(crate) fn check(&mut self) -> Result<Seen, Error> {
        let values = [
            self.limits.statement_ms.max(1).to_string(),
            self.limits.lock_ms.to_string(),
            self.limits.idle_ms.max(1).to_string(),
        ];
        // The CTE is read before the outer row sets the limits again.
        let rows = self
            .client
            .query_typed(
                "WITH seen AS MATERIALIZED (
                     SELECT pg_backend_pid() AS pid, transaction_timestamp()::text AS started,
                            session_user::text AS session_user, current_user::text AS current_user,
                            current_setting('transaction_read_only') AS read_only,
                            current_setting('idle_in_transaction_session_timeout') AS idle,
                            current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS statement)
                 SELECT seen.*, set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true),
                        set_config('idle_in_transaction_session_timeout', $3, true)
                 FROM seen",
                &[
                    (&values[0], Type::TEXT),
                    (&values[1], Type::TEXT),
                    (&values[2], Type::TEXT),
                ],
            )
            .map_err(|e| Error::Database {
                message: format!(
                    "the session is no longer in migsafe's transaction ({}); nothing was committed",
                    error_text(&e)
                ),
            })?;
        let row = rows.first().ok_or_else(|| Error::Database {
            message: "checking the transaction: no row".to_string(),
        })?;
        let get = |i: usize| -> Result<String, Error> {
            row.try_get::<_, String>(i)
                .map_err(|e| db_error("checking the transaction", &e))
        };
        let pid: i32 = row
            .try_get(0)
            .map_err(|e| db_error("checking the transaction", &e))?;
        if pid != self.pid || get(1)? != self.started {
            self.open = false;
            return Err(Error::Database {
                message: "the session left migsafe's transaction (it ended or was replaced): the run stopped; what ran in it was rolled back".to_string(),
            });
        }
        let (session_user, current_user) = (get(2)?, get(3)?);
        let expected_session = match &self.run_as {
            RunAs::Session(r) => r.as_str(),
            _ => self.session_user.as_str(),
        };
        if session_user != expected_session {
            return Err(Error::Database {
                message: format!(
                    "the session user changed to {session_user} (migsafe ran the migration as {expected_session}): the run stopped; nothing was committed"
                ),
            });
        }
        if let RunAs::Role(r) = &self.run_as {
            if &current_user != r {
                return Err(Error::Database {
                    message: format!(
                        "the current role changed to {current_user} (migsafe ran the migration as role {r}): the run stopped; nothing was committed"
                    ),
                });
            }
        }
        if self.access == Access::ReadOnly && get(4)? != "on" {
            return Err(Error::Database {
                message: "migsafe's read-only transaction became read-write: the run stopped; nothing was committed".to_string(),
            });
        }
        let expected = [
            (
                "idle_in_transaction_session_timeout",
                self.limits.idle_ms.max(1),
            ),
            ("lock_timeout", self.limits.lock_ms),
            ("statement_timeout", self.armed_ms),
        ];
        let mut changed = Vec::new();
        for (i, (name, want)) in expected.iter().enumerate() {
            if setting_ms(&get(5 + i)?) != Some(*want) {
                changed.push(*name);
            }
        }
        self.armed_ms = self.limits.statement_ms.max(1);
        Ok(Seen {
            current_user,
            changed,
        })
    }

    /// Runs one statement of the migration (or of its rollback) under a savepoint, with
    /// `statement_ms` as its `statement_timeout` (capped by the budget): the server's refusal is a
    /// [`Failure`] and the transaction goes on; a lost connection or a transaction the statement
    /// ended is an error.
    pub(crate) fn run(&mut self, sql: &str, statement_ms: u64) -> Result<Ran, Error> {
        self.arm_capped(statement_ms)?;
        self.own("SAVEPOINT migsafe_statement")?;
        let started = Instant::now();
        let result = self.client.execute_typed(sql, &[]);
        let duration = started.elapsed();
        let result = match result {
            Ok(_) => {
                self.own("RELEASE SAVEPOINT migsafe_statement")?;
                Ok(())
            }
            Err(e) => Err(self.refused(&e)?),
        };
        self.secure()?;
        Ok(Ran {
            duration,
            result,
            budget_timeout: self.budget_timeout,
        })
    }

    /// Runs a statement whose result is one JSON column (`EXPLAIN (FORMAT JSON) …`) under a
    /// savepoint, as [`Tx::run`] does, and returns the column's text.
    pub(crate) fn json(
        &mut self,
        sql: &str,
        statement_ms: u64,
    ) -> Result<Result<String, Failure>, Error> {
        self.arm_capped(statement_ms)?;
        self.own("SAVEPOINT migsafe_statement")?;
        let result = self.client.query_typed(sql, &[]);
        let text = match result {
            Ok(rows) => {
                self.own("RELEASE SAVEPOINT migsafe_statement")?;
                let mut text = String::new();
                for r in rows {
                    let part: JsonText = r
                        .try_get(0)
                        .map_err(|e| db_error("reading EXPLAIN output", &e))?;
                    text.push_str(&part.0);
                }
                Ok(text)
            }
            Err(e) => Err(self.refused(&e)?),
        };
        self.secure()?;
        Ok(text)
    }

    /// A statement run under the savepoint failed: the server's refusal, with the savepoint
    /// rolled back so the transaction goes on; or, when the connection is gone, an error.
    fn refused(&mut self, e: &postgres::Error) -> Result<Failure, Error> {
        if self.client.is_closed() || super::is_fatal(e) {
            self.open = false;
            return Err(db_error("the connection was lost", e));
        }
        let failure = Failure {
            text: error_text(e),
            code: e.code().map(|c| c.code().to_string()).unwrap_or_default(),
        };
        self.own("ROLLBACK TO SAVEPOINT migsafe_statement")?;
        Ok(failure)
    }

    /// One of migsafe's own statements; its failure means the transaction is not migsafe's any more.
    fn own(&mut self, sql: &str) -> Result<(), Error> {
        self.client.execute_typed(sql, &[]).map(|_| ()).map_err(|e| {
            if self.client.is_closed() {
                self.open = false;
            }
            Error::Database {
                message: format!(
                    "the session is no longer in migsafe's transaction ({}): the run stopped; nothing was committed",
                    error_text(&e)
                ),
            }
        })
    }

    /// Runs the rest of the transaction as `role`: with `SET SESSION AUTHORIZATION` when the
    /// connecting user may (a superuser), else with `SET ROLE`. Both end with the transaction.
    pub(crate) fn assume(&mut self, role: &str) -> Result<RunAs, Error> {
        let quoted = crate::ir::quote_ident(role);
        self.own("SAVEPOINT migsafe_role")?;
        let session = self
            .client
            .execute_typed(&format!("SET LOCAL SESSION AUTHORIZATION {quoted}"), &[]);
        self.run_as = match session {
            Ok(_) => {
                self.own("RELEASE SAVEPOINT migsafe_role")?;
                RunAs::Session(role.to_string())
            }
            Err(_) => {
                self.own("ROLLBACK TO SAVEPOINT migsafe_role")?;
                self.client
                    .execute_typed(&format!("SET LOCAL ROLE {quoted}"), &[])
                    .map_err(|e| db_error(&format!("SET ROLE {role}"), &e))?;
                RunAs::Role(role.to_string())
            }
        };
        Ok(self.run_as.clone())
    }

    /// Back to the connecting user (for migsafe's own reads after the run).
    pub(crate) fn resume_connecting_user(&mut self) -> Result<(), Error> {
        match self.run_as {
            RunAs::Connecting => return Ok(()),
            RunAs::Session(_) => self.own("SET LOCAL SESSION AUTHORIZATION DEFAULT")?,
            RunAs::Role(_) => self.own("SET LOCAL ROLE NONE")?,
        }
        self.run_as = RunAs::Connecting;
        Ok(())
    }

    /// Rolls the transaction back.
    pub(crate) fn rollback(mut self) -> Result<(), Error> {
        self.open = false;
        self.client
            .execute_typed("ROLLBACK", &[])
            .map(|_| ())
            .map_err(|e| db_error("rolling back", &e))
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client
    }
}

impl std::ops::DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open && !self.client.is_closed() {
            // Nothing may commit: whatever went wrong, the transaction ends in ROLLBACK.
            let _ = self.client.execute_typed("ROLLBACK", &[]);
        }
    }
}

/// A time setting as `current_setting` shows it (`0`, `300ms`, `5s`, `10min`, `1h`, `1d`), in
/// milliseconds.
fn setting_ms(text: &str) -> Option<u64> {
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let n: u64 = text[..digits].parse().ok()?;
    let unit = match &text[digits..] {
        "" | "ms" => 1,
        "s" => 1_000,
        "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some(n * unit)
}

/// A `json` (or text) column as its text: the binary form of `json` is the text itself.
struct JsonText(String);

impl<'a> postgres::types::FromSql<'a> for JsonText {
    fn from_sql(
        _: &postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(JsonText(std::str::from_utf8(raw)?.to_string()))
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        matches!(
            *ty,
            postgres::types::Type::JSON | postgres::types::Type::TEXT
        )
    }
}

/// Makes the session read-only outside migsafe's transactions; gives the previous value back.
pub(crate) fn read_only_by_default(client: &mut Client) -> Result<String, Error> {
    let row = client
        .query_one(
            "SELECT current_setting('default_transaction_read_only'), set_config('default_transaction_read_only', 'on', false)",
            &[],
        )
        .map_err(|e| db_error("setting default_transaction_read_only", &e))?;
    row.try_get(0)
        .map_err(|e| db_error("setting default_transaction_read_only", &e))
}

/// Puts `default_transaction_read_only` back as it was before [`read_only_by_default`].
pub(crate) fn restore_read_only_default(client: &mut Client, prior: &str) {
    let _ = client.execute(
        "SELECT set_config('default_transaction_read_only', $1, false)",
        &[&prior],
    );
}

/// Other client sessions of this database that are running queries or are inside a
/// transaction, seen in any of five looks 20 ms apart (a busy application's sessions are idle
/// only between its queries). Sessions of other users whose state the connecting user may not see
/// count too. Returns (sessions, of which state unknown).
pub(crate) fn other_active_sessions(client: &mut Client) -> Result<(usize, usize), Error> {
    let mut seen = std::collections::BTreeMap::new();
    for look in 0..5 {
        if look > 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
        let rows = client
            .query(
                "SELECT pid, state IS NULL FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()
                   AND backend_type = 'client backend' AND (state IS NULL OR state <> 'idle')",
                &[],
            )
            .map_err(|e| db_error("reading pg_stat_activity", &e))?;
        for r in rows {
            let pid: i32 = r
                .try_get(0)
                .map_err(|e| db_error("reading pg_stat_activity", &e))?;
            let unknown: bool = r
                .try_get(1)
                .map_err(|e| db_error("reading pg_stat_activity", &e))?;
            seen.insert(pid, unknown);
        }
    }
    let unknown = seen.values().filter(|u| **u).count();
    Ok((seen.len(), unknown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_settings_read_in_milliseconds() {
        assert_eq!(setting_ms("0"), Some(0));
        assert_eq!(setting_ms("300ms"), Some(300));
        assert_eq!(setting_ms("5s"), Some(5_000));
        assert_eq!(setting_ms("10min"), Some(600_000));
        assert_eq!(setting_ms("2h"), Some(7_200_000));
        assert_eq!(setting_ms("1d"), Some(86_400_000));
        assert_eq!(setting_ms("5 s"), None);
    }

    #[test]
    fn the_budget_caps_a_statement_limit() {
        let b = Budget::new(60_000);
        assert_eq!(b.cap(1_000), (1_000, false));
        let (ms, by_budget) = b.cap(600_000);
        assert!(by_budget && ms <= 60_000 && ms > 59_000, "{ms}");
        let spent = Budget {
            started: Instant::now() - Duration::from_secs(5),
            total: Duration::from_secs(1),
        };
        assert_eq!(spent.remaining_ms(), 0);
        assert_eq!(spent.cap(10), (1, true));
    }
}
