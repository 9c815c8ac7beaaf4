//! The command line example: exit codes and error messages. `cargo test` builds examples, so the
//! binary sits next to the test binary's folder.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn exe() -> PathBuf {
    let mut p = std::env::current_exe().unwrap_or_default();
    p.pop(); // deps
    if p.ends_with("deps") {
        p.pop();
    }
    p.join("examples")
        .join(format!("migsafe{}", std::env::consts::EXE_SUFFIX))
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
        pipe.write_all(input)
            .unwrap_or_else(|e| panic!("stdin: {e}"));
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
    // An unreadable statement is medium risk.
    let input = b"ALTER TABLE t FROBNICATE;\n";
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
