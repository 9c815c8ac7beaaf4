//! The splitter against PostgreSQL's own scanner: `scripts/lexer_judge.py` lexes each text with
//! libpg_query (through pglast) and ends statements by psql's rules; every statement boundary must
//! agree, on every fixture, the shared corpus when it is there, and generated hostile text.
//!
//! The judge's Python comes from `MIGSAFE_LEXER_JUDGE_PYTHON` (scripts/test.sh installs pglast
//! into a virtual environment and sets it) or `target/lexer-judge-venv/bin/python`. Without one,
//! the test says so and passes, except under CI, where it fails.

#[path = "lexer_judge/client.rs"]
mod client;

use client::{Judge, Rng, hostile_text, ours};
use std::path::{Path, PathBuf};

fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sql_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "sql") {
            out.push(path);
        }
    }
}

#[test]
fn statement_boundaries_agree_with_postgresql() {
    let Some(mut judge) = Judge::start(Path::new(env!("CARGO_MANIFEST_DIR"))) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "no Python with pglast for the lexer judge (scripts/test.sh installs it)"
        );
        eprintln!("lexer judge skipped: no Python with pglast (run scripts/test.sh)");
        return;
    };
    let mut files = Vec::new();
    sql_files(Path::new("fixtures"), &mut files);
    let shared = Path::new("../shared");
    let fixtures = files.len();
    sql_files(&shared.join("corpus"), &mut files);
    sql_files(&shared.join("squawk-fixtures"), &mut files);
    let shared_files = files.len() - fixtures;

    let mut texts: Vec<(String, String)> = files
        .iter()
        .filter_map(|p| {
            let bytes = std::fs::read(p).ok()?;
            Some((p.display().to_string(), String::from_utf8(bytes).ok()?))
        })
        .collect();
    let mut rng = Rng(0x6c65_7865_725f_6a75);
    for i in 0..4000 {
        texts.push((format!("generated #{i}"), hostile_text(&mut rng)));
    }

    let (mut judged, mut skipped, mut statements) = (0, 0, 0);
    let mut disagreements = Vec::new();
    for (name, text) in &texts {
        let text = text.replace('\0', "\u{1}");
        let Some(theirs) = judge.ask(&text) else {
            skipped += 1;
            continue;
        };
        judged += 1;
        let mine = ours(&text);
        statements += theirs.statements.len();
        if mine != theirs {
            if let Some(dir) = std::env::var_os("MIGSAFE_LEXER_JUDGE_DUMP") {
                let path = Path::new(&dir).join(format!("{}.sql", disagreements.len()));
                let _ = std::fs::write(path, &text);
            }
            disagreements.push(format!(
                "{name}:\n  text: {text:?}\n  migsafe: {mine:?}\n  postgres: {theirs:?}"
            ));
        }
    }
    eprintln!(
        "lexer judge: {} texts ({fixtures} fixtures, {shared_files} shared, {} generated), {judged} judged, {skipped} not judgeable, {statements} statements, {} disagreements",
        texts.len(),
        texts.len() - fixtures - shared_files,
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements with PostgreSQL's scanner; the first:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Nearly every text can be judged (texts that set standard_conforming_strings cannot).
    assert!(
        skipped * 20 < texts.len(),
        "{skipped} of {} not judged",
        texts.len()
    );
}
