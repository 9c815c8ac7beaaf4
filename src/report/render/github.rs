//! GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` line per finding, which
//! GitHub shows as an annotation on the migration file in the PR, then a `::notice` with the summary.
//!
//! Escaping follows the runner's rules (`@actions/core` `toCommandValue`/`escapeData`/
//! `escapeProperty`): in the message `%`, `\r`, `\n` are percent-encoded; in properties also `:` and
//! `,`, which would otherwise end the property.

use super::count;
use crate::report::{Report, Severity};
use std::fmt::Write;

/// GitHub Actions workflow commands (`::error file=…,line=…::…`) for the findings of `r`.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let file = escape_property(&r.source);
    for s in &r.statements {
        for f in &s.findings {
            let command = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let mut message = f.message.clone();
            if !f.help.is_empty() {
                message.push_str("\nHelp: ");
                message.push_str(&f.help);
            }
            // GitHub's columns are inclusive; the span's end column is the one after the last
            // character.
            let end_column = f.span.end_column.saturating_sub(1).max(1);
            let _ = writeln!(
                out,
                "::{command} file={file},line={},col={},endLine={},endColumn={end_column},title={}::{}",
                f.span.start_line,
                f.span.start_column,
                f.span.end_line,
                escape_property(&format!("migsafe {}", f.rule)),
                escape_data(&message)
            );
        }
    }
    // Failure modes as notices on the unit's first statement, only where a failure leaves the
    // migration half-applied or leaves an object behind: a transaction that simply rolls back needs
    // no annotation on every PR.
    for (rev, m) in super::failure_modes(r) {
        if m.committed.is_empty() && m.leftovers.is_empty() {
            continue;
        }
        let Some(line) = super::unit_line(r, m) else {
            continue;
        };
        let _ = writeln!(
            out,
            "::notice file={file},line={line},title={}::{}",
            escape_property(&format!(
                "migsafe failure mode: {}",
                super::unit_title(rev, m)
            )),
            escape_data(&m.message)
        );
    }
    let sm = &r.summary;
    let _ = writeln!(
        out,
        "::notice title={}::{}",
        escape_property(&format!("migsafe {}", r.source)),
        escape_data(&format!(
            "{}, {}, {}, {} info; risk {}; rollback {}",
            count(sm.statements, "statement", "statements"),
            count(sm.findings.error, "error", "errors"),
            count(sm.findings.warning, "warning", "warnings"),
            sm.findings.info,
            sm.risk.as_str(),
            if r.rollback.complete {
                "complete"
            } else {
                "incomplete"
            }
        ))
    );
    out
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
        assert!(
            out.lines()
                .last()
                .unwrap_or_default()
                .starts_with("::notice title=migsafe -::")
        );
    }
}
