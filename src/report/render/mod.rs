//! Renderers: each turns [`Report`]s into text for one audience. They see only the report (never the
//! migration file), so a report read back from JSON renders the same.

pub mod github;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod text;

use crate::report::{
    FailureMode, Finding, Format, RenderOptions, Report, RevisionReport, Risk, Severity,
    StatementReport, Transaction,
};
use crate::source::Direction;

/// Renders several reports (one per migration file) as one document:
/// - `json`: one object for one report, an array for several;
/// - `sarif`: one log with one run holding every file's results (GitHub code scanning rejects
///   several runs of one tool in one upload);
/// - `markdown`: the reports one after the other, at most [`markdown::LIMIT`] characters in all;
/// - `text`, `github`: the reports one after the other.
pub fn render_many(reports: &[Report], format: Format, options: RenderOptions) -> String {
    match format {
        Format::Json => json::render_many(reports),
        Format::Sarif => sarif::render(reports, options.rules),
        Format::Text => join(reports, "\n", |r| text::render(r, options)),
        Format::Markdown => markdown::render_many(reports),
        Format::Github => join(reports, "", github::render),
    }
}

/// [`render_many`] written to `w`; JSON and text go out in pieces, without building the document in
/// memory first.
pub fn write_many(
    w: &mut impl std::io::Write,
    reports: &[Report],
    format: Format,
    options: RenderOptions,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write_many(w, reports),
        Format::Text => {
            for (i, r) in reports.iter().enumerate() {
                if i > 0 {
                    w.write_all(b"\n")?;
                }
                text::write(w, r, options)?;
            }
            Ok(())
        }
        _ => w.write_all(render_many(reports, format, options).as_bytes()),
    }
}

fn join(reports: &[Report], sep: &str, f: impl Fn(&Report) -> String) -> String {
    let mut out = String::new();
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(&f(r));
    }
    out
}

pub(crate) fn severity_name(s: Severity) -> &'static str {
    s.as_str()
}

pub(crate) fn transaction_name(t: Transaction) -> &'static str {
    match t {
        Transaction::InTransaction => "in transaction",
        Transaction::Autocommit => "autocommit",
        Transaction::Bookkeeping => "bookkeeping",
    }
}

pub(crate) fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Upgrade => "upgrade",
        Direction::Downgrade => "downgrade",
    }
}

/// `AccessExclusiveLock on public.tags` (the tables that get the strongest mode), or `None`.
pub(crate) fn lock_text(s: &StatementReport) -> Option<String> {
    let mode = s.lock?;
    let tables: Vec<&str> = s
        .locks
        .iter()
        .filter(|l| l.mode == mode)
        .map(|l| l.table.as_str())
        .collect();
    Some(if tables.is_empty() {
        mode.pg_name().to_string()
    } else {
        format!("{} on {}", mode.pg_name(), tables.join(", "))
    })
}

/// What the statement does to existing tables, in words: `rewrites the table`, `full scan`, ….
pub(crate) fn effects(s: &StatementReport) -> Vec<&'static str> {
    [
        (s.rewrites_table, "rewrites the table"),
        (s.full_scan, "full scan"),
        (s.destroys_data, "destroys data"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, what)| what)
    .collect()
}

/// The first line of a statement, cut to `max` characters (with `…`) for tables and titles.
pub(crate) fn first_line(sql: &str, max: usize) -> String {
    let line = sql.lines().next().unwrap_or("").trim_end();
    let more = sql.trim_end().contains('\n');
    let mut out: String = line.chars().take(max).collect();
    if more || line.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// Plural helper: `1 error`, `2 errors`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What the verification run saw for a statement, in one line: `ran in 565 ms; newly locked
/// ShareLock on public.runs; rewrote public.runs; read public.runs sequentially`.
pub(crate) fn observed_text(s: &StatementReport) -> Option<String> {
    let o = s.observed.as_ref()?;
    if let Some(why) = &o.skipped {
        return Some(format!("not run on the copy: {why}"));
    }
    let mut parts = vec![format!("ran in {:.0} ms", o.duration_ms)];
    if let Some(sql) = &o.ran_as {
        parts.push(format!("as `{}`", first_line(sql, 60)));
    }
    if let Some(e) = &o.error {
        parts.push(format!("FAILED: {e}"));
    }
    if !o.locks.is_empty() {
        let locks: Vec<String> = o
            .locks
            .iter()
            .map(|l| format!("{} on {}", l.mode.pg_name(), l.table))
            .collect();
        parts.push(format!("newly locked {}", locks.join(", ")));
    }
    if !o.rewrote.is_empty() {
        parts.push(format!("rewrote {}", o.rewrote.join(", ")));
    }
    if !o.seq_scans.is_empty() {
        parts.push(format!("read {} sequentially", o.seq_scans.join(", ")));
    }
    Some(parts.join("; "))
}

/// The restored copy, in lines: where, what was checked, the rollback's verdict and the notes.
pub(crate) fn database_lines(d: &crate::report::DatabaseReport) -> Vec<String> {
    let mut out = vec![format!(
        "PostgreSQL {}; {} read from its catalog; {} EXPLAINed",
        d.server_version,
        count(d.tables, "relation", "relations"),
        count(d.explained, "statement", "statements"),
    )];
    if d.verified {
        out.push(
            "verified: the migration ran statement by statement in a transaction that was rolled back"
                .to_string(),
        );
    }
    match d.rollback_verified {
        Some(true) => out.push(
            "rollback verified on the copy: after the migration and the generated rollback, the schema is as before"
                .to_string(),
        ),
        Some(false) => {
            out.push("rollback NOT verified: the schema after the rollback differs".to_string());
            out.extend(d.rollback_differences.iter().map(|x| format!("  {x}")));
        }
        None => {}
    }
    out.extend(d.notes.iter().map(|n| format!("note: {n}")));
    out
}
/// Every failure mode of the report with its revision id (none outside revisions), in unit order.
/// A unit shared by several revisions (one transaction for all) is listed once.
pub(crate) fn failure_modes(r: &Report) -> Vec<(Option<&str>, &FailureMode)> {
    let mut out: Vec<(Option<&str>, &FailureMode)> = r
        .revisions
        .iter()
        .flat_map(|rev| rev.failure_modes.iter().map(|m| (Some(rev.id.as_str()), m)))
        .chain(r.failure_modes.iter().map(|m| (None, m)))
        .collect();
    out.sort_by_key(|(_, m)| m.unit);
    out.dedup_by_key(|(_, m)| m.unit);
    out
}

/// `unit 2 (transaction block)` / `unit 3 (autocommit)`, with the revision when there is one.
pub(crate) fn unit_title(revision: Option<&str>, m: &FailureMode) -> String {
    let kind = if m.in_transaction {
        "transaction block"
    } else {
        "autocommit"
    };
    match revision {
        Some(id) => format!("revision {id}, unit {} ({kind})", m.unit),
        None => format!("unit {} ({kind})", m.unit),
    }
}

/// The line of the unit's first statement that does something (not transaction control, `SET` or
/// bookkeeping): where an annotation about the unit goes.
pub(crate) fn unit_line(r: &Report, m: &FailureMode) -> Option<u32> {
    unit_statement(r, m).map(|(_, s)| s.span.start_line)
}

/// The unit's first statement that does something (see [`unit_line`]), with its index.
pub(crate) fn unit_statement<'a>(
    r: &'a Report,
    m: &FailureMode,
) -> Option<(usize, &'a StatementReport)> {
    m.statements
        .iter()
        .filter_map(|&i| r.statements.get(i).map(|s| (i, s)))
        .find(|(_, s)| {
            s.transaction != Transaction::Bookkeeping
                && !matches!(
                    s.kind.as_ref(),
                    "begin" | "commit" | "rollback" | "set" | "reset" | "empty" | "text"
                )
        })
}

/// The level a finding is shown at: `error` when its risk reaches `fail_on` (it fails the check),
/// `info` for advice below it, `warning` otherwise. The rule's configured severity stays in the
/// JSON report; what the other formats print follows the gate, so an "error" never stands beside a
/// passing check.
pub(crate) fn shown_level(f: &Finding, fail_on: Risk) -> Severity {
    if f.risk >= fail_on {
        Severity::Error
    } else if f.severity == Severity::Info {
        Severity::Info
    } else {
        Severity::Warning
    }
}

/// A statement's findings in the order they are shown: the highest risk first, then the highest
/// severity, then the rules' order. The first is the statement's primary finding.
pub(crate) fn by_importance(s: &StatementReport) -> Vec<&Finding> {
    let mut sorted: Vec<&Finding> = s.findings.iter().collect();
    sorted.sort_by_key(|f| (std::cmp::Reverse(f.risk), std::cmp::Reverse(f.severity)));
    sorted
}

/// Counts by risk (indexed by `Risk as usize`), highest first, the empty ones left out:
/// `1 high, 2 medium`.
pub(crate) fn risk_counts(by_risk: &[usize; 5]) -> String {
    let parts: Vec<String> = RISKS
        .iter()
        .rev()
        .filter(|risk| by_risk[**risk as usize] > 0)
        .map(|risk| format!("{} {}", by_risk[*risk as usize], risk.as_str()))
        .collect();
    parts.join(", ")
}

/// The remaining findings counted by risk, highest first: `3 findings (1 high, 2 medium)`, or
/// `no findings`.
pub(crate) fn findings_by_risk(r: &Report) -> String {
    let mut by_risk = [0usize; 5];
    for f in r.statements.iter().flat_map(|s| &s.findings) {
        by_risk[f.risk as usize] += 1;
    }
    let total: usize = by_risk.iter().sum();
    if total == 0 {
        return "no findings".to_string();
    }
    format!(
        "{} ({})",
        count(total, "finding", "findings"),
        risk_counts(&by_risk)
    )
}

/// Every risk level, lowest first.
pub(crate) const RISKS: [Risk; 5] = [
    Risk::None,
    Risk::Low,
    Risk::Medium,
    Risk::High,
    Risk::Critical,
];

/// Deciding findings a gate line names before it says `and N more`.
const GATE_NAMES: usize = 5;

/// What decides the exit code, in one line: the verdict (`fails` / `passes`) and the rest, e.g.
/// ` (--fail-on high): 2 findings at risk high or above: drop-column (line 20), …; 3 acknowledged`.
/// `code` formats the flag and the rule names (backticks in Markdown).
pub(crate) fn gate(r: &Report, code: impl Fn(&str) -> String) -> (&'static str, String) {
    let sm = &r.summary;
    let level = if sm.fail_on == Risk::Critical {
        format!("at risk {}", sm.fail_on.as_str())
    } else {
        format!("at risk {} or above", sm.fail_on.as_str())
    };
    let flag = code(&format!("--fail-on {}", sm.fail_on.as_str()));
    let (verdict, mut rest) = if sm.failing > 0 {
        let named: Vec<String> = r
            .deciding()
            .take(GATE_NAMES)
            .map(|(_, f)| format!("{} (line {})", code(&f.rule), f.span.start_line))
            .collect();
        let mut rest = format!(
            " ({flag}): {} {level}: {}",
            count(sm.failing, "finding", "findings"),
            named.join(", ")
        );
        if sm.failing > named.len() {
            rest.push_str(&format!(" and {} more", sm.failing - named.len()));
        }
        ("fails", rest)
    } else {
        ("passes", format!(" ({flag}): no finding {level}"))
    };
    if sm.acknowledged > 0 {
        rest.push_str(&format!("; {} acknowledged", sm.acknowledged));
    }
    (verdict, rest)
}

/// The revision each statement belongs to, by statement index: the revision whose `statements`
/// lists it (a file can hold the same revision id twice, upgrade then downgrade).
pub(crate) fn revision_per_statement(r: &Report) -> Vec<Option<&RevisionReport>> {
    let mut out = vec![None; r.statements.len()];
    for rev in &r.revisions {
        for &i in &rev.statements {
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(rev);
            }
        }
    }
    out
}

/// The revision's Python file and the line of its `upgrade()` / `downgrade()`, when the report
/// knows the file (`--alembic-versions`): where annotations about its statements point.
pub(crate) fn python_file(rev: Option<&RevisionReport>) -> Option<(&str, Option<u32>)> {
    let rev = rev?;
    Some((rev.file.as_deref()?, rev.file_line))
}
