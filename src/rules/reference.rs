//! The user documentation kept in step with the crate.
//!
//! `docs/rules.md`, the rules reference, is generated from [`crate::rules()`]: each rule's id,
//! default severity and summary for the table of contents, then each rule file's `//!`
//! documentation. The test below regenerates it and fails when the shipped page differs. After
//! changing a rule (its docs, summary or severity) or adding one, regenerate the page with
//! `MIGSAFE_BLESS=1 cargo test --lib rules_reference`.
//!
//! The Rust examples of `README.md` and `docs/*.md` run as doc tests (`cargo test --doc`).

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct Readme;

#[cfg(all(doctest, feature = "postgres"))]
#[doc = include_str!("../../docs/database.md")]
struct Database;

#[cfg(all(doctest, feature = "insta"))]
#[doc = include_str!("../../docs/reports.md")]
struct Reports;

#[cfg(test)]
use {crate::vocab::Severity, std::fmt::Write as _, std::path::PathBuf};

#[cfg(test)]
fn severity_name(severity: Severity) -> &'static str {
    severity.as_str()
}

/// A rule's documentation with every heading one level down (the page's title is the only `#`);
/// lines inside fenced code blocks are left as they are.
#[cfg(test)]
fn demote_headings(docs: &str) -> String {
    let mut out = String::with_capacity(docs.len() + 64);
    let mut in_code = false;
    for line in docs.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if !in_code && line.starts_with('#') {
            out.push('#');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The text of `docs/rules.md`.
#[cfg(test)]
fn reference() -> String {
    let rules = crate::rules();
    let mut out = String::new();
    out.push_str(
        "<!-- Generated from the `//!` docs of src/rules/*.rs by the test in src/rules/reference.rs.\n     \
         Edit the rule files, then run `MIGSAFE_BLESS=1 cargo test --lib rules_reference`. -->\n\n",
    );
    out.push_str("# Rules\n\n");
    let _ = writeln!(
        out,
        "migsafe has {} rules. `migsafe rules` lists them in a terminal and `migsafe rules RULE` prints \
         one rule's documentation, the same text as below.",
        rules.len()
    );
    out.push_str(
        "\nWithout table sizes, a finding gives its statement at least the risk of its severity: \
         error → high, warning → medium, info → low; what the statement does can raise it further \
         (see [reports.md](reports.md#risk)). With table sizes from `--database`, the risk of work \
         that grows with the table follows its estimated duration instead (see \
         [database.md](database.md)).\n\n\
         Choose rules with `--only RULE` and `--disable RULE` (repeatable); silence one statement's \
         findings with a `-- migsafe: ignore rule-a, rule-b` comment on the line before it or at the \
         end of its line (`ignore all` silences every rule there). In the library, \
         `Settings::only_rules`, `Settings::disable_rule` and `Settings::rule_severity` do the same \
         and can also change a rule's severity.\n\n\
         Each rule has a fixture, `fixtures/rules/<rule>.sql`, whose `-- expect:` and `-- ok` markers \
         show statements that must and must not be flagged.\n\n",
    );
    out.push_str("| rule | default severity | summary |\n|---|---|---|\n");
    for rule in &rules {
        let _ = writeln!(
            out,
            "| [`{id}`](#{id}) | {} | {} |",
            severity_name(rule.severity),
            rule.summary.replace('|', "\\|"),
            id = rule.id,
        );
    }
    for rule in &rules {
        let docs = demote_headings(&rule.docs);
        let (heading, rest) = docs.split_once('\n').unwrap_or((docs.as_str(), ""));
        out.push('\n');
        out.push_str(heading);
        out.push_str("\n\n");
        let _ = writeln!(
            out,
            "Default severity: **{}**. Fixture: [`fixtures/rules/{id}.sql`](../fixtures/rules/{id}.sql).\n",
            severity_name(rule.severity),
            id = rule.id,
        );
        out.push_str(rest.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md")
}

#[test]
fn rules_reference_is_the_generated_one() {
    let generated = reference();
    let path = path();
    if std::env::var_os("MIGSAFE_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == generated,
        "{} is stale: run `MIGSAFE_BLESS=1 cargo test --lib rules_reference`",
        path.display()
    );
}

#[test]
fn headings_in_code_blocks_stay() {
    let docs = "# a\ntext\n## b\n```sql\n# not a heading\n```\n";
    assert_eq!(
        demote_headings(docs),
        "## a\ntext\n### b\n```sql\n# not a heading\n```\n"
    );
}
