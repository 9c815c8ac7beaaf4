//! Reading the text: statements with exact spans, Alembic revisions, directives.
//!
//! Nothing here parses SQL grammar: one lexer with PostgreSQL's rules (`lexer`) decides where
//! tokens and statements end, as psql does; the revision structure comes from comments, so every
//! later stage can rely on complete, ordered statements.

pub mod alembic;
pub mod directive;
pub mod lexer;
mod session;
pub mod split;

pub use alembic::{Direction, Marker};
pub use split::{RawKind, Span};

use std::ops::Range;

/// A migration to analyse: its name (a path, or `-` for standard input) and its text.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    /// The name reports give it: a path, or `-`/`<stdin>` for standard input.
    pub name: String,
    /// The migration's SQL.
    pub text: &'a str,
}

impl<'a> Source<'a> {
    /// A migration named `name` holding `text`.
    pub fn new(name: impl Into<String>, text: &'a str) -> Self {
        Source {
            name: name.into(),
            text,
        }
    }
}

/// One statement of the source.
#[derive(Debug, Clone)]
pub struct SourceStatement {
    pub span: Span,
    /// Byte range of the statement's own SQL (without the terminating `;`).
    pub body: Range<usize>,
    pub kind: RawKind,
    pub tokenizer_error: Option<String>,
    /// Index into [`Read::revisions`].
    pub revision: Option<usize>,
    /// Rules silenced by `-- migsafe: ignore …`.
    pub ignore: Vec<String>,
}

/// An Alembic revision step found in the text.
#[derive(Debug, Clone)]
pub struct RevisionStep {
    pub marker: Marker,
    pub statements: Vec<usize>,
}

/// The source, read.
#[derive(Debug, Clone, Default)]
pub struct Read {
    pub statements: Vec<SourceStatement>,
    pub revisions: Vec<RevisionStep>,
}

/// Splits the text as psql reads it on a connection whose `standard_conforming_strings` is on
/// (the server's default), and finds its revision structure and directives.
pub fn read(text: &str) -> Read {
    read_with(text, true)
}

/// [`read`] on a connection whose `standard_conforming_strings` starts as given (a database's
/// own setting); `SET` and `RESET` of it in the text change it from there on, as in psql.
pub fn read_with(text: &str, standard_conforming_strings: bool) -> Read {
    let split = split::split_with(text, standard_conforming_strings);
    let mut statements: Vec<SourceStatement> = split
        .statements
        .iter()
        .map(|s| SourceStatement {
            span: s.span,
            body: s.span.start_byte..s.body_end.max(s.span.start_byte),
            kind: s.kind,
            tokenizer_error: s.error.clone(),
            revision: None,
            ignore: Vec::new(),
        })
        .collect();

    let mut revisions: Vec<RevisionStep> = Vec::new();
    // (first statement index, revision index), in order.
    let mut starts: Vec<(usize, usize)> = Vec::new();
    for c in &split.comments {
        let comment = &text[c.span.start_byte..c.span.end_byte];
        if c.span.start_column == 1
            && let Some(m) = alembic::marker(comment)
        {
            starts.push((c.before_statement, revisions.len()));
            revisions.push(RevisionStep {
                marker: m,
                statements: Vec::new(),
            });
            continue;
        }
        if let Some(rules) = directive::ignored_rules(comment) {
            // Same line as the end of the statement before: that statement; otherwise the next one.
            let target = match c
                .before_statement
                .checked_sub(1)
                .and_then(|p| statements.get(p))
            {
                Some(prev) if prev.span.end_line == c.span.start_line => {
                    Some(c.before_statement - 1)
                }
                // The next statement with text: `op.execute("/* migsafe: … */")` exports the
                // comment with a `;` of its own, an empty statement.
                _ => (c.before_statement..statements.len())
                    .find(|&n| statements[n].kind != RawKind::Empty),
            };
            if let Some(t) = target {
                statements[t].ignore.extend(rules);
            }
        }
    }

    // Each statement belongs to the revision whose marker precedes it; a BEGIN that directly precedes
    // a marker (one transaction per revision) opens that revision's transaction, so it belongs to it.
    let mut next = starts.iter().peekable();
    let mut current: Option<usize> = None;
    for (i, st) in statements.iter_mut().enumerate() {
        while let Some(&&(first, rev)) = next.peek() {
            if first <= i {
                current = Some(rev);
                next.next();
            } else {
                break;
            }
        }
        st.revision = current;
        if let Some(&&(first, rev)) = next.peek()
            && first == i + 1
            && is_begin(&text[st.body.clone()])
        {
            st.revision = Some(rev);
        }
    }
    for (i, st) in statements.iter().enumerate() {
        if let Some(r) = st.revision {
            revisions[r].statements.push(i);
        }
    }
    Read {
        statements,
        revisions,
    }
}

/// `BEGIN`, `BEGIN TRANSACTION`, `BEGIN WORK`, `START TRANSACTION` (with nothing else).
/// Runs on every statement: it looks at three words at most and copies nothing (upper-casing the
/// words of a statement of many megabytes cost a copy of it).
fn is_begin(sql: &str) -> bool {
    let mut words = sql.split_whitespace();
    let (first, second, third) = (words.next(), words.next(), words.next());
    let is = |w: Option<&str>, k: &str| w.is_some_and(|w| w.eq_ignore_ascii_case(k));
    third.is_none()
        && ((is(first, "BEGIN")
            && (second.is_none() || is(second, "TRANSACTION") || is(second, "WORK")))
            || (is(first, "START") && is(second, "TRANSACTION")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PER_REVISION: &str = "BEGIN;\n\n-- Running upgrade a -> b\n\nALTER TABLE t ADD COLUMN c int;\n\nUPDATE alembic_version SET version_num='b' WHERE alembic_version.version_num = 'a';\n\nCOMMIT;\n\nBEGIN;\n\n-- Running upgrade b -> c\n\nUPDATE alembic_version SET version_num='c' WHERE alembic_version.version_num = 'b';\n\nCOMMIT;\n\n";

    #[test]
    fn revisions_and_their_statements() {
        let r = read(PER_REVISION);
        assert_eq!(r.revisions.len(), 2);
        assert_eq!(r.revisions[0].statements, [0, 1, 2, 3]);
        assert_eq!(r.revisions[1].statements, [4, 5, 6]);
        assert_eq!(r.revisions[1].marker.parents, ["b"]);
    }

    #[test]
    fn directive_targets() {
        let r = read(
            "-- migsafe: ignore rule-a\nSELECT 1;\nSELECT 2; -- migsafe: ignore rule-b\nSELECT 3;",
        );
        assert_eq!(r.statements[0].ignore, ["rule-a"]);
        assert_eq!(r.statements[1].ignore, ["rule-b"]);
        assert!(r.statements[2].ignore.is_empty());
        // Django's sqlmigrate: a RunSQL directive, then the next operation's header lines.
        let r = read(
            "--\n-- Raw SQL operation\n--\n-- migsafe: ignore rule-a;\n--\n-- Create index ix on field(s) a of model t\n--\nCREATE INDEX ix ON t (a);\n",
        );
        assert_eq!(r.statements.len(), 1);
        assert_eq!(r.statements[0].ignore, ["rule-a"]);
        // Alembic's op.execute("/* migsafe: ignore all */"): the comment, then an empty statement.
        let r = read(
            "/* migsafe: ignore all */;

CREATE INDEX ix ON t (a);
",
        );
        let texts: Vec<(RawKind, &[String])> = r
            .statements
            .iter()
            .map(|s| (s.kind, s.ignore.as_slice()))
            .collect();
        assert_eq!(
            texts,
            [
                (RawKind::Empty, &[][..]),
                (RawKind::Sql, &["all".to_string()][..])
            ]
        );
    }
}
