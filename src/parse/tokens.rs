//! sqlparser's tokens of a statement, made without sqlparser's tokenizer when the statement holds
//! only what this module models, which is what migrations are made of: words, quoted identifiers,
//! plain strings, dollar quotes, numbers, comments and the common operators.
//!
//! sqlparser's tokenizer walks a `Peekable<Chars>`, builds each word, number and comment one `char`
//! at a time and looks a key word up by binary search: a sixth of the CLI's instructions. This
//! module slices the text instead and builds each token once. For anything else (escape strings,
//! exponents, rare operators, COPY, something unterminated) it answers `None` and the caller uses
//! sqlparser's tokenizer, so the parser always sees the tokens the tokenizer would give. The rules
//! follow `Tokenizer::next_token` of sqlparser 0.64 with `PostgreSqlDialect`; `parse::tests` and
//! the fuzz target `parse` compare both on every input.

use crate::source::scan::{
    Dollar, block_comment_end, dollar_end, number_end, operator_part, quoted_end, word_part,
    word_start,
};
use sqlparser::ast::DollarQuotedString;
use sqlparser::keywords::{ALL_KEYWORDS, ALL_KEYWORDS_INDEX, Keyword};
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Whitespace, Word};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// The tokens of `sql` without blanks and comments, with their spans in the file (`sql` starts at
/// `at_line`, `at_column`; sqlparser counts columns in characters), or `None` when sqlparser's
/// tokenizer must read it.
pub(super) fn tokenize(sql: &str, at_line: u32, at_column: u32) -> Option<Vec<TokenWithSpan>> {
    // Blanks and comments, which the parser does not read: built without their text, not kept.
    const BLANK: Token = Token::Whitespace(Whitespace::Space);
    let bytes = sql.as_bytes();
    let mut tokens = Vec::with_capacity(bytes.len() / 8 + 4);
    // Where a line and column of `sql` are in the file.
    let place = |line: u64, column: u64| {
        let column = if line == 1 {
            column + u64::from(at_column) - 1
        } else {
            column
        };
        Location::new(line + u64::from(at_line) - 1, column)
    };
    let (mut line, mut column) = (1u64, 1u64);
    let mut i = 0;
    while i < bytes.len() {
        let at = |k: usize| bytes.get(k).copied();
        let c = bytes[i];
        let next = at(i + 1);
        let (token, end) = match c {
            b' ' | b'\t' | b'\n' | 0x0b | 0x0c => (BLANK, i + 1),
            b'\r' if next == Some(b'\n') => (BLANK, i + 2),
            b'\r' => (BLANK, i + 1),
            b';' => (Token::SemiColon, i + 1),
            b'(' => (Token::LParen, i + 1),
            b')' => (Token::RParen, i + 1),
            b',' => (Token::Comma, i + 1),
            b'[' => (Token::LBracket, i + 1),
            b']' => (Token::RBracket, i + 1),
            b'+' => (Token::Plus, i + 1),
            b'*' => (Token::Mul, i + 1),
            b':' => match next {
                Some(b':') => (Token::DoubleColon, i + 2),
                Some(b'=') => return None,
                _ => (Token::Colon, i + 1),
            },
            b'=' => match next {
                Some(b'>' | b'=') => return None,
                _ => (Token::Eq, i + 1),
            },
            b'!' => match next {
                Some(b'=') => (Token::Neq, i + 2),
                _ => return None,
            },
            b'<' => match next {
                Some(b'=') => match at(i + 2) {
                    Some(b) if operator_part(b) => return None,
                    _ => (Token::LtEq, i + 2),
                },
                Some(b'>') => match at(i + 2) {
                    Some(b) if operator_part(b) => return None,
                    _ => (Token::Neq, i + 2),
                },
                Some(b) if operator_part(b) => return None,
                _ => (Token::Lt, i + 1),
            },
            b'>' => match next {
                Some(b'=') => match at(i + 2) {
                    Some(b) if operator_part(b) => return None,
                    _ => (Token::GtEq, i + 2),
                },
                Some(b) if operator_part(b) => return None,
                _ => (Token::Gt, i + 1),
            },
            b'-' => match next {
                Some(b'-') => {
                    let end =
                        memchr::memchr2(b'\n', b'\r', &bytes[i..]).map_or(bytes.len(), |k| i + k);
                    (BLANK, end)
                }
                Some(b) if operator_part(b) => return None,
                _ => (Token::Minus, i + 1),
            },
            b'/' => match next {
                // A comment starting with `!` is a hint in some dialects: left to sqlparser.
                Some(b'*') if at(i + 2) == Some(b'!') => return None,
                Some(b'*') => (BLANK, block_comment_end(bytes, i)?),
                _ => (Token::Div, i + 1),
            },
            b'%' => match next {
                Some(b) if operator_part(b) => return None,
                _ => (Token::Mod, i + 1),
            },
            b'|' => match (next, at(i + 2)) {
                (Some(b'|'), Some(b)) if operator_part(b) => return None,
                (Some(b'|'), _) => (Token::StringConcat, i + 2),
                _ => return None,
            },
            b'.' => match next {
                Some(b'0'..=b'9' | b'_') => return None,
                _ => (Token::Period, i + 1),
            },
            b'0'..=b'9' => {
                let end = number_end(bytes, i)?;
                (Token::Number(sql[i..end].to_string(), false), end)
            }
            b'\'' => {
                let (value, end) = quoted(sql, i, b'\'')?;
                (Token::SingleQuotedString(value), end)
            }
            b'"' => {
                let (value, end) = quoted(sql, i, b'"')?;
                (Token::make_word(&value, Some('"')), end)
            }
            b'$' => dollar(sql, i)?,
            c if word_start(c) => {
                // `E'…'`, `B'…'`, `X'…'`, `N'…'`, `U&'…'`: strings with rules of their own.
                if matches!(c, b'b' | b'B' | b'e' | b'E' | b'x' | b'X' | b'n' | b'N')
                    && matches!(next, Some(b'\'' | b'"'))
                    || matches!(c, b'u' | b'U') && next == Some(b'&')
                {
                    return None;
                }
                let end = bytes[i..]
                    .iter()
                    .position(|&b| !word_part(b))
                    .map_or(bytes.len(), |k| i + k);
                let word = &sql[i..end];
                // COPY … FROM stdin: the tokenizer reads the data after the `;` raw.
                if word.eq_ignore_ascii_case("COPY") {
                    return None;
                }
                let token = Token::Word(Word {
                    value: word.to_string(),
                    quote_style: None,
                    keyword: keyword(word),
                });
                (token, end)
            }
            _ => return None,
        };
        let start = place(line, column);
        for &b in &bytes[i..end] {
            if b == b'\n' {
                line += 1;
                column = 1;
            } else if b & 0xc0 != 0x80 {
                // A character starts here (not a UTF-8 continuation byte).
                column += 1;
            }
        }
        if token != BLANK {
            tokens.push(TokenWithSpan::new(
                token,
                Span::new(start, place(line, column)),
            ));
        }
        i = end;
    }
    Some(tokens)
}

/// The key word an unquoted word is, as sqlparser's `keyword_lookup` finds it (its ASCII upper
/// case equal to one of `ALL_KEYWORDS`), from a hash table instead of a binary search over the
/// whole list: every word of every statement is looked up.
fn keyword(word: &str) -> Keyword {
    static TABLE: OnceLock<KeywordTable> = OnceLock::new();
    let (table, longest) = TABLE.get_or_init(|| {
        let table: HashMap<_, _, Fnv> = ALL_KEYWORDS
            .iter()
            .map(|k| k.as_bytes())
            .zip(ALL_KEYWORDS_INDEX.iter().copied())
            .collect();
        let longest = ALL_KEYWORDS.iter().map(|k| k.len()).max().unwrap_or(0);
        (table, longest)
    });
    let mut upper = [0u8; 64];
    let Some(buf) = upper
        .get_mut(..word.len())
        .filter(|_| word.len() <= *longest)
    else {
        return Keyword::NoKeyword;
    };
    buf.copy_from_slice(word.as_bytes());
    buf.make_ascii_uppercase();
    table.get(&*buf).copied().unwrap_or(Keyword::NoKeyword)
}

/// The key words by their text, and the length of the longest.
type KeywordTable = (HashMap<&'static [u8], Keyword, Fnv>, usize);

/// FNV-1a: short keys, no need to resist chosen collisions (the table is fixed).
type Fnv = BuildHasherDefault<FnvHasher>;

struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A string (`'`) or quoted identifier (`"`) starting at `start`: its value (a doubled quote read
/// as one) and its end.
fn quoted(sql: &str, start: usize, quote: u8) -> Option<(String, usize)> {
    let end = quoted_end(sql.as_bytes(), start, quote)?;
    let (single, doubled) = if quote == b'"' {
        ("\"", "\"\"")
    } else {
        ("'", "''")
    };
    Some((sql[start + 1..end - 1].replace(doubled, single), end))
}

/// `$$ … $$`, `$tag$ … $tag$`, or a placeholder `$1` / `$name`.
fn dollar(sql: &str, start: usize) -> Option<(Token, usize)> {
    Some(match dollar_end(sql.as_bytes(), start)? {
        Dollar::Placeholder { end } => (Token::Placeholder(sql[start..end].to_string()), end),
        Dollar::Quoted {
            tag_end,
            body_end,
            end,
        } => {
            let tag = &sql[start + 1..tag_end];
            let token = Token::DollarQuotedString(DollarQuotedString {
                value: sql[tag_end + 1..body_end].to_string(),
                tag: (!tag.is_empty()).then(|| tag.to_string()),
            });
            (token, end)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::Tokenizer;

    /// Whether our tokenizer answers for `sql`; when it does, its tokens and spans must be
    /// sqlparser's.
    fn answered_as_sqlparser(sql: &str) -> bool {
        let Some(ours) = tokenize(sql, 1, 1) else {
            return false;
        };
        let theirs = Tokenizer::new(&PostgreSqlDialect {}, sql)
            .tokenize_with_location()
            .map_err(|e| e.to_string());
        assert_eq!(
            Ok(ours),
            theirs.clone().map(|t| super::super::significant(t, 1, 1)),
            "{sql:?}"
        );
        // Placed further in a file: shifted as sqlparser's tokens are.
        assert_eq!(
            tokenize(sql, 7, 5).ok_or("declined"),
            theirs
                .map(|t| super::super::significant(t, 7, 5))
                .map_err(|_| "declined"),
            "{sql:?}"
        );
        true
    }

    const ANSWERED: &[&str] = &[
        "ALTER TABLE \"Quoted\"\"Name\" ADD COLUMN c int DEFAULT 'it''s' NOT NULL",
        "SELECT a <= b, a >= b, a <> b, a != b, a < b, a > b, a = b, a || b, -1 + 2 * 3 / 4 % 5",
        "SELECT x::int, t.c, f(a, b)[1], :name, $1, $name, foo$bar, 1.5, 10s, 2.",
        "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
        "CREATE FUNCTION g() RETURNS int AS $body$\nBEGIN\n  RETURN 1;\nEND\n$body$ LANGUAGE plpgsql",
        "UPDATE t SET a = 1 -- a comment\r\nWHERE b /* nested /* block */ comment */ = 'x'",
        "INSERT INTO café (naïve) VALUES ('é\u{1f600}'),\t('\n')",
        "SELECT\u{b}1\u{c}, $$$$, $$$x$$, $a$$a$",
        "-- only a comment",
        "",
    ];

    const DECLINED: &[&str] = &[
        "SELECT E'it\\'s'",
        "SELECT B'101'",
        "SELECT X'1F'",
        "SELECT N'n'",
        "SELECT U&'d'",
        "SELECT 1e5",
        "SELECT 0x1F",
        "SELECT 1_000",
        "SELECT .5",
        "SELECT a->>'b'",
        "SELECT a @> b",
        "SELECT a #> b",
        "SELECT a ~ b",
        "SELECT a ^ b",
        "SELECT a & b",
        "SELECT a ?| b",
        "SELECT a <-> b",
        "SELECT a <=-1",
        "SELECT a := 1",
        "SELECT a => 1",
        "SELECT 'open",
        "SELECT \"open",
        "SELECT $$ open",
        "/* open",
        "/*! hint */ SELECT 1",
        "COPY t FROM stdin",
        "SELECT \\x",
        "SELECT {}",
        "SELECT $é$ x $é$",
    ];

    /// Every key word in upper, lower and mixed case, and words that are not key words: the key
    /// word sqlparser's lookup gives.
    #[test]
    fn key_words_are_found_as_sqlparser_finds_them() {
        let sqlparser = |w: &str| match Token::make_word(w, None) {
            Token::Word(w) => w.keyword,
            _ => Keyword::NoKeyword,
        };
        let mut words: Vec<String> = Vec::new();
        for k in ALL_KEYWORDS {
            words.push(k.to_string());
            words.push(k.to_lowercase());
            words.push(format!("{k}x"));
            words.push(k[..k.len() - 1].to_string());
        }
        words.extend(
            [
                "",
                "é",
                "selecté",
                "a_very_long_identifier_of_more_than_sixty_four_bytes_in_all_is_not_a_key_word",
            ]
            .map(String::from),
        );
        for w in &words {
            assert_eq!(keyword(w), sqlparser(w), "{w:?}");
        }
        assert_eq!(keyword("Select"), Keyword::SELECT);
    }

    #[test]
    fn the_usual_statements_get_sqlparser_tokens() {
        for sql in ANSWERED {
            assert!(answered_as_sqlparser(sql), "declined: {sql:?}");
        }
    }

    #[test]
    fn the_rest_is_left_to_sqlparser() {
        for sql in DECLINED {
            assert!(!answered_as_sqlparser(sql), "answered: {sql:?}");
        }
    }

    /// Every statement of every fixture, and pieces of them: where ours answers, sqlparser's
    /// tokens; and ours answers for nearly all.
    #[test]
    fn every_fixture_statement_gets_sqlparser_tokens() {
        let (mut answered, mut total) = (0, 0);
        for (_, text) in crate::test_fixtures::texts() {
            let read = crate::source::read(&text);
            for st in &read.statements {
                let sql = &text[st.body.clone()];
                total += 1;
                if answered_as_sqlparser(sql) {
                    answered += 1;
                }
                // A statement cut short: quotes and comments left open, words split.
                let mut cut = sql.len() / 2;
                while !sql.is_char_boundary(cut) {
                    cut -= 1;
                }
                answered_as_sqlparser(&sql[..cut]);
            }
        }
        assert!(answered * 10 > total * 9, "{answered} of {total}");
    }
}
