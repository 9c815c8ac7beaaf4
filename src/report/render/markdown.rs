//! The Markdown report for a PR comment (and for `FILE.migsafe.md` snapshots): a summary table of
//! every statement, the findings with their help under the statement they concern, and the rollback
//! script in a collapsed block.
//!
//! Deterministic: the same report gives the same bytes. No timestamps, no tool version (a version
//! bump would change every stored snapshot), and the source exactly as given.

use super::{
    count, database_lines, direction_name, effects, first_line, lock_text, observed_text,
    severity_name,
};
use crate::report::{Report, Risk, StatementReport};
use std::collections::HashMap;
use std::fmt::Write;

/// A pull-request comment for `r`: summary table, findings, failure modes, collapsed rollback.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let sm = &r.summary;
    let f = &sm.findings;
    let _ = writeln!(out, "## migsafe: `{}`\n", code_text(&r.source));
    let _ = writeln!(
        out,
        "**Risk: {}** · {} ({} unparsed) · {}, {}, {} info · rollback {} · PostgreSQL {}\n",
        sm.risk.as_str(),
        count(sm.statements, "statement", "statements"),
        sm.unparsed,
        count(f.error, "error", "errors"),
        count(f.warning, "warning", "warnings"),
        f.info,
        if r.rollback.complete {
            "complete"
        } else {
            "incomplete"
        },
        r.pg_version
    );
    table(&mut out, r);
    findings(&mut out, r);
    database(&mut out, r);
    failure_modes(&mut out, r);
    rollback(&mut out, r);
    out
}

/// The restored copy (`--database`): what was read and verified, and what each statement did there.
fn database(out: &mut String, r: &Report) {
    let Some(d) = &r.database else {
        return;
    };
    out.push_str("### On the restored copy\n\n");
    for l in database_lines(d) {
        let _ = writeln!(out, "- {}", text(&l));
    }
    let observed: Vec<(&StatementReport, String)> = r
        .statements
        .iter()
        .filter(|s| s.observed.as_ref().is_some_and(|o| o.skipped.is_none()))
        .filter_map(|s| observed_text(s).map(|t| (s, t)))
        .collect();
    if !observed.is_empty() {
        out.push_str("\n| line | statement | observed |\n|---:|---|---|\n");
        for (s, t) in observed {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} |",
                s.span.start_line,
                cell(&code_text(&first_line(&s.sql, 60))),
                cell(&text(&t))
            );
        }
    }
    out.push('\n');
}

fn table(out: &mut String, r: &Report) {
    if r.statements.is_empty() {
        out.push_str("No statements.\n\n");
        return;
    }
    let revisions: HashMap<&str, _> = r.revisions.iter().map(|x| (x.id.as_str(), x)).collect();
    out.push_str(
        "| revision | line | statement | kind | lock | rewrite / scan | data loss | risk |\n\
         |---|---:|---|---|---|---|---|---|\n",
    );
    for s in &r.statements {
        let revision = match s.revision.as_deref() {
            Some(id) => match revisions.get(id) {
                Some(rev) => format!("`{}` {}", cell(id), direction_name(rev.direction)),
                None => format!("`{}`", cell(id)),
            },
            None => String::new(),
        };
        let mut lock = lock_text(s).unwrap_or_default();
        if let Some(h) = s.held {
            if !lock.is_empty() {
                lock.push_str("; ");
            }
            let _ = write!(lock, "held {}", h.pg_name());
        }
        let rewrite_scan = match (s.rewrites_table, s.full_scan) {
            (true, true) => "rewrite, scan",
            (true, false) => "rewrite",
            (false, true) => "scan",
            (false, false) => "",
        };
        let _ = writeln!(
            out,
            "| {revision} | {} | `{}` | {} | {} | {rewrite_scan} | {} | {} |",
            s.span.start_line,
            cell(&code_text(&first_line(&s.sql, 60))),
            cell(&s.kind),
            cell(&lock),
            if s.destroys_data { "yes" } else { "" },
            risk_cell(s.risk),
        );
    }
    out.push('\n');
}

fn findings(out: &mut String, r: &Report) {
    let with: Vec<&StatementReport> = r
        .statements
        .iter()
        .filter(|s| !s.findings.is_empty())
        .collect();
    if with.is_empty() {
        out.push_str("No findings.\n\n");
        return;
    }
    out.push_str("### Findings\n\n");
    for s in with {
        let _ = writeln!(
            out,
            "#### Line {}: {} (risk {})\n",
            s.span.start_line,
            s.kind,
            s.risk.as_str()
        );
        fenced(out, "sql", &s.sql);
        let mut facts = Vec::new();
        if let (Some(text), Some(mode)) = (lock_text(s), s.lock) {
            facts.push(format!("lock {text} ({})", mode.blocks_what()));
        }
        if let Some(h) = s.held {
            facts.push(format!("held {} ({})", h.pg_name(), h.blocks_what()));
        }
        facts.extend(effects(s).into_iter().map(str::to_string));
        if !facts.is_empty() {
            let _ = writeln!(out, "{}\n", text(&facts.join("; ")));
        }
        // Most severe first, as in the text report.
        let mut sorted: Vec<_> = s.findings.iter().collect();
        sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for f in sorted {
            let _ = writeln!(
                out,
                "- **{}** `{}`: {}",
                severity_name(f.severity),
                f.rule,
                text(&f.message)
            );
            if !f.help.is_empty() {
                let _ = writeln!(out, "  <br>*Help:* {}", text(&f.help));
            }
        }
        out.push('\n');
    }
}

/// What a failure of each commit unit leaves behind: a list, so a reviewer sees before the deploy
/// what to run when the migration stops half-way.
fn failure_modes(out: &mut String, r: &Report) {
    let modes = super::failure_modes(r);
    if modes.is_empty() {
        return;
    }
    out.push_str("### Failure modes\n\n");
    for (rev, m) in modes {
        let _ = writeln!(
            out,
            "- **{}**: {}",
            text(&super::unit_title(rev, m)),
            text(&m.message)
        );
    }
    out.push('\n');
}

fn rollback(out: &mut String, r: &Report) {
    let rb = &r.rollback;
    out.push_str("<details><summary>Rollback</summary>\n\n");
    if rb.complete {
        out.push_str("Every statement can be undone.\n\n");
    } else if rb.irreversible.is_empty() {
        out.push_str("The rollback script is incomplete.\n\n");
    } else {
        let _ = writeln!(
            out,
            "{} cannot be undone:\n",
            count(rb.irreversible.len(), "statement", "statements")
        );
        for i in &rb.irreversible {
            let line = r
                .statements
                .get(i.statement)
                .map(|s| format!("line {}", s.span.start_line))
                .unwrap_or_else(|| format!("statement {}", i.statement));
            let _ = writeln!(out, "- {line}: {}", text(&i.reason));
        }
        out.push('\n');
    }
    if rb.script.trim().is_empty() {
        out.push_str("No rollback script was generated.\n\n");
    } else {
        fenced(out, "sql", &rb.script);
    }
    out.push_str("</details>\n");
}

/// A fenced code block whose fence is longer than any backtick run inside, so the code cannot end it.
fn fenced(out: &mut String, lang: &str, code: &str) {
    let mut longest = 0;
    let mut run = 0;
    for c in code.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    let _ = writeln!(out, "{fence}{lang}\n{}\n{fence}\n", code.trim_end());
}

/// Text inside a table cell: `|` would end the cell and a newline the row.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Text inside single backticks: a backtick would end the code span.
fn code_text(s: &str) -> String {
    s.replace('`', "'")
}

/// Prose from messages: `<` would start HTML in a PR comment (GitHub strips unknown tags).
fn text(s: &str) -> String {
    s.replace('<', "&lt;")
}

fn risk_cell(r: Risk) -> String {
    match r {
        Risk::High | Risk::Critical => format!("**{}**", r.as_str()),
        _ => r.as_str().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_findings_and_collapsed_rollback() {
        let r = crate::analyze("BEGIN;\nCREATE INDEX ix ON t (a);\nCOMMIT;\n");
        let md = render(&r);
        assert!(md.starts_with("## migsafe: `-`\n"), "{md}");
        assert!(md.contains("| revision | line | statement |"), "{md}");
        assert!(
            md.contains(
                "| 2 | `CREATE INDEX ix ON t (a);` | create_index | ShareLock on public.t |"
            ),
            "{md}"
        );
        assert!(
            md.contains("- **error** `create-index-non-concurrently`"),
            "{md}"
        );
        assert!(md.contains("<br>*Help:* "), "{md}");
        assert!(md.contains("<details><summary>Rollback</summary>"), "{md}");
        assert!(md.ends_with("</details>\n"), "{md}");
    }

    #[test]
    fn rollback_script_is_shown_when_present() {
        let mut r = crate::analyze("CREATE TABLE t (a int);\n");
        r.rollback.script = "DROP TABLE t;\n".to_string();
        r.rollback.complete = true;
        let md = render(&r);
        assert!(md.contains("```sql\nDROP TABLE t;\n```"), "{md}");
        assert!(md.contains("Every statement can be undone."), "{md}");
    }

    #[test]
    fn fences_and_cells_cannot_be_broken_by_the_sql() {
        let mut out = String::new();
        fenced(&mut out, "sql", "SELECT '```';");
        assert!(out.starts_with("````sql\n"), "{out}");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
