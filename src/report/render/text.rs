//! Plain text report: one line per statement, findings under it, a summary at the end.

use crate::report::{Report, Severity, Transaction};
use std::fmt::Write;

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} statements, {} revisions",
        r.source,
        r.summary.statements,
        r.revisions.len()
    );
    let mut revision: Option<&str> = None;
    for s in &r.statements {
        if s.revision.as_deref() != revision {
            revision = s.revision.as_deref();
            if let Some(id) = revision
                && let Some(rev) = r.revisions.iter().find(|x| x.id == id)
            {
                let dir = match rev.direction {
                    crate::source::Direction::Upgrade => "upgrade",
                    crate::source::Direction::Downgrade => "downgrade",
                };
                let _ = writeln!(
                    out,
                    "\n{dir} {} (parents: {})",
                    rev.id,
                    parents(&rev.parents)
                );
            }
        }
        let tx = match s.transaction {
            Transaction::InTransaction => "in transaction",
            Transaction::Autocommit => "autocommit",
            Transaction::Bookkeeping => "bookkeeping",
        };
        let lock = s
            .lock
            .map(|l| l.pg_name().to_string())
            .unwrap_or_else(|| "-".to_string());
        let mut facts = Vec::new();
        if let Some(h) = s.held {
            facts.push(format!("held {}", h.pg_name()));
        }
        for (on, what) in [
            (s.rewrites_table, "rewrite"),
            (s.full_scan, "full scan"),
            (s.destroys_data, "destroys data"),
        ] {
            if on {
                facts.push(what.to_string());
            }
        }
        let _ = writeln!(
            out,
            "  {:<8} {:<22} {:<15} lock {:<24} risk {}{}",
            format!("{}:{}", s.span.start_line, s.span.start_column),
            s.kind,
            tx,
            lock,
            s.risk.as_str(),
            if facts.is_empty() {
                String::new()
            } else {
                format!(" ({})", facts.join(", "))
            }
        );
        for f in &s.findings {
            let sev = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            let _ = writeln!(out, "      {sev}[{}]: {}", f.rule, f.message);
            if !f.help.is_empty() {
                let _ = writeln!(out, "        help: {}", f.help);
            }
        }
    }
    let f = &r.summary.findings;
    let _ = writeln!(
        out,
        "\nsummary: {} statements ({} unparsed), {} errors, {} warnings, {} info, risk {}",
        r.summary.statements,
        r.summary.unparsed,
        f.error,
        f.warning,
        f.info,
        r.summary.risk.as_str()
    );
    out
}

fn parents(p: &[String]) -> String {
    if p.is_empty() {
        "base".to_string()
    } else {
        p.join(", ")
    }
}
