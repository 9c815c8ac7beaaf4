//! The database mode can do no harm: for each way a migration (or a hostile text) could reach past
//! the rolled-back verification, a scratch database is compared before and after migsafe ran
//! (schema, storage files, row counts and contents, sequence values, slots, prepared
//! transactions), and the report must say what was not run and why.
#![cfg(feature = "postgres")]

mod common;

use common::cli;
use common::pg::{self, Cluster, Scratch, fingerprint};
use migsafe::db::{self, DbOptions};
use migsafe::report::{Report, StatementReport};
use migsafe::{Analyzer, Error, Settings, Source};
use postgres::{Client, NoTls};
use std::time::{Duration, Instant};

/// `events` (1,000 rows, a serial id), `t` (one row), and a spare sequence.
fn copy_with_events(c: &mut Client) {
    c.batch_execute(
        "CREATE TABLE events (id serial PRIMARY KEY, payload text NOT NULL DEFAULT 'x');
         INSERT INTO events (payload) SELECT 'e' || g FROM generate_series(1, 1000) g;
         CREATE TABLE t (id int);
         INSERT INTO t VALUES (1);
         CREATE SEQUENCE spare START 42;
         ANALYZE;",
    )
    .expect("copy");
}

fn analyze(c: &mut Client, options: DbOptions, sql: &str) -> Result<Report, Error> {
    Analyzer::new(Settings::default())
        .database(c)
        .options(options)
        .analyze(Source::new("m.sql", sql))
}

fn verify(c: &mut Client, sql: &str) -> Report {
    analyze(c, DbOptions::default().verify(true), sql).expect("verifies")
}

/// The statement whose text holds `needle`.
fn statement<'a>(r: &'a Report, needle: &str) -> &'a StatementReport {
    r.statements
        .iter()
        .find(|s| s.sql.contains(needle))
        .unwrap_or_else(|| panic!("no statement holds {needle}"))
}

fn skipped(s: &StatementReport) -> String {
    s.observed
        .as_ref()
        .and_then(|o| o.skipped.clone())
        .unwrap_or_else(|| panic!("`{}` ran: {:?}", s.sql, s.observed))
}

fn findings(s: &StatementReport) -> String {
    s.findings
        .iter()
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect::<Vec<_>>()
        .join("\n")
}

fn notes(r: &Report) -> String {
    r.database
        .as_ref()
        .map(|d| d.notes.join("\n"))
        .unwrap_or_default()
}

/// The whole report as JSON text, to look for a message wherever it landed.
fn json(r: &Report) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

fn every_mode() -> [DbOptions; 3] {
    [
        DbOptions::default(),
        DbOptions::default().explain_analyze(true),
        DbOptions::default().verify(true),
    ]
}

#[test]
fn batches_hidden_in_one_statement_never_run() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "batch", None);
    let mut c = scratch.connect();
    copy_with_events(&mut c);
    let before = fingerprint(&mut c);
    // `>--` is `>` and a comment to the server: the quote is commented out, the `;` are real.
    let texts = [
        "SELECT 1 >-- '\n 1; COMMIT; DROP TABLE t; SELECT 1 --';\n",
        "DELETE FROM events WHERE id >-- '\n 0; COMMIT; DELETE FROM events; SELECT 1 --';\n",
    ];
    for sql in texts {
        for options in every_mode() {
            let r = analyze(&mut c, options, sql).expect("analyses");
            // Read as one statement, it went to the server as one message, which refused it.
            if r.statements.len() == 1 {
                assert!(
                    json(&r).contains("cannot insert multiple commands into a prepared statement"),
                    "{}",
                    json(&r)
                );
            }
            assert_eq!(fingerprint(&mut c), before, "{sql}");
        }
    }
    // With standard_conforming_strings off on the copy, `'\''` ends after its third character.
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {} SET standard_conforming_strings = off",
            scratch.name
        ))
        .expect("alter database");
    let mut off = scratch.connect();
    let sql = "SELECT '\\''; DELETE FROM events; SELECT 1 --';\n";
    for options in every_mode() {
        let r = analyze(&mut off, options, sql).expect("analyses");
        if r.statements.len() == 1 {
            assert!(
                json(&r).contains("cannot insert multiple commands"),
                "{}",
                json(&r)
            );
        }
        assert!(
            notes(&r).contains("standard_conforming_strings is off"),
            "{}",
            notes(&r)
        );
        assert_eq!(fingerprint(&mut off), before);
    }
}

#[test]
fn transaction_control_never_runs_and_no_name_stands_in_for_the_catalog() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "txctl", None);
    let mut c = scratch.connect();
    copy_with_events(&mut c);
    let before = fingerprint(&mut c);
    let sql = "INSERT INTO t VALUES (5);
END;
DROP TABLE t;
ABORT;
COMMIT AND CHAIN;
ROLLBACK AND CHAIN;
SAVEPOINT a;
RELEASE a;
START TRANSACTION;
COMMIT;
";
    let r = verify(&mut c, sql);
    assert!(
        notes(&r).contains("BEGIN/COMMIT did not run"),
        "{}",
        notes(&r)
    );
    assert_eq!(fingerprint(&mut c), before);
    // A function and a temporary table named like the catalog's, first on the search_path: the
    // run's checks and observations still read the catalog.
    let sql = "CREATE FUNCTION public.pg_backend_pid() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE TEMP TABLE pg_locks (relation oid, mode text, pid integer, locktype text, granted boolean);
SET search_path = pg_temp, public, pg_catalog;
ALTER TABLE public.events ADD COLUMN note text;
";
    let r = verify(&mut c, sql);
    let alter = statement(&r, "ADD COLUMN note")
        .observed
        .as_ref()
        .expect("ran");
    assert!(
        alter
            .locks
            .iter()
            .any(|l| l.table == "public.events" && l.mode.pg_name() == "AccessExclusiveLock"),
        "{alter:?}"
    );
    assert_eq!(fingerprint(&mut c), before);
}

#[test]
fn sequence_values_are_put_back() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "seq", None);
    let mut c = scratch.connect();
    copy_with_events(&mut c);
    let before = fingerprint(&mut c);
    let sql = "INSERT INTO events (payload) SELECT 'n' FROM generate_series(1, 1000);
SELECT setval('events_id_seq', 999999);
SELECT nextval('spare');
CREATE SEQUENCE fresh;
SELECT nextval('fresh');
";
    let r = verify(&mut c, sql);
    let n = notes(&r);
    assert!(
        n.contains("put back") && n.contains("public.events_id_seq (1000 → 999999, back to 1000)"),
        "{n}"
    );
    assert!(n.contains("public.spare"), "{n}");
    assert_eq!(fingerprint(&mut c), before);
    // EXPLAIN ANALYZE runs the INSERT too, and puts the sequence back as well.
    let r = analyze(
        &mut c,
        DbOptions::default().explain_analyze(true),
        "INSERT INTO events (payload) SELECT 'n' FROM generate_series(1, 10);\n",
    )
    .expect("explain analyze");
    assert!(notes(&r).contains("public.events_id_seq"), "{}", notes(&r));
    assert_eq!(fingerprint(&mut c), before);
}

#[test]
fn copy_program_and_server_files_do_not_run() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "copy", None);
    let mut c = scratch.connect();
    copy_with_events(&mut c);
    let before = fingerprint(&mut c);
    let dir = std::env::temp_dir();
    let files: Vec<_> = (0..4)
        .map(|i| dir.join(format!("migsafe-escape-{}-{i}", std::process::id())))
        .collect();
    let sql = format!(
        "COPY (SELECT 1) TO PROGRAM 'touch {0}';
COPY events TO '{1}';
DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch {2}'''; END $$;
SELECT lo_export(lo_from_bytea(0, 'x'), '{3}');
COPY events FROM PROGRAM 'echo 1';
",
        files[0].display(),
        files[1].display(),
        files[2].display(),
        files[3].display()
    );
    for options in every_mode() {
        let verifying = options.verify;
        let r = analyze(&mut c, options, &sql).expect("analyses");
        if verifying {
            assert!(skipped(statement(&r, "TO PROGRAM 'touch")).contains("PROGRAM"));
            assert!(skipped(statement(&r, "COPY events TO")).contains("file"));
            assert!(skipped(statement(&r, "DO $$")).contains("COPY"));
            assert!(skipped(statement(&r, "lo_export")).contains("lo_export"));
            assert!(skipped(statement(&r, "FROM PROGRAM")).contains("PROGRAM"));
        }
        for f in &files {
            assert!(!f.exists(), "{} was written", f.display());
        }
        assert_eq!(fingerprint(&mut c), before);
    }
}

#[test]
fn other_sessions_survive() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "kill", None);
    let mut c = scratch.connect();
    copy_with_events(&mut c);
    let mut victim = scratch.connect();
    let pid: i32 = victim
        .query_one("SELECT pg_backend_pid()", &[])
        .expect("pid")
        .get(0);
    // The copy's own code: a function that ends sessions, and a trigger that calls it.
    c.batch_execute(&format!(
        "CREATE FUNCTION kill(p int) RETURNS boolean LANGUAGE sql AS 'SELECT pg_terminate_backend(p)';
         CREATE TABLE victims (id int);
         CREATE FUNCTION on_victim() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN PERFORM pg_terminate_backend({pid}); RETURN NEW; END $$;
         CREATE TRIGGER on_victim BEFORE INSERT ON victims FOR EACH ROW EXECUTE FUNCTION on_victim();
         CREATE FUNCTION wrapper() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RETURN kill({pid}); END $$;
         CREATE VIEW killing AS SELECT kill({pid}) AS k;
         CREATE TABLE defaults (id int, k boolean DEFAULT kill({pid}));"
    ))
    .expect("functions");
    let before = fingerprint(&mut c);
    let sql = format!(
        "SELECT pg_terminate_backend({pid});
SELECT pg_cancel_backend({pid});
DO $$ BEGIN PERFORM pg_catalog.pg_terminate_backend({pid}); END $$;
SELECT kill({pid});
INSERT INTO victims VALUES (1);
CREATE FUNCTION kill2(p int) RETURNS boolean LANGUAGE sql AS 'SELECT pg_terminate_backend(p)';
SELECT kill2({pid});
SELECT wrapper();
SELECT * FROM killing;
INSERT INTO defaults (id) VALUES (1);
"
    );
    let r = analyze(
        &mut c,
        DbOptions::default().verify(true).allow_live(true),
        &sql,
    )
    .expect("verifies");
    for needle in [
        "SELECT pg_terminate_backend",
        "pg_cancel_backend",
        "DO $$",
        "SELECT kill(",
        "INSERT INTO victims",
        "SELECT kill2(",
        "SELECT wrapper()",
        "FROM killing",
        "INSERT INTO defaults",
    ] {
        let why = skipped(statement(&r, needle));
        assert!(why.contains("acts outside"), "{needle}: {why}");
    }
    assert!(skipped(statement(&r, "INSERT INTO victims")).contains("on_victim"));
    assert!(
        statement(&r, "CREATE FUNCTION kill2")
            .observed
            .as_ref()
            .is_some_and(|o| o.skipped.is_none())
    );
    let alive: i32 = victim
        .query_one("SELECT 1", &[])
        .expect("the other session is still there")
        .get(0);
    assert_eq!(alive, 1);
    assert_eq!(fingerprint(&mut c), before);
}

#[test]
fn an_event_trigger_that_acts_outside_stops_the_verification() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "evt", None);
    let mut c = scratch.connect();
    copy_with_events(&mut c);
    c.batch_execute(
        "CREATE FUNCTION audit_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
             BEGIN PERFORM pg_reload_conf(); END $$;
         CREATE EVENT TRIGGER audit ON ddl_command_end EXECUTE FUNCTION audit_ddl();",
    )
    .expect("event trigger");
    let before = fingerprint(&mut c);
    let err = analyze(
        &mut c,
        DbOptions::default().verify(true),
        "ALTER TABLE events ADD COLUMN note text;\n",
    )
    .expect_err("refused");
    assert!(
        err.to_string()
            .contains("event trigger(s) audit (calls audit_ddl())"),
        "{err}"
    );
    assert_eq!(fingerprint(&mut c), before);
}

#[test]
fn prepare_transaction_never_outlives_the_run() {
    let Some(cluster) = Cluster::start("prepared", &["max_prepared_transactions = 2"], None) else {
        return;
    };
    let mut admin = cluster.admin();
    admin.batch_execute("CREATE DATABASE copy").expect("db");
    let mut c = Client::connect(&cluster.url("postgres", "copy"), NoTls).expect("copy");
    copy_with_events(&mut c);
    let before = fingerprint(&mut c);
    let sql = "ALTER TABLE events ADD COLUMN note text;
PREPARE TRANSACTION 'migsafe_escape';
COMMIT PREPARED 'migsafe_escape';
";
    let r = verify(&mut c, sql);
    assert!(skipped(statement(&r, "PREPARE TRANSACTION")).contains("PREPARE TRANSACTION"));
    assert!(skipped(statement(&r, "COMMIT PREPARED")).contains("PREPARED"));
    let prepared: i64 = c
        .query_one("SELECT count(*) FROM pg_prepared_xacts", &[])
        .expect("xacts")
        .get(0);
    assert_eq!(prepared, 0);
    assert_eq!(fingerprint(&mut c), before);
}

#[test]
fn reset_all_cannot_lift_the_lock_timeout() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "reset", None);
    let mut c = scratch.connect();
    copy_with_events(&mut c);
    let before = fingerprint(&mut c);
    // Another session reads events in an open transaction: ALTER TABLE must wait for it.
    let mut holder = scratch.connect();
    holder
        .batch_execute("BEGIN; LOCK TABLE events IN ACCESS SHARE MODE;")
        .expect("lock");
    let sql = "RESET ALL;
ALTER TABLE events ADD COLUMN a int;
SELECT set_config('lock' || '_timeout', '0', false);
ALTER TABLE events ADD COLUMN b int;
SET lock_timeout = 0;
DO $$ BEGIN PERFORM set_config('lock_timeout', '0', true); EXECUTE 'LOCK TABLE events'; END $$;
SELECT 1 / (current_setting('idle_in_' || 'transaction_session_timeout') <> '0')::int;
";
    let started = Instant::now();
    let options = DbOptions::default()
        .verify(true)
        .allow_live(true)
        .timeouts(30_000, 300);
    let r = analyze(&mut c, options, sql).expect("verifies");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    for needle in ["ADD COLUMN a", "ADD COLUMN b"] {
        let s = statement(&r, needle);
        let o = s.observed.as_ref().expect("ran");
        assert!(
            o.cancelled
                .as_deref()
                .is_some_and(|c| c.starts_with("lock timeout")),
            "{needle}: {o:?}"
        );
        assert!(
            o.duration_ms < 2_000.0,
            "{needle}: waited {} ms",
            o.duration_ms
        );
        assert!(findings(s).contains("cancelled"), "{}", findings(s));
    }
    assert!(
        notes(&r).contains(
            "changed idle_in_transaction_session_timeout, lock_timeout, statement_timeout"
        ),
        "{}",
        notes(&r)
    );
    assert!(skipped(statement(&r, "SET lock_timeout")).contains("lock_timeout"));
    assert!(skipped(statement(&r, "DO $$")).contains("lock_timeout"));
    // After RESET ALL the idle limit is back: the division by zero does not happen.
    assert!(!findings(statement(&r, "SELECT 1 /")).contains("fails-on-copy"));
    holder.batch_execute("ROLLBACK").expect("release");
    assert_eq!(fingerprint(&mut c), before);
}

/// Roles for the role tests, dropped with the value.
struct Roles<'a> {
    admin: &'a mut Client,
    names: Vec<String>,
}

impl Drop for Roles<'_> {
    fn drop(&mut self) {
        for r in &self.names {
            let _ = self
                .admin
                .batch_execute(&format!("DROP ROLE IF EXISTS {r}"));
        }
    }
}

#[test]
fn the_deploy_role_holds_whatever_the_migration_sets() {
    let Some(mut admin) = pg::admin() else { return };
    let id = std::process::id();
    let (deploy, app, member) = (
        format!("migsafe_deploy_{id}"),
        format!("migsafe_app_{id}"),
        format!("migsafe_member_{id}"),
    );
    // Dropped after the scratch database, which holds the roles' privileges.
    let mut roles_admin = pg::admin().expect("admin");
    let _roles = Roles {
        admin: &mut roles_admin,
        names: vec![deploy.clone(), app.clone(), member.clone()],
    };
    let scratch = Scratch::new(&mut admin, "role", None);
    let mut c = scratch.connect();
    copy_with_events(&mut c);
    c.batch_execute(&format!(
        "DROP ROLE IF EXISTS {deploy}; DROP ROLE IF EXISTS {app}; DROP ROLE IF EXISTS {member};
         CREATE ROLE {deploy} NOLOGIN; CREATE ROLE {app} NOLOGIN; CREATE ROLE {member} NOLOGIN;
         GRANT {member} TO {deploy};
         GRANT USAGE ON SCHEMA public TO {deploy};
         GRANT SELECT, UPDATE ON events TO {deploy};"
    ))
    .expect("roles");
    let before = fingerprint(&mut c);
    let sql = format!(
        "RESET ROLE;
DROP TABLE events;
SET ROLE postgres;
SET ROLE {app};
DO $$ BEGIN EXECUTE 'SET ROLE postgres'; END $$;
SELECT set_config('role', 'postgres', false);
SET SESSION AUTHORIZATION postgres;
SET ROLE {member};
UPDATE events SET payload = 'y' WHERE id = 1;
"
    );
    let options = DbOptions::default().verify(true).role(deploy.clone());
    let r = analyze(&mut c, options, &sql).expect("verifies");
    let drop = findings(statement(&r, "DROP TABLE events"));
    assert!(
        drop.contains(&format!("as role {deploy}")) && drop.contains("must be owner"),
        "{drop}"
    );
    for (needle, role) in [
        ("SET ROLE postgres;", "postgres"),
        (&format!("SET ROLE {app};") as &str, app.as_str()),
        ("DO $$", "postgres"),
        ("set_config('role'", "postgres"),
    ] {
        let f = findings(statement(&r, needle));
        assert!(
            f.contains("fails-on-copy")
                && f.contains(&format!("permission denied to set role \"{role}\"")),
            "{needle}: {f}"
        );
    }
    assert!(skipped(statement(&r, "SESSION AUTHORIZATION")).contains("session user"));
    let n = notes(&r);
    assert!(n.contains(&format!("ran as role {deploy}")), "{n}");
    assert!(
        n.contains(&format!("statements ran as role {member}")),
        "{n}"
    );
    assert_eq!(fingerprint(&mut c), before);
    // Changing the session user by a route no name shows stops the run; nothing is committed.
    let sneaky =
        "DO $$ BEGIN EXECUTE 'SET SESSION ' || 'AUTHORIZATION postgres'; END $$;\nDROP TABLE t;\n";
    let err = analyze(
        &mut c,
        DbOptions::default().verify(true).role(deploy.clone()),
        sneaky,
    )
    .expect_err("the run stops");
    assert!(
        err.to_string().contains("session user changed to postgres"),
        "{err}"
    );
    assert!(err.to_string().contains("at line 1"), "{err}");
    assert_eq!(fingerprint(&mut c), before);
}

#[test]
fn verify_refuses_a_database_in_use() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "live", None);
    let mut c = scratch.connect();
    copy_with_events(&mut c);
    let before = fingerprint(&mut c);
    let url = scratch.url();
    let busy = std::thread::spawn(move || {
        let mut other = Client::connect(&url, NoTls).expect("other");
        other.batch_execute("SELECT pg_sleep(4)").expect("sleep");
    });
    // Wait until the other session is at work.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        let n: i64 = c
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(4)%' AND state = 'active'",
                &[],
            )
            .expect("activity")
            .get(0);
        if n > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let sql = "ALTER TABLE events ADD COLUMN note text;\n";
    let err = analyze(&mut c, DbOptions::default().verify(true), sql).expect_err("refused");
    assert!(
        err.to_string()
            .contains("1 other session is running queries"),
        "{err}"
    );
    // The command line: exit 2 and one line on stderr.
    let file = std::env::temp_dir().join(format!("migsafe-live-{}.sql", std::process::id()));
    std::fs::write(&file, sql).expect("write");
    let out = cli::run(
        &[
            "check",
            "--database",
            &scratch.url(),
            "--verify",
            &file.display().to_string(),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("1 other session is running queries"),
        "{stderr}"
    );
    // --allow-live runs anyway.
    let r = analyze(
        &mut c,
        DbOptions::default().verify(true).allow_live(true),
        sql,
    )
    .expect("allowed");
    assert!(r.database.as_ref().is_some_and(|d| d.verified));
    busy.join().expect("busy");
    let _ = std::fs::remove_file(&file);
    assert_eq!(fingerprint(&mut c), before);
}

#[test]
fn no_password_is_ever_printed() {
    let file = std::env::temp_dir().join(format!("migsafe-pw-{}.sql", std::process::id()));
    std::fs::write(&file, "SELECT 1;\n").expect("write");
    let file = file.display().to_string();
    let forms: [(&str, &[(&str, &str)]); 9] = [
        ("postgres://deploy:S3cret-a@127.0.0.1:1/prod", &[]),
        (
            "postgresql://deploy@127.0.0.1:1/prod?password=S3cret-a",
            &[],
        ),
        (
            "postgres://deploy@127.0.0.1:1/prod?sslmode=disable&password=S3cret-a",
            &[],
        ),
        ("postgres://deploy:S3cret%2Da@127.0.0.1:1/prod", &[]),
        (
            "host=127.0.0.1 port=1 user=deploy password = S3cret-a dbname=prod",
            &[],
        ),
        (
            "host=127.0.0.1 port=1 user=deploy password='S3cret-a x' dbname=prod",
            &[],
        ),
        ("postgres//deploy:S3cret-a@127.0.0.1:1/prod", &[]),
        ("host=127.0.0.1 port=1 passwd=S3cret-a", &[]),
        (
            "postgres://deploy@127.0.0.1:1/prod",
            &[("PGPASSWORD", "S3cret-a")],
        ),
    ];
    for (conninfo, env) in forms {
        let out = cli::run(&["check", "--database", conninfo, &file], env);
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "{conninfo}: {printed}");
        assert!(!printed.contains("S3cret"), "{conninfo}: {printed}");
        assert_eq!(
            printed.trim_end().lines().count(),
            1,
            "{conninfo}: {printed}"
        );
    }
    // A string migsafe cannot read shows nothing of itself, not even the host.
    let out = cli::run(
        &[
            "check",
            "--database",
            "postgres//deploy:pw@db.internal/prod",
            &file,
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("db.internal") && !stderr.contains("deploy"),
        "{stderr}"
    );
}

#[test]
fn the_environment_and_the_password_file_are_honoured() {
    let hba = "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n";
    let Some(cluster) = Cluster::start("auth", &[], Some(hba)) else {
        return;
    };
    cluster
        .admin()
        .batch_execute("CREATE ROLE app LOGIN PASSWORD 'Env-Pw-7'")
        .expect("role");
    let port = cluster.port.to_string();
    let file = std::env::temp_dir().join(format!("migsafe-env-{}.sql", std::process::id()));
    std::fs::write(&file, "SELECT 1;\n").expect("write");
    let file = file.display().to_string();
    let env = |password: Option<&'static str>| {
        let mut e = vec![
            ("PGHOST", "127.0.0.1"),
            ("PGPORT", port.as_str()),
            ("PGUSER", "app"),
            ("PGDATABASE", "postgres"),
        ];
        e.extend(password.map(|p| ("PGPASSWORD", p)));
        e
    };
    let run = |conninfo: &str, env: &[(&str, &str)]| {
        let out = cli::run(&["check", "--database", conninfo, &file], env);
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), printed)
    };
    let (code, printed) = run("", &env(Some("Env-Pw-7")));
    assert_eq!(code, Some(0), "{printed}");
    let (code, printed) = run("", &env(Some("Wrong-Pw-9")));
    assert_eq!(code, Some(2), "{printed}");
    assert!(
        printed.contains("password authentication failed") && !printed.contains("Wrong-Pw-9"),
        "{printed}"
    );
    let (code, printed) = run(
        &format!("host=127.0.0.1 port={port} user=app dbname=postgres password = 'Wrong-Pw-9'"),
        &[],
    );
    assert!(
        code == Some(2) && !printed.contains("Wrong-Pw-9"),
        "{printed}"
    );
    // ~/.pgpass, found through HOME, when no password is given.
    let home = std::env::temp_dir().join(format!("migsafe-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("home");
    let pgpass = home.join(".pgpass");
    std::fs::write(&pgpass, format!("127.0.0.1:{port}:*:app:Env-Pw-7\n")).expect("pgpass");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let home_str = home.display().to_string();
    let mut with_home = env(None);
    with_home.push(("HOME", home_str.as_str()));
    let (code, printed) = run("", &with_home);
    assert_eq!(code, Some(0), "{printed}");
    let (code, printed) = run(
        &format!("postgres://app@127.0.0.1:{port}/postgres"),
        &[("HOME", &home_str)],
    );
    assert_eq!(code, Some(0), "{printed}");
    let (code, _) = run("", &env(None));
    assert_eq!(code, Some(2), "without a password the server refuses");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn dead_rows_are_reported_with_the_vacuum_that_reclaims_them() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "dead", None);
    let mut c = scratch.connect();
    copy_with_events(&mut c);
    let r = verify(
        &mut c,
        "UPDATE events SET payload = payload || '!';\nINSERT INTO t VALUES (2);\n",
    );
    let n = notes(&r);
    assert!(
        n.contains("public.events: the run left ") && n.contains("dead row(s)"),
        "{n}"
    );
    assert!(
        n.contains("`VACUUM public.events;`") && n.contains("public.t: the run left 1 dead row(s)"),
        "{n}"
    );
    assert!(n.contains("heap"), "{n}");
}

#[test]
fn drops_are_not_rewrites_and_a_cancel_is_a_cancel() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "drops", None);
    let mut c = scratch.connect();
    copy_with_events(&mut c);
    c.batch_execute(
        "CREATE INDEX ix_payload ON events (payload);
         CREATE TABLE old (id int PRIMARY KEY, ref int REFERENCES events (id));
         CREATE VIEW v AS SELECT id FROM t;
         CREATE MATERIALIZED VIEW mv AS SELECT id FROM t;",
    )
    .expect("objects");
    let before = fingerprint(&mut c);
    let sql = "DROP VIEW v;
DROP MATERIALIZED VIEW mv;
DROP INDEX ix_payload;
ALTER TABLE events DROP COLUMN payload;
DROP TABLE old;
TRUNCATE t;
DROP TABLE t;
";
    let r = verify(&mut c, sql);
    for s in &r.statements {
        assert!(
            !findings(s).contains("observed-differs"),
            "{}: {}",
            s.sql,
            findings(s)
        );
    }
    assert_eq!(fingerprint(&mut c), before);
    let r = analyze(
        &mut c,
        DbOptions::default().verify(true).verify_timeout(300),
        "SELECT pg_sleep(3);\n",
    )
    .expect("verifies");
    let s = &r.statements[0];
    let o = s.observed.as_ref().expect("ran");
    assert!(
        o.cancelled
            .as_deref()
            .is_some_and(|c| c.starts_with("statement timeout")),
        "{o:?}"
    );
    let f = findings(s);
    assert!(
        f.contains("was cancelled on the restored copy")
            && !f.contains("fails on the restored copy's data"),
        "{f}"
    );
}

#[test]
fn only_statements_migsafe_read_run() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "unread", None);
    let mut c = scratch.connect();
    copy_with_events(&mut c);
    let before = fingerprint(&mut c);
    let sql = "CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq);
INFO  [alembic.runtime.migration] Running upgrade a1 -> b2
ALTER TABLE events ADD COLUMN note text;
ALTER TABLE events ADD COLUMN other text;
";
    let r = verify(&mut c, sql);
    assert!(skipped(statement(&r, "CREATE OPERATOR")).contains("could not read"));
    let n = notes(&r);
    assert!(n.contains("were not run on the copy: line(s) 1, 2"), "{n}");
    // Printed text runs to the next `;`, as psql reads it: the first ALTER is part of it.
    assert!(skipped(statement(&r, "INFO")).contains("not SQL"));
    assert!(n.contains("the rollback was not verified"), "{n}");
    assert!(
        statement(&r, "ADD COLUMN other")
            .observed
            .as_ref()
            .is_some_and(|o| o.skipped.is_none())
    );
    assert_eq!(fingerprint(&mut c), before);
}

#[test]
fn the_time_budget_ends_the_run() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "budget", None);
    let mut c = scratch.connect();
    copy_with_events(&mut c);
    let before = fingerprint(&mut c);
    let started = Instant::now();
    let r = analyze(
        &mut c,
        DbOptions::default().verify(true).time_budget(3_000),
        "SELECT pg_sleep(0.5);\nSELECT pg_sleep(30);\nSELECT pg_sleep(0.1);\n",
    )
    .expect("verifies");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let second = r.statements[1].observed.as_ref().expect("ran");
    assert!(
        second
            .cancelled
            .as_deref()
            .is_some_and(|c| c.contains("time budget of 3000 ms")),
        "{second:?}"
    );
    assert!(skipped(&r.statements[2]).contains("time budget"));
    assert_eq!(fingerprint(&mut c), before);
}

#[test]
fn a_user_without_privileges_is_told_which() {
    let Some(mut admin) = pg::admin() else { return };
    let reader = format!("migsafe_reader_{}", std::process::id());
    let deploy = format!("migsafe_reader_deploy_{}", std::process::id());
    let mut roles_admin = pg::admin().expect("admin");
    let _roles = Roles {
        admin: &mut roles_admin,
        names: vec![reader.clone(), deploy.clone()],
    };
    let scratch = Scratch::new(&mut admin, "priv", None);
    let mut c = scratch.connect();
    copy_with_events(&mut c);
    c.batch_execute(&format!(
        "DROP ROLE IF EXISTS {reader}; CREATE ROLE {reader} LOGIN; GRANT USAGE ON SCHEMA public TO {reader};"
    ))
    .expect("role");
    let url = scratch
        .url()
        .replacen("postgres@", &format!("{reader}@"), 1);
    {
        let mut as_reader = db::connect(&url).expect("connects");
        let err = analyze(
            &mut as_reader,
            DbOptions::default(),
            "UPDATE events SET payload = 'x' WHERE payload = 'y';\n",
        )
        .expect_err("EXPLAIN needs privileges");
        let text = err.to_string();
        assert!(
            text.contains("permission denied for table events") && text.contains("privileges"),
            "{text}"
        );
        let err = analyze(
            &mut as_reader,
            DbOptions::default().verify(true),
            "SELECT 1;\n",
        )
        .expect_err("sequences cannot be put back");
        assert!(err.to_string().contains("public.events_id_seq"), "{err}");
        // With what it needs, a user that is not a superuser verifies as a role it is a member
        // of with SET ROLE, and statements that change the role do not run.
        c.batch_execute(&format!(
            "GRANT SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {reader};
             GRANT SELECT, UPDATE ON events TO {reader};
             CREATE ROLE {deploy} NOLOGIN; GRANT {deploy} TO {reader};
             GRANT USAGE ON SCHEMA public TO {deploy}; GRANT SELECT ON events TO {deploy};"
        ))
        .expect("grants");
        let r = analyze(
            &mut as_reader,
            DbOptions::default().verify(true).role(deploy.clone()),
            "SELECT count(*) FROM events;\nRESET ROLE;\nUPDATE events SET payload = 'x' WHERE id = 1;\n",
        )
        .expect("verifies");
        assert!(
            notes(&r).contains(&format!("ran as role {deploy} (SET ROLE")),
            "{}",
            notes(&r)
        );
        assert!(skipped(statement(&r, "RESET ROLE")).contains("the role"));
        let update = findings(statement(&r, "UPDATE events"));
        assert!(
            update.contains(&format!("as role {deploy}")) && update.contains("permission denied"),
            "{update}"
        );
    }
}
