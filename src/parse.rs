//! The only module that calls sqlparser's parser. Each statement is parsed on its own, so one failure
//! never stops the analysis of the others.
//!
//! Before parsing, what Python left in real exports is made readable: SQLAlchemy's pyformat
//! placeholders (`%(name)s`, `%s`) become positional parameters (`$1`) and a doubled `%%` outside string
//! literals becomes `%`. Token positions are shifted to the statement's place in the file, so parser
//! messages name the file's line and column.

use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Tokenizer};

/// A token in migsafe's own terms, for the keyword fallback (which must not see sqlparser).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An identifier or key word. `upper` is the upper-cased text for keyword matching (empty for
    /// quoted identifiers, which are never key words); `ident` is the name as PostgreSQL folds it.
    Word {
        upper: String,
        ident: String,
    },
    /// A string literal's content.
    Str(String),
    Number(String),
    /// `$$ … $$` or `$tag$ … $tag$`: the content.
    Dollar(String),
    /// Punctuation and operators as written: `(`, `)`, `,`, `.`, `=`, `::`, …
    Punct(String),
}

impl Tok {
    pub(crate) fn is_kw(&self, kw: &str) -> bool {
        matches!(self, Tok::Word { upper, .. } if upper == kw)
    }
}

/// A statement parsed (or not) by sqlparser, with its tokens.
pub(crate) struct Parsed {
    pub(crate) statement: Result<Statement, String>,
    pub(crate) tokens: Vec<Tok>,
}

/// Statements longer than this are not handed to sqlparser: its tokens and AST take many times
/// the text (a multi-megabyte INSERT of seed data would cost hundreds of megabytes), and no DDL
/// comes near it. Such a statement is reported as unparsed, with its size.
const MAX_PARSE_BYTES: usize = 4 << 20;

/// Parses the statement text `sql`, which starts at (`line`, `column`) of the file.
pub(crate) fn parse(sql: &str, line: u32, column: u32) -> Parsed {
    if sql.len() > MAX_PARSE_BYTES {
        return Parsed {
            statement: Err(format!(
                "statement too long to parse: {} bytes (migsafe parses statements of up to {} MiB)",
                sql.len(),
                MAX_PARSE_BYTES >> 20
            )),
            tokens: Vec::new(),
        };
    }
    let dialect = PostgreSqlDialect {};
    let sig = match significant_tokens(sql, line, column) {
        Ok(t) => t,
        Err(e) => {
            let (l, c) = shift(e.location, line, column);
            return Parsed {
                statement: Err(format!("{} at line {l}, column {c}", e.message)),
                tokens: Vec::new(),
            };
        }
    };
    let mut tokens = depythonize(sig);
    // Our own tokens serve the keyword fallback only: for a statement sqlparser misreads or cannot
    // read (checked on its first words here) or rejects (tokenized again below). Building them for
    // every statement cost two strings per word of the file.
    let mut ours: Option<Vec<Tok>> = (misread_by_sqlparser(&tokens)
        || unread_by_sqlparser(&tokens)
        || details_in_tokens(&tokens))
    .then(|| tokens.iter().filter_map(|t| self::ours(&t.token)).collect());
    strip_matview_data_clause(&mut tokens);
    let statement = match Parser::new(&dialect)
        .with_tokens_with_locations(tokens)
        .parse_statements()
    {
        Ok(mut v) if v.len() == 1 => v.pop().ok_or_else(|| "no statement".to_string()),
        Ok(v) if v.is_empty() => Err("no statement".to_string()),
        Ok(v) => Err(format!("read as {} statements", v.len())),
        Err(ParserError::ParserError(m) | ParserError::TokenizerError(m)) => Err(m),
        Err(ParserError::RecursionLimitExceeded) => Err("nested too deeply to parse".to_string()),
    };
    if statement.is_err() && ours.is_none() {
        ours = Some(our_tokens(sql, line, column));
    }
    Parsed {
        statement,
        tokens: ours.unwrap_or_default(),
    }
}

/// The statement's tokens without blanks and comments, located in the file (the statement starts
/// at `line`, `column`).
fn significant_tokens(
    sql: &str,
    line: u32,
    column: u32,
) -> Result<Vec<TokenWithSpan>, sqlparser::tokenizer::TokenizerError> {
    let raw = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize_with_location()?;
    Ok(significant(raw, line, column))
}

/// sqlparser's tokens without blanks and comments, shifted to the statement's place in the file.
fn significant(raw: Vec<TokenWithSpan>, line: u32, column: u32) -> Vec<TokenWithSpan> {
    raw.into_iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .map(|t| TokenWithSpan::new(t.token, shift_span(t.span, line, column)))
        .collect()
}

/// Statements whose first words make sqlparser read them wrongly (see `fallback::before_sqlparser`):
/// `DROP INDEX CONCURRENTLY`.
fn misread_by_sqlparser(tokens: &[TokenWithSpan]) -> bool {
    let kw = |i: usize, k: &str| matches!(tokens.get(i).map(|t| &t.token), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k));
    kw(0, "DROP") && kw(1, "INDEX") && kw(2, "CONCURRENTLY")
}

/// Statements sqlparser 0.64 rejects at their first word, which the fallback reads: `DO` (whose
/// tokens would otherwise be made twice, for the parser and again for the fallback).
fn unread_by_sqlparser(tokens: &[TokenWithSpan]) -> bool {
    matches!(tokens.first().map(|t| &t.token), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("DO"))
}

/// Statements whose details the lowering reads from our tokens although sqlparser reads them:
/// GRANT and REVOKE, CREATE SEQUENCE and CREATE TRIGGER (kept as written), and ALTER TABLE with an
/// action sqlparser keeps only as text (storage parameters, owner, inheritance, clustering, column
/// storage, compression, identity restart); and CREATE or ALTER TABLE with a MySQL word that
/// sqlparser accepts and PostgreSQL rejects.
fn details_in_tokens(tokens: &[TokenWithSpan]) -> bool {
    let kw = |i: usize, k: &str| matches!(tokens.get(i).map(|t| &t.token), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k));
    let first = ["GRANT", "REVOKE", "CREATE", "ALTER"]
        .into_iter()
        .find(|k| kw(0, k));
    let mysql = || {
        (1..tokens.len()).any(|i| {
            [
                "AUTO_INCREMENT",
                "UNSIGNED",
                "ENGINE",
                "CHARSET",
                "MODIFY",
                "CHANGE",
            ]
            .iter()
            .any(|k| kw(i, k))
        })
    };
    match first {
        Some("GRANT" | "REVOKE") => true,
        Some("CREATE" | "ALTER") if mysql() => true,
        Some("CREATE") => (1..6)
            .take_while(|&i| {
                [
                    "OR",
                    "REPLACE",
                    "TEMP",
                    "TEMPORARY",
                    "UNLOGGED",
                    "CONSTRAINT",
                    "SEQUENCE",
                    "TRIGGER",
                ]
                .iter()
                .any(|k| kw(i, k))
            })
            .any(|i| kw(i, "SEQUENCE") || kw(i, "TRIGGER")),
        Some("ALTER") if kw(1, "TABLE") => (2..tokens.len()).any(|i| {
            [
                "RESET",
                "OWNER",
                "INHERIT",
                "CLUSTER",
                "STORAGE",
                "COMPRESSION",
                "RESTART",
            ]
            .iter()
            .any(|k| kw(i, k))
                || (kw(i, "SET")
                    && matches!(tokens.get(i + 1).map(|t| &t.token), Some(Token::LParen)))
        }),
        _ => false,
    }
}

/// Our tokens of `sql` (which tokenized before, so this cannot fail).
fn our_tokens(sql: &str, line: u32, column: u32) -> Vec<Tok> {
    depythonize(significant_tokens(sql, line, column).unwrap_or_default())
        .iter()
        .filter_map(|t| ours(&t.token))
        .collect()
}

/// `CREATE MATERIALIZED VIEW … WITH [NO] DATA` (what `pg_dump --schema-only` writes) is rejected
/// by sqlparser 0.64; the trailing clause only says whether the view is filled now, so the query
/// is parsed without it (our own tokens keep it).
fn strip_matview_data_clause(tokens: &mut Vec<TokenWithSpan>) {
    let word = |t: Option<&TokenWithSpan>, kw: &str| matches!(t.map(|t| &t.token), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw));
    let matview = word(tokens.first(), "CREATE")
        && word(tokens.get(1), "MATERIALIZED")
        && word(tokens.get(2), "VIEW");
    let n = tokens.len();
    if !matview || n < 3 || !word(tokens.get(n - 1), "DATA") {
        return;
    }
    if word(tokens.get(n - 2), "WITH") {
        tokens.truncate(n - 2);
    } else if word(tokens.get(n - 2), "NO") && word(tokens.get(n - 3), "WITH") {
        tokens.truncate(n - 3);
    }
}

fn shift(loc: Location, line: u32, column: u32) -> (u64, u64) {
    let l = loc.line.max(1);
    let c = if l == 1 {
        loc.column + u64::from(column) - 1
    } else {
        loc.column
    };
    (l + u64::from(line) - 1, c)
}

fn shift_span(span: Span, line: u32, column: u32) -> Span {
    let (sl, sc) = shift(span.start, line, column);
    let (el, ec) = shift(span.end, line, column);
    Span::new(Location::new(sl, sc), Location::new(el, ec))
}

/// Replaces pyformat placeholders and `%%` outside strings in significant tokens.
fn depythonize(mut sig: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let mut out = Vec::with_capacity(sig.len());
    let mut params = 0;
    let mut i = 0;
    while i < sig.len() {
        let t = &sig[i];
        if t.token == Token::Mod {
            // %(name)s
            if let (
                Some(Token::LParen),
                Some(Token::Word(_)),
                Some(Token::RParen),
                Some(Token::Word(s)),
            ) = (
                sig.get(i + 1).map(|t| &t.token),
                sig.get(i + 2).map(|t| &t.token),
                sig.get(i + 3).map(|t| &t.token),
                sig.get(i + 4).map(|t| &t.token),
            ) && s.value == "s"
            {
                params += 1;
                let span = t.span.union(&sig[i + 4].span);
                out.push(TokenWithSpan::new(
                    Token::Placeholder(format!("${params}")),
                    span,
                ));
                i += 5;
                continue;
            }
            // %s directly after an operator, comma or parenthesis: a positional pyformat parameter.
            if let Some(Token::Word(s)) = sig.get(i + 1).map(|t| &t.token)
                && s.value == "s"
                && s.quote_style.is_none()
                && out
                    .last()
                    .is_none_or(|p: &TokenWithSpan| !is_operand(&p.token))
            {
                params += 1;
                let span = t.span.union(&sig[i + 1].span);
                out.push(TokenWithSpan::new(
                    Token::Placeholder(format!("${params}")),
                    span,
                ));
                i += 2;
                continue;
            }
            // %% is a literal % escaped for Python's % formatting.
            if sig.get(i + 1).map(|t| &t.token) == Some(&Token::Mod) {
                out.push(TokenWithSpan::new(Token::Mod, t.span));
                i += 2;
                continue;
            }
        }
        // Moved, not cloned: each token is taken once (the look-ahead above only reads).
        let span = t.span;
        out.push(TokenWithSpan::new(
            std::mem::replace(&mut sig[i].token, Token::EOF),
            span,
        ));
        i += 1;
    }
    out
}

fn is_operand(t: &Token) -> bool {
    matches!(
        t,
        Token::Word(_)
            | Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::RParen
            | Token::RBracket
            | Token::Placeholder(_)
    )
}

fn ours(t: &Token) -> Option<Tok> {
    Some(match t {
        Token::Whitespace(_) | Token::EOF => return None,
        Token::Word(w) => match w.quote_style {
            None => Tok::Word {
                upper: w.value.to_uppercase(),
                ident: w.value.to_lowercase(),
            },
            Some(_) => Tok::Word {
                upper: String::new(),
                ident: w.value.clone(),
            },
        },
        Token::SingleQuotedString(s)
        | Token::EscapedStringLiteral(s)
        | Token::NationalStringLiteral(s)
        | Token::UnicodeStringLiteral(s) => Tok::Str(s.clone()),
        Token::Number(n, _) => Tok::Number(n.clone()),
        Token::DollarQuotedString(d) => Tok::Dollar(d.value.clone()),
        other => Tok::Punct(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_parse() {
        for sql in [
            "UPDATE report SET extra=%(extra)s WHERE id = %(id_1)s",
            "INSERT INTO t (a, b) VALUES (%(a)s, %(b)s)",
            "SELECT * FROM t WHERE name LIKE 'tmp%%' AND a %% 2 = 0",
            "INSERT INTO t (a) VALUES (%s)",
        ] {
            let p = parse(sql, 1, 1);
            assert!(p.statement.is_ok(), "{sql}: {:?}", p.statement.err());
        }
    }

    #[test]
    fn errors_name_file_positions() {
        let p = parse("ALTER TABLE t\n  FROBNICATE x", 10, 5);
        let e = p.statement.err().unwrap_or_default();
        assert!(e.contains("Line: 11, Column: 3"), "{e}");
    }

    #[test]
    fn tokens_only_for_what_the_fallback_reads() {
        assert!(
            parse("ALTER TABLE t ADD COLUMN c int", 1, 1)
                .tokens
                .is_empty()
        );
        assert!(!parse("DROP INDEX CONCURRENTLY ix", 1, 1).tokens.is_empty());
        let rejected = parse("FROBNICATE TABLE t", 1, 1);
        assert!(rejected.statement.is_err() && rejected.tokens.len() == 3);
    }

    #[test]
    fn quoted_words_are_not_keywords() {
        let tokens = our_tokens("SELECT \"Select\"", 1, 1);
        assert_eq!(
            tokens[1],
            Tok::Word {
                upper: String::new(),
                ident: "Select".into()
            }
        );
    }
}
