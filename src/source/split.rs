//! Splits any text into statements with exact spans, over sqlparser's tokenizer, or over a byte
//! scanner (`source/scan.rs`) that reads the usual export the same way many times faster and hands
//! anything it is unsure of to the tokenizer.
//!
//! The splitter never loses text: every byte of the input is either inside a statement's span, or is
//! whitespace or a comment between statements. Text that is not SQL (what a migration `print()`ed into
//! an offline export) becomes a statement of its own with [`RawKind::Text`], cut at the next blank line
//! or at the next line that starts with a SQL command, so it is never glued to the next statement.
//!
//! Tokenizer errors (an unterminated quote in printed prose, say) do not stop the split: the text from
//! the start of the open statement to the end of the offending line becomes one statement carrying the
//! error, and tokenizing resumes on the next line.

use serde::Serialize;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer, Whitespace};

use super::scan::{Kind, Kw, Lexeme, Scanner};

/// A region of the source: 1-based lines and columns (columns count characters; the end column is
/// the one just after the last character) and 0-based byte offsets (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
pub struct Span {
    pub start_line: u32,
    pub start_column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub start_byte: usize,
    pub end_byte: usize,
}

/// What the splitter found a piece of text to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKind {
    /// Starts like SQL (a command keyword or a parenthesis).
    Sql,
    /// Starts with something no SQL command starts with: printed text, prose.
    Text,
    /// A `;` with nothing before it (at the start of the input, or after a comment).
    Empty,
}

/// One statement as cut from the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStatement {
    /// The whole statement: from its first token to its `;` (and any empty `;` right after it).
    pub span: Span,
    /// Byte end of the statement's own text, without its terminating `;`.
    pub body_end: usize,
    pub kind: RawKind,
    /// Whether a `;` ended it (false at end of input, before a revision marker, or for cut text).
    pub terminated: bool,
    /// A tokenizer error inside this statement, with its location.
    pub error: Option<String>,
}

/// A comment outside every statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    /// Index of the first statement after this comment (= number of statements before it).
    pub before_statement: usize,
}

/// The result of [`split`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    pub statements: Vec<RawStatement>,
    pub comments: Vec<Comment>,
}

/// First words of SQL commands (https://www.postgresql.org/docs/current/sql-commands.html): a piece
/// of text that starts with any other word is printed output, not SQL.
const COMMAND_WORDS: &[&str] = &[
    "ABORT",
    "ALTER",
    "ANALYSE",
    "ANALYZE",
    "BEGIN",
    "CALL",
    "CHECKPOINT",
    "CLOSE",
    "CLUSTER",
    "COMMENT",
    "COMMIT",
    "COPY",
    "CREATE",
    "DEALLOCATE",
    "DECLARE",
    "DELETE",
    "DISCARD",
    "DO",
    "DROP",
    "END",
    "EXECUTE",
    "EXPLAIN",
    "FETCH",
    "GRANT",
    "IMPORT",
    "INSERT",
    "LISTEN",
    "LOAD",
    "LOCK",
    "MERGE",
    "MOVE",
    "NOTIFY",
    "PREPARE",
    "REASSIGN",
    "REFRESH",
    "REINDEX",
    "RELEASE",
    "RESET",
    "REVOKE",
    "ROLLBACK",
    "SAVEPOINT",
    "SECURITY",
    "SELECT",
    "SET",
    "SHOW",
    "START",
    "TABLE",
    "TRUNCATE",
    "UNLISTEN",
    "UPDATE",
    "VACUUM",
    "VALUES",
    "WITH",
];

fn is_command(word: &str) -> bool {
    COMMAND_WORDS.iter().any(|c| c.eq_ignore_ascii_case(word))
}

/// What the splitter needs of one of sqlparser's tokens.
fn kind_of(token: &Token) -> Kind {
    match token {
        Token::Whitespace(Whitespace::SingleLineComment { .. }) => Kind::LineComment,
        Token::Whitespace(Whitespace::MultiLineComment(_)) => Kind::BlockComment,
        Token::Whitespace(_) => Kind::Blank,
        Token::SemiColon => Kind::Semicolon,
        Token::LParen => Kind::LParen,
        Token::Word(w) if w.quote_style.is_some() => Kind::QuotedWord,
        Token::Word(w) => Kind::Word(match w.keyword {
            Keyword::CREATE => Kw::Create,
            Keyword::BEGIN => Kw::Begin,
            Keyword::ATOMIC => Kw::Atomic,
            Keyword::CASE => Kw::Case,
            Keyword::END => Kw::End,
            Keyword::COPY => Kw::Copy,
            _ => Kw::Other,
        }),
        _ => Kind::Other,
    }
}

/// Does this line (raw text) start, at its first column, like a SQL statement or a revision marker?
fn line_starts_sql(line: &str) -> bool {
    if line.starts_with('(') || is_revision_marker(line) {
        return true;
    }
    let word: String = line
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    !word.is_empty() && is_command(&word)
}

/// Is this comment an Alembic revision marker (`-- Running upgrade …`) at the start of a line?
pub(crate) fn is_revision_marker(comment: &str) -> bool {
    let rest = comment.trim_start_matches('-').trim_start();
    rest.starts_with("Running upgrade ") || rest.starts_with("Running downgrade ")
}

/// Byte offsets of line starts; lines end at `\n` (as in sqlparser's tokenizer).
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// Last position resolved: (line, column, byte), to make forward lookups on long lines linear.
    cursor: (u32, u32, usize),
    /// Last byte → (line, column) answer of `position`, for the same reason.
    last_position: std::cell::Cell<(usize, u32, u32)>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex {
            text,
            starts,
            cursor: (1, 1, 0),
            last_position: std::cell::Cell::new((0, 1, 1)),
        }
    }

    pub(crate) fn line_start(&self, line: u32) -> usize {
        self.starts
            .get(line.saturating_sub(1) as usize)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// Byte offset of 1-based (line, column); columns count characters.
    pub(crate) fn byte_at(&mut self, line: u32, column: u32) -> usize {
        let (cl, cc, cb) = self.cursor;
        let (mut col, mut byte) = if cl == line && cc <= column {
            (cc, cb)
        } else {
            (1, self.line_start(line))
        };
        let rest = &self.text[byte.min(self.text.len())..];
        let mut chars = rest.chars();
        while col < column {
            match chars.next() {
                Some('\n') | None => break,
                Some(c) => {
                    byte += c.len_utf8();
                    col += 1;
                }
            }
        }
        self.cursor = (line, col, byte);
        byte
    }

    /// (line, column) of a byte offset (which must be on a char boundary).
    pub(crate) fn position(&self, byte: usize) -> (u32, u32) {
        let line = match self.starts.binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let line_no = line as u32 + 1;
        let (cached_byte, cached_line, cached_column) = self.last_position.get();
        let (from, base) = if cached_line == line_no && cached_byte <= byte {
            (cached_byte, cached_column)
        } else {
            (self.starts[line], 1)
        };
        let column = base + self.text[from..byte].chars().count() as u32;
        self.last_position.set((byte, line_no, column));
        (line_no, column)
    }

    pub(crate) fn span(&self, start: usize, end: usize) -> Span {
        let (start_line, start_column) = self.position(start);
        let (end_line, end_column) = self.position(end);
        Span {
            start_line,
            start_column,
            end_line,
            end_column,
            start_byte: start,
            end_byte: end,
        }
    }
}

struct Open {
    start: usize,
    /// End of the last token that belongs to the statement.
    end: usize,
    /// End of the last significant (non-comment) token before any `;`.
    body_end: usize,
    /// Words seen at the start, to recognise CREATE … BEGIN ATOMIC.
    first_word: Option<Kw>,
    prev_word: Option<Kw>,
    /// Nesting inside a SQL-standard `BEGIN ATOMIC … END` body, where `;` does not end the statement.
    atomic_depth: u32,
}

struct Splitter<'a> {
    text: &'a str,
    lines: LineIndex<'a>,
    out: Split,
    open: Option<Open>,
    /// Whether only whitespace followed the last statement (for `;;`).
    only_space_since_last: bool,
    /// Text up to here is in a statement already (printed text cut from the raw text, COPY data):
    /// tokens that start before it are part of it.
    skip_until: usize,
    /// A token ran across the end of printed text (a quote in prose): tokenize again from this line.
    restart: Option<u32>,
    /// Bytes to tokenize at a time (see `run`).
    first_chunk: usize,
    /// The tokenizer's COPY tracker at the end of the tokens used so far.
    copy_first: CopyState,
    /// Where splitting starts (a part of the text, see [`split_in_parts`]).
    start: usize,
    /// A tokenizer error, a restart or a COPY was met: as the end of a part, no clean cut.
    irregular: bool,
}

/// Splits `text` into statements and the comments between them.
pub fn split(text: &str) -> Split {
    // The scanner reads the usual export many times faster than sqlparser's tokenizer, and gives
    // the same split; what it is unsure of goes to the tokenizer.
    if let Some(split) = split_scanned(text) {
        return split;
    }
    // Short texts (a DO body, a statement) never split in parts: no need to ask for the cores.
    let parts = match text.len() / MIN_PART {
        0 | 1 => 1,
        n => rayon::current_num_threads().min(n),
    };
    if parts >= 2
        && let Some(split) = split_in_parts(text, parts, FIRST_CHUNK)
    {
        return split;
    }
    split_in_chunks_of(text, FIRST_CHUNK)
}

/// Below this many bytes per core, one thread splits the whole text (a thread and the check of
/// its part's end cost more than they save).
const MIN_PART: usize = 128 << 10;

/// [`split`] on `parts` threads at once, each from its own place in the text; `None` when no such
/// places are found or a part's end is not certain to be a clean cut (then the caller splits on
/// one thread).
///
/// A part starts at a line that starts like SQL right after a blank line (Alembic's and Django's
/// exports are made of them). The part before it is split as if the text ended there, and the cut
/// holds when that part ends the way one run over the whole text would reach that line: with no
/// statement open, no tokenizer error (a quote, comment or dollar quote running across the cut is
/// one), no COPY (whose data sqlparser reads past its `;`), and the tokenizer's own idea of the
/// statement fresh (after a `;`: printed text without one leaves sqlparser inside a statement,
/// where a COPY on the next line would not be read as one). The tokenizer then restarts cleanly
/// there (see [`last_cut`]), and the splitter has nothing to carry over: the line's first token
/// opens a statement whatever came before. The fuzz target `split` checks that the result is
/// that of one run.
#[doc(hidden)]
pub fn split_in_parts(text: &str, parts: usize, first_chunk: usize) -> Option<Split> {
    let mut bounds = vec![0];
    for i in 1..parts {
        let from = (text.len() / parts * i).max(bounds.last().copied().unwrap_or(0) + 1);
        match part_start(text, from) {
            Some(at) => bounds.push(at),
            None => break,
        }
    }
    bounds.push(text.len());
    if bounds.len() < 3 {
        return None;
    }
    let ranges: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
    let last = ranges.len() - 1;
    let done: Vec<(Split, bool)> = ranges
        .iter()
        .map(|&(start, end)| {
            let mut s = Splitter::over(&text[..end], start, first_chunk);
            s.run_to_end();
            let clean = !s.irregular && s.open.is_none() && s.copy_first == CopyState::default();
            s.close(false);
            (s.out, clean)
        })
        .collect();
    if done[..last].iter().any(|(_, clean)| !clean) {
        return None;
    }
    let mut parts = done.into_iter().map(|(part, _)| part);
    let mut out = parts.next()?;
    for part in parts {
        let before = out.statements.len();
        out.statements.extend(part.statements);
        out.comments.extend(part.comments.into_iter().map(|mut c| {
            c.before_statement += before;
            c
        }));
    }
    Some(out)
}

/// The first line at or after byte `from` that starts like SQL right after a blank line (see
/// [`split_in_parts`]).
fn part_start(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = from;
    // Bytes, not chars: `from` may fall inside a character, and a newline never does.
    while let Some(i) = bytes.get(at..)?.iter().position(|&b| b == b'\n') {
        let start = at + i + 1;
        let prev = text[..at + i].rfind('\n').map_or(0, |j| j + 1);
        let end = text[start..].find('\n').map_or(text.len(), |j| start + j);
        if text[prev..at + i].trim().is_empty()
            && start < text.len()
            && text[start..end].starts_with(|c: char| c.is_ascii_alphabetic())
            && line_starts_sql(&text[start..end])
        {
            return Some(start);
        }
        at = start;
    }
    None
}

/// [`split`] over the byte scanner (`source/scan.rs`); `None` when the text holds something the
/// scanner leaves to sqlparser's tokenizer. When it answers, the answer is that of
/// [`split_in_chunks_of`] (the fuzz target `split` checks it).
#[doc(hidden)]
pub fn split_scanned(text: &str) -> Option<Split> {
    let mut s = Splitter::over(text, 0, FIRST_CHUNK);
    let mut scanner = Scanner::new(text, 0);
    while let Some(tok) = scanner.next_token().ok()? {
        s.feed(tok);
        if let Some(line) = s.restart.take() {
            // A token ran past printed text: read again from the line after it, as
            // `run_to_end` does.
            scanner.seek(s.lines.line_start(line));
        }
    }
    s.close(false);
    Some(s.out)
}

/// [`split`], tokenizing at least `first_chunk` bytes at a time: the result is the same for every
/// chunk size (the fuzz target `split` checks it), only memory and time differ.
#[doc(hidden)]
pub fn split_in_chunks_of(text: &str, first_chunk: usize) -> Split {
    let mut s = Splitter::over(text, 0, first_chunk);
    s.run_to_end();
    s.close(false);
    s.out
}

impl<'a> Splitter<'a> {
    /// A splitter of `text` from byte `start` (a line start) to its end.
    fn over(text: &'a str, start: usize, first_chunk: usize) -> Self {
        Splitter {
            first_chunk: first_chunk.max(1),
            copy_first: CopyState::default(),
            text,
            lines: LineIndex::new(text),
            out: Split::default(),
            open: None,
            only_space_since_last: false,
            skip_until: 0,
            restart: None,
            start,
            irregular: false,
        }
    }

    /// Tokenizes the text a bounded chunk at a time, so memory holds the tokens of one chunk and
    /// not of the whole file, and a restart (after printed text or a tokenizer error) re-reads one
    /// chunk and not the rest of the file.
    ///
    /// A chunk ends at a line boundary; only its tokens up to a safe cut (see [`last_cut`]) are
    /// used, and the next chunk starts right after them. Restarting sqlparser's tokenizer at a safe
    /// cut gives the same tokens as one run over the whole text. A chunk without one (a long
    /// token, or an error or COPY data the chunk's end cut short) is read again twice as long, so the
    /// total work stays linear.
    fn run_to_end(&mut self) {
        let dialect = PostgreSqlDialect {};
        let mut from: usize = self.start;
        let mut size = self.first_chunk;
        let mut buf: Vec<TokenWithSpan> = Vec::new();
        while from < self.text.len() {
            let (chunk_line, chunk_column) = self.lines.position(from);
            let (chunk_end, mid_line) = chunk_end(self.text, from, size);
            let whole = chunk_end >= self.text.len();
            // A chunk that ends inside a line may end inside a token, and the tokenizer decides
            // where a token ends by looking a character or two ahead: the tokens near the end are
            // not used.
            let unsure_after = mid_line.then(|| {
                let (line, column) = self.lines.position(chunk_end);
                let line = line - chunk_line + 1;
                let column = if line == 1 {
                    column - chunk_column + 1
                } else {
                    column
                };
                if column > UNSURE_COLUMNS {
                    Location::new(u64::from(line), u64::from(column - UNSURE_COLUMNS))
                } else {
                    // Too little of the last line: the end of the line before is unsure too.
                    Location::new(u64::from(line.saturating_sub(1)), 0)
                }
            });
            buf.clear();
            let result = Tokenizer::new(&dialect, &self.text[from..chunk_end])
                .with_unescape(false)
                .tokenize_with_location_into_buf(&mut buf);
            let usable = if whole {
                buf.len()
            } else {
                match last_cut(&buf, self.copy_first, unsure_after) {
                    Some(n) => n,
                    None => {
                        size = size.saturating_mul(2);
                        continue;
                    }
                }
            };
            size = self.first_chunk;
            // Where the token the tokenizer failed on starts: right after the furthest one it
            // returned (COPY data comes before its `;` in the list, and ends after it).
            let mut reached = from;
            for t in buf.drain(..usable) {
                self.copy_first = copy_tracker(self.copy_first, &t.token);
                self.irregular |= matches!(
                    self.copy_first.statement,
                    Statement::Copy | Statement::CopyData
                );
                let tok = self.absolute(t, chunk_line, chunk_column);
                reached = reached.max(tok.end);
                self.feed(tok);
                if self.restart.is_some() {
                    break;
                }
            }
            if let Some(line) = self.restart.take() {
                self.irregular = true;
                // A fresh tokenizer from that line on.
                from = self.lines.line_start(line);
                self.copy_first = CopyState::default();
                continue;
            }
            if !whole {
                from = reached;
                continue;
            }
            match result {
                Ok(()) => break,
                Err(e) => {
                    self.irregular = true;
                    self.copy_first = CopyState::default();
                    let line = chunk_line + e.location.line.max(1) as u32 - 1;
                    let column = if e.location.line <= 1 {
                        chunk_column + e.location.column.max(1) as u32 - 1
                    } else {
                        e.location.column.max(1) as u32
                    };
                    // The failing token starts right after the last token returned (the error's
                    // location can be far later: the end of the text for an open dollar quote).
                    let at = reached.min(self.lines.byte_at(line, column));
                    if at < self.skip_until {
                        // The error lies in printed text already cut: go on after that text.
                        from = self
                            .lines
                            .line_start(self.lines.position(self.skip_until).0 + 1);
                        continue;
                    }
                    let message = format!("{} at line {line}, column {column}", e.message);
                    self.cut_at_error(at, line, message);
                    from = self.lines.line_start(line + 1);
                }
            }
        }
    }

    /// A chunk's token with absolute byte offsets; the chunk starts at (`chunk_line`, `chunk_column`).
    fn absolute(&mut self, t: TokenWithSpan, chunk_line: u32, chunk_column: u32) -> Lexeme {
        let at = |l: Location| {
            let line = l.line.max(1) as u32;
            let column = if line == 1 {
                chunk_column + l.column.max(1) as u32 - 1
            } else {
                l.column.max(1) as u32
            };
            (chunk_line + line - 1, column)
        };
        let (sl, sc) = at(t.span.start);
        let (el, ec) = at(t.span.end);
        let start = self.lines.byte_at(sl, sc);
        let end = self.lines.byte_at(el, ec);
        Lexeme {
            kind: kind_of(&t.token),
            start,
            end: end.max(start),
        }
    }

    /// The tokenizer failed on a token starting at byte `at`, noticing it on `line`: everything from the
    /// open statement's start (or that token) to the end of that line becomes one statement that
    /// carries the error.
    fn cut_at_error(&mut self, at: usize, line: u32, message: String) {
        let kind = if self.open.is_some() {
            RawKind::Sql
        } else {
            RawKind::Text
        };
        let start = self.open.take().map(|o| o.start).unwrap_or(at);
        let end = self.line_end(self.lines.line_start(line));
        if end > start {
            self.push(start, end, end, kind, false, Some(message));
        }
    }

    /// Byte offset of the end of the line holding `byte`, before its `\n` and trailing blanks.
    fn line_end(&self, byte: usize) -> usize {
        let end = self.text[byte..]
            .find('\n')
            .map_or(self.text.len(), |i| byte + i);
        byte + self.text[byte..end].trim_end().len()
    }

    fn push(
        &mut self,
        start: usize,
        end: usize,
        body_end: usize,
        kind: RawKind,
        terminated: bool,
        error: Option<String>,
    ) {
        let span = self.lines.span(start, end);
        self.out.statements.push(RawStatement {
            span,
            body_end,
            kind,
            terminated,
            error,
        });
        self.only_space_since_last = true;
        // Tokens that start inside a statement already cut belong to it: the rest of the line
        // after a COPY's `;`, which sqlparser lists after the COPY data that follows that line.
        self.skip_until = self.skip_until.max(end);
    }

    fn feed(&mut self, tok: Lexeme) {
        if tok.start < self.skip_until {
            if tok.end > self.skip_until {
                // A token (a string opened by an apostrophe in prose) runs past the printed text.
                self.restart = Some(self.lines.position(self.skip_until).0 + 1);
            }
            return;
        }
        match tok.kind {
            Kind::Blank => {}
            Kind::LineComment | Kind::BlockComment => {
                let marker = tok.kind == Kind::LineComment
                    && self.lines.position(tok.start).1 == 1
                    && is_revision_marker(&self.text[tok.start..tok.end]);
                if marker {
                    self.close(false);
                }
                if self.open.is_none() {
                    let end = trim_end(self.text, tok.start, tok.end);
                    self.out.comments.push(Comment {
                        span: self.lines.span(tok.start, end),
                        before_statement: self.out.statements.len(),
                    });
                    self.only_space_since_last = false;
                }
            }
            Kind::Semicolon => self.semicolon(tok),
            _ => self.significant(tok),
        }
    }

    fn semicolon(&mut self, tok: Lexeme) {
        match self.open.as_mut() {
            Some(o) if o.atomic_depth > 0 => o.end = tok.end,
            Some(o) => {
                o.end = o.end.max(tok.end);
                self.close(true);
            }
            None => {
                if self.only_space_since_last
                    && let Some(last) = self.out.statements.last_mut()
                {
                    // An empty statement right after one (`;;` from Alembic's op.execute): it belongs
                    // to the statement before, so no `;` is left outside every statement.
                    last.span = self.lines.span(last.span.start_byte, tok.end);
                    return;
                }
                self.push(tok.start, tok.end, tok.start, RawKind::Empty, true, None);
            }
        }
    }

    fn significant(&mut self, tok: Lexeme) {
        let keyword = match tok.kind {
            Kind::Word(kw) => Some(kw),
            _ => None,
        };
        if let Some(o) = self.open.as_mut() {
            o.end = o.end.max(tok.end);
            o.body_end = o.body_end.max(tok.end);
            track_atomic(o, keyword);
            o.prev_word = keyword;
            return;
        }
        // An unquoted word's text is its value as sqlparser gives it.
        let command = match tok.kind {
            Kind::Word(_) => is_command(&self.text[tok.start..tok.end]),
            Kind::LParen => true,
            _ => false,
        };
        if command {
            self.open = Some(Open {
                start: tok.start,
                end: tok.end,
                body_end: tok.end,
                first_word: keyword,
                prev_word: keyword,
                atomic_depth: 0,
            });
            return;
        }
        // Printed text: cut from the raw text, line by line, up to a blank line or a line that starts
        // like SQL, whatever quotes or semicolons the prose holds.
        let mut end = self.line_end(tok.start);
        loop {
            let next = end
                + self.text[end..]
                    .find('\n')
                    .map_or(self.text.len() - end, |i| i + 1);
            if next >= self.text.len() {
                break;
            }
            let line = &self.text[next..self.line_end(next)];
            if line.trim().is_empty() || line_starts_sql(line) {
                break;
            }
            end = self.line_end(next);
        }
        self.push(tok.start, end, end, RawKind::Text, false, None);
        self.skip_until = end;
    }

    fn close(&mut self, terminated: bool) {
        let Some(o) = self.open.take() else { return };
        // COPY's data token ends after the newline that follows `\.`.
        let end = trim_end(self.text, o.start, o.end);
        self.push(
            o.start,
            end,
            o.body_end.min(end),
            RawKind::Sql,
            terminated,
            None,
        );
    }
}

/// Bytes of text the splitter tokenizes at a time (more when one statement is longer).
const FIRST_CHUNK: usize = 64 * 1024;

/// Where a chunk that starts at `from` ends: after the first newline at or after `from + size`, or
/// at the end of the text; when that line runs on for more than `size` bytes, inside it (`true`).
fn chunk_end(text: &str, from: usize, size: usize) -> (usize, bool) {
    let at = from.saturating_add(size);
    if at >= text.len() {
        return (text.len(), false);
    }
    let far = at.saturating_add(size).min(text.len());
    match text.as_bytes()[at..far].iter().position(|&b| b == b'\n') {
        Some(i) => (at + i + 1, false),
        None if far == text.len() => (far, false),
        None => {
            let mut end = far;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            (end, true)
        }
    }
}

/// Characters before a chunk's end (inside a line) whose tokens are not used: more than the
/// tokenizer ever looks ahead.
const UNSURE_COLUMNS: u32 = 16;

/// What sqlparser's tokenizer knows of the statement it is in, for COPY … FROM stdin (whose data
/// it reads raw after the `;`, and puts before that `;` in the token list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct CopyState {
    statement: Statement,
    /// After a COPY's `;` that came without data: the data (none, or cut off by the chunk's end)
    /// would start on the next line, so no cut until a token after that line's end.
    wait: Wait,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Statement {
    /// No token since the last `;` (or the start).
    #[default]
    Fresh,
    /// In a statement that does not start with COPY.
    Other,
    /// In a statement that starts with COPY.
    Copy,
    /// COPY data was read; its `;` ends the statement.
    CopyData,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Wait {
    #[default]
    No,
    /// For the end of the line of a COPY's `;`.
    Newline,
    /// For any token after that line.
    Token,
}

impl CopyState {
    /// Whether the tokenizer can restart here with a fresh tracker and read the same.
    fn cuttable(self) -> bool {
        self.wait == Wait::No && matches!(self.statement, Statement::Fresh | Statement::Other)
    }
}

fn copy_tracker(state: CopyState, token: &Token) -> CopyState {
    use Statement::*;
    let wait = match (state.wait, token) {
        (Wait::Newline, Token::Whitespace(Whitespace::Newline)) => Wait::Token,
        (Wait::Token, _) => Wait::No,
        (w, _) => w,
    };
    let (statement, wait) = match (state.statement, token) {
        (_, Token::Whitespace(_)) => (state.statement, wait),
        (Copy, Token::SemiColon) => (Fresh, Wait::Newline),
        (_, Token::SemiColon) => (Fresh, wait),
        (_, Token::CopyData { .. }) => (CopyData, wait),
        (Fresh, Token::Word(w)) if w.keyword == Keyword::COPY => (Copy, wait),
        (Fresh, _) => (Other, wait),
        (s, _) => (s, wait),
    };
    CopyState { statement, wait }
}

/// How many of a chunk's tokens to use, so that tokenizing again right after them gives the same
/// tokens as going on. sqlparser's tokenizer carries little from one token to the next: the
/// previous token and the previous significant one (which decide only how a `.` is read), and the
/// COPY tracker. So the cut goes after a blank, a newline, a comment, `;` or `,` that is
/// - followed, within the chunk, by a significant token that does not start with `.` (or by
///   nothing significant, when the cut is after a `;` and not after a word),
/// - outside a COPY statement (and not before a COPY key word in the middle of another statement),
/// - after everything read so far (COPY data comes before its `;` in the token list),
/// - before any COPY data the chunk's end cut short.
///
/// `state` is the COPY tracker at the chunk's start; tokens ending after `unsure_after` are not
/// used (see `run`). `None` when there is no such place.
fn last_cut(
    tokens: &[TokenWithSpan],
    mut state: CopyState,
    unsure_after: Option<Location>,
) -> Option<usize> {
    let unsure = |t: &TokenWithSpan| {
        unsure_after.is_some_and(|u| (t.span.end.line, t.span.end.column) > (u.line, u.column))
    };
    let limit = tokens
        .iter()
        .position(|t| {
            unsure(t)
                || matches!(
                    t.token,
                    Token::CopyData {
                        terminated: false,
                        ..
                    }
                )
        })
        .unwrap_or(tokens.len());
    let tokens = &tokens[..limit];
    let mut best = None;
    let mut furthest = Location::new(0, 0);
    // Whether the last significant token so far is a word (how a `.` after it is read).
    let mut after_word = false;
    // The next significant token at or after each index, found walking backwards.
    let mut next_significant: Vec<Option<usize>> = vec![None; tokens.len() + 1];
    for i in (0..tokens.len()).rev() {
        next_significant[i] = if matches!(tokens[i].token, Token::Whitespace(_)) {
            next_significant[i + 1]
        } else {
            Some(i)
        };
    }
    for (i, t) in tokens.iter().enumerate() {
        state = copy_tracker(state, &t.token);
        let end = t.span.end;
        let after_all = (end.line, end.column) >= (furthest.line, furthest.column);
        if after_all {
            furthest = end;
        }
        // Blanks and comments count as whitespace for the tokenizer (a line comment holds its
        // newline, so a file of comments has no other place to cut).
        let separator = matches!(
            t.token,
            Token::SemiColon | Token::Comma | Token::Whitespace(_)
        );
        if !matches!(t.token, Token::Whitespace(_)) {
            after_word = matches!(t.token, Token::Word(_));
        }
        if !separator || !after_all || !state.cuttable() {
            continue;
        }
        let Some(n) = next_significant[i + 1] else {
            // Only blanks and comments follow in this chunk: what comes next is unknown, so cut
            // only where it cannot matter, after a `;` (or at the start) and not after a word.
            if state.statement == Statement::Fresh && !after_word && i + 1 < tokens.len() {
                best = Some(i + 1);
            }
            continue;
        };
        let next = &tokens[n].token;
        let dot = matches!(next, Token::Period)
            || matches!(next, Token::Number(digits, _) if digits.starts_with('.'));
        let copy_word = matches!(next, Token::Word(w) if w.keyword == Keyword::COPY);
        if dot || (copy_word && state.statement == Statement::Other) {
            continue;
        }
        best = Some(i + 1);
    }
    best
}

/// SQL-standard function bodies (`CREATE FUNCTION … BEGIN ATOMIC stmt; stmt; END`) hold `;`.
/// Inside them CASE … END nests; the body ends at the END that closes BEGIN ATOMIC.
fn track_atomic(o: &mut Open, keyword: Option<Kw>) {
    let Some(k) = keyword else { return };
    if o.atomic_depth == 0 {
        if k == Kw::Atomic && o.prev_word == Some(Kw::Begin) && o.first_word == Some(Kw::Create) {
            o.atomic_depth = 1;
        }
        return;
    }
    match k {
        Kw::Case | Kw::Begin => o.atomic_depth += 1,
        Kw::End => o.atomic_depth -= 1,
        _ => {}
    }
}

/// `end` moved back over trailing whitespace (never before `start`).
fn trim_end(text: &str, start: usize, end: usize) -> usize {
    let trimmed = text[start..end].trim_end();
    start + trimmed.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql)
            .statements
            .iter()
            .map(|s| &sql[s.span.start_byte..s.span.end_byte])
            .collect()
    }

    #[test]
    fn plain_statements() {
        assert_eq!(texts("SELECT 1;\nSELECT 2;"), ["SELECT 1;", "SELECT 2;"]);
    }

    #[test]
    fn two_on_one_line_with_columns() {
        let sql = "ALTER TABLE a ADD COLUMN b int; SET CONSTRAINTS \"x\" IMMEDIATE;";
        let s = split(sql);
        assert_eq!(s.statements.len(), 2);
        let second = s.statements[1].span;
        assert_eq!((second.start_line, second.start_column), (1, 33));
        assert_eq!(
            &sql[second.start_byte..second.end_byte],
            "SET CONSTRAINTS \"x\" IMMEDIATE;"
        );
        assert_eq!(second.end_column, 63);
    }

    #[test]
    fn dollar_quotes_with_tags() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $fn$ BEGIN RETURN 1; $$;$$ END; $fn$ LANGUAGE plpgsql;\nSELECT 1;";
        let t = texts(sql);
        assert_eq!(t.len(), 2);
        assert!(t[0].ends_with("LANGUAGE plpgsql;"));
    }

    #[test]
    fn escape_strings_and_nested_comments() {
        let sql = "SELECT E'it\\'s; fine';\n/* a /* b; */ c; */ SELECT 2;";
        let s = split(sql);
        assert_eq!(s.statements.len(), 2);
        assert_eq!(
            &sql[s.statements[0].span.start_byte..s.statements[0].span.end_byte],
            "SELECT E'it\\'s; fine';"
        );
        assert_eq!(s.comments.len(), 1);
        assert_eq!(s.comments[0].before_statement, 1);
    }

    #[test]
    fn semicolon_in_strings_and_identifiers() {
        assert_eq!(
            texts("INSERT INTO \"a;b\" VALUES ('x;y');SELECT 1;").len(),
            2
        );
    }

    #[test]
    fn begin_atomic_body() {
        let sql = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END; SELECT a; END;\nSELECT 3;";
        let t = texts(sql);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t[0].ends_with("SELECT a; END;"));
    }

    #[test]
    fn plain_begin_is_a_transaction() {
        assert_eq!(
            texts("BEGIN;\nSELECT 1;\nCOMMIT;"),
            ["BEGIN;", "SELECT 1;", "COMMIT;"]
        );
    }

    #[test]
    fn empty_statements_are_absorbed() {
        let sql = "CREATE EXTENSION IF NOT EXISTS pg_trgm;;\n\nSELECT 1; ;\n";
        assert_eq!(
            texts(sql),
            ["CREATE EXTENSION IF NOT EXISTS pg_trgm;;", "SELECT 1; ;"]
        );
        let s = split(sql);
        assert_eq!(
            &sql[s.statements[0].span.start_byte..s.statements[0].body_end],
            "CREATE EXTENSION IF NOT EXISTS pg_trgm"
        );
    }

    #[test]
    fn leading_semicolon_is_an_empty_statement() {
        let s = split("; SELECT 1;");
        assert_eq!(s.statements[0].kind, RawKind::Empty);
        assert_eq!(s.statements.len(), 2);
    }

    #[test]
    fn semicolon_after_comment_is_not_absorbed() {
        let s = split("SELECT 1;\n-- Running upgrade a -> b\n;\n");
        assert_eq!(s.statements.len(), 2);
        assert_eq!(s.statements[1].kind, RawKind::Empty);
    }

    #[test]
    fn crlf_spans() {
        let sql = "SELECT 1;\r\nALTER TABLE t\r\n  ADD COLUMN c int;\r\n";
        let s = split(sql);
        assert_eq!(s.statements.len(), 2);
        let sp = s.statements[1].span;
        assert_eq!(
            (sp.start_line, sp.start_column, sp.end_line, sp.end_column),
            (2, 1, 3, 20)
        );
        assert_eq!(
            &sql[sp.start_byte..sp.end_byte],
            "ALTER TABLE t\r\n  ADD COLUMN c int;"
        );
    }

    #[test]
    fn copy_from_stdin_data() {
        let sql = "COPY t (a, b) FROM stdin;\n1\tit's; here\n2\t\\N\n\\.\nSELECT 1;\n";
        let t = texts(sql);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t[0].contains("\\."));
        assert_eq!(t[1], "SELECT 1;");
    }

    #[test]
    fn printed_text_is_its_own_statement() {
        let sql = "SELECT 1;\n\nprocessing batch 1\n\nWITH c AS (SELECT 1) UPDATE t SET a = 1;\n";
        let s = split(sql);
        let t = texts(sql);
        assert_eq!(
            t,
            [
                "SELECT 1;",
                "processing batch 1",
                "WITH c AS (SELECT 1) UPDATE t SET a = 1;"
            ]
        );
        assert_eq!(s.statements[1].kind, RawKind::Text);
    }

    #[test]
    fn printed_text_before_a_command_line() {
        let t = texts("downgrade is done\nDROP TABLE x;\n");
        assert_eq!(t, ["downgrade is done", "DROP TABLE x;"]);
    }

    #[test]
    fn structlog_line_with_dashes() {
        let sql =
            "2026-01-02T03:04:05Z [info     ] Generating sql -- not submitted. [x.y]\n\nBEGIN;\n";
        let s = split(sql);
        assert_eq!(s.statements.len(), 2);
        assert_eq!(s.statements[0].span.end_byte, sql.find("\n\n").unwrap_or(0));
        assert!(s.comments.is_empty());
    }

    #[test]
    fn unterminated_quote_in_prose() {
        let sql = "SELECT 1;\nDon't do this\nSELECT 2;\n";
        let s = split(sql);
        let t = texts(sql);
        assert_eq!(t, ["SELECT 1;", "Don't do this", "SELECT 2;"]);
        assert_eq!(s.statements[1].kind, RawKind::Text);
    }

    #[test]
    fn prose_with_quotes_and_semicolons_stays_one_text() {
        let sql = "Manual step:\nWe don't convert; check first.\n    ALTER TABLE a DROP b;\n\nALTER TABLE c ADD d int;\nUPDATE v SET x='y';\n";
        let t = texts(sql);
        assert_eq!(t.len(), 3, "{t:?}");
        assert!(t[0].ends_with("ALTER TABLE a DROP b;"));
        assert_eq!(t[1], "ALTER TABLE c ADD d int;");
    }

    #[test]
    fn unterminated_string_in_sql() {
        let sql = "SELECT 'abc\nSELECT 2;\n";
        let s = split(sql);
        assert_eq!(texts(sql), ["SELECT 'abc", "SELECT 2;"]);
        assert_eq!(s.statements[0].kind, RawKind::Sql);
        assert!(
            s.statements[0]
                .error
                .as_deref()
                .unwrap_or("")
                .contains("Unterminated")
        );
    }

    #[test]
    fn revision_marker_cuts_an_unterminated_statement() {
        let sql = "SELECT 1\n-- Running upgrade a -> b\nSELECT 2;";
        let s = split(sql);
        assert_eq!(texts(sql), ["SELECT 1", "SELECT 2;"]);
        assert_eq!(s.comments.len(), 1);
        assert!(!s.statements[0].terminated);
    }

    #[test]
    fn multibyte_columns() {
        let sql = "SELECT 'éé';SELECT 2;";
        let s = split(sql);
        let sp = s.statements[1].span;
        assert_eq!(sp.start_column, 13);
        assert_eq!(sp.start_byte, 14);
        assert_eq!(sp.end_column, 22);
    }

    #[test]
    fn empty_and_comment_only_input() {
        assert!(split("").statements.is_empty());
        let s = split("-- nothing\n/* here */\n");
        assert!(s.statements.is_empty());
        assert_eq!(s.comments.len(), 2);
    }
}

#[cfg(test)]
pub(super) mod parts_tests {
    use super::*;

    /// Pieces that make a cut go wrong if it is not checked: statements, quotes, comments and
    /// dollar quotes that run across blank lines and lines that start like SQL, COPY data, printed
    /// text, `;;`, BEGIN ATOMIC bodies and revision markers.
    pub(super) const PIECES: &[&str] = &[
        "ALTER TABLE t ADD COLUMN c int;\n",
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n\nUPDATE t SET a = 1;\n\nRETURN 1;\nEND $$;\n",
        "SELECT 'it''s\n\nDROP TABLE t;\n';\n",
        "/* a comment\n\nDROP TABLE t;\n*/\n",
        "INFO  [alembic] Running upgrade a -> b\nprinted; text\n",
        "UPDATE t SET a = 1;;\n",
        ";\n",
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n\nSELECT 1;\n\nEND;\n",
        "-- Running upgrade a -> b\n",
        "BEGIN;\n",
        "COMMIT;\n",
        "CREATE INDEX i ON t (a)\n\nWHERE a > 0;\n",
        "  indented text;\n",
        "SELECT \"quoted\n\nALTER\";\n",
        "\r\nALTER TABLE t DROP COLUMN c;\r\n",
        "-- ünïcödé comment\n",
    ];

    /// Pieces that refuse every cut before them: the tokenizer fails up to the end of the text,
    /// restarts after a quote in prose, or reads COPY data.
    pub(super) const RARE: &[&str] = &[
        "SELECT $tag$ open\n",
        "E'unterminated \\' \n",
        "INFO  [alembic] it's printed\n",
        "COPY t (a) FROM stdin;\n1\n\nALTER TABLE x\n\\.\n",
    ];

    #[test]
    fn parts_give_the_split_of_one_run() {
        // A fixed linear congruential sequence: the same texts on every run.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize % n
        };
        let (mut cut, mut refused) = (0, 0);
        for _ in 0..400 {
            let mut text = String::new();
            for _ in 0..next(40) + 2 {
                let piece = if next(80) == 0 {
                    RARE[next(RARE.len())]
                } else {
                    PIECES[next(PIECES.len())]
                };
                text.push_str(piece);
                if next(2) == 0 {
                    text.push('\n');
                }
            }
            let one = split_in_chunks_of(&text, FIRST_CHUNK);
            for parts in 2..6 {
                for chunk in [FIRST_CHUNK, 1] {
                    match split_in_parts(&text, parts, chunk) {
                        Some(s) => {
                            cut += 1;
                            assert_eq!(s, one, "{parts} parts, chunks of {chunk}:\n{text}");
                        }
                        None => refused += 1,
                    }
                }
            }
        }
        // Both ways are taken: cuts that hold, and cuts refused.
        assert!(cut > 300 && refused > 300, "{cut} cut, {refused} refused");
    }

    #[test]
    fn a_large_export_is_split_in_parts() {
        let rev =
            "BEGIN;\n\n-- Running upgrade a -> b\n\nALTER TABLE t ADD COLUMN c int;\n\nCOMMIT;\n\n";
        let text = rev.repeat(4000);
        let parts = split_in_parts(&text, 2, FIRST_CHUNK).expect("a clean cut exists");
        assert_eq!(parts, split_in_chunks_of(&text, FIRST_CHUNK));
        assert_eq!(parts.statements.len(), 12_000);
        assert_eq!(parts.comments.len(), 4000);
        assert_eq!(parts.comments[3999].before_statement, 11_998);
    }
}

#[cfg(test)]
mod scan_tests {
    use super::*;

    /// Whether the scanner answers for `text`; when it does, its split must be the tokenizer's.
    fn scanned_as_tokenized(text: &str) -> bool {
        let tokenized = split_in_chunks_of(text, FIRST_CHUNK);
        match split_scanned(text) {
            Some(scanned) => {
                assert_eq!(scanned, tokenized, "{text:?}");
                true
            }
            None => false,
        }
    }

    /// What exports and hand-written migrations hold: the scanner reads it, the same way.
    const ANSWERED: &[&str] = &[
        "ALTER TABLE t ADD COLUMN c int;\nSELECT 1;",
        "SELECT a <-> b, x::int, a @> b, j #>> '{a,b}', a || b, a ?| b, a !~* b, -1, +2 FROM t;",
        "SELECT $1, $name, foo$bar, $$body; with; semicolons$$, $fn$ a $$ b; $fn$;",
        "UPDATE \"quo\"\"ted;\" SET a = 'it''s; here' WHERE b = '';",
        "SELECT 1.5, 10s, 00x, t.x, .x, 2.;SELECT (1);",
        "INSERT INTO café VALUES ('é');\nSELECT naïve\u{a0}x;",
        "SELECT 1;\r\nSELECT 2;\rSELECT 3;\u{b}\u{c}\u{1}SELECT 4;",
        "SELECT a[1], '{}'::jsonb, `x`, a \\ b, :name, :=;",
        "/* a /* nested; */ comment; */ SELECT 1; -- trailing; comment\r\n-- Running upgrade a -> b\n",
        "INFO  [alembic] Running upgrade a -> b\nprinted; text with 'quotes'\n\nSELECT 1;",
        "INFO  it's printed\nSELECT 'x';\n",
        "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END; SELECT a; END;\nSELECT 3;",
        "CREATE EXTENSION x;;\n\n; SELECT 1; ;\n",
        "SELECT N, E, x1, B2 FROM t WHERE a * b / c % d ^ e & f | g # h;",
        "SELECT 1 */ 2;",
        "",
        "-- only a comment",
    ];

    /// What the scanner leaves to sqlparser's tokenizer.
    const DECLINED: &[&str] = &[
        "SELECT E'it\\'s';",
        "SELECT B'101', X'1F';",
        "SELECT U&'d\\0061t';",
        "SELECT N'national';",
        "COPY t (a) FROM stdin;\n1\n\\.\n",
        "SELECT 'open\n",
        "SELECT \"open\n",
        "SELECT $$ open\n",
        "SELECT $tag$ open $$\n",
        "/* open /* */\n",
        "SELECT 1e5, 2;",
        "SELECT 0x1F;",
        "SELECT 1_000;",
        "SELECT 5L;",
        "SELECT .5;",
        "SELECT a._b;",
        "SELECT 1..2;",
        "SELECT a <--b\n;",
        "SELECT a */* b */;",
        "SELECT a |& b;",
        "SELECT $é$ x $é$;",
    ];

    #[test]
    fn the_scanner_reads_the_usual_sql_as_the_tokenizer_does() {
        for text in ANSWERED {
            assert!(scanned_as_tokenized(text), "declined: {text:?}");
        }
    }

    #[test]
    fn the_scanner_leaves_what_it_does_not_model_to_the_tokenizer() {
        for text in DECLINED {
            assert!(!scanned_as_tokenized(text), "answered: {text:?}");
            // `split` still reads it, with the tokenizer.
            assert_eq!(split(text), split_in_chunks_of(text, FIRST_CHUNK));
        }
    }

    #[test]
    fn the_scanner_agrees_on_every_fixture() {
        let texts = crate::test_fixtures::texts();
        let answered = texts
            .iter()
            .filter(|(_, text)| scanned_as_tokenized(text))
            .count();
        // The hostile fixtures hold COPY data and unterminated quotes on purpose; nearly all
        // others are read by the scanner.
        assert!(
            answered * 10 > texts.len() * 9,
            "{answered} of {}",
            texts.len()
        );
    }

    #[test]
    fn the_scanner_agrees_on_generated_texts() {
        let pieces: Vec<&str> = parts_tests::PIECES
            .iter()
            .chain(parts_tests::RARE)
            .chain(ANSWERED)
            .chain(DECLINED)
            .copied()
            .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize % n
        };
        let (mut answered, mut declined) = (0, 0);
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..next(6) + 1 {
                let piece = pieces[next(pieces.len())];
                // Sometimes only part of a piece: quotes and comments left open, words cut.
                let piece = if next(4) == 0 {
                    let mut end = next(piece.len() + 1);
                    while !piece.is_char_boundary(end) {
                        end -= 1;
                    }
                    &piece[..end]
                } else {
                    piece
                };
                text.push_str(piece);
                match next(3) {
                    0 => text.push('\n'),
                    1 => text.push(' '),
                    _ => {}
                }
            }
            if scanned_as_tokenized(&text) {
                answered += 1;
            } else {
                declined += 1;
            }
        }
        assert!(
            answered > 500 && declined > 200,
            "{answered} answered, {declined} declined"
        );
    }
}
