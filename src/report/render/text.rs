//! The terminal report: rustc-style diagnostics (via `annotate-snippets`, the layout rustc and ruff
//! use) for every finding, then one line of facts per statement, the rollback and a summary.
//!
//! Linear in the report's size: each finding renders only its own statement's text (the report
//! carries it), revisions are looked up in a map, and nothing scans the whole file per finding.

use super::{
    count, database_lines, direction_name, effects, lock_text, observed_text, transaction_name,
};
use crate::report::{Finding, RenderOptions, Report, Risk, Severity, StatementReport};
use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use anstyle::{AnsiColor, Effects, Style};
use rayon::prelude::*;
use std::collections::HashMap;
use std::fmt::Write;
use std::ops::Range;

/// Renders `r` for a terminal; ANSI colours only when `options.color`.
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
    for batch in r.statements.chunks(BATCH) {
        // Each statement's diagnostics depend on that statement alone: laying them out (most of
        // this renderer's time) runs on every core.
        let diagnostics: Vec<String> = batch
            .par_iter()
            .map(|s| {
                // Most severe first; the statement's lines and the note are shown once, with the
                // first finding, and the others point at the same place.
                let mut findings: Vec<&Finding> = s.findings.iter().collect();
                findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
                let mut out = String::new();
                for (i, f) in findings.into_iter().enumerate() {
                    out.push('\n');
                    out.push_str(&renderer.render(&[diagnostic(&source, s, f, i == 0)]));
                    out.push('\n');
                }
                out
            })
            .collect();
        for d in diagnostics {
            w.write_all(d.as_bytes())?;
        }
    }
    statements(w, r, paint)?;
    database(w, r, paint)?;
    failure_modes(w, r, paint)?;
    rollback(w, r, paint)?;
    summary(w, r, paint)
}

/// One finding as a rustc-style diagnostic: title, the statement's lines with a caret under the
/// flagged part and a note with what the statement does (`full`), or only where it is, and the help.
fn diagnostic<'a>(
    source: &'a str,
    s: &'a StatementReport,
    f: &'a Finding,
    full: bool,
) -> Group<'a> {
    let level = match f.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    };
    if !full {
        let origin = Origin::path(source)
            .line(f.span.start_line as usize)
            .char_column(f.span.start_column as usize);
        let mut group = level
            .primary_title(clean(&f.message))
            .id(f.rule.as_ref())
            .element(origin);
        if !f.help.is_empty() {
            group = group.element(Level::HELP.message(clean(&f.help)));
        }
        return group;
    }
    // The statement's first line may start after other text on that line (two statements on one
    // line); spaces keep the caret and the reported column where they are in the file.
    let pad = (s.span.start_column as usize).saturating_sub(1);
    let mut text = String::with_capacity(pad + s.sql.len());
    text.extend(std::iter::repeat_n(' ', pad));
    text.push_str(&s.sql);
    let range = relative(s, f);
    let label = lock_text(s).unwrap_or_else(|| s.kind.to_string());
    let snippet = Snippet::source(text)
        .line_start(s.span.start_line as usize)
        .path(source)
        .annotation(
            AnnotationKind::Primary
                .span(range.start + pad..range.end + pad)
                .label(label),
        );
    let mut group = level
        .primary_title(clean(&f.message))
        .id(f.rule.as_ref())
        .element(snippet)
        .element(Level::NOTE.message(note(s)));
    if !f.help.is_empty() {
        group = group.element(Level::HELP.message(clean(&f.help)));
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
    let revisions: HashMap<&str, _> = r.revisions.iter().map(|x| (x.id.as_str(), x)).collect();
    writeln!(out, "\n{}", paint.bold("statements:"))?;
    let mut current: Option<&str> = None;
    for s in &r.statements {
        if s.revision.as_deref() != current {
            current = s.revision.as_deref();
            if let Some(rev) = current.and_then(|id| revisions.get(id)) {
                let parents = if rev.parents.is_empty() {
                    "base".to_string()
                } else {
                    rev.parents.join(", ")
                };
                writeln!(
                    out,
                    "  {} {} (parents: {parents})",
                    direction_name(rev.direction),
                    paint.bold(&rev.id)
                )?;
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

fn summary(out: &mut dyn std::io::Write, r: &Report, paint: Paint) -> std::io::Result<()> {
    let sm = &r.summary;
    let f = &sm.findings;
    writeln!(
        out,
        "\n{} {} ({} unparsed), {}, {}, {} info; risk {}; rollback {}",
        paint.bold("summary:"),
        count(sm.statements, "statement", "statements"),
        sm.unparsed,
        paint.severity(Severity::Error, &count(f.error, "error", "errors"), f.error),
        paint.severity(
            Severity::Warning,
            &count(f.warning, "warning", "warnings"),
            f.warning
        ),
        f.info,
        paint.risk(sm.risk, sm.risk.as_str()),
        if r.rollback.complete {
            "complete"
        } else {
            "incomplete"
        }
    )?;
    Ok(())
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

    fn severity(self, severity: Severity, text: &str, n: usize) -> String {
        if n == 0 {
            return text.to_string();
        }
        let color = match severity {
            Severity::Error => AnsiColor::BrightRed,
            Severity::Warning => AnsiColor::BrightYellow,
            Severity::Info => AnsiColor::BrightBlue,
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
    fn several_findings_on_a_statement_show_its_lines_once() {
        let r = crate::analyze(
            "BEGIN;\nALTER TABLE t ADD COLUMN c int;\nUPDATE t SET c = 1;\nCOMMIT;\n",
        );
        assert!(
            r.statements[2].findings.len() >= 2,
            "{:?}",
            r.statements[2].findings
        );
        let text = render(&r, RenderOptions::default());
        assert_eq!(text.matches("| UPDATE t SET c = 1;").count(), 1, "{text}");
        assert_eq!(
            text.matches("--> -:3:1").count(),
            r.statements[2].findings.len(),
            "{text}"
        );
    }

    #[test]
    fn statement_facts_rollback_and_summary() {
        let r = crate::analyze("ALTER TABLE t ALTER COLUMN a TYPE bigint;\n");
        let text = render(&r, RenderOptions::default());
        assert!(text.contains("AccessExclusiveLock on public.t"), "{text}");
        assert!(text.contains("rewrites the table"), "{text}");
        assert!(
            text.contains("\nsummary: 1 statement (0 unparsed), "),
            "{text}"
        );
        assert!(text.contains("rollback "), "{text}");
    }
}
