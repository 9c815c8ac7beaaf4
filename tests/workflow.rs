//! The PR check as a team runs it: exports written the way Alembic 1.13+ and Django 5 write them
//! (fixtures/workflow/), acknowledging findings in the migration, the configuration file, Alembic
//! revision files, exports psql cannot run, a schema that lacks a table, standard input.

mod common;

use common::cli::exe;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs the CLI in `dir` (the configuration file is looked up from there).
fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(exe())
        .args(args)
        .current_dir(dir)
        .env_remove("MIGSAFE_DATABASE_URL")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe().display()))
}

fn run(args: &[&str]) -> Output {
    run_in(Path::new(ROOT), args)
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", out(o), err(o)))
}

/// A fresh folder for one test.
fn folder(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("migsafe-workflow-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

const SCHEMA: &str = "fixtures/workflow/schema.sql";

#[test]
fn an_unacknowledged_hazard_fails_and_fits_a_screen() {
    let o = run(&[
        "check",
        "--schema",
        SCHEMA,
        "fixtures/workflow/one_hazard.sql",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let text = out(&o);
    assert!(text.lines().count() <= 25, "{text}");
    assert!(text.contains("create-index-non-concurrently"), "{text}");
    assert!(
        text.contains("fails (--fail-on high)") && text.contains("line 5"),
        "{text}"
    );
}

/// `op.execute("-- migsafe: ignore …")`, `op.execute("/* migsafe: ignore all */")` and Django's
/// `RunSQL("-- migsafe: ignore all")` as the tools export them: the findings are acknowledged,
/// listed in JSON, and no longer decide the exit code.
#[test]
fn acknowledged_findings_pass_the_gate_and_stay_listed() {
    for (file, acknowledged) in [
        ("fixtures/workflow/acknowledged.sql", 2),
        ("fixtures/workflow/acknowledged_block.sql", 3),
        // The table is not in the schema: unknown-table is acknowledged as well.
        ("fixtures/workflow/django_acknowledged.sql", 4),
    ] {
        let o = run(&["check", "--schema", SCHEMA, file]);
        assert_eq!(o.status.code(), Some(0), "{file}: {}{}", out(&o), err(&o));
        assert!(
            out(&o).contains(&format!("{acknowledged} acknowledged")),
            "{file}: {}",
            out(&o)
        );
        assert!(!out(&o).contains("unused-ignore"), "{file}: {}", out(&o));
        let j = json(&run(&[
            "check", "--schema", SCHEMA, "--format", "json", file,
        ]));
        assert_eq!(j["summary"]["acknowledged"], acknowledged, "{file}");
        assert_eq!(j["summary"]["failing"], 0, "{file}");
        let rules: Vec<&str> = j["statements"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["acknowledged"].as_array().into_iter().flatten())
            .filter_map(|f| f["rule"].as_str())
            .collect();
        assert!(
            rules.contains(&"create-index-non-concurrently"),
            "{file}: {rules:?}"
        );
    }
    // Verbose text lists them.
    let o = run(&[
        "check",
        "--verbose",
        "--schema",
        SCHEMA,
        "fixtures/workflow/acknowledged.sql",
    ]);
    assert!(out(&o).contains("acknowledged"), "{}", out(&o));
    assert!(
        out(&o).contains("create-index-non-concurrently"),
        "{}",
        out(&o)
    );
}

#[test]
fn printed_text_and_rejected_syntax_fail_the_check() {
    let o = run(&["check", "fixtures/workflow/printed.sql"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains("error[not-sql]") && out(&o).contains("psql stops here"),
        "{}",
        out(&o)
    );
    let dir = folder("rejected");
    let file = dir.join("mysql.sql");
    write(&file, "ALTER TABLE runs MODIFY COLUMN note varchar(200);\n");
    let o = run(&["check", file.to_str().unwrap_or_default()]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains("ALTER TABLE has no MODIFY action"),
        "{}",
        out(&o)
    );
}

#[test]
fn a_table_missing_from_the_schema_is_a_warning_not_a_new_table() {
    let dir = folder("unknown");
    let file = dir.join("m.sql");
    write(&file, "CREATE INDEX ix_audit ON audit_log (created_at);\n");
    let o = run(&[
        "check",
        "--schema",
        SCHEMA,
        "--format",
        "json",
        file.to_str().unwrap_or_default(),
    ]);
    let j = json(&o);
    let st = &j["statements"][0];
    assert_eq!(st["tables"][0]["name"], "public.audit_log");
    assert_eq!(st["tables"][0]["created_in_migration"], false);
    assert_eq!(st["lock"], "ShareLock");
    let messages: Vec<&str> = st["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "unknown-table")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert_eq!(messages.len(), 1, "{st}");
    assert!(
        messages[0]
            .starts_with("public.audit_log is not in the schema given: is the dump current?"),
        "{}",
        messages[0]
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn alembic_versions_point_annotations_at_the_revision_file() {
    let args = |format| {
        run(&[
            "check",
            "--schema",
            SCHEMA,
            "--alembic-versions",
            "fixtures/workflow/alembic/versions",
            "--format",
            format,
            "fixtures/workflow/one_hazard.sql",
        ])
    };
    let py = "fixtures/workflow/alembic/versions/1975ea83b712_add_runs_status_index.py";
    let github = out(&args("github"));
    let first = github.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!(
            "::error file={py},line=18,title=migsafe create-index-non-concurrently::fixtures/workflow/one_hazard.sql:5: "
        )),
        "{github}"
    );
    let j = json(&args("json"));
    assert_eq!(j["revisions"][0]["file"], py);
    assert_eq!(j["revisions"][0]["file_line"], 18);
    let sarif = out(&args("sarif"));
    assert!(sarif.contains(py), "{sarif}");
    // Without it, annotations point at the export.
    let o = run(&[
        "check",
        "--schema",
        SCHEMA,
        "--format",
        "github",
        "fixtures/workflow/one_hazard.sql",
    ]);
    assert!(
        out(&o).starts_with("::error file=fixtures/workflow/one_hazard.sql,line=5"),
        "{}",
        out(&o)
    );
    // A folder with no revision in it is a usage error.
    let o = run(&[
        "check",
        "--alembic-versions",
        "fixtures/rules",
        "fixtures/workflow/one_hazard.sql",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("no Alembic revision files"), "{}", err(&o));
}

#[test]
fn stdin_takes_the_name_given() {
    let text = std::fs::read(Path::new(ROOT).join("fixtures/workflow/one_hazard.sql"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(exe())
        .args([
            "check",
            "--format",
            "github",
            "--stdin-filename",
            "exports/1975.sql",
            "-",
        ])
        .current_dir(ROOT)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut pipe) = child.stdin.take() {
        std::io::Write::write_all(&mut pipe, &text).unwrap_or_else(|e| panic!("{e}"));
    }
    let o = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out(&o).contains("file=exports/1975.sql,line=5"),
        "{}",
        out(&o)
    );
    assert!(!out(&o).contains("<stdin>"), "{}", out(&o));
}

/// `[tool.migsafe]` in pyproject.toml found from a subfolder; paths relative to the file; flags
/// win; `migsafe config` says where each value comes from; `migsafe.toml` comes first.
#[test]
fn the_configuration_file_is_found_and_flags_win() {
    let dir = folder("config");
    let sub = dir.join("migrations");
    std::fs::create_dir_all(&sub).unwrap_or_else(|e| panic!("{e}"));
    let schema = std::fs::read_to_string(Path::new(ROOT).join(SCHEMA)).unwrap_or_default();
    write(&dir.join("schema.sql"), &schema);
    let hazard = std::fs::read_to_string(Path::new(ROOT).join("fixtures/workflow/one_hazard.sql"))
        .unwrap_or_default();
    write(&sub.join("m.sql"), &hazard);
    write(
        &dir.join("pyproject.toml"),
        "[project]\nname = \"app\"\n\n[tool.migsafe]\nfail-on = \"critical\"\nschema = \"schema.sql\"\n\
         disable = [\"missing-statement-timeout\"]\n\n[tool.migsafe.severity]\nmissing-lock-timeout = \"info\"\n",
    );
    let o = run_in(&sub, &["check", "--format", "json", "m.sql"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let j = json(&o);
    assert_eq!(j["summary"]["fail_on"], "critical");
    let rules: Vec<(String, String)> = j["statements"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["findings"].as_array().into_iter().flatten())
        .map(|f| (f["rule"].to_string(), f["severity"].to_string()))
        .collect();
    assert!(
        !rules
            .iter()
            .any(|(r, _)| r.contains("missing-statement-timeout")),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("\"missing-lock-timeout\"".into(), "\"info\"".into())),
        "{rules:?}"
    );
    // The schema came from the file: the table is known, so no unknown-table finding.
    assert!(
        !rules.iter().any(|(r, _)| r.contains("unknown-table")),
        "{rules:?}"
    );

    let o = run_in(&sub, &["check", "--fail-on", "high", "m.sql"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));

    let o = run_in(&sub, &["config", "--pg-version", "14"]);
    let text = out(&o);
    let origin = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.rsplit("# ").next())
            .unwrap_or_default()
            .to_string()
    };
    let file = dir.join("pyproject.toml").display().to_string();
    assert_eq!(origin("fail-on = \"critical\""), file, "{text}");
    assert_eq!(origin("pg-version = 14"), "--pg-version", "{text}");
    assert!(origin("schema = ").ends_with(&file), "{text}");
    assert_eq!(origin("# sizes is not set"), "default", "{text}");
    assert!(text.contains("missing-lock-timeout = \"info\""), "{text}");

    // migsafe.toml in the nearer folder wins; an unknown key names itself and the file.
    write(&sub.join("migsafe.toml"), "fail_on = \"low\"\n");
    let o = run_in(&sub, &["check", "m.sql"]);
    assert_eq!(o.status.code(), Some(2));
    let e = err(&o);
    assert!(
        e.contains("migsafe.toml") && e.contains("line 1") && e.contains("fail_on"),
        "{e}"
    );
    let o = run_in(&sub, &["check", "--no-config", "m.sql"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
}

#[test]
fn a_sizes_file_grades_as_a_database_would() {
    let dir = folder("sizes");
    let small = dir.join("small.csv");
    write(&small, "table,rows,bytes\npublic.runs,120,16384\n");
    let large = dir.join("large.json");
    write(
        &large,
        r#"[{"table": "public.runs", "rows": 80000000, "bytes": 24000000000}]"#,
    );
    let check = |sizes: &Path| {
        run(&[
            "check",
            "--schema",
            SCHEMA,
            "--sizes",
            sizes.to_str().unwrap_or_default(),
            "--format",
            "json",
            "fixtures/workflow/one_hazard.sql",
        ])
    };
    let (s, l) = (check(&small), check(&large));
    assert_eq!(s.status.code(), Some(0), "{}", err(&s));
    assert_eq!(l.status.code(), Some(1), "{}", err(&l));
    let index = |o: &Output| json(o)["statements"][1].clone();
    assert_eq!(index(&s)["tables"][0]["rows"], 120);
    assert_eq!(index(&l)["tables"][0]["rows"], 80_000_000u64);
    assert_eq!(index(&l)["risk"], "critical");
    let bad = dir.join("bad.csv");
    write(&bad, "table,rows,bytes\npublic.runs,many,1\n");
    let o = check(&bad);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("bad.csv: line 2: rows \"many\" is not a whole number"),
        "{}",
        err(&o)
    );
}

#[test]
fn snapshot_check_hint_repeats_the_options() {
    let dir = folder("snapshot");
    let file = dir.join("m.sql");
    let hazard = std::fs::read_to_string(Path::new(ROOT).join("fixtures/workflow/one_hazard.sql"))
        .unwrap_or_default();
    write(&file, &hazard);
    let schema = Path::new(ROOT).join(SCHEMA);
    let o = run_in(
        &dir,
        &[
            "snapshot",
            "--check",
            "--schema",
            schema.to_str().unwrap_or_default(),
            "--pg-version",
            "14",
            "m.sql",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let hint = format!(
        "run `migsafe snapshot --schema {} --pg-version 14 m.sql` and commit it",
        schema.display()
    );
    assert!(err(&o).contains(&hint), "{}", err(&o));
}

/// A large revision's Markdown fits a GitHub comment and says what it left out.
#[test]
fn markdown_of_a_large_revision_fits_a_pr_comment() {
    let dir = folder("markdown");
    let mut sql = String::from("BEGIN;\n\n-- Running upgrade 0a1b2c3d4e5f -> 1975ea83b712\n\n");
    for i in 0..400 {
        sql.push_str(&format!(
            "ALTER TABLE runs ADD COLUMN c{i} integer NOT NULL DEFAULT random()::int;\n\
             CREATE INDEX ix_runs_c{i} ON runs (c{i});\nUPDATE runs SET status = 'x{i}';\n\n"
        ));
    }
    sql.push_str("COMMIT;\n");
    let file = dir.join("big.sql");
    write(&file, &sql);
    let o = run(&[
        "check",
        "--schema",
        SCHEMA,
        "--format",
        "markdown",
        file.to_str().unwrap_or_default(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let md = out(&o);
    assert!(
        md.chars().count() <= 65_536,
        "{} characters",
        md.chars().count()
    );
    assert!(
        md.contains("left out"),
        "{}",
        &md[md.len().saturating_sub(600)..]
    );
    assert_eq!(md.matches("```").count() % 2, 0, "an open code fence");
}
