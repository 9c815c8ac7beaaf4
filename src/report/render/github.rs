//! GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` line per finding, which
//! GitHub shows as an annotation in the PR, then the summary and what decides the exit code.
//!
//! An annotation points at the revision's Python file (the line of its `upgrade()` /
//! `downgrade()`) when the report knows it (`--alembic-versions`), with the SQL's place in the
//! message (`migration.sql:42: …`); otherwise at the statement in the export. A finding is an
//! `::error` only when it reaches `--fail-on`.
//!
//! Escaping follows the runner's rules (`@actions/core` `toCommandValue`/`escapeData`/
//! `escapeProperty`): in the message `%`, `\r`, `\n` are percent-encoded; in properties also `:` and
//! `,`, which would otherwise end the property.

use super::{count, findings_by_risk, gate, python_file, revision_per_statement, shown_level};
use crate::report::{Finding, Report, RevisionReport, Severity};
use std::fmt::Write;

/// GitHub Actions workflow commands (`::error file=…,line=…::…`) for the findings of `r`.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let revisions = revision_per_statement(r);
    for (s, rev) in r.statements.iter().zip(&revisions) {
        for f in &s.findings {
            let command = match shown_level(f, r.summary.fail_on) {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let mut message = f.message.clone();
            if !f.help.is_empty() {
                message.push_str("\nHelp: ");
                message.push_str(&f.help);
            }
            let (location, message) = finding_location(r, *rev, f, message);
            let _ = writeln!(
                out,
                "::{command} {location},title={}::{}",
                escape_property(&format!("migsafe {}", f.rule)),
                escape_data(&message)
            );
        }
    }
    failure_modes(&mut out, r, &revisions);
    summary(&mut out, r);
    out
}

/// The command's location properties and its message: the finding's span in the export, or the
/// revision's Python file with the SQL's place put before the message.
fn finding_location(
    r: &Report,
    rev: Option<&RevisionReport>,
    f: &Finding,
    message: String,
) -> (String, String) {
    if let Some((file, line)) = python_file(rev) {
        let message = format!("{}:{}: {message}", r.source, f.span.start_line);
        return (python_location(file, line), message);
    }
    // GitHub's columns are inclusive; the span's end column is the one after the last character.
    let end_column = f.span.end_column.saturating_sub(1).max(1);
    let location = format!(
        "file={},line={},col={},endLine={},endColumn={end_column}",
        escape_property(&r.source),
        f.span.start_line,
        f.span.start_column,
        f.span.end_line,
    );
    (location, message)
}

/// `file=versions/7ac7_add_tags.py,line=12` (no line when it is unknown).
fn python_location(file: &str, line: Option<u32>) -> String {
    match line {
        Some(line) => format!("file={},line={line}", escape_property(file)),
        None => format!("file={}", escape_property(file)),
    }
}

/// Failure modes as notices on the unit's first statement, only where a failure leaves the
/// migration half-applied or leaves an object behind: a transaction that simply rolls back needs no
/// annotation on every PR.
fn failure_modes(out: &mut String, r: &Report, revisions: &[Option<&RevisionReport>]) {
    for (rev, m) in super::failure_modes(r) {
        if m.committed.is_empty() && m.leftovers.is_empty() {
            continue;
        }
        let Some((i, s)) = super::unit_statement(r, m) else {
            continue;
        };
        let line = s.span.start_line;
        let python = revisions.get(i).and_then(|rev| python_file(*rev));
        let (location, message) = match python {
            Some((file, at)) => (
                python_location(file, at),
                format!("{}:{line}: {}", r.source, m.message),
            ),
            None => (
                format!("file={},line={line}", escape_property(&r.source)),
                m.message.clone(),
            ),
        };
        let _ = writeln!(
            out,
            "::notice {location},title={}::{}",
            escape_property(&format!(
                "migsafe failure mode: {}",
                super::unit_title(rev, m)
            )),
            escape_data(&message)
        );
    }
}

/// The summary and what decides the exit code: an `::error` when the check fails, a `::notice`
/// when it passes.
fn summary(out: &mut String, r: &Report) {
    let sm = &r.summary;
    let (verdict, rest) = gate(r, str::to_string);
    let _ = writeln!(
        out,
        "::{} title={}::{}",
        if r.fails() { "error" } else { "notice" },
        escape_property(&format!("migsafe {}", r.source)),
        escape_data(&format!(
            "{}, {}, risk {}; rollback {}. {verdict}{rest}",
            count(sm.statements, "statement", "statements"),
            findings_by_risk(r),
            sm.risk.as_str(),
            if r.rollback.complete {
                "complete"
            } else {
                "incomplete"
            }
        ))
    );
}

/// Escapes a command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=`, `title=`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn one_command_per_finding_and_a_summary() {
        let r = crate::analyze("BEGIN;\nCREATE INDEX ix ON t (a);\nCOMMIT;\n");
        let out = render(&r);
        let first = out.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(
                "::error file=-,line=2,col=1,endLine=2,endColumn=25,title=migsafe create-index-non-concurrently::"
            ),
            "{out}"
        );
        assert!(first.contains("%0AHelp: "), "{out}");
        assert!(out.lines().all(|l| l.starts_with("::")), "{out}");
        assert_eq!(
            out.lines().last().unwrap_or_default(),
            "::error title=migsafe -::3 statements, 3 findings (2 high, 1 low), risk high; \
             rollback complete. fails (--fail-on high): 2 findings at risk high or above: \
             create-index-non-concurrently (line 2), missing-lock-timeout (line 2)"
        );
    }

    /// Two revisions with the same id (an upgrade, then its downgrade), each with its file line.
    fn two_revisions() -> Report {
        let mut r = crate::analyze(
            "BEGIN;\n-- Running upgrade a1 -> b2\nCREATE INDEX ix ON t (a);\nCOMMIT;\n\
             BEGIN;\n-- Running upgrade b2 -> c3\nALTER TABLE t DROP COLUMN b;\nCOMMIT;\n",
        );
        assert_eq!(r.revisions.len(), 2, "{:?}", r.revisions);
        for (rev, line) in r.revisions.iter_mut().zip([12, 30]) {
            rev.id = "b2".into();
            rev.file = Some("versions/b2_add, index.py".into());
            rev.file_line = Some(line);
        }
        r
    }

    #[test]
    fn annotations_point_at_the_revision_file() {
        let r = two_revisions();
        let out = render(&r);
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with(
                "::error file=versions/b2_add%2C index.py,line=12,title=migsafe \
                 create-index-non-concurrently::-:3: building ix takes"
            ),
            "{out}"
        );
        let drop = lines
            .iter()
            .find(|l| l.contains("title=migsafe drop-column::"))
            .copied()
            .unwrap_or_default();
        assert!(
            drop.starts_with(
                "::error file=versions/b2_add%2C index.py,line=30,title=migsafe drop-column::-:7: "
            ),
            "{out}"
        );
        // Without the file, the export.
        let plain = render(&crate::analyze(
            "BEGIN;\n-- Running upgrade a1 -> b2\nCREATE INDEX ix ON t (a);\nCOMMIT;\n",
        ));
        assert!(plain.starts_with("::error file=-,line=3,col=1,"), "{plain}");
    }

    #[test]
    fn a_finding_below_fail_on_is_not_an_error() {
        let mut r = crate::analyze("BEGIN;\nCREATE INDEX ix ON t (a);\nCOMMIT;\n");
        r.summary.fail_on = crate::report::Risk::Critical;
        r.summary.failing = 0;
        let out = render(&r);
        assert!(!out.contains("::error"), "{out}");
        assert!(out.starts_with("::warning file=-,line=2,"), "{out}");
        assert!(
            out.ends_with("passes (--fail-on critical): no finding at risk critical\n"),
            "{out}"
        );
    }
}
