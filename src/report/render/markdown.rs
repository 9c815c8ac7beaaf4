//! The Markdown report for a PR comment (and for `FILE.migsafe.md` snapshots): the summary and what
//! decides the exit code, a table of every statement, the findings with their help under the
//! statement they concern, acknowledged findings, failure modes and the rollback script in a
//! collapsed block.
//!
//! A document never exceeds [`LIMIT`] characters (GitHub rejects comments over 65,536): when it
//! would, the least important parts are left out first (the rollback script, the statement table,
//! the rollback's list, acknowledged findings, failure modes, the database section, then findings
//! from the lowest risk up) and a closing line says what was left out. A part is left out whole, so
//! no code fence, table or `<details>` block is ever cut.
//!
//! Deterministic: the same report gives the same bytes. No timestamps, no tool version (a version
//! bump would change every stored snapshot), and the source exactly as given.

use super::{
    by_importance, count, database_lines, direction_name, effects, findings_by_risk, first_line,
    gate, lock_text, observed_text, revision_per_statement, risk_counts, severity_name,
    shown_level,
};
use crate::report::{Report, RevisionReport, Risk, StatementReport};
use std::fmt::Write;

/// The most characters (Unicode scalar values) a Markdown document holds: GitHub's comment limit
/// (65,536) with a margin.
pub const LIMIT: usize = 65_000;

/// A pull-request comment for `r`, at most [`LIMIT`] characters.
pub fn render(r: &Report) -> String {
    render_many(std::slice::from_ref(r))
}

/// One comment for several reports, one after the other, at most [`LIMIT`] characters in all: what
/// is left out is chosen across the reports (every rollback script goes before any finding).
pub fn render_many(reports: &[Report]) -> String {
    let mut documents: Vec<Document> = reports.iter().map(Document::new).collect();
    let files_left_out = fit(&mut documents, LIMIT);
    let mut out = String::new();
    for (i, d) in documents.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        d.write(&mut out);
    }
    if files_left_out > 0 {
        let _ = write!(
            out,
            "\n_… {} left out to fit in a comment: {SEE_ALL}._\n",
            count(files_left_out, "more file is", "more files are")
        );
    }
    out
}

/// What a part of a report is: the order in which parts are left out follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    RollbackScript,
    Table,
    RollbackList,
    Acknowledged,
    FailureModes,
    Database,
    Finding,
}

/// A piece of a report that is shown whole or left out whole.
struct Part {
    kind: Kind,
    text: String,
    /// Its length in characters.
    chars: usize,
    /// A finding part's findings, counted by risk.
    findings: [usize; 5],
    /// The highest risk among them (findings are left out from the lowest risk up).
    risk: Risk,
    kept: bool,
}

impl Part {
    fn new(kind: Kind, text: String) -> Part {
        Part {
            kind,
            chars: text.chars().count(),
            text,
            findings: [0; 5],
            risk: Risk::None,
            kept: true,
        }
    }
}

/// One report's comment: a head that is always shown, and parts that may be left out.
struct Document {
    head: String,
    parts: Vec<Part>,
}

/// Headings and wrappers written around parts (ASCII: their lengths count characters).
const FINDINGS_HEADING: &str = "### Findings\n\n";
const DETAILS_OPEN: &str = "<details><summary>Rollback</summary>\n\n";
const DETAILS_CLOSE: &str = "</details>\n";

/// Room kept for the line that says what was left out (longer than any such line).
const NOTE_ROOM: usize = 600;

impl Document {
    fn new(r: &Report) -> Document {
        let mut parts = Vec::new();
        if !r.statements.is_empty() {
            parts.push(Part::new(Kind::Table, table(r)));
        }
        findings(&mut parts, r);
        for (kind, text) in [
            (Kind::Acknowledged, acknowledged(r)),
            (Kind::Database, database(r)),
            (Kind::FailureModes, failure_modes(r)),
            (Kind::RollbackList, rollback_list(r)),
            (Kind::RollbackScript, rollback_script(r)),
        ] {
            if !text.is_empty() {
                parts.push(Part::new(kind, text));
            }
        }
        Document {
            head: head(r),
            parts,
        }
    }

    /// Characters always written: the head, wrappers, and room for the closing note.
    fn fixed(&self) -> usize {
        let wrappers = FINDINGS_HEADING.len() + DETAILS_OPEN.len() + DETAILS_CLOSE.len();
        self.head.chars().count() + wrappers + NOTE_ROOM
    }

    /// Characters of the whole document, nothing left out.
    fn whole(&self) -> usize {
        let has = |kinds: &[Kind]| self.parts.iter().any(|p| kinds.contains(&p.kind));
        let mut wrappers = 0;
        if has(&[Kind::Finding]) {
            wrappers += FINDINGS_HEADING.len();
        }
        if has(&[Kind::RollbackList, Kind::RollbackScript]) {
            wrappers += DETAILS_OPEN.len() + DETAILS_CLOSE.len();
        }
        self.head.chars().count() + wrappers + self.parts.iter().map(|p| p.chars).sum::<usize>()
    }

    fn kept(&self) -> usize {
        self.parts.iter().filter(|p| p.kept).map(|p| p.chars).sum()
    }

    fn write(&self, out: &mut String) {
        out.push_str(&self.head);
        let kept = |kind: Kind| self.parts.iter().filter(move |p| p.kept && p.kind == kind);
        kept(Kind::Table).for_each(|p| out.push_str(&p.text));
        if kept(Kind::Finding).next().is_some() {
            out.push_str(FINDINGS_HEADING);
            kept(Kind::Finding).for_each(|p| out.push_str(&p.text));
        }
        for kind in [Kind::Acknowledged, Kind::Database, Kind::FailureModes] {
            kept(kind).for_each(|p| out.push_str(&p.text));
        }
        let mut rollback = kept(Kind::RollbackList)
            .chain(kept(Kind::RollbackScript))
            .peekable();
        if rollback.peek().is_some() {
            out.push_str(DETAILS_OPEN);
            rollback.for_each(|p| out.push_str(&p.text));
            out.push_str(DETAILS_CLOSE);
        }
        if let Some(note) = self.left_out() {
            out.push_str(&note);
        }
    }
}

/// Leaves parts out, least important first and across all documents, until they fit in `limit`
/// characters; when even the heads do not fit, whole documents from the end (returns how many).
fn fit(documents: &mut Vec<Document>, limit: usize) -> usize {
    let separators = documents.len().saturating_sub(1);
    let full: usize = documents.iter().map(Document::whole).sum();
    if full + separators <= limit {
        return 0;
    }
    let fixed: usize = documents.iter().map(Document::fixed).sum::<usize>() + separators;
    let mut total = fixed + documents.iter().map(Document::kept).sum::<usize>();
    let mut order: Vec<(usize, usize)> = documents
        .iter()
        .enumerate()
        .flat_map(|(d, doc)| (0..doc.parts.len()).map(move |p| (d, p)))
        .collect();
    // Least important first; among equals, the later part first, so that every document keeps
    // its first findings of a risk (then the later document first).
    order.sort_by_key(|&(d, p)| {
        let part = &documents[d].parts[p];
        (part.kind, part.risk, std::cmp::Reverse((p, d)))
    });
    for (d, p) in order {
        if total <= limit {
            return 0;
        }
        let part = &mut documents[d].parts[p];
        part.kept = false;
        total -= part.chars;
    }
    if total > limit {
        drop_documents(documents, limit)
    } else {
        0
    }
}

/// Too many reports for their heads to fit: the first ones that fit (at least one), with room
/// for the line that says how many follow. Returns how many were left out.
fn drop_documents(documents: &mut Vec<Document>, limit: usize) -> usize {
    let mut total = NOTE_ROOM;
    let mut fitting = 0;
    for d in documents.iter() {
        total += d.fixed() + 1;
        if total > limit {
            break;
        }
        fitting += 1;
    }
    let fitting = fitting.max(1);
    let left_out = documents.len().saturating_sub(fitting);
    documents.truncate(fitting);
    left_out
}

/// Where the whole report is.
const SEE_ALL: &str = "run `migsafe check --format json` or see the CI log";

impl Document {
    /// `_… 37 more findings (2 medium, 35 low), the statement table and the rollback script are
    /// left out to fit in a comment: run …_`, when something was left out.
    fn left_out(&self) -> Option<String> {
        let mut by_risk = [0usize; 5];
        let mut names: Vec<&str> = Vec::new();
        for p in self.parts.iter().filter(|p| !p.kept) {
            for (n, c) in by_risk.iter_mut().zip(p.findings) {
                *n += c;
            }
            let name = match p.kind {
                Kind::Finding => continue,
                Kind::RollbackScript => "the rollback script",
                Kind::Table => "the statement table",
                Kind::RollbackList => "the rollback summary",
                Kind::Acknowledged => "the acknowledged findings",
                Kind::FailureModes => "the failure modes",
                Kind::Database => "the database section",
            };
            names.push(name);
        }
        let findings: usize = by_risk.iter().sum();
        if findings == 0 && names.is_empty() {
            return None;
        }
        let mut items = Vec::new();
        if findings > 0 {
            let what = count(findings, "more finding", "more findings");
            items.push(format!("{what} ({})", risk_counts(&by_risk)));
        }
        items.extend(names.iter().map(|n| n.to_string()));
        let verb = if items.len() > 1 || findings > 1 {
            "are"
        } else {
            "is"
        };
        let list = match items.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        };
        // After a blank line: a line right after `</details>` would still be part of its HTML block.
        Some(format!(
            "\n_… {list} {verb} left out to fit in a comment: {SEE_ALL}._\n"
        ))
    }
}

/// The heading, the summary line and what decides the exit code.
fn head(r: &Report) -> String {
    let mut out = String::new();
    let sm = &r.summary;
    let source: String = r.source.chars().take(300).collect();
    let _ = writeln!(out, "## migsafe: `{}`\n", code_text(&source));
    let _ = writeln!(
        out,
        "**Risk: {}** · {} ({} unparsed) · {} · rollback {} · PostgreSQL {}\n",
        sm.risk.as_str(),
        count(sm.statements, "statement", "statements"),
        sm.unparsed,
        findings_by_risk(r),
        if r.rollback.complete {
            "complete"
        } else {
            "incomplete"
        },
        r.pg_version
    );
    let (verdict, rest) = gate(r, |s| format!("`{s}`"));
    let verdict = match verdict {
        "fails" => "Fails",
        _ => "Passes",
    };
    let _ = writeln!(out, "**{verdict}**{rest}\n");
    out
}

/// The restored copy (`--database`): what was read and verified, and what each statement did there.
fn database(r: &Report) -> String {
    let mut out = String::new();
    let Some(d) = &r.database else {
        return out;
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
    out
}

/// One row per statement.
fn table(r: &Report) -> String {
    let mut out = String::from(
        "| revision | line | statement | kind | lock | rewrite / scan | data loss | risk |\n\
         |---|---:|---|---|---|---|---|---|\n",
    );
    for (s, rev) in r.statements.iter().zip(revision_per_statement(r)) {
        let revision = match (s.revision.as_deref(), rev) {
            (Some(id), Some(rev)) => format!("`{}` {}", cell(id), direction_name(rev.direction)),
            (Some(id), None) => format!("`{}`", cell(id)),
            (None, _) => String::new(),
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
            cell(&clip(&lock, 300)),
            if s.destroys_data { "yes" } else { "" },
            risk_cell(s.risk),
        );
    }
    out.push('\n');
    out
}

/// One part per statement with findings: its SQL, what it does, and its findings (the primary
/// first) with their help.
fn findings(parts: &mut Vec<Part>, r: &Report) {
    let revisions = revision_per_statement(r);
    for (s, rev) in r.statements.iter().zip(revisions) {
        if s.findings.is_empty() {
            continue;
        }
        let mut out = String::new();
        let _ = write!(
            out,
            "#### Line {}: {} (risk {})",
            s.span.start_line,
            s.kind,
            s.risk.as_str()
        );
        if let Some(at) = python_location(rev) {
            let _ = write!(out, " · {at}");
        }
        out.push_str("\n\n");
        fenced(&mut out, "sql", &clip_lines(&s.sql));
        let mut facts = Vec::new();
        if let (Some(text), Some(mode)) = (lock_text(s), s.lock) {
            facts.push(format!("lock {text} ({})", mode.blocks_what()));
        }
        if let Some(h) = s.held {
            facts.push(format!("held {} ({})", h.pg_name(), h.blocks_what()));
        }
        facts.extend(effects(s).into_iter().map(str::to_string));
        if !facts.is_empty() {
            let _ = writeln!(out, "{}\n", text(&clip(&facts.join("; "), PROSE)));
        }
        let mut by_risk = [0; 5];
        for f in by_importance(s) {
            by_risk[f.risk as usize] += 1;
            let _ = writeln!(
                out,
                "- **{}** `{}`: {}",
                severity_name(shown_level(f, r.summary.fail_on)),
                f.rule,
                text(&clip(&f.message, PROSE))
            );
            if !f.help.is_empty() {
                let _ = writeln!(out, "  <br>*Help:* {}", text(&clip(&f.help, PROSE)));
            }
        }
        out.push('\n');
        let mut part = Part::new(Kind::Finding, out);
        part.findings = by_risk;
        part.risk = s
            .findings
            .iter()
            .map(|f| f.risk)
            .max()
            .unwrap_or(Risk::None);
        parts.push(part);
    }
}

/// `` `upgrade()` in `versions/7ac7_add_tags.py:12` ``: where the statement's revision is written,
/// when the report knows.
fn python_location(rev: Option<&RevisionReport>) -> Option<String> {
    let rev = rev?;
    let file = code_text(rev.file.as_deref()?);
    let function = direction_name(rev.direction);
    Some(match rev.file_line {
        Some(line) => format!("`{function}()` in `{file}:{line}`"),
        None => format!("`{function}()` in `{file}`"),
    })
}

/// The findings an `-- migsafe: ignore` directive acknowledged: listed, not counted.
fn acknowledged(r: &Report) -> String {
    let mut out = String::new();
    for f in r.statements.iter().flat_map(|s| &s.acknowledged) {
        if out.is_empty() {
            out.push_str("### Acknowledged (`migsafe: ignore`)\n\n");
        }
        let _ = writeln!(
            out,
            "- line {} `{}`: {}",
            f.span.start_line,
            f.rule,
            text(&clip(&f.message, PROSE))
        );
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// What a failure of each commit unit leaves behind: a list, so a reviewer sees before the deploy
/// what to run when the migration stops half-way.
fn failure_modes(r: &Report) -> String {
    let mut out = String::new();
    let modes = super::failure_modes(r);
    if modes.is_empty() {
        return out;
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
    out
}

/// Whether the rollback is complete, and what it cannot undo.
fn rollback_list(r: &Report) -> String {
    let rb = &r.rollback;
    let mut out = String::new();
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
            let _ = writeln!(out, "- {line}: {}", text(&clip(&i.reason, PROSE)));
        }
        out.push('\n');
    }
    out
}

fn rollback_script(r: &Report) -> String {
    let mut out = String::new();
    if r.rollback.script.trim().is_empty() {
        out.push_str("No rollback script was generated.\n\n");
    } else {
        fenced(&mut out, "sql", &r.rollback.script);
    }
    out
}

/// The most characters of one message, help or fact line (a report edited by hand, or names of
/// thousands of characters, cannot make one finding outgrow the comment).
const PROSE: usize = 2_000;

/// The most lines and characters of a statement shown under its findings.
const SQL_LINES: usize = 40;
const SQL_CHARS: usize = 4_000;

/// `s` cut to `max` characters, with `…`.
fn clip(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]).into(),
        None => s.into(),
    }
}

/// A statement cut to [`SQL_LINES`] lines and [`SQL_CHARS`] characters, with a comment saying how
/// many lines are not shown.
fn clip_lines(sql: &str) -> std::borrow::Cow<'_, str> {
    let sql = sql.trim_end();
    let total = sql.lines().count();
    let (mut end, mut chars, mut shown) = (0, 0, 0);
    for line in sql.split_inclusive('\n').take(SQL_LINES) {
        chars += line.chars().count();
        if chars > SQL_CHARS {
            break;
        }
        end += line.len();
        shown += 1;
    }
    if shown == total {
        return sql.into();
    }
    if shown == 0 {
        // One line longer than the limit.
        return format!(
            "{}\n-- … (cut)",
            clip(sql.lines().next().unwrap_or(""), SQL_CHARS)
        )
        .into();
    }
    format!(
        "{}\n-- … {} not shown",
        sql[..end].trim_end(),
        count(total - shown, "more line", "more lines")
    )
    .into()
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
    fn the_head_says_what_decides_the_exit_code() {
        let r = crate::analyze("BEGIN;\nCREATE INDEX ix ON t (a);\nCOMMIT;\n");
        assert!(
            render(&r).contains(
                "\n\n**Fails** (`--fail-on high`): 2 findings at risk high or above: \
                 `create-index-non-concurrently` (line 2), `missing-lock-timeout` (line 2)\n\n"
            ),
            "{}",
            render(&r)
        );
        let r = crate::analyze(
            "BEGIN;\n-- migsafe: ignore create-index-non-concurrently, missing-lock-timeout\n\
             CREATE INDEX ix ON t (a);\nCOMMIT;\n",
        );
        let md = render(&r);
        assert!(
            md.contains(
                "· 1 finding (1 low) · rollback complete · PostgreSQL 15\n\n\
                 **Passes** (`--fail-on high`): no finding at risk high or above; 2 acknowledged\n\n"
            ),
            "{md}"
        );
        assert!(
            md.contains(
                "### Acknowledged (`migsafe: ignore`)\n\n- line 3 `create-index-non-concurrently`: "
            ),
            "{md}"
        );
        assert!(!md.contains("**error**"), "{md}");
    }

    #[test]
    fn a_report_that_fits_is_whole_and_one_that_does_not_says_what_it_left_out() {
        let mut r = crate::analyze("BEGIN;\nCREATE INDEX ix ON t (a);\nCOMMIT;\n");
        r.rollback.script = "-- undo\n".repeat(10_000);
        let md = render(&r);
        assert!(md.chars().count() <= LIMIT);
        assert!(!md.contains("-- undo"), "{}", &md[md.len() - 400..]);
        assert!(md.contains("`create-index-non-concurrently`"), "{md}");
        assert!(
            md.contains("<details><summary>Rollback</summary>\n\nEvery"),
            "{md}"
        );
        assert!(
            md.ends_with(
                "</details>\n\n_… the rollback script is left out to fit in a comment: \
                 run `migsafe check --format json` or see the CI log._\n"
            ),
            "{md}"
        );
        r.rollback.script = "-- undo\n".into();
        assert!(!render(&r).contains("left out"));
    }

    #[test]
    fn a_long_statement_is_cut_in_its_fence() {
        let sql = "SELECT 1\n".repeat(100);
        let cut = clip_lines(&sql);
        assert_eq!(cut.lines().count(), SQL_LINES + 1);
        assert!(cut.ends_with("\n-- … 60 more lines not shown"), "{cut}");
        let line = "x".repeat(SQL_CHARS * 2);
        assert_eq!(
            clip_lines(&line).chars().count(),
            SQL_CHARS + 1 + "\n-- … (cut)".chars().count()
        );
        assert_eq!(clip_lines("SELECT 1;\n"), "SELECT 1;");
    }

    #[test]
    fn the_length_of_a_whole_document_is_counted_exactly() {
        for sql in [
            "BEGIN;\nCREATE INDEX ix ON t (a);\nCOMMIT;\n",
            "SELECT 1;\n",
            "",
            "CREATE TABLE t (a int); -- é ü\n",
        ] {
            let d = Document::new(&crate::analyze(sql));
            let mut out = String::new();
            d.write(&mut out);
            assert_eq!(d.whole(), out.chars().count(), "{out}");
        }
    }

    #[test]
    fn the_note_on_what_was_left_out_fits_in_its_room() {
        let mut d = Document {
            head: String::new(),
            parts: Vec::new(),
        };
        for kind in [
            Kind::RollbackScript,
            Kind::Table,
            Kind::RollbackList,
            Kind::Acknowledged,
            Kind::FailureModes,
            Kind::Database,
        ] {
            let mut p = Part::new(kind, String::new());
            p.kept = false;
            d.parts.push(p);
        }
        let mut p = Part::new(Kind::Finding, String::new());
        p.findings = [usize::MAX / 8; 5];
        p.kept = false;
        d.parts.push(p);
        let note = d.left_out().unwrap_or_default();
        assert!(note.chars().count() + 200 <= NOTE_ROOM, "{note}");
    }

    #[test]
    fn findings_name_the_revision_file() {
        let mut r = crate::analyze(
            "BEGIN;\n-- Running upgrade a1 -> b2\nCREATE INDEX ix ON t (a);\nCOMMIT;\n",
        );
        assert!(render(&r).contains("\n#### Line 3: create_index (risk high)\n"));
        r.revisions[0].file = Some("versions/b2_`add`.py".into());
        r.revisions[0].file_line = Some(12);
        let md = render(&r);
        assert!(
            md.contains(
                "\n#### Line 3: create_index (risk high) · `upgrade()` in `versions/b2_'add'.py:12`\n"
            ),
            "{md}"
        );
    }

    #[test]
    fn fences_and_cells_cannot_be_broken_by_the_sql() {
        let mut out = String::new();
        fenced(&mut out, "sql", "SELECT '```';");
        assert!(out.starts_with("````sql\n"), "{out}");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
