//! Keeps the rule registry, each rule's documentation and its fixture in step, and checks every
//! fixture's `-- expect:` / `-- ok` markers against the analysis.
//!
//! Fixture format (`fixtures/rules/<rule>.sql`):
//! - `-- expect: rule-a[, rule-b]` before a statement: it must get a finding of each rule named;
//! - `-- ok` (optionally `-- ok: why`) before a statement: it must not get a finding of the file's rule;
//!   a statement without a marker must not either;
//! - `-- pg-version: N` anywhere: analyse for PostgreSQL N;
//! - a line `-- end of schema`: the text above it is the schema before the migration (loaded with
//!   `Catalog::from_sql`), the text below it the migration.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SECTIONS: [&str; 5] = [
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## References",
];

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules")
}

#[test]
fn registry_is_sorted_and_documented() {
    let rules = migsafe::rules();
    let ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        ids, sorted,
        "RULES must be sorted by id, without duplicates"
    );
    for entry in &rules {
        let id = entry.id;
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()),
            "{id}: ids are kebab-case"
        );
        let docs = &entry.docs;
        let mut lines = docs.lines();
        assert_eq!(
            lines.next(),
            Some(format!("# {id}").as_str()),
            "{id}: docs start with `# {id}`"
        );
        assert_eq!(
            lines.next(),
            Some(entry.summary),
            "{id}: second doc line is the summary"
        );
        let mut at = 0;
        for section in SECTIONS {
            let pos = docs[at..]
                .find(section)
                .unwrap_or_else(|| panic!("{id}: docs lack `{section}` (in this order)"));
            at += pos + section.len();
            let body = docs[at..].split("\n## ").next().unwrap_or("");
            assert!(body.trim().len() > 10, "{id}: `{section}` is empty");
        }
        let refs = docs.split("## References").nth(1).unwrap_or("");
        assert!(refs.contains("https://"), "{id}: References cite a URL");
    }
}

#[test]
fn every_rule_has_a_fixture_and_every_fixture_a_rule() {
    let ids: BTreeSet<String> = migsafe::rules().iter().map(|r| r.id.to_string()).collect();
    let files: BTreeSet<String> = std::fs::read_dir(fixture_dir())
        .expect("fixtures/rules exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| !n.ends_with(".downgrade.sql"))
        .filter_map(|n| n.strip_suffix(".sql").map(str::to_string))
        .collect();
    let no_fixture: Vec<_> = ids.difference(&files).collect();
    let no_rule: Vec<_> = files.difference(&ids).collect();
    assert!(
        no_fixture.is_empty(),
        "rules without a fixture: {no_fixture:?}"
    );
    assert!(no_rule.is_empty(), "fixtures without a rule: {no_rule:?}");
}

/// The marker (if any) in the comment lines right above line `line` (1-based).
fn marker_before(lines: &[&str], line: u32, floor: u32) -> Option<String> {
    let mut i = line as usize - 1;
    while i > floor as usize {
        let l = lines[i - 1].trim();
        if let Some(m) = l.strip_prefix("-- expect:") {
            return Some(format!("expect:{}", m.trim()));
        }
        if l == "-- ok" || l.starts_with("-- ok:") {
            return Some("ok".to_string());
        }
        if !l.starts_with("--") && !l.is_empty() {
            return None;
        }
        i -= 1;
    }
    None
}

fn check_fixture(path: &Path) -> Result<(), String> {
    let rule = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or("bad file name")?
        .to_string();
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let lines: Vec<&str> = text.lines().collect();
    let report = common::analyze_fixture(path)?;
    let mut expects = 0;
    let mut oks = 0;
    let mut problems = Vec::new();
    let mut floor = 0;
    for s in &report.statements {
        let marker = marker_before(&lines, s.span.start_line, floor);
        floor = s.span.end_line;
        // A rule flags a statement with a finding, or with a note when an earlier statement's
        // finding of the same cause covers it: each example of a fixture counts on its own.
        let found = s.findings.iter().map(|f| f.rule.as_ref());
        let fired: BTreeSet<&str> = found
            .chain(s.notes.iter().map(|n| n.rule.as_ref()))
            .collect();
        let first = s.sql.lines().next().unwrap_or("");
        match marker.as_deref() {
            Some(m) if m.starts_with("expect:") => {
                expects += 1;
                for want in m["expect:".len()..].split(',').map(str::trim) {
                    if !fired.contains(want) {
                        problems.push(format!(
                            "line {}: expected {want}, got {fired:?}: {first}",
                            s.span.start_line
                        ));
                    }
                }
            }
            other => {
                if other == Some("ok") {
                    oks += 1;
                }
                if fired.contains(rule.as_str()) {
                    let found = s.findings.iter().map(|f| (&f.rule, &f.message));
                    let noted = s.notes.iter().map(|n| (&n.rule, &n.message));
                    let msg = found
                        .chain(noted)
                        .find(|(r, _)| r.as_ref() == rule)
                        .map_or("", |(_, m)| m.as_str());
                    problems.push(format!(
                        "line {}: {rule} fired without `-- expect`: {first} — {msg}",
                        s.span.start_line
                    ));
                }
            }
        }
    }
    if expects == 0 {
        problems.push("no `-- expect:` marker".to_string());
    }
    if oks == 0 && rule != "unparsed-statement" && rule != "not-sql" {
        problems.push("no `-- ok` marker".to_string());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n  "))
    }
}

#[test]
fn fixtures_match_their_markers() {
    let mut failures = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("fixtures/rules exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .filter(|p| !p.to_string_lossy().ends_with(".downgrade.sql"))
        .collect();
    paths.sort();
    for p in &paths {
        if let Err(e) = check_fixture(p) {
            failures.push(format!("{}:\n  {e}", p.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn covers_the_union_of_the_peers() {
    let rules = migsafe::rules();
    assert!(rules.len() >= 35, "only {} rules", rules.len());
}

#[test]
fn readme_lists_every_rule() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    for entry in &migsafe::rules() {
        let row = format!("| `{}` |", entry.id);
        assert!(
            readme.contains(&row),
            "README's rule table lacks {}",
            entry.id
        );
    }
}
