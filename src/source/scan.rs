//! A byte scanner that reads what the splitter needs (where quotes, comments and dollar quotes begin
//! and end, `;`, `(`, and a few key words) exactly as sqlparser's tokenizer would, for the text it is
//! sure of, and says so when it is not.
//!
//! sqlparser's tokenizer builds a `String` for every word, number and operator, and the splitter then
//! throws them away: on a generated Alembic export it was most of the reading time. This scanner only
//! moves an offset. Where sqlparser's reading depends on more than the splitter models (an escape
//! string `E'…'`, a number with an exponent or underscore, `--` inside an operator, COPY and its data,
//! anything unterminated, …) it stops with [`Unsure`], and the caller splits the whole text with
//! sqlparser's tokenizer instead. The fuzz target `split` and `split::tests` check that whenever the
//! scanner finishes, the split is the one the tokenizer gives.
//!
//! The rules follow `sqlparser::tokenizer::Tokenizer::next_token` (sqlparser 0.64) with the
//! `PostgreSqlDialect`: identifiers start with a letter, `_` or any non-ASCII character and go on
//! with those, digits and `$`; strings and quoted identifiers double their quote; `$$` and
//! `$tag$` quotes end at the first closing delimiter; block comments nest.

use memchr::{memchr, memchr2, memmem};

/// What the splitter needs to know of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Spaces, tabs, newlines.
    Blank,
    /// `-- …` (without its line end).
    LineComment,
    /// `/* … */`.
    BlockComment,
    Semicolon,
    /// An unquoted word, with the key word it is when the splitter cares.
    Word(Kw),
    /// A `"quoted"` identifier: never a key word.
    QuotedWord,
    LParen,
    /// Anything else: strings, numbers, operators, punctuation, COPY data.
    Other,
}

/// The key words the splitter looks at (BEGIN ATOMIC bodies, COPY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kw {
    Create,
    Begin,
    Atomic,
    Case,
    End,
    Copy,
    /// Any other word.
    Other,
}

impl Kw {
    /// The key word an unquoted word is (sqlparser compares key words in ASCII upper case).
    pub(super) fn of(word: &[u8]) -> Kw {
        let is = |kw: &str| word.eq_ignore_ascii_case(kw.as_bytes());
        match word.len() {
            3 if is("END") => Kw::End,
            4 if is("CASE") => Kw::Case,
            4 if is("COPY") => Kw::Copy,
            5 if is("BEGIN") => Kw::Begin,
            6 if is("CREATE") => Kw::Create,
            6 if is("ATOMIC") => Kw::Atomic,
            _ => Kw::Other,
        }
    }
}

/// A token: its kind and byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Lexeme {
    pub(super) kind: Kind,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// The scanner met text whose tokens it does not model; sqlparser's tokenizer must read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Unsure;

pub(super) struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// Characters sqlparser may join into one operator token (`is_custom_operator_part` of its
/// PostgreSQL dialect): inside a run of them, `--` or `/*` may or may not start a comment.
pub(crate) fn operator_part(b: u8) -> bool {
    matches!(
        b,
        b'+' | b'-'
            | b'*'
            | b'/'
            | b'<'
            | b'>'
            | b'='
            | b'~'
            | b'!'
            | b'@'
            | b'#'
            | b'%'
            | b'^'
            | b'&'
            | b'|'
            | b'`'
            | b'?'
    )
}

/// Starts an identifier: a letter, `_`, or any byte of a non-ASCII character (sqlparser's
/// PostgreSQL dialect takes every non-ASCII character as part of an identifier).
pub(crate) fn word_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

pub(crate) fn word_part(b: u8) -> bool {
    word_start(b) || b.is_ascii_digit() || b == b'$'
}

impl<'a> Scanner<'a> {
    /// A scanner of `text` from byte `start`, which must start a token.
    pub(super) fn new(text: &'a str, start: usize) -> Self {
        Scanner {
            bytes: text.as_bytes(),
            pos: start,
        }
    }

    /// Goes on from byte `pos` (a line start) instead.
    pub(super) fn seek(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// The next token, `None` at the end of the text.
    pub(super) fn next_token(&mut self) -> Result<Option<Lexeme>, Unsure> {
        let start = self.pos;
        let Some(&c) = self.bytes.get(start) else {
            return Ok(None);
        };
        let at = |i: usize| self.bytes.get(i).copied();
        let (kind, end) = match c {
            b' ' | b'\t' | b'\n' | 0x0b | 0x0c => (Kind::Blank, start + 1),
            b'\r' if at(start + 1) == Some(b'\n') => (Kind::Blank, start + 2),
            b'\r' => (Kind::Blank, start + 1),
            b';' => (Kind::Semicolon, start + 1),
            b'(' => (Kind::LParen, start + 1),
            b')' | b',' | b'[' | b']' | b'{' | b'}' | b':' | b'\\' => (Kind::Other, start + 1),
            b'\'' => (
                Kind::Other,
                quoted_end(self.bytes, start, b'\'').ok_or(Unsure)?,
            ),
            b'"' => (
                Kind::QuotedWord,
                quoted_end(self.bytes, start, b'"').ok_or(Unsure)?,
            ),
            b'$' => match dollar_end(self.bytes, start).ok_or(Unsure)? {
                Dollar::Placeholder { end } | Dollar::Quoted { end, .. } => (Kind::Other, end),
            },
            b'0'..=b'9' => (Kind::Other, number_end(self.bytes, start).ok_or(Unsure)?),
            b'.' => match at(start + 1) {
                // `.5` is a number, `._` depends on the token before.
                Some(b'0'..=b'9' | b'_') => return Err(Unsure),
                _ => (Kind::Other, start + 1),
            },
            b'-' if at(start + 1) == Some(b'-') => {
                let end = memchr2(b'\n', b'\r', &self.bytes[start..])
                    .map_or(self.bytes.len(), |i| start + i);
                (Kind::LineComment, end)
            }
            b'/' if at(start + 1) == Some(b'*') => (
                Kind::BlockComment,
                block_comment_end(self.bytes, start).ok_or(Unsure)?,
            ),
            c if operator_part(c) => (Kind::Other, self.operator(start)?),
            c if word_start(c) => {
                // `E'…'`, `B'…'`, `X'…'`, `U&'…'` and the like are strings with their own rules.
                if matches!(c, b'b' | b'B' | b'e' | b'E' | b'x' | b'X' | b'n' | b'N')
                    && matches!(at(start + 1), Some(b'\'' | b'"'))
                    || matches!(c, b'u' | b'U') && at(start + 1) == Some(b'&')
                {
                    return Err(Unsure);
                }
                let end = self.bytes[start..]
                    .iter()
                    .position(|&b| !word_part(b))
                    .map_or(self.bytes.len(), |i| start + i);
                match Kw::of(&self.bytes[start..end]) {
                    // COPY … FROM stdin: the tokenizer reads the data after the `;` raw.
                    Kw::Copy => return Err(Unsure),
                    kw => (Kind::Word(kw), end),
                }
            }
            // Other ASCII characters (control characters, DEL) are tokens of one character.
            _ => (Kind::Other, start + 1),
        };
        self.pos = end;
        Ok(Some(Lexeme { kind, start, end }))
    }

    /// A run of operator characters. sqlparser groups them in ways that differ from operator to
    /// operator (`<=--` is `<=` and a comment, `>--` one operator); the splitter does not care
    /// about the grouping unless a comment may start inside, or a group may be an error.
    fn operator(&self, start: usize) -> Result<usize, Unsure> {
        let end = self.bytes[start..]
            .iter()
            .position(|&b| !operator_part(b))
            .map_or(self.bytes.len(), |i| start + i);
        let run = &self.bytes[start..end];
        let unsure = run
            .windows(2)
            .any(|w| matches!(w, b"--" | b"/*" | b"|&" | b"@-"));
        if unsure { Err(Unsure) } else { Ok(end) }
    }
}

// The ends of tokens, shared with `parse/tokens.rs`, which makes sqlparser tokens of the same
// constructs: `None` where sqlparser's tokenizer must decide.

/// The end of a string or quoted identifier starting at `start` (its quote is doubled inside).
pub(crate) fn quoted_end(bytes: &[u8], start: usize, quote: u8) -> Option<usize> {
    let mut from = start + 1;
    loop {
        let close = from + memchr(quote, &bytes[from..])?;
        if bytes.get(close + 1) == Some(&quote) {
            from = close + 2;
        } else {
            return Some(close + 1);
        }
    }
}

/// What starts with `$`.
pub(crate) enum Dollar {
    /// `$1` or `$name`, ending at `end`.
    Placeholder { end: usize },
    /// `$tag$ … $tag$` (the tag may be empty): the tag ends at `tag_end` (its `$`), the body at
    /// `body_end`, the closing delimiter at `end`.
    #[allow(dead_code)]
    Quoted {
        tag_end: usize,
        body_end: usize,
        end: usize,
    },
}

/// The `$` construct starting at `start`.
pub(crate) fn dollar_end(bytes: &[u8], start: usize) -> Option<Dollar> {
    let tag_end = bytes[start + 1..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .map_or(bytes.len(), |i| start + 1 + i);
    match bytes.get(tag_end) {
        // A non-ASCII letter or digit would be part of the tag.
        Some(&b) if b >= 0x80 => None,
        Some(b'$') => {
            let delimiter = &bytes[start..=tag_end];
            let body = tag_end + 1;
            let body_end = body + memmem::find(&bytes[body..], delimiter)?;
            Some(Dollar::Quoted {
                tag_end,
                body_end,
                end: body_end + delimiter.len(),
            })
        }
        _ => Some(Dollar::Placeholder { end: tag_end }),
    }
}

/// The end of a number starting at `start`: digits, optionally `.` and more digits. Hexadecimal,
/// octal and binary integers, exponents, underscores and a `L` suffix are left to sqlparser.
pub(crate) fn number_end(bytes: &[u8], start: usize) -> Option<usize> {
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .map_or(bytes.len(), |i| from + i)
    };
    let mut end = digits(start);
    let next = bytes.get(end).copied();
    if end == start + 1
        && bytes[start] == b'0'
        && matches!(next, Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B'))
    {
        return None;
    }
    if next == Some(b'.') {
        end = digits(end + 1);
    }
    match bytes.get(end) {
        Some(b'_' | b'e' | b'E' | b'L' | b'.') => None,
        _ => Some(end),
    }
}

/// The end of a block comment starting at `start` (`/*`), after its `*/`; comments nest.
pub(crate) fn block_comment_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 1u32;
    let mut i = start + 2;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'/', Some(b'*')) => {
                depth += 1;
                i += 2;
            }
            (b'*', Some(b'/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}
