//! What holds inside migsafe's transactions, checked against the test server (and a throwaway
//! cluster where the shared server's settings would hide the point).

use super::session::{Access, Budget, Limits, Tx};
use super::test_server::{self as pg, Cluster, Scratch};
use postgres::{Client, NoTls};
use std::time::{Duration, Instant};

fn limits() -> Limits {
    Limits {
        statement_ms: 5_000,
        lock_ms: 300,
        idle_ms: 10_000,
    }
}

#[test]
fn a_batch_is_refused_by_the_server_whatever_its_text_hides() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "batch", None);
    let mut c = scratch.connect();
    c.batch_execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1);")
        .expect("setup");
    let mut tx = Tx::begin(&mut c, Access::ReadWrite, limits(), Budget::new(60_000)).expect("tx");
    for sql in [
        "SELECT 1 >-- '\n 1; COMMIT; DROP TABLE t; SELECT 1 --'",
        "SELECT 1; COMMIT; DROP TABLE t",
    ] {
        let ran = tx.run(sql, 5_000).expect("the session goes on");
        let failure = ran.result.expect_err(sql);
        assert_eq!(failure.code, "42601", "{sql}: {}", failure.text);
        assert!(
            failure.text.contains("cannot insert multiple commands"),
            "{}",
            failure.text
        );
        tx.check().expect("still migsafe's transaction");
    }
    drop(tx);
    let n: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .expect("t")
        .get(0);
    assert_eq!(n, 1);
}

#[test]
fn the_server_refuses_prepare_transaction_in_migsafes_transaction() {
    let Some(cluster) = Cluster::start("prepare", &["max_prepared_transactions = 2"], None) else {
        return;
    };
    let mut c = cluster.admin();
    c.batch_execute("CREATE TABLE t (id int)").expect("setup");
    // Without migsafe's exported snapshot the server would prepare it.
    c.batch_execute("BEGIN; LOCK TABLE t; PREPARE TRANSACTION 'plain'")
        .expect("prepared transactions are enabled on this cluster");
    c.batch_execute("ROLLBACK PREPARED 'plain'")
        .expect("rollback prepared");
    let mut tx = Tx::begin(&mut c, Access::ReadWrite, limits(), Budget::new(60_000)).expect("tx");
    tx.run("LOCK TABLE t", 5_000)
        .expect("lock")
        .result
        .expect("locked");
    let err = tx
        .run("PREPARE TRANSACTION 'escape'", 5_000)
        .err()
        .or_else(|| tx.check().err())
        .expect("the transaction is gone, and the run must stop");
    assert!(err.to_string().contains("migsafe's transaction"), "{err}");
    drop(tx);
    let prepared: i64 = c
        .query_one("SELECT count(*) FROM pg_prepared_xacts", &[])
        .expect("pg_prepared_xacts")
        .get(0);
    assert_eq!(prepared, 0);
}

#[test]
fn limits_hold_whatever_a_statement_sets() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "limits", None);
    let mut c = scratch.connect();
    let mut tx = Tx::begin(&mut c, Access::ReadWrite, limits(), Budget::new(60_000)).expect("tx");
    // A statement cannot lift the statement_timeout it started with.
    let started = Instant::now();
    let ran = tx
        .run(
            "DO $$ BEGIN PERFORM set_config('statement_timeout', '0', true); PERFORM pg_sleep(5); END $$",
            400,
        )
        .expect("runs");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(ran.result.expect_err("cancelled").code, "57014");
    tx.run("RESET ALL", 5_000)
        .expect("reset")
        .result
        .expect("ran");
    let seen = tx.check().expect("check");
    assert_eq!(
        seen.changed,
        vec![
            "idle_in_transaction_session_timeout",
            "lock_timeout",
            "statement_timeout"
        ]
    );
    tx.arm(5_000).expect("arm");
    assert!(tx.check().expect("check").changed.is_empty());
}

#[test]
fn a_role_change_the_deploy_role_could_not_make_is_refused_by_the_server() {
    let Some(mut admin) = pg::admin() else { return };
    let scratch = Scratch::new(&mut admin, "roles", None);
    let deploy = format!("migsafe_tx_deploy_{}", std::process::id());
    let mut c = scratch.connect();
    c.batch_execute(&format!(
        "DROP ROLE IF EXISTS {deploy}; CREATE ROLE {deploy} NOLOGIN"
    ))
    .expect("role");
    {
        let mut tx =
            Tx::begin(&mut c, Access::ReadWrite, limits(), Budget::new(60_000)).expect("tx");
        tx.assume(&deploy).expect("assume");
        let f = tx
            .run("SET ROLE postgres", 5_000)
            .expect("runs")
            .result
            .expect_err("deploy is not a member of postgres");
        assert_eq!(f.code, "42501", "{}", f.text);
        tx.run("RESET ROLE", 5_000)
            .expect("runs")
            .result
            .expect("back to deploy");
        assert_eq!(tx.check().expect("check").current_user, deploy);
    }
    let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS {deploy}"));
    let _ = Client::connect(&pg::base_url(), NoTls);
}
