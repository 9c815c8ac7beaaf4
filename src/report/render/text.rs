//! The terminal report: rustc-style diagnostics (via `annotate-snippets`, the layout rustc and ruff
//! use), one per statement with findings (the others on the statement folded in as notes), then
//! the summary and what decides the exit code. Verbose adds one line of facts per statement, the
//! database section, failure modes, acknowledged findings and the rollback script.
//!
//! Linear in the report's size: each diagnostic renders only its own statement's text (the report
//! carries it), revisions are looked up by statement index, and nothing scans the whole file per finding.

use super::{
    by_importance, count, database_lines, direction_name, effects, findings_by_risk, gate,
    lock_text, observed_text, shown_level, transaction_name,
};
use crate::report::{
    Finding, RenderOptions, Report, RevisionReport, Risk, Severity, StatementReport,
};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use anstyle::{AnsiColor, Effects, Style};
use rayon::prelude::*;
use std::fmt::Write;
use std::ops::Range;

/// Renders `r` for a terminal; ANSI colours only when `options.color`, the statement table,
/// failure modes and rollback only when `options.verbose`.
pub fn render(r: &Report, options: RenderOptions) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and every piece written is a str.
    let _ = write(&mut out, r, options);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Statements whose diagnostics are laid out at a time: the output of a large report goes out in
/// pieces instead of being held whole (tens of megabytes at 20,000 statements).
const BATCH: usize = 512;

/// [`render`] written to `w`, a batch of statements at a time.
pub fn write(
    w: &mut impl std::io::Write,
    r: &Report,
    options: RenderOptions,
) -> std::io::Result<()> {
    let paint = Paint(options.color);
    let renderer = if options.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {}, {} (PostgreSQL {})",
        paint.bold(&clean(&r.source)),
        count(r.summary.statements, "statement", "statements"),
        count(r.revisions.len(), "revision", "revisions"),
        r.pg_version
    );
    w.write_all(out.as_bytes())?;
    let source = clean(&r.source);
    let fail_on = r.summary.fail_on;
    for batch in r.statements.chunks(BATCH) {
        // Each statement's diagnostic depends on that statement alone: laying them out (most of
        // this renderer's time) runs on every core.
        let diagnostics: Vec<String> = batch
            .par_iter()
            .filter_map(|s| {
                let findings = by_importance(s);
                let (primary, others) = findings.split_first()?;
                let group = diagnostic(&source, s, primary, others, fail_on);
                Some(format!("\n{}\n", renderer.render(&[group])))
            })
            .collect();
        for d in diagnostics {
            w.write_all(d.as_bytes())?;
        }
    }
    if options.verbose {
        statements(w, r, paint)?;
        database(w, r, paint)?;
        failure_modes(w, r, paint)?;
        acknowledged(w, r, paint)?;
        notes(w, r, paint)?;
        rollback(w, r, paint)?;
    }
    summary(w, r, paint)
}

fn level(s: Severity) -> Level<'static> {
    match s {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    }
}

/// A statement's findings as one rustc-style diagnostic: the primary finding's title (at the level
/// the gate gives it), the statement's lines with a caret under the flagged part, a note with what
/// the statement does, one note per other finding (`warning[rule]: message`), and the primary's help.
fn diagnostic<'a>(
    source: &'a str,
    s: &'a StatementReport,
    primary: &'a Finding,
    others: &[&'a Finding],
    fail_on: Risk,
) -> Group<'a> {
    // The statement's first line may start after other text on that line (two statements on one
    // line); spaces keep the caret and the reported column where they are in the file.
    let pad = (s.span.start_column as usize).saturating_sub(1);
    let mut text = String::with_capacity(pad + s.sql.len());
    text.extend(std::iter::repeat_n(' ', pad));
    text.push_str(&s.sql);
    let range = relative(s, primary);
    let label = lock_text(s).unwrap_or_else(|| s.kind.to_string());
    let snippet = Snippet::source(text)
        .line_start(s.span.start_line as usize)
        .path(source)
        .annotation(
            AnnotationKind::Primary
                .span(range.start + pad..range.end + pad)
                .label(label),
        );
    let mut group = level(shown_level(primary, fail_on))
        .primary_title(clean(&primary.message))
        .id(primary.rule.as_ref())
        .element(snippet)
        .element(Level::NOTE.message(note(s)));
    for f in others {
        let shown = super::severity_name(shown_level(f, fail_on));
        let folded = format!("{shown}[{}]: {}", f.rule, clean(&f.message));
        group = group.element(Level::NOTE.message(folded));
    }
    if !primary.help.is_empty() {
        group = group.element(Level::HELP.message(clean(&primary.help)));
    }
    group
}

/// The finding's range inside the statement's text; the whole statement when the finding's span is
/// not inside it (a report edited by hand, or a finding about the statement as a whole).
fn relative(s: &StatementReport, f: &Finding) -> Range<usize> {
    let whole = 0..s.sql.len();
    let (Some(start), Some(end)) = (
        f.span.start_byte.checked_sub(s.span.start_byte),
        f.span.end_byte.checked_sub(s.span.start_byte),
    ) else {
        return whole;
    };
    if start < end
        && end <= s.sql.len()
        && s.sql.is_char_boundary(start)
        && s.sql.is_char_boundary(end)
    {
        start..end
    } else {
        whole
    }
}

/// `alter_table in transaction; lock AccessExclusiveLock on public.tags (blocks reads and writes);
/// held …; rewrites the table; risk high`.
fn note(s: &StatementReport) -> String {
    let mut parts = vec![format!("{} {}", s.kind, transaction_name(s.transaction))];
    match (lock_text(s), s.lock) {
        (Some(text), Some(mode)) => parts.push(format!("lock {text} ({})", mode.blocks_what())),
        _ => parts.push("no lock on an existing table".to_string()),
    }
    if let Some(h) = s.held {
        parts.push(format!("held {} ({})", h.pg_name(), h.blocks_what()));
    }
    parts.extend(effects(s).into_iter().map(str::to_string));
    parts.push(format!("risk {}", s.risk.as_str()));
    parts.join("; ")
}

/// One line per statement, grouped under its revision.
fn statements(out: &mut dyn std::io::Write, r: &Report, paint: Paint) -> std::io::Result<()> {
    let revisions = super::revision_per_statement(r);
    writeln!(out, "\n{}", paint.bold("statements:"))?;
    let mut current: Option<&RevisionReport> = None;
    for (s, rev) in r.statements.iter().zip(revisions) {
        let same = match (rev, current) {
            (Some(a), Some(b)) => std::ptr::eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        if !same {
            current = rev;
            if let Some(rev) = rev {
                revision_line(out, rev, paint)?;
            }
        }
        let mut details = Vec::new();
        if let Some(l) = lock_text(s) {
            details.push(l);
        }
        if let Some(h) = s.held {
            details.push(format!("held {}", h.pg_name()));
        }
        details.extend(effects(s).into_iter().map(str::to_string));
        let n = s.findings.len();
        if n > 0 {
            details.push(count(n, "finding", "findings"));
        }
        writeln!(
            out,
            "    {:<9} {} {:<22} {:<14}  {}",
            format!("{}:{}", s.span.start_line, s.span.start_column),
            paint.risk(s.risk, &format!("{:<8}", s.risk.as_str())),
            s.kind,
            transaction_name(s.transaction),
            if details.is_empty() {
                "-".to_string()
            } else {
                details.join("; ")
            }
        )?;
        if let Some(o) = observed_text(s) {
            writeln!(out, "              {}", clean(&o))?;
        }
    }
    Ok(())
}

/// `upgrade 7ac759974ad8 (parents: df50e92ffc5e) in versions/7ac7_add_tags.py:12`.
fn revision_line(
    out: &mut dyn std::io::Write,
    rev: &RevisionReport,
    paint: Paint,
) -> std::io::Result<()> {
    let parents = if rev.parents.is_empty() {
        "base".to_string()
    } else {
        rev.parents.join(", ")
    };
    let file = match (&rev.file, rev.file_line) {
        (Some(f), Some(l)) => format!(" in {}:{l}", clean(f)),
        (Some(f), None) => format!(" in {}", clean(f)),
        _ => String::new(),
    };
    writeln!(
        out,
        "  {} {} (parents: {}){file}",
        direction_name(rev.direction),
        paint.bold(&clean(&rev.id)),
        clean(&parents)
    )
}

/// The findings an `-- migsafe: ignore` directive acknowledged: listed, not counted.
fn acknowledged(out: &mut dyn std::io::Write, r: &Report, paint: Paint) -> std::io::Result<()> {
    let mut any = false;
    for s in &r.statements {
        for f in &s.acknowledged {
            if !any {
                writeln!(out, "\n{}", paint.bold("acknowledged (migsafe: ignore):"))?;
                any = true;
            }
            writeln!(
                out,
                "  line {}: {}: {}",
                f.span.start_line,
                f.rule,
                clean(&f.message)
            )?;
        }
    }
    Ok(())
}

/// The hazards an earlier statement's finding already reports (one cause, one finding).
fn notes(out: &mut dyn std::io::Write, r: &Report, paint: Paint) -> std::io::Result<()> {
    let mut any = false;
    for s in &r.statements {
        for n in &s.notes {
            if !any {
                writeln!(
                    out,
                    "
{}",
                    paint.bold("covered by an earlier finding:")
                )?;
                any = true;
            }
            let at = r
                .statements
                .get(n.finding_at)
                .map_or(0, |p| p.span.start_line);
            writeln!(
                out,
                "  line {}: {} (the finding at line {at}): {}",
                s.span.start_line,
                n.rule,
                clean(&n.message)
            )?;
        }
    }
    Ok(())
}

/// The restored copy (`--database`): what was read, verified and not.
fn database(out: &mut dyn std::io::Write, r: &Report, paint: Paint) -> std::io::Result<()> {
    let Some(d) = &r.database else {
        return Ok(());
    };
    writeln!(out, "\n{}", paint.bold("database:"))?;
    for l in database_lines(d) {
        writeln!(out, "  {}", clean(&l))?;
    }
    Ok(())
}

fn rollback(out: &mut dyn std::io::Write, r: &Report, paint: Paint) -> std::io::Result<()> {
    let rb = &r.rollback;
    let state = if rb.complete {
        "complete".to_string()
    } else if rb.irreversible.is_empty() {
        "incomplete".to_string()
    } else {
        format!(
            "incomplete: {} cannot be undone",
            count(rb.irreversible.len(), "statement", "statements")
        )
    };
    writeln!(out, "\n{} {state}", paint.bold("rollback:"))?;
    for i in &rb.irreversible {
        let line = r
            .statements
            .get(i.statement)
            .map(|s| format!("line {}", s.span.start_line))
            .unwrap_or_else(|| format!("statement {}", i.statement));
        writeln!(out, "  {line}: {}", clean(&i.reason))?;
    }
    if !rb.script.trim().is_empty() {
        writeln!(out, "  script:")?;
        for l in rb.script.lines() {
            if l.is_empty() {
                out.write_all(b"\n")?;
            } else {
                writeln!(out, "    {}", clean(l))?;
            }
        }
    }
    Ok(())
}

/// What a failure of each commit unit leaves behind, one paragraph per unit.
fn failure_modes(out: &mut dyn std::io::Write, r: &Report, paint: Paint) -> std::io::Result<()> {
    let modes = super::failure_modes(r);
    if modes.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{}", paint.bold("failure modes:"))?;
    for (rev, m) in modes {
        writeln!(
            out,
            "  {}: {}",
            clean(&super::unit_title(rev, m)),
            clean(&m.message)
        )?;
    }
    Ok(())
}

/// The file at a glance, then what decides the exit code (the same numbers it follows).
fn summary(out: &mut dyn std::io::Write, r: &Report, paint: Paint) -> std::io::Result<()> {
    let sm = &r.summary;
    writeln!(
        out,
        "\n{} {} ({} unparsed), {}, risk {}; rollback {}",
        paint.bold("summary:"),
        count(sm.statements, "statement", "statements"),
        sm.unparsed,
        findings_by_risk(r),
        paint.risk(sm.risk, sm.risk.as_str()),
        if r.rollback.complete {
            "complete"
        } else {
            "incomplete"
        }
    )?;
    let (verdict, rest) = gate(r, str::to_string);
    writeln!(out, "{}{rest}", paint.verdict(r.fails(), verdict))
}

/// Text from the migration (names, SQL in the rollback script) with control characters replaced, so
/// a file cannot send escape sequences to the reader's terminal. annotate-snippets does the same
/// for the diagnostics.
fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(|c| c.is_control() && c != '\t') {
        s.chars()
            .map(|c| {
                if c.is_control() && c != '\t' {
                    '\u{FFFD}'
                } else {
                    c
                }
            })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

/// ANSI styling that is a no-op when colour is off.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn with(self, style: Style, text: &str) -> String {
        if self.0 {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    fn bold(self, text: &str) -> String {
        self.with(Style::new().effects(Effects::BOLD), text)
    }

    fn risk(self, risk: Risk, text: &str) -> String {
        let color = match risk {
            Risk::Critical | Risk::High => AnsiColor::BrightRed,
            Risk::Medium => AnsiColor::BrightYellow,
            Risk::Low => AnsiColor::BrightBlue,
            Risk::None => return text.to_string(),
        };
        self.with(color.on_default().effects(Effects::BOLD), text)
    }

    fn verdict(self, fails: bool, text: &str) -> String {
        let color = if fails {
            AnsiColor::BrightRed
        } else {
            AnsiColor::BrightGreen
        };
        self.with(color.on_default().effects(Effects::BOLD), text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_has_no_escape_codes_and_colour_has_them() {
        let r = crate::analyze("BEGIN;\nCREATE INDEX ix ON t (a);\nCOMMIT;\n");
        let plain = render(&r, RenderOptions::default());
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(
            plain.contains("error[create-index-non-concurrently]"),
            "{plain}"
        );
        assert!(plain.contains("--> -:2:1"), "{plain}");
        let colored = render(&r, RenderOptions::default().color(true));
        assert!(colored.contains('\x1b'));
    }

    #[test]
    fn caret_stays_under_a_statement_that_starts_mid_line() {
        let r = crate::analyze("SELECT 1; CREATE INDEX ix ON t (a);\n");
        let text = render(&r, RenderOptions::default());
        assert!(text.contains("--> -:1:11"), "{text}");
        let line = text
            .lines()
            .find(|l| l.contains("^^^"))
            .unwrap_or_default()
            .to_string();
        let code = text
            .lines()
            .find(|l| l.contains("CREATE INDEX ix"))
            .unwrap_or_default();
        assert_eq!(line.find('^'), code.find("CREATE"), "{text}");
    }

    #[test]
    fn escape_sequences_in_the_file_do_not_reach_the_terminal() {
        let mut r = crate::analyze("CREATE INDEX ix ON t (a) WHERE b = '\x1b[31m';\n");
        r.source = "evil\x1b]0;title\x07.sql".into();
        r.rollback.script = "DROP INDEX ix; -- \x1b[2J\n".into();
        let text = render(&r, RenderOptions::default());
        assert!(!text.contains('\x1b'), "{text:?}");
    }

    #[test]
    fn several_findings_on_a_statement_are_one_diagnostic() {
        let r = crate::analyze(
            "BEGIN;\nALTER TABLE t ADD COLUMN c int;\nUPDATE t SET c = 1;\nCOMMIT;\n",
        );
        let update = &r.statements[2];
        assert!(update.findings.len() >= 2, "{:?}", update.findings);
        let text = render(&r, RenderOptions::default());
        assert_eq!(text.matches("| UPDATE t SET c = 1;").count(), 1, "{text}");
        assert_eq!(text.matches("--> -:3:1").count(), 1, "{text}");
        // The primary finding is the title, the others are notes naming their rule, without help.
        let primary = by_importance(update)[0];
        let title = format!(
            "{}[{}]: {}",
            super::super::severity_name(shown_level(primary, r.summary.fail_on)),
            primary.rule,
            primary.message
        );
        assert!(text.contains(&format!("\n{title}\n")), "{text}");
        for f in &by_importance(update)[1..] {
            let shown = super::super::severity_name(shown_level(f, r.summary.fail_on));
            let note = format!("= note: {shown}[{}]: {}\n", f.rule, f.message);
            assert_eq!(text.matches(&note).count(), 1, "{note}\n{text}");
        }
        assert_eq!(
            text.matches("= help: ").count(),
            r.statements
                .iter()
                .filter(|s| by_importance(s).first().is_some_and(|f| !f.help.is_empty()))
                .count(),
            "{text}"
        );
    }

    #[test]
    fn the_primary_finding_has_the_highest_risk() {
        let mut r = crate::analyze(
            "BEGIN;\nALTER TABLE t ADD COLUMN c int;\nUPDATE t SET c = 1;\nCOMMIT;\n",
        );
        let s = &mut r.statements[2];
        assert!(s.findings.len() >= 2, "{:?}", s.findings);
        for f in &mut s.findings {
            f.risk = Risk::Low;
        }
        s.findings[1].risk = Risk::Critical;
        let rule = s.findings[1].rule.clone();
        let text = render(&r, RenderOptions::default());
        assert!(text.contains(&format!("\nerror[{rule}]: ")), "{text}");
        assert!(!text.contains(&format!("= note: error[{rule}]")), "{text}");
    }

    #[test]
    fn concise_by_default_and_verbose_adds_the_details() {
        let mut r = crate::analyze(
            "BEGIN;\n-- migsafe: ignore create-index-non-concurrently\nCREATE INDEX ix ON t (a);\n\
             ALTER TABLE t ALTER COLUMN a TYPE bigint;\nCOMMIT;\n",
        );
        r.rollback.script = "DROP INDEX ix;\n".into();
        assert_eq!(
            r.statements[1].acknowledged.len(),
            1,
            "{:?}",
            r.statements[1]
        );
        let concise = render(&r, RenderOptions::default());
        let verbose = render(&r, RenderOptions::default().verbose(true));
        for section in [
            "\nstatements:\n",
            "\nfailure modes:\n",
            "\nrollback: ",
            "    DROP INDEX ix;\n",
        ] {
            assert!(!concise.contains(section), "{section}\n{concise}");
            assert!(verbose.contains(section), "{section}\n{verbose}");
        }
        let listed = "\nacknowledged (migsafe: ignore):\n  line 3: create-index-non-concurrently: ";
        assert!(!concise.contains(listed), "{concise}");
        assert!(verbose.contains(listed), "{verbose}");
        // Acknowledged: never a diagnostic, counted apart.
        assert!(
            !verbose.contains("[create-index-non-concurrently]"),
            "{verbose}"
        );
        assert!(concise.ends_with("; 1 acknowledged\n"), "{concise}");
        // Everything concise says, verbose says too, in the same order.
        let diagnostics = &concise[..concise.find("\nsummary: ").unwrap_or(0)];
        assert!(verbose.starts_with(diagnostics), "{verbose}");
    }

    #[test]
    fn the_summary_says_what_decides_the_exit_code() {
        let r = crate::analyze("BEGIN;\nCREATE INDEX ix ON t (a);\nCOMMIT;\n");
        let text = render(&r, RenderOptions::default());
        let last = text.lines().last().unwrap_or_default();
        assert_eq!(
            last,
            "fails (--fail-on high): 2 findings at risk high or above: \
             create-index-non-concurrently (line 2), missing-lock-timeout (line 2)",
            "{text}"
        );
        let r =
            crate::analyze("BEGIN;\n-- migsafe: ignore all\nCREATE INDEX ix ON t (a);\nCOMMIT;\n");
        let text = render(&r, RenderOptions::default());
        assert!(
            text.ends_with(
                "\nsummary: 3 statements (0 unparsed), no findings, risk none; rollback complete\n\
                 passes (--fail-on high): no finding at risk high or above; 3 acknowledged\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn an_error_never_stands_beside_a_passing_check() {
        // A rule of severity error on a statement whose effect is low risk (a small table).
        let mut r = crate::analyze("BEGIN;\nCREATE INDEX ix ON t (a);\nCOMMIT;\n");
        for f in &mut r.statements[1].findings {
            f.risk = Risk::Low;
        }
        r.statements[1].risk = Risk::Low;
        r.summary.risk = Risk::Low;
        r.summary.failing = 0;
        assert!(
            r.statements[1]
                .findings
                .iter()
                .any(|f| f.severity == Severity::Error)
        );
        let text = render(&r, RenderOptions::default().verbose(true));
        assert!(!text.contains("error"), "{text}");
        assert!(
            text.contains("\nwarning[create-index-non-concurrently]: "),
            "{text}"
        );
        assert!(text.contains("\npasses (--fail-on high): "), "{text}");
    }

    #[test]
    fn statement_facts_rollback_and_summary() {
        let r = crate::analyze("ALTER TABLE t ALTER COLUMN a TYPE bigint;\n");
        let text = render(&r, RenderOptions::default().verbose(true));
        assert!(text.contains("AccessExclusiveLock on public.t"), "{text}");
        assert!(text.contains("rewrites the table"), "{text}");
        assert!(
            text.contains("\nsummary: 1 statement (0 unparsed), "),
            "{text}"
        );
        assert!(text.contains("\nrollback: "), "{text}");
    }
}
