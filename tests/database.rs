//! The restored-copy features against a real PostgreSQL (feature `postgres`): introspection and
//! sizes, size-aware risk, EXPLAIN findings, the verification run, and that the copy is left exactly
//! as it was. Each test builds its own scratch database (tests/common/pg.rs).
#![cfg(feature = "postgres")]

mod common;

use common::pg::{self, Scratch};
use migsafe::db::{self, DbOptions};
use migsafe::report::{Report, Risk, StatementReport};
use migsafe::{Analyzer, Error, Settings, SizeSettings, Source};
use postgres::Client;

/// Large from 1,000 rows, and every estimated millisecond counts, so a small copy shows the findings
/// a production-sized one would.
fn settings() -> Settings {
    Settings::default().sizes(SizeSettings::default().large_rows(1_000))
}

fn check(c: &mut Client, settings: Settings, options: DbOptions, sql: &str) -> Report {
    Analyzer::new(settings)
        .database(c)
        .options(options)
        .analyze(Source::new("m.sql", sql))
        .expect("analyses against the copy")
}

fn rules(s: &StatementReport) -> Vec<&str> {
    s.findings.iter().map(|f| f.rule.as_ref()).collect()
}

fn finding<'a>(s: &'a StatementReport, rule: &str) -> &'a migsafe::report::Finding {
    s.findings
        .iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} on `{}`: {:?}", s.sql, rules(s)))
}

/// Everything that must be the same before and after migsafe touched the copy: the schema (as
/// `pg_dump` would see it), each table's storage file and its row count.
fn fingerprint(c: &mut Client) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ' || c.relfilenode::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
        "SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped",
        "SELECT conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated::text FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
        "SELECT indexrelid::regclass::text || ' ' || indisvalid::text FROM pg_index WHERE indrelid::regclass::text NOT LIKE 'pg_%'",
        "SELECT 'runs ' || count(*) || ' ' || sum(hashtext(runs::text)) FROM runs",
        "SELECT 'tags ' || count(*) || ' ' || sum(hashtext(tags::text)) FROM tags",
        "SELECT 'metrics ' || count(*) || ' ' || sum(hashtext(metrics::text)) FROM metrics",
    ] {
        for row in c.query(sql, &[]).expect(sql) {
            out.push(row.get::<_, Option<String>>(0).unwrap_or_default());
        }
    }
    out.sort();
    out
}

#[test]
fn sizes_reach_the_report_and_scale_the_risk() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "sizes", None);
    let mut c = scratch.connect();
    pg::restored_copy(&mut c);
    let sql = "SET lock_timeout = '2s';\nALTER TABLE tags ALTER COLUMN dup TYPE bigint;\nALTER TABLE runs ALTER COLUMN weight TYPE bigint;\n";
    // Default thresholds: rewriting 100 rows (or 20,000) is over in milliseconds.
    let r = check(&mut c, Settings::default(), DbOptions::default(), sql);
    let tags = &r.statements[1];
    assert_eq!(tags.tables[0].name, "public.tags");
    assert_eq!(tags.tables[0].rows, Some(100));
    assert!(tags.tables[0].bytes.is_some_and(|b| b > 0));
    assert_eq!(tags.risk, Risk::Low, "{:?}", tags.findings);
    let msg = &finding(tags, "alter-column-type-rewrite").message;
    assert!(
        msg.contains("public.tags: 100 rows") && msg.contains("ms of work"),
        "{msg}"
    );
    // Thresholds of 1/2/3 ms: the same rewrites are an outage.
    let strict = Settings::default().sizes(SizeSettings::default().thresholds(0, 0, 0));
    let r = check(&mut c, strict, DbOptions::default(), sql);
    assert_eq!(r.statements[2].risk, Risk::Critical);
    // Without the database the risk stays the size-blind high.
    let offline = Analyzer::new(Settings::default())
        .analyze(Source::new("m.sql", sql))
        .expect("static");
    assert_eq!(offline.statements[1].risk, Risk::High);
    assert_eq!(offline.statements[1].tables[0].rows, None);
}

#[test]
fn explain_finds_scans_that_need_an_index() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "explain", None);
    let mut c = scratch.connect();
    pg::restored_copy(&mut c);
    let sql = "UPDATE runs SET lifecycle = 'deleted' WHERE status = 'KILLED';
DELETE FROM runs WHERE status = 'KILLED' AND lifecycle = 'x';
INSERT INTO tags (run_id, key) SELECT id, 'killed' FROM runs WHERE status = 'KILLED';
SELECT count(*) FROM runs WHERE lifecycle = 'active';
UPDATE runs SET lifecycle = 'old' WHERE created > now() - interval '10 minutes';
UPDATE tags SET key = 'x' WHERE key = 'y';
UPDATE runs SET lifecycle = 'old' WHERE created < now() - interval '10 minutes';
";
    let before = fingerprint(&mut c);
    let r = check(&mut c, settings(), DbOptions::default(), sql);
    assert_eq!(r.database.as_ref().map(|d| d.explained), Some(7));
    let update = finding(&r.statements[0], "seq-scan-on-large-table");
    assert!(
        update.message.contains("public.runs (20 k rows") && update.message.contains("on status"),
        "{}",
        update.message
    );
    assert!(
        update
            .help
            .contains("CREATE INDEX CONCURRENTLY ix_runs_status ON public.runs (status);"),
        "{}",
        update.help
    );
    let delete = finding(&r.statements[1], "seq-scan-on-large-table");
    assert!(
        delete.message.contains("on status, lifecycle"),
        "{}",
        delete.message
    );
    assert!(
        delete.help.contains("ON public.runs (status, lifecycle)"),
        "{}",
        delete.help
    );
    finding(&r.statements[2], "seq-scan-on-large-table");
    finding(&r.statements[3], "seq-scan-on-large-table");
    // ix_runs_created serves the filter; tags has only 100 rows.
    assert!(!rules(&r.statements[4]).contains(&"seq-scan-on-large-table"));
    assert!(!rules(&r.statements[5]).contains(&"seq-scan-on-large-table"));
    // Nearly every row matches: the planner reads the table although the index exists.
    let most = finding(&r.statements[6], "seq-scan-on-large-table");
    assert!(
        most.message
            .contains("although an index leads with created"),
        "{}",
        most.message
    );
    // The plan judges filters now, not the schema-only guess.
    assert!(!rules(&r.statements[0]).contains(&"unbatched-backfill"));
    assert_eq!(fingerprint(&mut c), before, "EXPLAIN changed the copy");
}

#[test]
fn statements_on_what_the_migration_creates_are_explained_only_when_verifying() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "later", None);
    let mut c = scratch.connect();
    pg::restored_copy(&mut c);
    let sql = "ALTER TABLE runs ADD COLUMN archived boolean;
UPDATE runs SET archived = true WHERE archived IS NULL AND lifecycle = 'x';
CREATE TABLE run_notes (id serial PRIMARY KEY, body text);
SELECT * FROM run_notes WHERE body = 'x';
";
    let r = check(&mut c, settings(), DbOptions::default(), sql);
    let notes = &r.database.as_ref().expect("database").notes;
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("statement at line 2 not EXPLAINed")
                && n.contains("column \"archived\" does not exist")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("statement at line 4 not EXPLAINed") && n.contains("run_notes")),
        "{notes:?}"
    );
    let r = check(&mut c, settings(), DbOptions::default().verify(true), sql);
    let scan = finding(&r.statements[1], "seq-scan-on-large-table");
    assert!(
        scan.message.contains("archived, lifecycle") || scan.message.contains("lifecycle"),
        "{}",
        scan.message
    );
    assert_eq!(r.database.as_ref().map(|d| d.explained), Some(2));
}

#[test]
fn foreign_keys_without_an_index_and_their_validation() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "fk", None);
    let mut c = scratch.connect();
    pg::restored_copy(&mut c);
    let sql =
        "ALTER TABLE tags ADD CONSTRAINT fk_tags_run FOREIGN KEY (run_id) REFERENCES runs (id);
DELETE FROM runs WHERE id < 10;
";
    let r = check(&mut c, settings(), DbOptions::default(), sql);
    let add = finding(&r.statements[0], "foreign-key-without-index");
    assert!(
        add.help
            .contains("CREATE INDEX CONCURRENTLY ix_tags_run_id ON public.tags (run_id);"),
        "{}",
        add.help
    );
    // The validation scan states its size and duration.
    let validate = finding(&r.statements[0], "foreign-key-without-not-valid");
    assert!(
        validate.message.contains("public.tags: 100 rows") && validate.message.contains("of work"),
        "{}",
        validate.message
    );
    let delete = finding(&r.statements[1], "foreign-key-without-index");
    assert!(
        delete.message.contains("public.metrics (30 k rows")
            && delete.message.contains("metrics_run_id_fkey"),
        "{}",
        delete.message
    );
}

#[test]
fn verification_observes_the_server_and_checks_the_rollback() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "verify", None);
    let mut c = scratch.connect();
    pg::restored_copy(&mut c);
    let before = fingerprint(&mut c);
    let sql = "BEGIN;
ALTER TABLE runs ADD COLUMN note text;
ALTER TABLE runs ALTER COLUMN weight TYPE bigint;
ALTER TABLE tags ADD CONSTRAINT tags_run_fk FOREIGN KEY (run_id) REFERENCES runs (id) NOT VALID;
COMMIT;
CREATE INDEX CONCURRENTLY ix_runs_status ON runs (status);
";
    let r = check(&mut c, settings(), DbOptions::default().verify(true), sql);
    let d = r.database.as_ref().expect("database");
    assert!(d.verified);
    assert_eq!(
        d.rollback_verified,
        Some(true),
        "{:?}",
        d.rollback_differences
    );
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("ran in their plain form")),
        "{:?}",
        d.notes
    );
    let add = r.statements[1].observed.as_ref().expect("observed");
    assert_eq!(
        add.locks
            .iter()
            .map(|l| (l.table.as_str(), l.mode.pg_name()))
            .collect::<Vec<_>>(),
        vec![("public.runs", "AccessExclusiveLock")]
    );
    assert!(add.rewrote.is_empty() && add.error.is_none());
    let retype = r.statements[2].observed.as_ref().expect("observed");
    assert_eq!(retype.rewrote, vec!["public.runs".to_string()]);
    assert!(retype.seq_scans.contains(&"public.runs".to_string()));
    let fk = r.statements[3].observed.as_ref().expect("observed");
    assert!(
        fk.locks
            .iter()
            .any(|l| l.table == "public.tags" && l.mode.pg_name() == "ShareRowExclusiveLock"),
        "{:?}",
        fk.locks
    );
    let ix = r.statements[5].observed.as_ref().expect("observed");
    assert_eq!(
        ix.ran_as.as_deref(),
        Some("CREATE INDEX ix_runs_status ON runs (status)")
    );
    // What the server did is what migsafe predicted.
    for s in &r.statements {
        assert!(
            !rules(s).contains(&"observed-differs"),
            "{}: {:?}",
            s.sql,
            s.findings
        );
        assert!(
            !rules(s).contains(&"fails-on-copy"),
            "{}: {:?}",
            s.sql,
            s.findings
        );
    }
    assert_eq!(
        fingerprint(&mut c),
        before,
        "the verification changed the copy"
    );
}

#[test]
fn a_statement_that_fails_on_the_data_is_a_finding() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "fails", None);
    let mut c = scratch.connect();
    pg::restored_copy(&mut c);
    // Production data the migration's author did not expect: one run without a lifecycle.
    c.batch_execute("UPDATE runs SET lifecycle = NULL WHERE id = 1")
        .expect("update");
    let before = fingerprint(&mut c);
    let sql = "ALTER TABLE runs ALTER COLUMN status SET NOT NULL;
ALTER TABLE runs ADD COLUMN note text;
ALTER TABLE runs ALTER COLUMN lifecycle SET NOT NULL;
CREATE UNIQUE INDEX ix_runs_status_u ON runs (status);
";
    let r = check(&mut c, settings(), DbOptions::default().verify(true), sql);
    assert!(!rules(&r.statements[0]).contains(&"fails-on-copy"));
    let f = finding(&r.statements[2], "fails-on-copy");
    assert!(
        f.message.contains("contains null values") && f.message.contains("23502"),
        "{}",
        f.message
    );
    assert_eq!(r.statements[2].risk.max(Risk::High), r.statements[2].risk);
    let u = finding(&r.statements[3], "fails-on-copy");
    assert!(
        u.message.contains("could not create unique index"),
        "{}",
        u.message
    );
    let d = r.database.as_ref().expect("database");
    assert_eq!(d.rollback_verified, None);
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("2 statement(s) of the migration fail")),
        "{:?}",
        d.notes
    );
    assert_eq!(
        fingerprint(&mut c),
        before,
        "the failed verification changed the copy"
    );
}

#[test]
fn a_bad_url_is_one_clear_error_without_the_password() {
    let Err(err) = db::connect("postgres://app:s3cret-pw@127.0.0.1:1/nowhere") else {
        panic!("nothing listens on port 1");
    };
    let text = err.to_string();
    assert!(matches!(err, Error::Database { .. }));
    assert!(
        text.starts_with("database: cannot connect to postgres://app:***@127.0.0.1:1/nowhere"),
        "{text}"
    );
    assert!(!text.contains("s3cret-pw"), "{text}");
    assert!(!text.contains('\n'), "{text}");
}

#[test]
fn the_server_going_away_mid_run_is_an_error_not_a_panic() {
    let Some(mut admin) = pg::admin() else { return };
    // Whether the client reads the server's FATAL before the socket closes is a race in the
    // PostgreSQL client library (it says "connection closed" when it loses it, more often under
    // load): every run must be a clean error at line 2 that leaves the copy untouched, and one of a
    // few runs must carry the server's reason.
    let mut reasons = Vec::new();
    for _ in 0..4 {
        let text = lose_the_connection_at_line_2(&mut admin);
        if text.contains("terminating connection") {
            return;
        }
        reasons.push(text);
    }
    panic!("the server's reason never reached the error: {reasons:#?}");
}

/// One run of the verification whose session another one ends while line 2 runs: the error.
fn lose_the_connection_at_line_2(admin: &mut postgres::Client) -> String {
    let scratch = Scratch::new(admin, "gone", None);
    let mut c = scratch.connect();
    pg::restored_copy(&mut c);
    let pid: i32 = c
        .query_one("SELECT pg_backend_pid()", &[])
        .expect("pid")
        .get(0);
    // Another session ends migsafe's while it runs the statement at line 2 (waiting for it to be
    // running: how long reading the copy takes first depends on the machine's load).
    let mut killer_session = pg::admin().expect("a second session");
    let killer = std::thread::spawn(move || {
        for _ in 0..400 {
            let running: bool = killer_session
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND query LIKE '%pg_sleep(10)%')",
                    &[&pid],
                )
                .expect("pg_stat_activity")
                .get(0);
            if running {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        killer_session
            .execute("SELECT pg_terminate_backend($1)", &[&pid])
            .expect("terminate");
    });
    let sql = "ALTER TABLE runs ADD COLUMN note text;\nSELECT pg_sleep(10);\nALTER TABLE runs ADD COLUMN other text;\n";
    let err = Analyzer::new(settings())
        .database(&mut c)
        .options(DbOptions::default().verify(true))
        .analyze(Source::new("m.sql", sql))
        .expect_err("the connection is gone");
    killer.join().expect("killer");
    let text = err.to_string();
    assert!(matches!(err, Error::Database { .. }), "{text}");
    assert!(text.contains("the connection was lost"), "{text}");
    assert!(text.contains("at line 2"), "{text}");
    // The copy is untouched: the server rolled the transaction back with the connection.
    let mut again = scratch.connect();
    let cols: i64 = again
        .query_one("SELECT count(*) FROM information_schema.columns WHERE table_name = 'runs' AND column_name = 'note'", &[])
        .expect("query")
        .get(0);
    assert_eq!(cols, 0);
    text
}

#[test]
fn timeouts_hold_on_every_session() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "timeout", None);
    let mut c = scratch.connect();
    pg::restored_copy(&mut c);
    // A migration statement slower than the verification's statement_timeout fails there (and is
    // reported), it does not hang the review.
    let r = check(
        &mut c,
        settings(),
        DbOptions::default().verify(true).verify_timeout(200),
        "SELECT pg_sleep(5);\n",
    );
    let f = finding(&r.statements[0], "fails-on-copy");
    assert!(f.message.contains("statement timeout"), "{}", f.message);
    // A lock held elsewhere: reading the catalog gives up after lock_timeout with one clear error
    // instead of waiting behind it.
    let mut other = scratch.connect();
    let mut tx = other.transaction().expect("tx");
    tx.batch_execute("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE")
        .expect("lock");
    let err = Analyzer::new(settings())
        .database(&mut c)
        .options(DbOptions::default().timeouts(30_000, 200))
        .analyze(Source::new(
            "m.sql",
            "ALTER TABLE runs ADD COLUMN y text;\n",
        ))
        .expect_err("runs is locked");
    assert!(err.to_string().contains("lock timeout"), "{err}");
    drop(tx);
}

#[test]
fn a_deploy_role_without_privileges_is_a_finding_naming_the_privilege() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "role", None);
    let role = format!("migsafe_deploy_{}", std::process::id());
    let mut c = scratch.connect();
    pg::restored_copy(&mut c);
    // The deploy role may read and write runs, but owns nothing.
    c.batch_execute(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} NOLOGIN;
         GRANT USAGE ON SCHEMA public TO {role};
         GRANT SELECT, UPDATE ON runs TO {role};"
    ))
    .expect("role");
    let sql = "UPDATE runs SET lifecycle = 'x' WHERE id = 1;
ALTER TABLE runs ADD COLUMN note text;
DELETE FROM tags WHERE id = 1;
";
    let r = check(
        &mut c,
        settings(),
        DbOptions::default().verify(true).role(role.clone()),
        sql,
    );
    assert!(
        !rules(&r.statements[0]).contains(&"fails-on-copy"),
        "{:?}",
        r.statements[0].findings
    );
    let owner = finding(&r.statements[1], "fails-on-copy");
    assert!(
        owner.message.starts_with(&format!("the deploy role cannot run this statement on the restored copy: as role {role}: ERROR: must be owner of table runs (42501)")),
        "{}",
        owner.message
    );
    let delete = finding(&r.statements[2], "fails-on-copy");
    assert!(
        delete.message.contains("permission denied for table tags"),
        "{}",
        delete.message
    );
    let d = r.database.as_ref().expect("database");
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains(&format!("ran as role {role}"))),
        "{:?}",
        d.notes
    );
    // The same migration as the owner runs.
    let r = check(&mut c, settings(), DbOptions::default().verify(true), sql);
    assert!(
        r.statements
            .iter()
            .all(|s| !rules(s).contains(&"fails-on-copy"))
    );
    drop(c);
    drop(scratch);
    let _ = admin.batch_execute(&format!("DROP ROLE IF EXISTS {role}"));
}
