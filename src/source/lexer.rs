//! The one SQL lexer: it reads text the way psql and the PostgreSQL server do, so that where it
//! says a quote, a comment or a statement ends is where they end in production.
//!
//! The rules follow PostgreSQL's scanner (`src/backend/parser/scan.l`) and psql's
//! (`src/fe_utils/psqlscan.l`), which share them except for what only psql reads: backslash
//! meta-commands and `:variables`. The lexer is total: it never fails and never gives up. A quote,
//! dollar quote, quoted identifier or block comment left open is one token running to the end of
//! the input, flagged `terminated: false`; every other byte belongs to some token. Tokens are
//! byte ranges of the text, so lexing allocates nothing per token, and each byte is looked at a
//! bounded number of times (linear in the input).
//!
//! Rules that decide where statements end, and which lexers that skip them get wrong:
//! - An operator never contains `--` or `/*`: `>--x` is `>` and a comment, `*/*` is `*` and a
//!   comment start. A multi-character operator cannot end in `+` or `-` unless it holds one of
//!   `~ ! @ # ^ & | ` ? %` (`=-` is `=` then `-`).
//! - With `standard_conforming_strings` off, a backslash escapes the next character in a plain
//!   `'…'` string (`'\''` is one string); `E'…'` strings always read backslash escapes;
//!   `U&'…'`, `B'…'` and `X'…'` never do.
//! - A string continues across whitespace that holds a newline (and `--` comments) when the next
//!   thing is a quote: `'a'` newline `'b'` is one string, and it keeps the first part's escape
//!   rules.
//! - `$tag$ … $tag$` quotes: the tag is an identifier without `$`; `$1` is a parameter; a `$`
//!   inside an identifier (`a$b$`) or right after a number glued to letters (`1e$$`) starts no
//!   quote.
//! - Block comments nest: `/* /* */ */`.

use std::cell::Cell;
use std::ops::Range;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Spaces, tabs, newlines, form feeds, vertical tabs.
    Whitespace,
    /// `-- …` up to (not including) the end of the line.
    LineComment,
    /// `/* … */`, nested ones included.
    BlockComment,
    /// An unquoted identifier or key word.
    Ident,
    /// `"…"` or `U&"…"`.
    QuotedIdent,
    /// `'…'`, `E'…'`, `N'…'` or `U&'…'`, with any continuations on later lines.
    String,
    /// `B'…'` or `X'…'`.
    BitString,
    /// `$$…$$` or `$tag$…$tag$`.
    DollarString,
    /// A numeric literal (and letters glued to it, which PostgreSQL reads as one bad token).
    Number,
    /// `$1`, a positional parameter.
    Param,
    /// An operator: a run of `+ - * / < > = ~ ! @ # % ^ & | ` ?`.
    Operator,
    /// `;`.
    Semicolon,
    /// `(`.
    LParen,
    /// `)`.
    RParen,
    /// `,` `[` `]` `.` `..` `:` `::` `:=`.
    Punct,
    /// A psql variable: `:name`, `:'name'`, `:"name"`, `:{?name}`.
    Variable,
    /// A psql meta-command: a backslash outside quotes up to the end of its line (`\;` and `\:`
    /// are not meta-commands: see [`TokenKind::BackslashSemicolon`] and [`TokenKind::Other`]).
    MetaCommand,
    /// `\;`: psql puts a `;` into the query without sending it yet; the server runs what is
    /// before and after it as two statements.
    BackslashSemicolon,
    /// Any other character (`$` alone, `\:`, control characters, …).
    Other,
}

/// A token: its kind and where it is in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Its bytes in the text; always on character boundaries.
    pub range: Range<usize>,
    /// False for a quote, quoted identifier, dollar quote or block comment that the input ends
    /// inside of.
    pub terminated: bool,
}

impl Token {
    /// Whitespace or a comment: nothing the server reads.
    pub fn is_trivia(&self) -> bool {
        matches!(
            self.kind,
            TokenKind::Whitespace | TokenKind::LineComment | TokenKind::BlockComment
        )
    }
}

/// The tokens of `text`, lexed with `standard_conforming_strings` as given throughout.
pub fn tokens(text: &str, standard_conforming_strings: bool) -> Vec<Token> {
    Lexer::new(text, standard_conforming_strings).collect()
}

/// A lexer over one text; an iterator of its tokens.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
    standard_conforming_strings: bool,
    /// The operator run the last operator token came from.
    op_run: Cell<OpRun>,
}

/// An operator run up to its first `--` or `/*` (`start..end`), as far as its operators need.
#[derive(Debug, Clone, Copy, Default)]
struct OpRun {
    start: usize,
    end: usize,
    /// The last byte in it that is neither `+` nor `-`.
    last_kept: Option<usize>,
    /// The first of `~ ! @ # ^ & | ` ? %` at or after the last token's start (or `end`).
    special: usize,
}

// Character classes of scan.l.

/// Starts an identifier: a letter, `_`, or any byte of a non-ASCII character (scan.l reads bytes
/// 0x80–0xFF as letters, so a multi-byte character is never cut).
pub(crate) fn ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// Continues an identifier: also digits and `$`.
pub(crate) fn ident_cont(b: u8) -> bool {
    ident_start(b) || b.is_ascii_digit() || b == b'$'
}

/// Continues a dollar-quote tag: like an identifier, without `$`.
fn tag_cont(b: u8) -> bool {
    ident_start(b) || b.is_ascii_digit()
}

/// The characters operators are made of.
pub(crate) fn op_char(b: u8) -> bool {
    matches!(
        b,
        b'~' | b'!'
            | b'@'
            | b'#'
            | b'^'
            | b'&'
            | b'|'
            | b'`'
            | b'?'
            | b'+'
            | b'-'
            | b'*'
            | b'/'
            | b'%'
            | b'<'
            | b'>'
            | b'='
    )
}

/// Whitespace (scan.l's `space`).
fn space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn newline(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// Names of psql variables: like identifiers, without `$`.
fn variable_char(b: u8) -> bool {
    tag_cont(b)
}

/// How backslashes read inside a quoted string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escapes {
    /// `''` is a quote; a backslash is a character (`'…'` with standard_conforming_strings on,
    /// `U&'…'`).
    Doubled,
    /// `''` is a quote and a backslash escapes the next character (`E'…'`, and `'…'` with
    /// standard_conforming_strings off).
    Backslash,
    /// The first quote ends it (`B'…'`, `X'…'`).
    None,
}

impl<'a> Lexer<'a> {
    /// A lexer of `text` from its start.
    pub fn new(text: &'a str, standard_conforming_strings: bool) -> Self {
        Lexer {
            bytes: text.as_bytes(),
            pos: 0,
            standard_conforming_strings,
            op_run: Cell::new(OpRun::default()),
        }
    }

    /// Whether plain `'…'` strings lexed from now on take a backslash as a character (on) or as
    /// an escape (off), as after `SET standard_conforming_strings`.
    pub fn set_standard_conforming_strings(&mut self, on: bool) {
        self.standard_conforming_strings = on;
    }

    /// The setting plain strings are read with.
    pub fn standard_conforming_strings(&self) -> bool {
        self.standard_conforming_strings
    }

    /// Where the next token starts.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Goes on lexing from `pos` (which the caller knows to start a token, e.g. the line after
    /// COPY data); past the end means the end.
    pub fn skip_to(&mut self, pos: usize) {
        self.pos = pos.min(self.bytes.len()).max(self.pos);
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    /// The first position at or after `from` whose byte fails `keep`.
    fn run(&self, from: usize, keep: impl Fn(u8) -> bool) -> usize {
        self.bytes[from.min(self.bytes.len())..]
            .iter()
            .position(|&b| !keep(b))
            .map_or(self.bytes.len(), |i| from + i)
    }

    /// The end of the line that `from` is on (the position of its `\n` or `\r`).
    fn line_end(&self, from: usize) -> usize {
        self.run(from, |b| !newline(b))
    }

    /// The next token from `start`: (kind, end, terminated).
    fn lex(&self, start: usize) -> (TokenKind, usize, bool) {
        let b = self.bytes[start];
        let next = self.at(start + 1);
        let one = |kind| (kind, start + 1, true);
        match b {
            b if space(b) => (TokenKind::Whitespace, self.run(start, space), true),
            b'-' if next == Some(b'-') => (TokenKind::LineComment, self.line_end(start), true),
            b'/' if next == Some(b'*') => self.block_comment(start),
            b'\'' => self.string(start + 1, self.plain_escapes()),
            b'"' => self.quoted_ident(start + 1),
            b'$' => self.dollar(start),
            b'0'..=b'9' => (TokenKind::Number, self.number(start), true),
            b'.' if next.is_some_and(|n| n.is_ascii_digit()) => {
                (TokenKind::Number, self.number(start), true)
            }
            b'.' if next == Some(b'.') => (TokenKind::Punct, start + 2, true),
            b':' => self.colon(start),
            b'\\' => self.backslash(start),
            b';' => one(TokenKind::Semicolon),
            b'(' => one(TokenKind::LParen),
            b')' => one(TokenKind::RParen),
            b',' | b'[' | b']' | b'.' => one(TokenKind::Punct),
            b if op_char(b) => (TokenKind::Operator, self.operator(start), true),
            b if ident_start(b) => self.word(start),
            _ => one(TokenKind::Other),
        }
    }

    /// How a plain `'…'` string reads backslashes under the current setting.
    fn plain_escapes(&self) -> Escapes {
        if self.standard_conforming_strings {
            Escapes::Doubled
        } else {
            Escapes::Backslash
        }
    }

    /// A word, or a string or quoted identifier whose prefix letters start here (`E'`, `N'`,
    /// `B'`, `X'`, `U&'`, `U&"`).
    fn word(&self, start: usize) -> (TokenKind, usize, bool) {
        let b = self.bytes[start].to_ascii_lowercase();
        let next = self.at(start + 1);
        if next == Some(b'\'') {
            let body = start + 2;
            match b {
                b'e' => return self.string(body, Escapes::Backslash),
                // scan.l returns `N` as a key word and lexes the quote as a plain string.
                b'n' => return self.string(body, self.plain_escapes()),
                b'b' | b'x' => {
                    let (_, end, done) = self.string(body, Escapes::None);
                    return (TokenKind::BitString, end, done);
                }
                _ => {}
            }
        }
        if b == b'u' && next == Some(b'&') {
            match self.at(start + 2) {
                Some(b'\'') => return self.string(start + 3, Escapes::Doubled),
                Some(b'"') => return self.quoted_ident(start + 3),
                // `U&` before anything else is the identifier `U` and then `&`.
                _ => {}
            }
        }
        (TokenKind::Ident, self.run(start, ident_cont), true)
    }

    /// A quoted string whose body starts at `body` (after its opening quote), with the string
    /// continuations scan.l allows after each closing quote.
    fn string(&self, body: usize, escapes: Escapes) -> (TokenKind, usize, bool) {
        let mut i = body;
        loop {
            match self.string_body_end(i, escapes) {
                None => return (TokenKind::String, self.bytes.len(), false),
                Some(close) => match self.continuation(close + 1) {
                    Some(reopened) => i = reopened,
                    None => return (TokenKind::String, close + 1, true),
                },
            }
        }
    }

    /// The position of the quote that closes a string body starting at `from`.
    fn string_body_end(&self, from: usize, escapes: Escapes) -> Option<usize> {
        let mut i = from;
        loop {
            let rest = self.bytes.get(i..)?;
            let found = match escapes {
                Escapes::Backslash => rest.iter().position(|&b| b == b'\'' || b == b'\\')?,
                _ => rest.iter().position(|&b| b == b'\'')?,
            };
            let at = i + found;
            match (self.bytes[at], escapes) {
                // A backslash escapes the next byte, whatever it is (a quote, a newline, a
                // backslash; a byte inside a multi-byte character is read on as text).
                (b'\\', _) => i = at + 2,
                (_, Escapes::None) => return Some(at),
                _ if self.at(at + 1) == Some(b'\'') => i = at + 2,
                _ => return Some(at),
            }
        }
    }

    /// After a closing quote at `after - 1`: if only whitespace and `--` comments follow, with at
    /// least one newline among them, and then a quote, the string goes on after that quote.
    fn continuation(&self, after: usize) -> Option<usize> {
        let mut i = after;
        let mut saw_newline = false;
        loop {
            match self.at(i)? {
                b'\'' if saw_newline => return Some(i + 1),
                b if newline(b) => {
                    saw_newline = true;
                    i += 1;
                }
                b if space(b) => i += 1,
                b'-' if self.at(i + 1) == Some(b'-') => i = self.line_end(i),
                _ => return None,
            }
        }
    }

    /// A quoted identifier whose body starts at `body`; `""` inside is a quote.
    fn quoted_ident(&self, body: usize) -> (TokenKind, usize, bool) {
        let mut i = body;
        loop {
            match self
                .bytes
                .get(i..)
                .and_then(|r| r.iter().position(|&b| b == b'"'))
            {
                None => return (TokenKind::QuotedIdent, self.bytes.len(), false),
                Some(found) if self.at(i + found + 1) == Some(b'"') => i += found + 2,
                Some(found) => return (TokenKind::QuotedIdent, i + found + 1, true),
            }
        }
    }

    /// A nested block comment from its `/*`.
    fn block_comment(&self, start: usize) -> (TokenKind, usize, bool) {
        let mut depth = 0u32;
        let mut i = start;
        while i < self.bytes.len() {
            match (self.bytes[i], self.at(i + 1)) {
                (b'/', Some(b'*')) => {
                    depth += 1;
                    i += 2;
                }
                (b'*', Some(b'/')) => {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        return (TokenKind::BlockComment, i, true);
                    }
                }
                _ => i += 1,
            }
        }
        (TokenKind::BlockComment, self.bytes.len(), false)
    }

    /// What starts with `$`: a parameter `$1`, a dollar quote `$tag$…$tag$`, or a lone `$`.
    fn dollar(&self, start: usize) -> (TokenKind, usize, bool) {
        let next = self.at(start + 1);
        if next.is_some_and(|b| b.is_ascii_digit()) {
            let digits = self.run(start + 1, |b| b.is_ascii_digit());
            // Letters glued to the number make one (bad) token with them.
            let end = if self.at(digits).is_some_and(ident_start) {
                self.run(digits, ident_cont)
            } else {
                digits
            };
            return (TokenKind::Param, end, true);
        }
        let tag_end = if next.is_some_and(ident_start) {
            self.run(start + 2, tag_cont)
        } else {
            start + 1
        };
        if self.at(tag_end) != Some(b'$') {
            // `$tag` without its closing `$`: scan.l returns the `$` alone and lexes the rest
            // again (as an identifier).
            return (TokenKind::Other, start + 1, true);
        }
        let delimiter = &self.bytes[start..=tag_end];
        let body = tag_end + 1;
        match find(&self.bytes[body..], delimiter) {
            Some(at) => (TokenKind::DollarString, body + at + delimiter.len(), true),
            None => (TokenKind::DollarString, self.bytes.len(), false),
        }
    }

    /// A number from `start` (a digit, or `.` before a digit): scan.l's longest match over its
    /// integer, decimal, real and radix rules, and its junk rules, which read digits followed by
    /// an identifier (`1abc`, `1_000$x`, `1e$$`) as one bad token.
    fn number(&self, start: usize) -> usize {
        let mut longest = start + 1;
        // Digits with single underscores between them, from `from`; digits followed by an
        // identifier are a junk token as long as that identifier.
        let mut digits = |from: usize| {
            let pure = self.run(from, |b| b.is_ascii_digit());
            if pure > from && self.at(pure).is_some_and(ident_start) {
                longest = longest.max(self.run(pure, ident_cont));
            }
            let mut i = from;
            while self.at(i).is_some_and(|b| b.is_ascii_digit())
                || (self.at(i) == Some(b'_')
                    && i > from
                    && self.at(i + 1).is_some_and(|b| b.is_ascii_digit()))
            {
                i += 1;
            }
            i
        };
        if self.bytes[start] == b'0'
            && self
                .at(start + 1)
                .is_some_and(|b| matches!(b.to_ascii_lowercase(), b'x' | b'o' | b'b'))
        {
            // `0x1F`, `0o17`, `0b101`, `0x`: `0` and the identifier after it at the longest.
            return self.run(start + 1, ident_cont);
        }
        let mut end = digits(start);
        if self.at(end) == Some(b'.') && self.at(end + 1) != Some(b'.') {
            end = digits(end + 1);
        }
        if self.at(end).is_some_and(|b| b == b'e' || b == b'E') {
            let sign = usize::from(matches!(self.at(end + 1), Some(b'+' | b'-')));
            let exp = end + 1 + sign;
            if self.at(exp).is_some_and(|b| b.is_ascii_digit()) {
                end = digits(exp);
            } else if sign == 1 {
                // `1e+` without digits is one (bad) token, sign included.
                end = exp;
            }
        }
        if self.at(end).is_some_and(ident_start)
            && self.bytes[end - 1] != b'+'
            && self.bytes[end - 1] != b'-'
        {
            end = self.run(end, ident_cont);
        }
        end.max(longest)
    }

    /// An operator from `start`: the run of operator characters, cut before any `--` or `/*` in
    /// it, and without trailing `+`/`-` unless it holds a character no SQL-standard operator has
    /// (`~ ! @ # ^ & | ` ? %`).
    ///
    /// A run can be cut into many operators (`<+-+-…` is `<` and then one `+` or `-` at a time),
    /// each decided by the whole run: what was learnt of it is kept between tokens, so a long
    /// run costs its length once, not once per operator in it.
    fn operator(&self, start: usize) -> usize {
        let mut run = self.op_run.get();
        if !(run.start <= start && start < run.end) {
            run = self.op_run_from(start);
        }
        if run.special < start {
            run.special = self.find(start, run.end, |b| b"~!@#^&|`?%".contains(&b));
        }
        self.op_run.set(run);
        let end = run.end;
        let len = end - start;
        let plus_minus = |b: u8| b == b'+' || b == b'-';
        if len > 1 && plus_minus(self.bytes[end - 1]) && run.special >= end - 1 {
            // Drop the trailing `+` and `-`; all of them when the operator is nothing else.
            return match run.last_kept {
                Some(k) if k >= start => k + 1,
                _ => start + 1,
            };
        }
        end
    }

    /// What the operator tokens of the run starting at `start` depend on.
    fn op_run_from(&self, start: usize) -> OpRun {
        let run_end = self.run(start, op_char);
        let run = &self.bytes[start..run_end];
        let end = run
            .windows(2)
            .position(|w| w == b"--" || w == b"/*")
            .map_or(run_end, |i| start + i.max(1));
        let last_kept = self.bytes[start..end]
            .iter()
            .rposition(|&b| b != b'+' && b != b'-')
            .map(|i| start + i);
        OpRun {
            start,
            end,
            last_kept,
            special: self.find(start, end, |b| b"~!@#^&|`?%".contains(&b)),
        }
    }

    /// The first position in `from..to` whose byte is `wanted`, or `to`.
    fn find(&self, from: usize, to: usize, wanted: impl Fn(u8) -> bool) -> usize {
        self.bytes[from..to]
            .iter()
            .position(|&b| wanted(b))
            .map_or(to, |i| from + i)
    }

    /// `::`, `:=`, a psql variable, or `:` alone.
    fn colon(&self, start: usize) -> (TokenKind, usize, bool) {
        let quoted_name = |quote: u8| {
            let name_end = self.run(start + 2, variable_char);
            (name_end > start + 2 && self.at(name_end) == Some(quote)).then_some(name_end + 1)
        };
        let variable = match self.at(start + 1) {
            Some(b':' | b'=') => return (TokenKind::Punct, start + 2, true),
            Some(b) if variable_char(b) => Some(self.run(start + 1, variable_char)),
            Some(b'\'') => quoted_name(b'\''),
            Some(b'"') => quoted_name(b'"'),
            Some(b'{') if self.at(start + 2) == Some(b'?') => {
                let name_end = self.run(start + 3, variable_char);
                (name_end > start + 3 && self.at(name_end) == Some(b'}')).then_some(name_end + 1)
            }
            _ => None,
        };
        match variable {
            Some(end) => (TokenKind::Variable, end, true),
            None => (TokenKind::Punct, start + 1, true),
        }
    }

    /// A backslash outside quotes: `\;`, `\:`, or a psql meta-command.
    fn backslash(&self, start: usize) -> (TokenKind, usize, bool) {
        match self.at(start + 1) {
            Some(b';') => (TokenKind::BackslashSemicolon, start + 2, true),
            Some(b':') => (TokenKind::Other, start + 2, true),
            // `\\` ends a line's meta-commands: SQL goes on after it.
            Some(b'\\') => (TokenKind::MetaCommand, start + 2, true),
            _ => (TokenKind::MetaCommand, self.meta_command(start), true),
        }
    }

    /// The end of a psql meta-command (psqlscanslash.l): its name, then its arguments up to the
    /// end of the line or an unquoted backslash, which starts the next meta-command. A few
    /// commands take the whole rest of the line as their argument.
    fn meta_command(&self, start: usize) -> usize {
        let line_end = self.line_end(start);
        let name_end = self
            .run(start + 1, |b| !space(b) && b != b'\\')
            .min(line_end);
        let name = &self.bytes[start + 1..name_end];
        let whole_line: &[&[u8]] = &[
            b"!", b"copy", b"ef", b"ev", b"h", b"help", b"sf", b"sf+", b"sv", b"sv+",
        ];
        if whole_line.contains(&name) {
            return line_end;
        }
        let mut i = name_end;
        while i < line_end {
            i = match self.bytes[i] {
                b'\\' => return i,
                quote @ (b'\'' | b'"' | b'`') => self.meta_quote_end(i, quote, line_end),
                _ => i + 1,
            };
        }
        line_end
    }

    /// The end of a quoted meta-command argument starting at `start` (its quote); a backslash
    /// escapes the next character in `'…'`. An open quote ends with the line.
    fn meta_quote_end(&self, start: usize, quote: u8, line_end: usize) -> usize {
        let mut i = start + 1;
        while i < line_end {
            match self.bytes[i] {
                b'\\' if quote == b'\'' => i += 2,
                b if b == quote => return i + 1,
                _ => i += 1,
            }
        }
        line_end
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let start = self.pos;
        if start >= self.bytes.len() {
            return None;
        }
        let (kind, end, terminated) = self.lex(start);
        // Every rule consumes at least one byte and stops on an ASCII byte or the end.
        let end = end.clamp(start + 1, self.bytes.len());
        self.pos = end;
        Some(Token {
            kind,
            range: start..end,
            terminated,
        })
    }
}

/// The first position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(TokenKind, &str)> {
        tokens(text, true)
            .into_iter()
            .filter(|t| t.kind != TokenKind::Whitespace)
            .map(|t| (t.kind, &text[t.range]))
            .collect()
    }

    #[test]
    fn operators_stop_before_comment_starts_and_trailing_signs() {
        use TokenKind::*;
        assert_eq!(
            kinds("a >-- x"),
            [(Ident, "a"), (Operator, ">"), (LineComment, "-- x")]
        );
        assert_eq!(
            kinds("a */* x */"),
            [(Ident, "a"), (Operator, "*"), (BlockComment, "/* x */")]
        );
        assert_eq!(
            kinds("a =- 1"),
            [
                (Ident, "a"),
                (Operator, "="),
                (Operator, "-"),
                (Number, "1")
            ]
        );
        assert_eq!(kinds("a ?- 1")[1], (Operator, "?-"));
        assert_eq!(kinds("a @<+- 1")[1], (Operator, "@<+-"));
        assert_eq!(kinds("a <+-+- 1")[1..5].len(), 4);
    }

    #[test]
    fn strings_by_prefix_and_setting() {
        use TokenKind::*;
        // `x'` would start a hexadecimal string: `y` is an identifier.
        assert_eq!(
            kinds("'a\\' y'"),
            [(String, "'a\\'"), (Ident, "y"), (String, "'")]
        );
        let off = tokens("'a\\' y'", false);
        assert_eq!((off.len(), off[0].kind, off[0].range.end), (1, String, 7));
        assert_eq!(kinds("E'a\\' x'"), [(String, "E'a\\' x'")]);
        assert_eq!(kinds("U&'a\\' x"), [(String, "U&'a\\'"), (Ident, "x")]);
        assert_eq!(kinds("B'1''0'")[0], (BitString, "B'1'"));
        assert_eq!(kinds("'a'\n  -- c\n'b'"), [(String, "'a'\n  -- c\n'b'")]);
        assert_eq!(kinds("'a' 'b'").len(), 2);
        assert_eq!(kinds("U&x"), [(Ident, "U"), (Operator, "&"), (Ident, "x")]);
    }

    #[test]
    fn dollars_numbers_and_variables() {
        use TokenKind::*;
        assert_eq!(kinds("$1"), [(Param, "$1")]);
        assert_eq!(kinds("$a$ x $b$ $a$"), [(DollarString, "$a$ x $b$ $a$")]);
        assert_eq!(kinds("a$b$"), [(Ident, "a$b$")]);
        assert_eq!(kinds("$a x"), [(Other, "$"), (Ident, "a"), (Ident, "x")]);
        assert_eq!(kinds("1e$$"), [(Number, "1e$$")]);
        assert_eq!(kinds("1_000$x"), [(Number, "1_000$x")]);
        assert_eq!(kinds("1e+$$ $$")[0], (Number, "1e+"));
        assert_eq!(kinds("1..2"), [(Number, "1"), (Punct, ".."), (Number, "2")]);
        assert_eq!(kinds("0x$a$"), [(Number, "0x$a$")]);
        assert_eq!(kinds(":a$$"), [(Variable, ":a"), (DollarString, "$$")]);
        assert_eq!(kinds("::int :=")[0], (Punct, "::"));
        assert_eq!(
            kinds(":'v' :\"v\""),
            [(Variable, ":'v'"), (Variable, ":\"v\"")]
        );
    }

    #[test]
    fn meta_commands_end_at_the_line_or_the_next_backslash() {
        use TokenKind::*;
        assert_eq!(
            kinds("\\echo 'a\\b' x \\\\ SELECT"),
            [
                (MetaCommand, "\\echo 'a\\b' x "),
                (MetaCommand, "\\\\"),
                (Ident, "SELECT")
            ]
        );
        assert_eq!(
            kinds("\\copy t from stdin \\x")[0].1,
            "\\copy t from stdin \\x"
        );
        assert_eq!(kinds("a \\; b")[1], (BackslashSemicolon, "\\;"));
    }

    #[test]
    fn unterminated_tokens_run_to_the_end() {
        for text in ["'abc", "\"abc", "$$abc", "/* a /* */", "E'\\'", "B'01"] {
            let t = tokens(text, true);
            assert_eq!(t.len(), 1, "{text:?}");
            assert_eq!(t[0].range, 0..text.len());
            assert!(!t[0].terminated);
        }
    }

    #[test]
    fn tokens_cover_every_fixture_exactly() {
        for (path, text) in crate::test_fixtures::texts() {
            for setting in [true, false] {
                let mut at = 0;
                for t in tokens(&text, setting) {
                    assert_eq!(t.range.start, at, "{path}");
                    assert!(
                        t.range.end > at && text.is_char_boundary(t.range.end),
                        "{path}"
                    );
                    at = t.range.end;
                }
                assert_eq!(at, text.len(), "{path}");
            }
        }
    }
}
