//! The command line program: exit codes and error messages. `cargo test` builds it (the `cli`
//! feature is a default one).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_migsafe"))
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(exe())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e} (plain `cargo test` builds it)",
                exe().display()
            )
        });
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A usage error exits before reading standard input: the pipe may be closed already.
        if let Err(e) = pipe.write_all(input)
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            panic!("stdin: {e}");
        }
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("migsafe-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap_or_else(|e| panic!("{e}"));
    p
}

#[test]
fn json_report_for_a_fixture() {
    let o = run(
        &["check", "--format", "json", "fixtures/alembic/merge.sql"],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["source"], "fixtures/alembic/merge.sql");
    assert_eq!(v["revisions"].as_array().map(Vec::len), Some(3));
}

#[test]
fn stdin_is_read_with_dash() {
    let o = run(
        &["check", "--format", "json", "-"],
        Some(b"BEGIN;\nDROP INDEX CONCURRENTLY ix;\nCOMMIT;\n"),
    );
    // DROP INDEX CONCURRENTLY fails inside a transaction block: critical, so exit 1.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["statements"][1]["kind"], "drop_index");
    assert_eq!(v["statements"][1]["transaction"], "in_transaction");
    assert_eq!(v["statements"][1]["risk"], "critical");
    assert_eq!(
        v["statements"][1]["findings"][0]["rule"],
        "concurrently-in-transaction"
    );
}

#[test]
fn fail_on_sets_exit_code_1() {
    // A statement migsafe cannot read (PostgreSQL can) is medium risk.
    let input = b"SECURITY LABEL ON TABLE t IS 'x';\n";
    assert_eq!(run(&["check", "-"], Some(input)).status.code(), Some(0));
    assert_eq!(
        run(&["check", "--fail-on", "medium", "-"], Some(input))
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(&["check", "--fail-on", "low", "-"], Some(b"SELECT 1;"))
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn missing_file_is_exit_2_with_one_line() {
    let o = run(&["check", "no/such/file.sql"], None);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("no/such/file.sql"), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
}

#[test]
fn bad_utf8_names_file_and_offset() {
    let p = scratch("latin1.sql", b"SELECT 'caf\xe9';\n");
    let o = run(&["check", p.to_str().unwrap_or_default()], None);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("latin1.sql") && e.contains("offset 11"), "{e}");
}

#[test]
fn binary_input_is_rejected() {
    let p = scratch("blob.sql", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR");
    let o = run(&["check", p.to_str().unwrap_or_default()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("binary"), "{}", stderr(&o));
}

#[test]
fn directory_is_rejected() {
    let o = run(&["check", "fixtures"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("directory"), "{}", stderr(&o));
}

#[test]
fn usage_errors_are_exit_2() {
    assert_eq!(run(&["check"], None).status.code(), Some(2));
    assert_eq!(
        run(&["check", "--format", "yaml", "x.sql"], None)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(run(&["frobnicate"], None).status.code(), Some(2));
    assert_eq!(run(&["--help"], None).status.code(), Some(0));
}

#[test]
fn several_files_give_one_report_each() {
    let o = run(
        &[
            "check",
            "--format",
            "json",
            "fixtures/alembic/merge.sql",
            "fixtures/django/0001_initial.sql",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    let text = run(
        &[
            "check",
            "fixtures/alembic/merge.sql",
            "fixtures/django/0001_initial.sql",
        ],
        None,
    );
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(
        out.contains("fixtures/alembic/merge.sql:")
            && out.contains("fixtures/django/0001_initial.sql:")
    );
}

#[test]
fn a_missing_file_among_several_still_reports_the_others() {
    let o = run(&["check", "nope.sql", "fixtures/alembic/merge.sql"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stdout).contains("fixtures/alembic/merge.sql:"));
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A fresh scratch folder for one test (tests run in parallel).
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("migsafe-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn run_env(args: &[&str], env: &[(&str, &str)], remove: &[&str]) -> Output {
    let mut cmd = Command::new(exe());
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null());
    for k in remove {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("{e}"))
}

/// A migration with an error (an index built without CONCURRENTLY: high risk), in a scratch folder.
fn risky_file(test: &str, name: &str) -> PathBuf {
    let p = scratch_dir(test).join(name);
    std::fs::write(
        &p,
        "BEGIN;\nCREATE INDEX ix_orders_placed ON orders (placed_at);\nCOMMIT;\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    p
}

#[test]
fn every_format_renders_a_fixture() {
    for format in ["text", "markdown", "json", "sarif", "github"] {
        let o = run(
            &["check", "--format", format, "fixtures/alembic/merge.sql"],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{format}: {}", stderr(&o));
        let out = stdout(&o);
        match format {
            "text" => assert!(out.contains("\nsummary: "), "{out}"),
            "markdown" => assert!(
                out.starts_with("## migsafe: `fixtures/alembic/merge.sql`")
                    && out.contains("<details><summary>Rollback</summary>"),
                "{out}"
            ),
            "json" | "sarif" => {
                let v: serde_json::Value =
                    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{format}: {e}"));
                if format == "sarif" {
                    assert_eq!(v["version"], "2.1.0");
                } else {
                    assert_eq!(v["schema_version"], 1);
                }
            }
            _ => assert!(out.lines().all(|l| l.starts_with("::")), "{out}"),
        }
    }
}

#[test]
fn github_annotations_point_at_the_file() {
    let o = run(
        &["check", "--format", "github", "-"],
        Some(b"BEGIN;\nCREATE INDEX ix ON t (a);\nCOMMIT;\n"),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("::error file=<stdin>,line=2,col=1,endLine=2,endColumn=25,title=migsafe create-index-non-concurrently::"),
        "{out}"
    );
}

#[test]
fn several_files_as_sarif_are_one_run() {
    let a = risky_file("sarif-a", "a.sql");
    let b = risky_file("sarif-b", "b.sql");
    let (a, b) = (
        a.to_str().unwrap_or_default(),
        b.to_str().unwrap_or_default(),
    );
    let o = run(&["check", "--format", "sarif", a, b], None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["runs"].as_array().map(Vec::len), Some(1));
    let uris: std::collections::BTreeSet<&str> = v["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(uris.contains(a) && uris.contains(b), "{uris:?}");
    assert_eq!(uris.len(), 2, "{uris:?}");
}

#[test]
fn fail_on_levels_and_the_worst_file_decide_the_exit_code() {
    let input = b"BEGIN;\nCREATE INDEX ix ON t (a);\nCOMMIT;\n"; // an error: high risk
    for (level, code) in [("low", 1), ("medium", 1), ("high", 1), ("critical", 0)] {
        let o = run(&["check", "--fail-on", level, "-"], Some(input));
        assert_eq!(o.status.code(), Some(code), "--fail-on {level}");
    }
    // One risky file among safe ones fails the run; every report is still printed.
    let o = run(
        &[
            "check",
            "--format",
            "json",
            "fixtures/safe/alembic_ticketing_index_concurrently.sql",
            "-",
        ],
        Some(input),
    );
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    assert_eq!(
        run(&["check", "--fail-on", "extreme", "-"], Some(input))
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn colour_only_when_asked_for_and_never_with_no_color() {
    let args = ["check", "fixtures/alembic/merge.sql"];
    // Piped stdout: no colour.
    let o = run_env(&args, &[], &["NO_COLOR", "CLICOLOR_FORCE", "CLICOLOR"]);
    assert!(!o.stdout.contains(&0x1b), "escape codes in piped output");
    let o = run_env(&args, &[("CLICOLOR_FORCE", "1")], &["NO_COLOR", "CLICOLOR"]);
    assert!(o.stdout.contains(&0x1b), "CLICOLOR_FORCE should colour");
    let o = run_env(
        &args,
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        &["CLICOLOR"],
    );
    assert!(!o.stdout.contains(&0x1b), "NO_COLOR must win");
    // Never in machine formats.
    let o = run_env(
        &[
            "check",
            "--format",
            "markdown",
            "fixtures/alembic/merge.sql",
        ],
        &[("CLICOLOR_FORCE", "1")],
        &["NO_COLOR"],
    );
    assert!(!o.stdout.contains(&0x1b));
}

#[test]
fn rules_lists_every_rule_with_summary_and_severity() {
    let o = run(&["rules"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let rules = migsafe::rules();
    assert_eq!(out.lines().count(), rules.len());
    for r in &rules {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(r.id))
            .unwrap_or_else(|| panic!("{} not listed", r.id));
        assert!(line.contains(r.summary), "{line}");
    }
    let line = out
        .lines()
        .find(|l| l.starts_with("create-index-non-concurrently "))
        .unwrap_or_default();
    assert_eq!(line.split_whitespace().nth(1), Some("error"), "{out}");
}

#[test]
fn rules_rule_prints_its_docs() {
    let o = run(&["rules", "drop-column"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let docs = migsafe::rules()
        .into_iter()
        .find(|r| r.id == "drop-column")
        .map(|r| r.docs)
        .unwrap_or_default();
    assert_eq!(stdout(&o), docs);
    assert!(docs.contains("## Why is this bad?"));
}

#[test]
fn unknown_rule_is_exit_2_with_a_clear_line() {
    let o = run(&["rules", "no-such-rule"], None);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("unknown rule no-such-rule"), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    let o = run(&["rules", "drop"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean") && stderr(&o).contains("drop-column"));
    assert_eq!(
        run(
            &["check", "--only", "nope", "fixtures/alembic/merge.sql"],
            None
        )
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn rollback_prints_the_script_of_the_report() {
    let o = run(&["rollback", "fixtures/alembic/merge.sql"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json = run(
        &["check", "--format", "json", "fixtures/alembic/merge.sql"],
        None,
    );
    let v: serde_json::Value =
        serde_json::from_slice(&json.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stdout(&o), v["rollback"]["script"].as_str().unwrap_or("?"));
    assert_eq!(
        run(&["rollback", "no/such.sql"], None).status.code(),
        Some(2)
    );
    // With a schema dump, like check.
    let o = run(
        &[
            "rollback",
            "--schema",
            "fixtures/oracle/alter_type_varchar_widen/setup.sql",
            "fixtures/oracle/alter_type_varchar_widen/migration.sql",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn rollback_out_writes_the_script() {
    let dir = scratch_dir("rollback-out");
    let one = dir.join("one.sql");
    let o = run(
        &[
            "check",
            "--rollback-out",
            one.to_str().unwrap_or_default(),
            "fixtures/alembic/merge.sql",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let script = run(&["rollback", "fixtures/alembic/merge.sql"], None);
    assert_eq!(std::fs::read(&one).unwrap_or_default(), script.stdout);

    // Several files: one script, the last file undone first.
    let both = dir.join("both.sql");
    let o = run(
        &[
            "check",
            "--rollback-out",
            both.to_str().unwrap_or_default(),
            "fixtures/alembic/merge.sql",
            "fixtures/django/0001_initial.sql",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&both).unwrap_or_default();
    let django = text.find("-- migsafe: rollback of fixtures/django/0001_initial.sql");
    let merge = text.find("-- migsafe: rollback of fixtures/alembic/merge.sql");
    assert!(
        matches!((django, merge), (Some(d), Some(m)) if d < m),
        "{text}"
    );
    // An unwritable target is an I/O error.
    let o = run(
        &[
            "check",
            "--rollback-out",
            "/no/such/dir/x.sql",
            "fixtures/alembic/merge.sql",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
}

/// One file as JSON is written while the analysis runs: the bytes are the library's whole report
/// (downgrade findings included), and `--rollback-out` warns about the same lines as the other
/// formats, which keep the report whole.
#[test]
fn streamed_json_is_the_whole_report_and_warns_the_same() {
    let dir = scratch_dir("streamed-json");
    let (down, up) = (
        "fixtures/history/downgrade.sql",
        "fixtures/history/upgrade.sql",
    );
    let check = |format: &str, out: &Path| {
        run(
            &[
                "check",
                "--format",
                format,
                "--fail-on",
                "critical",
                "--downgrade",
                down,
                "--rollback-out",
                out.to_str().unwrap_or_default(),
                up,
            ],
            None,
        )
    };
    let json = check("json", &dir.join("json.sql"));
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let read = |p: &str| {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(p))
            .unwrap_or_else(|e| panic!("{p}: {e}"))
    };
    let (down_text, up_text) = (read(down), read(up));
    let settings = migsafe::Settings::default().fail_on(migsafe::Risk::Critical);
    let whole = migsafe::Analyzer::new(settings)
        .downgrade(migsafe::Source::new(down, &down_text))
        .analyze(migsafe::Source::new(up, &up_text))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        whole
            .statements
            .iter()
            .any(|s| s.findings.iter().any(|f| f.rule == "downgrade-mismatch")),
        "the fixture should have downgrade findings"
    );
    assert_eq!(stdout(&json), migsafe::report::render::json::render(&whole));

    let text = check("text", &dir.join("text.sql"));
    assert_eq!(stderr(&json), stderr(&text));
    assert!(
        stderr(&json).contains("rollback incomplete") && !stderr(&json).contains(":0:"),
        "{}",
        stderr(&json)
    );
    assert_eq!(
        std::fs::read(dir.join("json.sql")).unwrap_or_default(),
        std::fs::read(dir.join("text.sql")).unwrap_or_default()
    );
}

#[test]
fn snapshot_writes_checks_and_diffs() {
    let migration = risky_file("snapshot", "0042.sql");
    let file = migration.to_str().unwrap_or_default();
    let stored = migration.with_file_name("0042.sql.migsafe.md");

    // Missing: --check fails and shows the whole report as added.
    let o = run(&["snapshot", "--check", file], None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("+## migsafe: "), "{}", stdout(&o));
    assert!(stderr(&o).contains("is missing"), "{}", stderr(&o));

    // Write, then --check passes.
    let o = run(&["snapshot", file], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = std::fs::read_to_string(&stored).unwrap_or_default();
    let expected = run(&["check", "--format", "markdown", file], None);
    assert_eq!(md, stdout(&expected), "the snapshot is the Markdown report");
    assert!(md.contains(&format!("## migsafe: `{file}`")));
    let o = run(&["snapshot", "--check", file], None);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(o.stdout.is_empty());

    // The migration changes: --check fails with a unified diff.
    let mut sql = std::fs::read_to_string(&migration).unwrap_or_default();
    sql.push_str("\nALTER TABLE orders DROP COLUMN note;\n");
    std::fs::write(&migration, sql).unwrap_or_else(|e| panic!("{e}"));
    let o = run(&["snapshot", "--check", file], None);
    assert_eq!(o.status.code(), Some(1));
    let diff = stdout(&o);
    assert!(diff.contains(&format!("--- {file}.migsafe.md")), "{diff}");
    assert!(diff.contains("\n@@ ") && diff.contains("\n+"), "{diff}");
    assert!(diff.contains("drop-column"), "{diff}");
    assert!(stderr(&o).contains("differs"), "{}", stderr(&o));

    // Updating the snapshot makes --check pass again.
    assert_eq!(run(&["snapshot", file], None).status.code(), Some(0));
    assert_eq!(
        run(&["snapshot", "--check", file], None).status.code(),
        Some(0)
    );
}

#[test]
fn snapshot_is_deterministic_and_relative() {
    // Two runs give the same bytes, and the file names the migration as given, not an absolute path.
    let dir = scratch_dir("snapshot-det");
    let migration = dir.join("m.sql");
    std::fs::copy("fixtures/alembic/merge.sql", &migration).unwrap_or_else(|e| panic!("{e}"));
    let o = Command::new(exe())
        .args(["snapshot", "m.sql"])
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let first = std::fs::read_to_string(dir.join("m.sql.migsafe.md")).unwrap_or_default();
    assert!(first.starts_with("## migsafe: `m.sql`"), "{first}");
    assert!(!first.contains(&dir.display().to_string()));
    let o = Command::new(exe())
        .args(["snapshot", "--check", "m.sql"])
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn snapshot_usage_errors_are_exit_2() {
    assert_eq!(run(&["snapshot"], None).status.code(), Some(2));
    assert_eq!(
        run(&["snapshot", "-"], Some(b"SELECT 1;")).status.code(),
        Some(2)
    );
    assert_eq!(
        run(&["snapshot", "--check", "no/such.sql"], None)
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn downgrade_mismatches_become_findings() {
    let o = run(
        &[
            "check",
            "--format",
            "json",
            "--fail-on",
            "critical",
            "--downgrade",
            "fixtures/rules/downgrade-mismatch.downgrade.sql",
            "fixtures/rules/downgrade-mismatch.sql",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    let messages: Vec<String> = v["statements"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["findings"].as_array().cloned().unwrap_or_default())
        .filter(|f| f["rule"] == "downgrade-mismatch")
        .filter_map(|f| f["message"].as_str().map(str::to_string))
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("the downgrade leaves column public.runs.archived")),
        "{messages:?}"
    );
    let missing = run(
        &[
            "check",
            "--downgrade",
            "no/such/file.sql",
            "fixtures/rules/downgrade-mismatch.sql",
        ],
        None,
    );
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn an_unreachable_database_is_exit_2_with_one_line_and_no_password() {
    let out = run(
        &[
            "check",
            "--database",
            "postgres://deploy:hunter2-secret@127.0.0.1:1/prod",
            "fixtures/plain/flyway_v3__orders.sql",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(
            "migsafe: database: cannot connect to postgres://deploy:***@127.0.0.1:1/prod"
        ),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn verify_needs_a_database() {
    let out = run(
        &["check", "--verify", "fixtures/plain/flyway_v3__orders.sql"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--database"), "{}", stderr(&out));
}
