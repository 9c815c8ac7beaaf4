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

/// Everything a run must leave as it was: the schema (relations with their storage files, columns,
/// constraints, indexes), every table's row count and content hash, every sequence's value, and
/// the replication slots and prepared transactions of the server.
pub fn fingerprint(c: &mut Client) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ' || c.relfilenode::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'",
        "SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped",
        "SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated::text FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
        "SELECT 'index ' || indexrelid::regclass::text || ' ' || indisvalid::text FROM pg_index WHERE indrelid::regclass::text NOT LIKE 'pg_%'",
        "SELECT 'slot ' || slot_name FROM pg_replication_slots",
        "SELECT 'prepared ' || gid FROM pg_prepared_xacts",
    ] {
        for row in c.query(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}")) {
            out.push(row.get::<_, Option<String>>(0).unwrap_or_default());
        }
    }
    let objects: Vec<(String, String)> = c
        .query(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'",
            &[],
        )
        .unwrap_or_else(|e| panic!("tables: {e}"))
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for (name, kind) in objects {
        let sql = if kind == "S" {
            format!("SELECT 'sequence {name} ' || last_value || ' ' || is_called FROM {name}")
        } else {
            format!(
                "SELECT 'rows {name} ' || count(*) || ' ' || coalesce(sum(hashtext(t::text)), 0) FROM {name} t"
            )
        };
        let row = c
            .query_one(sql.as_str(), &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        out.push(row.get(0));
    }
    out.sort();
    out
}

/// A throwaway PostgreSQL cluster (initdb + pg_ctl from `MIGSAFE_PG_BIN`, default
/// `/usr/lib/postgresql/15/bin`) on a free port, for what the shared server must not be
/// reconfigured for. Run as the `postgres` OS user when the tests run as root. Stopped and removed
/// with the value.
pub struct Cluster {
    pub port: u16,
    dir: std::path::PathBuf,
    bin: std::path::PathBuf,
}

impl Cluster {
    /// Starts a cluster with these `postgresql.conf` lines and `pg_hba.conf` (all local and
    /// 127.0.0.1 connections `trust` when `hba` is `None`); `None` (test skipped) when PostgreSQL's
    /// binaries are not there, except under `CI=true`.
    pub fn start(tag: &str, conf: &[&str], hba: Option<&str>) -> Option<Cluster> {
        let bin = std::path::PathBuf::from(
            std::env::var("MIGSAFE_PG_BIN")
                .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".to_string()),
        );
        if !bin.join("initdb").exists() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "initdb is required under CI=true"
            );
            eprintln!("SKIPPED: no initdb in {}", bin.display());
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        let dir = std::env::temp_dir().join(format!(
            "migsafe-cluster-{tag}-{}-{port}",
            std::process::id()
        ));
        let cluster = Cluster { port, dir, bin };
        std::fs::create_dir_all(&cluster.dir).unwrap_or_else(|e| panic!("{e}"));
        cluster.chown();
        let data = cluster.dir.join("data");
        cluster.as_postgres(&[
            &cluster.bin.join("initdb").display().to_string(),
            "-D",
            &data.display().to_string(),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        ]);
        let mut lines = vec![
            format!("port = {port}"),
            "listen_addresses = '127.0.0.1'".to_string(),
            format!("unix_socket_directories = '{}'", cluster.dir.display()),
            "fsync = off".to_string(),
        ];
        lines.extend(conf.iter().map(|l| l.to_string()));
        append(&data.join("postgresql.conf"), &lines.join("\n"));
        if let Some(hba) = hba {
            std::fs::write(data.join("pg_hba.conf"), hba).unwrap_or_else(|e| panic!("{e}"));
        }
        cluster.as_postgres(&[
            &cluster.bin.join("pg_ctl").display().to_string(),
            "-D",
            &data.display().to_string(),
            "-l",
            &cluster.dir.join("log").display().to_string(),
            "-w",
            "start",
        ]);
        Some(cluster)
    }

    /// A URL to database `db` as `user` over TCP.
    pub fn url(&self, user: &str, db: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/{db}", self.port)
    }

    /// A superuser connection to `postgres`.
    pub fn admin(&self) -> Client {
        Client::connect(&self.url("postgres", "postgres"), NoTls)
            .unwrap_or_else(|e| panic!("cluster on {}: {e}", self.port))
    }

    fn root() -> bool {
        std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false)
    }

    fn chown(&self) {
        if Self::root() {
            let ok = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres", &self.dir.display().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown {}", self.dir.display());
        }
    }

    fn as_postgres(&self, args: &[&str]) {
        let mut cmd = if Self::root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).args(args);
            c
        } else {
            let mut c = std::process::Command::new(args[0]);
            c.args(&args[1..]);
            c
        };
        let out = cmd.output().unwrap_or_else(|e| panic!("{}: {e}", args[0]));
        assert!(
            out.status.success(),
            "{}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn append(path: &std::path::Path, text: &str) {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    std::fs::write(path, format!("{old}\n{text}\n")).unwrap_or_else(|e| panic!("{e}"));
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        let pg_ctl = self.bin.join("pg_ctl").display().to_string();
        let args = [
            pg_ctl.as_str(),
            "-D",
            &data,
            "-m",
            "immediate",
            "-w",
            "stop",
        ];
        let _ = if Self::root() {
            std::process::Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .args(args)
                .output()
        } else {
            std::process::Command::new(args[0])
                .args(&args[1..])
                .output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
