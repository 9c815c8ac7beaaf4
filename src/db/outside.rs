//! Statements the verification does not run, because what they do would outlive its transaction
//! or lift migsafe's limits. Each is reported with the reason instead.
//!
//! The server enforces most of this by itself: `ALTER SYSTEM`, `VACUUM`, `CREATE DATABASE`,
//! `CREATE INDEX CONCURRENTLY` and subscriptions that create slots refuse to run inside a
//! transaction block, which every statement of the run is in; the exported snapshot makes it
//! refuse `PREPARE TRANSACTION`; without superuser, `COPY … PROGRAM` and server files need
//! `pg_execute_server_program` / `pg_read_server_files` / `pg_write_server_files`, signalling other
//! sessions needs `pg_signal_backend`, and replication slots need `REPLICATION` (so `--role` with an
//! ordinary deploy role gets the server's refusal). A superuser passes all of those checks, so
//! migsafe also refuses by name: the statements and functions below, wherever their names appear
//! in a statement (a `DO` body or an `EXECUTE` string included), functions whose source calls one
//! of them (on the copy or created by the migration), and what mentions those functions.
//! Sequence changes are not refused: their values are put back after the run.

/// Functions whose effect outlives the transaction, or reaches outside the database.
const FUNCTIONS: &[(&str, &str)] = &[
    ("pg_terminate_backend", "ends another session"),
    ("pg_cancel_backend", "cancels another session's query"),
    (
        "pg_reload_conf",
        "makes the server reload its configuration",
    ),
    ("pg_rotate_logfile", "rotates the server's log file"),
    ("pg_promote", "promotes a standby"),
    ("pg_switch_wal", "switches the write-ahead log file"),
    (
        "pg_create_restore_point",
        "writes a restore point to the write-ahead log",
    ),
    ("pg_backup_start", "starts a base backup"),
    ("pg_backup_stop", "ends a base backup"),
    ("pg_start_backup", "starts a base backup"),
    ("pg_stop_backup", "ends a base backup"),
    (
        "pg_create_physical_replication_slot",
        "creates a replication slot, which outlives the transaction and keeps WAL",
    ),
    (
        "pg_create_logical_replication_slot",
        "creates a replication slot, which outlives the transaction and keeps WAL",
    ),
    (
        "pg_copy_physical_replication_slot",
        "creates a replication slot, which outlives the transaction and keeps WAL",
    ),
    (
        "pg_copy_logical_replication_slot",
        "creates a replication slot, which outlives the transaction and keeps WAL",
    ),
    ("pg_drop_replication_slot", "drops a replication slot"),
    ("pg_replication_slot_advance", "advances a replication slot"),
    (
        "pg_logical_slot_get_changes",
        "consumes a replication slot's changes",
    ),
    (
        "pg_logical_slot_get_binary_changes",
        "consumes a replication slot's changes",
    ),
    (
        "pg_logical_emit_message",
        "writes a message to the write-ahead log",
    ),
    (
        "pg_replication_origin_create",
        "changes replication origins",
    ),
    ("pg_replication_origin_drop", "changes replication origins"),
    (
        "pg_replication_origin_advance",
        "changes replication origins",
    ),
    (
        "pg_replication_origin_session_setup",
        "changes replication origins",
    ),
    ("pg_stat_reset", "resets statistics"),
    ("pg_stat_reset_shared", "resets statistics"),
    ("pg_stat_reset_single_table_counters", "resets statistics"),
    (
        "pg_stat_reset_single_function_counters",
        "resets statistics",
    ),
    ("pg_stat_reset_slru", "resets statistics"),
    ("pg_stat_reset_replication_slot", "resets statistics"),
    ("pg_stat_reset_subscription_stats", "resets statistics"),
    ("pg_advisory_lock", "takes a session-level advisory lock"),
    (
        "pg_advisory_lock_shared",
        "takes a session-level advisory lock",
    ),
    (
        "pg_try_advisory_lock",
        "takes a session-level advisory lock",
    ),
    (
        "pg_try_advisory_lock_shared",
        "takes a session-level advisory lock",
    ),
    ("lo_import", "reads a file of the server"),
    ("lo_export", "writes a file of the server"),
    ("pg_file_write", "writes a file of the server"),
    ("pg_file_rename", "renames a file of the server"),
    ("pg_file_unlink", "deletes a file of the server"),
    ("pg_file_sync", "syncs a file of the server"),
    ("pg_wal_replay_pause", "pauses recovery"),
    ("pg_wal_replay_resume", "resumes recovery"),
];

/// Prefixes of function families that write outside the transaction (dblink commits on the remote
/// side as it goes).
const PREFIXES: &[(&str, &str)] = &[("dblink", "acts on another database through dblink")];

/// Words that, in a `DO` block or a function body, let it act outside the database: dynamic
/// `COPY` (which can run a program or use the server's files) and untrusted languages.
const BODY_WORDS: &[(&str, &str)] = &[
    (
        "copy",
        "runs COPY, which can run a program or read and write the server's files",
    ),
    (
        "plpython3u",
        "is untrusted PL/Python, which can do anything the server's OS user can",
    ),
    (
        "plpythonu",
        "is untrusted PL/Python, which can do anything the server's OS user can",
    ),
    (
        "plpython2u",
        "is untrusted PL/Python, which can do anything the server's OS user can",
    ),
    (
        "plperlu",
        "is untrusted PL/Perl, which can do anything the server's OS user can",
    ),
    (
        "pltclu",
        "is untrusted PL/Tcl, which can do anything the server's OS user can",
    ),
];

/// migsafe's limits, which no statement of the run may change.
const LIMITS: &[&str] = &[
    "lock_timeout",
    "statement_timeout",
    "idle_in_transaction_session_timeout",
    "transaction_timeout",
    "session_authorization",
];

/// A name whose mention makes a statement act outside the transaction: a function of the copy or
/// of the migration that calls one of [`FUNCTIONS`], or a table whose trigger does.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tainted {
    /// The name as it appears in SQL (lower case, unquoted).
    pub name: String,
    /// Why it acts outside: "calls public.kill(), which calls pg_terminate_backend".
    pub why: String,
}

/// Whether the statement controls the transaction (`BEGIN`, `COMMIT`, `END`, `ROLLBACK`,
/// `SAVEPOINT`, …): never sent, whatever migsafe's reading of it, as the run is one transaction of
/// migsafe's and a `COMMIT` would commit it.
pub(crate) fn controls_transaction(sql: &str) -> bool {
    matches!(
        leading_words(sql, 1).first().map(String::as_str),
        Some("BEGIN" | "START" | "COMMIT" | "END" | "ABORT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE")
    )
}

/// Why `sql` would act outside the verification's transaction, when it would.
pub(crate) fn acts_outside(sql: &str, tainted: &[Tainted]) -> Option<String> {
    let words = leading_words(sql, 3);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let statement = match w.as_slice() {
        ["PREPARE", "TRANSACTION", ..] => {
            Some("PREPARE TRANSACTION makes the transaction outlive the session")
        }
        ["COMMIT" | "ROLLBACK", "PREPARED", ..] => {
            Some("COMMIT/ROLLBACK PREPARED ends a prepared transaction, which is not the run's")
        }
        ["CHECKPOINT", ..] => Some("CHECKPOINT makes the server write out every changed page"),
        ["LOAD", ..] => Some("LOAD loads a shared library into the session, where it stays"),
        ["ALTER", "SYSTEM", ..] => Some("ALTER SYSTEM writes postgresql.auto.conf"),
        ["COPY", ..] => Some(copy_reason(sql)),
        _ => None,
    };
    if let Some(why) = statement {
        return Some(why.to_string());
    }
    if let ["DO", ..] | ["CREATE", "FUNCTION" | "PROCEDURE" | "OR", ..] = w.as_slice() {
        if let Some((word, why)) = BODY_WORDS.iter().find(|(word, _)| mentions(sql, word)) {
            return Some(format!("its code {why} ({word})"));
        }
    }
    if let Some((name, why)) = FUNCTIONS.iter().find(|(name, _)| mentions(sql, name)) {
        return Some(format!("{name} {why}"));
    }
    if let Some((prefix, why)) = PREFIXES.iter().find(|(p, _)| mentions_prefix(sql, p)) {
        return Some(format!("{prefix}: {why}"));
    }
    tainted
        .iter()
        .find(|t| mentions(sql, &t.name))
        .map(|t| t.why.clone())
}

/// A regular expression (for `~*` on the server) that matches a source calling one of them.
pub(crate) fn server_pattern() -> String {
    let names: Vec<&str> = FUNCTIONS
        .iter()
        .chain(BODY_WORDS)
        .map(|(n, _)| *n)
        .collect();
    let prefixes: Vec<String> = PREFIXES
        .iter()
        .map(|(p, _)| format!("{p}(_[a-z_]*)?"))
        .collect();
    format!("\\m({}|{})\\M", names.join("|"), prefixes.join("|"))
}

/// COPY never runs in the verification: it reads or writes outside the database, or needs data
/// (or a reader) that the run does not have.
fn copy_reason(sql: &str) -> &'static str {
    let upper: Vec<String> = words(sql);
    let has = |w: &str| upper.iter().any(|u| u == w);
    if has("PROGRAM") {
        "COPY … PROGRAM runs a command on the server's host"
    } else if has("STDIN") {
        "COPY … FROM STDIN: the export's data is not sent"
    } else if has("STDOUT") {
        "COPY … TO STDOUT: nothing would read its output"
    } else {
        "COPY with a file name reads or writes a file of the server"
    }
}

/// Why a statement is not run because it would change migsafe's limits or who the statements run
/// as: `SET`/`RESET` of them (`RESET ALL` runs, and the limits are set again after it), or any
/// mention of their names (`set_config`, `DO` blocks). `role_by_server` is false when the
/// connecting user cannot hand role changes to the server's judgement (see `RunAs::Role`).
pub(crate) fn lifts_limits(sql: &str, role_by_server: bool) -> Option<String> {
    let words = leading_words(sql, 4);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let target = match w.as_slice() {
        ["SET", "SESSION" | "LOCAL", "SESSION", "AUTHORIZATION"]
        | ["SET", "SESSION", "AUTHORIZATION", ..]
        | ["RESET", "SESSION", "AUTHORIZATION", ..] => Some("the session user"),
        ["SET", "ROLE", ..] | ["SET", "SESSION" | "LOCAL", "ROLE", ..] | ["RESET", "ROLE", ..]
            if !role_by_server =>
        {
            Some("the role")
        }
        _ => None,
    };
    if let Some(what) = target {
        return Some(format!(
            "it changes {what}, which migsafe keeps for the whole run"
        ));
    }
    if !role_by_server && mentions(sql, "role") && mentions(sql, "set_config") {
        return Some("it changes the role, which migsafe keeps for the whole run".to_string());
    }
    LIMITS.iter().find(|l| mentions(sql, l)).map(|l| {
        format!("it changes or reads {l}, which migsafe keeps at its own value for the whole run")
    })
}

/// Whether `name` occurs in `text` as a whole word (any case): between characters that cannot be
/// part of an identifier.
pub(crate) fn mentions(text: &str, name: &str) -> bool {
    find_word(text, name, false)
}

fn mentions_prefix(text: &str, prefix: &str) -> bool {
    find_word(text, prefix, true)
}

fn find_word(text: &str, name: &str, prefix: bool) -> bool {
    let hay = text.as_bytes();
    let needle = name.as_bytes();
    if needle.is_empty() || hay.len() < needle.len() {
        return false;
    }
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80;
    (0..=hay.len() - needle.len()).any(|i| {
        hay[i..i + needle.len()].eq_ignore_ascii_case(needle)
            && (i == 0 || !ident(hay[i - 1]))
            && hay
                .get(i + needle.len())
                .is_none_or(|b| !ident(*b) || (prefix && *b == b'_'))
    })
}

/// The first `n` words of a statement, upper-cased, after whitespace and comments.
pub(crate) fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = sql;
    while out.len() < n {
        rest = skip_space_and_comments(rest);
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        out.push(rest[..end].to_ascii_uppercase());
        rest = &rest[end..];
    }
    out
}

/// Every word of the statement outside quotes and comments, upper-cased.
fn words(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = sql;
    while !rest.is_empty() {
        rest = skip_space_and_comments(rest);
        let Some(c) = rest.chars().next() else { break };
        if c == '\'' || c == '"' {
            rest = rest[1..].find(c).map_or("", |i| &rest[i + 2..]);
        } else if c.is_alphanumeric() || c == '_' {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.push(rest[..end].to_ascii_uppercase());
            rest = &rest[end..];
        } else {
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn skip_space_and_comments(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        if let Some(r) = s.strip_prefix("--") {
            s = r.find('\n').map_or("", |i| &r[i..]);
        } else if s.starts_with("/*") {
            s = after_block_comment(s);
        } else {
            return s;
        }
    }
}

/// The text after a (nested) block comment that `s` starts with.
fn after_block_comment(s: &str) -> &str {
    let b = s.as_bytes();
    let mut depth = 0;
    let mut i = 0;
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return &s[i..];
                }
            }
            _ => i += 1,
        }
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_and_functions_that_act_outside() {
        for sql in [
            "PREPARE TRANSACTION 'x'",
            "/* c */ prepare transaction 'x'",
            "COMMIT PREPARED 'x'",
            "ROLLBACK PREPARED 'x'",
            "CHECKPOINT",
            "LOAD 'auto_explain'",
            "ALTER SYSTEM SET work_mem = '1GB'",
            "COPY (SELECT 1) TO PROGRAM 'touch /tmp/x'",
            "COPY t FROM '/etc/passwd'",
            "COPY t TO STDOUT",
            "SELECT pg_terminate_backend(123)",
            "select pg_catalog.PG_CANCEL_BACKEND(1)",
            "SELECT \"pg_reload_conf\"()",
            "DO $$ BEGIN PERFORM pg_terminate_backend(1); END $$",
            "SELECT dblink_exec('dbname=x', 'DELETE FROM t')",
            "SELECT pg_create_physical_replication_slot('s')",
            "SELECT lo_export(1, '/tmp/x')",
            "SELECT pg_advisory_lock(1)",
        ] {
            assert!(acts_outside(sql, &[]).is_some(), "{sql}");
        }
        for sql in [
            "SELECT pg_advisory_xact_lock(1)",
            "SELECT nextval('s')",
            "UPDATE t SET my_pg_terminate_backend_count = 1",
            "SELECT 'prepare transaction'",
            "CREATE TABLE dblinks (id int)",
        ] {
            assert_eq!(acts_outside(sql, &[]), None, "{sql}");
        }
        let tainted = [Tainted {
            name: "kill_all".to_string(),
            why: "calls kill_all(), which calls pg_terminate_backend".to_string(),
        }];
        assert!(acts_outside("SELECT public.kill_all()", &tainted).is_some());
        assert_eq!(acts_outside("SELECT kill_all_x()", &tainted), None);
        assert!(acts_outside("CREATE TABLE dblink_log (id int)", &[]).is_some());
        assert!(acts_outside("DO $$ BEGIN EXECUTE 'COPY t TO ''/tmp/x'''; END $$", &[]).is_some());
        assert!(acts_outside("DO LANGUAGE plpython3u $$ import os $$", &[]).is_some());
        assert_eq!(
            acts_outside("DO $$ BEGIN UPDATE t SET a = 1; END $$", &[]),
            None
        );
        assert!(acts_outside("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'COPY t TO PROGRAM ''x'''; END $$", &[]).is_some());
    }

    #[test]
    fn transaction_control_is_known_by_its_first_word() {
        for sql in [
            "COMMIT",
            "end",
            "ABORT",
            "ROLLBACK AND CHAIN",
            "COMMIT AND CHAIN",
            "START TRANSACTION",
            "BEGIN ISOLATION LEVEL SERIALIZABLE",
            "SAVEPOINT a",
            "RELEASE a",
            "/* x */ Rollback to savepoint a",
        ] {
            assert!(controls_transaction(sql), "{sql}");
        }
        assert!(!controls_transaction("DO $$ BEGIN COMMIT; END $$"));
        assert!(!controls_transaction("CREATE TABLE commits (id int)"));
    }

    #[test]
    fn copy_says_why() {
        assert!(copy_reason("COPY t FROM STDIN").contains("STDIN"));
        assert!(copy_reason("COPY t TO PROGRAM 'x'").contains("PROGRAM"));
        assert!(copy_reason("COPY t TO 'stdin'").contains("file"));
    }

    #[test]
    fn changes_to_migsafes_limits() {
        for sql in [
            "SET SESSION AUTHORIZATION postgres",
            "SET LOCAL SESSION AUTHORIZATION postgres",
            "RESET SESSION AUTHORIZATION",
            "SELECT set_config('lock_timeout', '0', false)",
            "DO $$ BEGIN SET statement_timeout = 0; END $$",
            "SET idle_in_transaction_session_timeout = 0",
            "SELECT set_config('session_authorization', 'postgres', false)",
        ] {
            assert!(lifts_limits(sql, true).is_some(), "{sql}");
        }
        assert_eq!(lifts_limits("RESET ALL", true), None);
        assert_eq!(lifts_limits("SET ROLE postgres", true), None);
        assert!(lifts_limits("SET ROLE postgres", false).is_some());
        assert!(lifts_limits("RESET ROLE", false).is_some());
        assert!(lifts_limits("SELECT set_config('role', 'x', false)", false).is_some());
        assert_eq!(lifts_limits("SELECT role FROM users", false), None);
    }

    #[test]
    fn words_skip_comments_and_quotes() {
        assert_eq!(
            leading_words("-- x\n/* a /* b */ c */ Copy t", 2),
            vec!["COPY", "T"]
        );
        assert_eq!(
            words("COPY t TO 'PROGRAM' -- PROGRAM\n"),
            vec!["COPY", "T", "TO"]
        );
        assert!(server_pattern().contains("pg_terminate_backend|"));
    }
}
