//! Scratch databases on the test server (`MIGSAFE_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`): one per test, dropped afterwards. Without a
//! server the tests say so loudly and pass, except under `CI=true`, where they fail.

use postgres::{Client, NoTls};
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn base_url() -> String {
    std::env::var("MIGSAFE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A connection to the maintenance database, or `None` (test skipped) outside CI.
pub fn admin() -> Option<Client> {
    match Client::connect(&base_url(), NoTls) {
        Ok(c) => Some(c),
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PostgreSQL is required under CI=true: {e}"
            );
            eprintln!("SKIPPED: no PostgreSQL at {} ({e})", base_url());
            None
        }
    }
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A scratch database, dropped with the value.
pub struct Scratch {
    pub name: String,
}

impl Scratch {
    /// A new database named after `tag`, empty or a copy of `template`.
    pub fn new(admin: &mut Client, tag: &str, template: Option<&str>) -> Scratch {
        let name = format!(
            "migsafe_{tag}_{}_{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let sql = match template {
            Some(t) => format!("CREATE DATABASE {name} TEMPLATE {t}"),
            None => format!("CREATE DATABASE {name}"),
        };
        admin
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        Scratch { name }
    }

    pub fn url(&self) -> String {
        match base_url().rsplit_once('/') {
            Some((server, _)) => format!("{server}/{}", self.name),
            None => panic!("bad MIGSAFE_TEST_DATABASE_URL"),
        }
    }

    pub fn connect(&self) -> Client {
        Client::connect(&self.url(), NoTls).unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(mut a) = Client::connect(&base_url(), NoTls) {
            let _ = a.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
