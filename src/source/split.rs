//! Splits any text into statements where psql does, over the one lexer (`source/lexer.rs`).
//!
//! psql ends a statement at a `;` outside parentheses and outside the `BEGIN … END` body of a
//! `CREATE [OR REPLACE] FUNCTION|PROCEDURE` (psqlscan.l's `paren_depth` and `begin_depth`), reads
//! the data of `COPY … FROM STDIN` up to a `\.` line, and runs its own backslash meta-commands.
//! This splitter does the same, so a statement migsafe shows a reviewer is the text psql sends to
//! the server: text that is not SQL (what a migration printed into an offline export) runs on to
//! the next `;` as it would in psql, and becomes a [`RawKind::Text`] statement when its first word
//! is not one a SQL command starts with.
//!
//! The splitter never loses text: every byte of the input is inside a statement's span, a
//! comment between statements, a meta-command, COPY data, or whitespace.

use std::ops::Range;

use serde::Serialize;

use super::lexer::{Lexer, Token, TokenKind};
use super::session::Session;

/// A region of the source: 1-based lines and columns (columns count characters; the end column is
/// the one just after the last character) and 0-based byte offsets (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
pub struct Span {
    /// Line of the first character (1-based).
    pub start_line: u32,
    /// Column of the first character (1-based, in characters).
    pub start_column: u32,
    /// Line of the last character.
    pub end_line: u32,
    /// Column just after the last character.
    pub end_column: u32,
    /// Byte offset of the first byte.
    pub start_byte: usize,
    /// Byte offset just after the last byte.
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
    /// The whole statement: from its first token to its `;` (and any empty `;` right after it);
    /// for `COPY … FROM STDIN`, through the end of its data when the data follows its line.
    pub span: Span,
    /// Byte end of the statement's own text, without its terminating `;`.
    pub body_end: usize,
    /// SQL, printed text, or an empty statement.
    pub kind: RawKind,
    /// Whether a `;` ended it (false at the end of the input, or where a psql meta-command sent
    /// or discarded it).
    pub terminated: bool,
    /// What PostgreSQL would reject in its text before parsing it (an unterminated quote), with
    /// its line and column.
    pub error: Option<String>,
}

/// A comment outside every statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Where it is, from `--` or `/*` to its end (a line comment without its line break).
    pub span: Span,
    /// Index of the first statement after this comment (= number of statements before it).
    pub before_statement: usize,
}

/// A psql meta-command (`\set`, `\i file`, `\copy … from stdin` with its data, …): psql runs it
/// itself; the server never sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaCommand {
    /// From its backslash to the end of its arguments (with its data, for `\copy … from stdin`).
    pub span: Span,
    /// Index of the first statement after it (= number of statements that started before it).
    pub before_statement: usize,
}

/// The result of [`split`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// The statements, in order.
    pub statements: Vec<RawStatement>,
    /// The comments between statements, in order.
    pub comments: Vec<Comment>,
    /// psql's meta-commands, in order.
    pub meta_commands: Vec<MetaCommand>,
}

/// First words of SQL commands (https://www.postgresql.org/docs/current/sql-commands.html): a
/// statement that starts with any other word is printed output, not SQL.
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

/// Splits `text` as psql reads a file on a connection whose `standard_conforming_strings` is on
/// (the server's default since PostgreSQL 9.1).
pub fn split(text: &str) -> Split {
    split_with(text, true)
}

/// Splits `text` as psql reads a file on a connection whose `standard_conforming_strings` starts
/// as given; `SET`/`RESET` of it in the file change it from there on.
pub fn split_with(text: &str, standard_conforming_strings: bool) -> Split {
    let mut s = Splitter::new(text, standard_conforming_strings);
    while let Some(token) = s.next_token() {
        s.feed(token);
    }
    s.close(false);
    s.out
}

/// Byte offsets of line starts, to turn byte offsets into lines and columns.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// The last answer, (byte, line index, column): positions are asked for mostly in order, and
    /// counting the characters of a long line from its start each time would be quadratic.
    last: std::cell::Cell<(usize, usize, usize)>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex {
            text,
            starts,
            last: std::cell::Cell::new((0, 0, 1)),
        }
    }

    /// (line, column) of a byte offset on a character boundary; columns count characters.
    fn position(&self, byte: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|&s| s <= byte).max(1) - 1;
        let (last_byte, last_line, last_column) = self.last.get();
        let (from, column) = if last_line == line && last_byte <= byte {
            (last_byte, last_column)
        } else {
            (self.starts[line], 1)
        };
        let column = column + self.text[from..byte].chars().count();
        self.last.set((byte, line, column));
        (line as u32 + 1, column as u32)
    }

    fn span(&self, range: Range<usize>) -> Span {
        let (start_line, start_column) = self.position(range.start);
        let (end_line, end_column) = self.position(range.end);
        Span {
            start_line,
            start_column,
            end_line,
            end_column,
            start_byte: range.start,
            end_byte: range.end,
        }
    }
}

/// The statement being read.
struct Open {
    start: usize,
    /// End of the last token that is not whitespace, a comment or a `;`.
    body_end: usize,
    /// psqlscan.l's counters: `;` ends the statement only when both are 0.
    paren_depth: u32,
    begin_depth: u32,
    /// psqlscan.l's record of the statement's first identifiers: the first letter of `create`,
    /// `or`, `replace`, `function` or `procedure` at each of the first four places, to see
    /// `CREATE [OR REPLACE] FUNCTION|PROCEDURE`.
    identifiers: [u8; 4],
    identifier_count: usize,
    /// The first tokens (no whitespace, comments or `;`), to recognise SET, COPY and the like.
    head: Vec<Token>,
    /// `FROM STDIN` seen at depth 0 in a COPY.
    copy_from_stdin: bool,
    /// The last token was the word `FROM` (for `copy_from_stdin`).
    previous_word_is_from: bool,
    /// The first unterminated token: where it starts and what it is.
    unterminated: Option<(usize, TokenKind)>,
    /// Comments since the last token of the statement: if nothing follows them in it, they are
    /// comments between statements.
    trailing_comments: Vec<Range<usize>>,
}

/// How many first tokens a statement keeps (`SET LOCAL standard_conforming_strings TO off`).
const HEAD: usize = 8;

struct Splitter<'a> {
    text: &'a str,
    lexer: Lexer<'a>,
    lines: LineIndex<'a>,
    session: Session,
    out: Split,
    open: Option<Open>,
    /// Only whitespace since the last statement ended with `;` (a `;` now joins it).
    absorb: bool,
    /// COPY data still to skip: from the newline that ends the COPY's line to the end of the
    /// data, when text followed the COPY's `;` on its line.
    pending_data: Option<Range<usize>>,
    /// Comments after a COPY's `;` on its line, when the data follows that line.
    copy_line_comments: Vec<Range<usize>>,
}

impl<'a> Splitter<'a> {
    fn new(text: &'a str, standard_conforming_strings: bool) -> Self {
        Splitter {
            text,
            lexer: Lexer::new(text, standard_conforming_strings),
            lines: LineIndex::new(text),
            session: Session::new(standard_conforming_strings),
            out: Split::default(),
            open: None,
            absorb: false,
            pending_data: None,
            copy_line_comments: Vec::new(),
        }
    }

    /// The next token as psql reads it: COPY data that psql reads before the rest of a line is
    /// skipped, and a token still open at the end of that line goes on after the data.
    fn next_token(&mut self) -> Option<Token> {
        let token = self.lexer.next()?;
        let Some(gap) = self.pending_data.clone() else {
            return Some(token);
        };
        if token.range.end <= gap.start {
            return Some(token);
        }
        self.pending_data = None;
        if token.kind == TokenKind::Whitespace {
            self.lexer.skip_to(gap.end);
            return Some(Token {
                range: token.range.start..gap.start.max(token.range.start + 1),
                ..token
            });
        }
        Some(self.token_across_data(token, gap))
    }

    /// A token that reaches past the end of a line after which psql read COPY data: lexed again
    /// over its own start joined to the text after the data, as psql reads it. (This copies the
    /// rest of the text, once per such token: a COPY line with an open quote after its `;`.)
    fn token_across_data(&mut self, token: Token, gap: Range<usize>) -> Token {
        // The data ends after the `\.` of its last line; psql goes on with the next line.
        let tail = memchr::memchr(b'\n', &self.text.as_bytes()[gap.end..])
            .map_or(self.text.len(), |i| gap.end + i + 1);
        let head = &self.text[token.range.start..=gap.start.min(self.text.len() - 1)];
        let joined = format!("{head}{}", &self.text[tail..]);
        let mut lexer = Lexer::new(&joined, self.lexer.standard_conforming_strings());
        let Some(again) = lexer.next() else {
            return token;
        };
        // Up to the end of the joined line it is text before the data; from there, after it.
        let end = if again.range.end < head.len() {
            token.range.start + again.range.end
        } else {
            tail + (again.range.end - head.len())
        };
        self.lexer.skip_to(end);
        Token {
            kind: again.kind,
            range: token.range.start..end,
            terminated: again.terminated,
        }
    }

    fn feed(&mut self, token: Token) {
        match token.kind {
            TokenKind::Whitespace => {}
            TokenKind::LineComment | TokenKind::BlockComment => self.comment(token),
            TokenKind::MetaCommand => self.meta_command(token),
            TokenKind::Semicolon | TokenKind::BackslashSemicolon => self.semicolon(token),
            _ => self.significant(token),
        }
    }

    fn comment(&mut self, token: Token) {
        match &mut self.open {
            Some(open) if !token.terminated => {
                // It runs to the end of the input: the statement does too.
                open.unterminated
                    .get_or_insert((token.range.start, token.kind));
                open.body_end = token.range.end;
                open.trailing_comments.clear();
            }
            Some(open) => open.trailing_comments.push(token.range),
            None => {
                self.absorb = false;
                self.push_comment(token.range);
            }
        }
    }

    fn push_comment(&mut self, range: Range<usize>) {
        self.out.comments.push(Comment {
            span: self.lines.span(range),
            before_statement: self.out.statements.len(),
        });
    }

    /// A token of a statement: opens one if none is open, and keeps psql's counters.
    fn significant(&mut self, token: Token) {
        self.absorb = false;
        let text = self.text;
        let open = self.open.get_or_insert_with(|| Open {
            start: token.range.start,
            body_end: token.range.end,
            paren_depth: 0,
            begin_depth: 0,
            identifiers: [0; 4],
            identifier_count: 0,
            head: Vec::with_capacity(HEAD),
            copy_from_stdin: false,
            previous_word_is_from: false,
            unterminated: None,
            trailing_comments: Vec::new(),
        });
        open.trailing_comments.clear();
        open.body_end = token.range.end;
        if !token.terminated {
            open.unterminated
                .get_or_insert((token.range.start, token.kind));
        }
        match token.kind {
            TokenKind::LParen => open.paren_depth += 1,
            TokenKind::RParen => open.paren_depth = open.paren_depth.saturating_sub(1),
            TokenKind::Ident if !is_failed_unicode_prefix(text, &token) => {
                track_identifier(open, &text[token.range.clone()]);
            }
            _ => {}
        }
        track_copy(open, text, &token);
        if open.head.len() < HEAD {
            open.head.push(token);
        }
    }

    fn semicolon(&mut self, token: Token) {
        let end = token.range.end;
        match &mut self.open {
            Some(open) if open.paren_depth > 0 || open.begin_depth > 0 => {
                // Inside parentheses or a function body: part of the statement's text.
                open.trailing_comments.clear();
                open.body_end = end;
                if token.kind == TokenKind::BackslashSemicolon {
                    open.identifier_count = 0;
                }
            }
            Some(_) => self.close_at(end, true),
            None => self.empty_statement(token.range),
        }
    }

    /// A `;` with no statement open: part of the statement before when only whitespace separates
    /// them (`;;`), else an empty statement of its own.
    fn empty_statement(&mut self, range: Range<usize>) {
        if self.absorb
            && let Some(last) = self.out.statements.last_mut()
        {
            last.span = self.lines.span(last.span.start_byte..range.end);
            return;
        }
        self.out.statements.push(RawStatement {
            span: self.lines.span(range.clone()),
            body_end: range.start,
            kind: RawKind::Empty,
            terminated: true,
            error: None,
        });
        self.absorb = true;
    }

    /// Ends the open statement at `end` (after its `;` when `terminated`).
    fn close_at(&mut self, end: usize, terminated: bool) {
        let Some(open) = self.open.take() else {
            return;
        };
        let kind = match open.head.first() {
            Some(t) if t.kind == TokenKind::LParen => RawKind::Sql,
            Some(t) if t.kind == TokenKind::Ident && is_command(&self.text[t.range.clone()]) => {
                RawKind::Sql
            }
            _ => RawKind::Text,
        };
        let error = open.unterminated.map(|(at, kind)| {
            let (line, column) = self.lines.position(at);
            format!(
                "{} at line {line}, column {column}",
                unterminated_message(kind)
            )
        });
        let end = if terminated { end } else { open.body_end };
        let mut span_end = end;
        if terminated && open.copy_from_stdin {
            span_end = self.copy_data(end);
        }
        self.out.statements.push(RawStatement {
            span: self.lines.span(open.start..span_end),
            body_end: open.body_end,
            kind,
            terminated,
            error,
        });
        if !terminated {
            for range in open.trailing_comments {
                self.push_comment(range);
            }
        }
        for range in std::mem::take(&mut self.copy_line_comments) {
            self.push_comment(range);
        }
        self.session.ran(self.text, &open.head);
        self.lexer
            .set_standard_conforming_strings(self.session.standard_conforming_strings());
        self.absorb = terminated;
    }

    /// At the end of the input, or where psql sends or drops the query buffer.
    fn close(&mut self, terminated: bool) {
        if let Some(open) = &self.open {
            let end = open.body_end;
            self.close_at(end, terminated);
        }
    }

    /// A psql meta-command: its own item. `\g` and its kin send the statement being read, `\r`
    /// drops it; the others leave it open, as psql's query buffer.
    fn meta_command(&mut self, token: Token) {
        let line = &self.text[token.range.clone()];
        let name: &str = line[1..]
            .split([' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\\'])
            .next()
            .unwrap_or("");
        let ends_statement = matches!(
            name,
            "g" | "gx" | "gset" | "gexec" | "gdesc" | "crosstabview" | "watch" | "r" | "reset"
        );
        if ends_statement {
            self.close(false);
        }
        let mut end = token.range.end;
        if name == "copy" && copy_meta_reads_stdin(line) {
            end = self.copy_data_after_line(end).max(end);
            self.lexer.skip_to(end);
        }
        self.absorb = false;
        self.out.meta_commands.push(MetaCommand {
            span: self.lines.span(token.range.start..end),
            before_statement: self.out.statements.len(),
        });
    }

    /// COPY … FROM STDIN ended at `semicolon_end`: psql sends it, then reads data lines from the
    /// line after the one the `;` is on, up to a line that is `\.` or the end of the input, and
    /// only then reads the rest of the `;`'s line. The lexer skips the data; the statement's
    /// span takes it in when nothing but whitespace and comments follow the `;` on its line (the
    /// usual dump layout); the end of the statement's span is returned.
    fn copy_data(&mut self, semicolon_end: usize) -> usize {
        let bytes = self.text.as_bytes();
        let line_end = memchr::memchr(b'\n', &bytes[semicolon_end..])
            .map_or(bytes.len(), |i| semicolon_end + i);
        let rest = &self.text[semicolon_end..line_end];
        let rest_is_blank = Lexer::new(rest, true).all(|t| t.is_trivia());
        let data_end = self.copy_data_after_line(line_end);
        if rest_is_blank {
            // Comments after the `;` stay comments (after the statement, which is pushed first).
            self.copy_line_comments = Lexer::new(rest, true)
                .filter(|t| t.kind != TokenKind::Whitespace)
                .map(|t| t.range.start + semicolon_end..t.range.end + semicolon_end)
                .collect();
            self.lexer.skip_to(data_end);
            data_end
        } else {
            // What follows the `;` on its line is read as SQL; psql reads it after the data,
            // which the lexer then skips when it reaches that line's end.
            self.pending_data = Some(line_end..data_end);
            semicolon_end
        }
    }

    /// The end of COPY data that starts on the line after the newline at `line_end`: after the
    /// `\.` of its end marker line, or the end of the input.
    fn copy_data_after_line(&self, line_end: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut line_start = line_end + 1;
        while line_start < bytes.len() {
            let next =
                memchr::memchr(b'\n', &bytes[line_start..]).map_or(bytes.len(), |i| line_start + i);
            let line = &bytes[line_start..next];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line == b"\\." && next < bytes.len() {
                return line_start + 2;
            }
            line_start = next + 1;
        }
        // No end marker: the data runs to the end of the input, without its last line break.
        let mut end = bytes.len();
        for b in [b'\n', b'\r'] {
            if end > line_end + 1 && bytes[end - 1] == b {
                end -= 1;
            }
        }
        end.max(line_end.min(bytes.len()))
    }
}

/// psqlscan.l's check for `CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN … END`: inside such a
/// statement, at parenthesis depth 0, BEGIN opens a body whose `;` do not end the statement,
/// CASE nests inside it, and END closes one level.
fn track_identifier(open: &mut Open, word: &str) {
    let is = |w: &str| word.eq_ignore_ascii_case(w);
    if open.identifier_count == 0 {
        open.identifiers = [0; 4];
    }
    if (is("create") || is("function") || is("procedure") || is("or") || is("replace"))
        && open.identifier_count < open.identifiers.len()
    {
        open.identifiers[open.identifier_count] = word.as_bytes()[0].to_ascii_lowercase();
    }
    open.identifier_count += 1;
    let ids = open.identifiers;
    let routine = ids[0] == b'c'
        && (ids[1] == b'f'
            || ids[1] == b'p'
            || (ids[1] == b'o' && ids[2] == b'r' && (ids[3] == b'f' || ids[3] == b'p')));
    if !routine || open.paren_depth != 0 {
        return;
    }
    if is("begin") {
        open.begin_depth += 1;
    } else if is("case") {
        if open.begin_depth >= 1 {
            open.begin_depth += 1;
        }
    } else if is("end") {
        open.begin_depth = open.begin_depth.saturating_sub(1);
    }
}

/// Notes `FROM STDIN` at depth 0 of a statement that starts with COPY.
fn track_copy(open: &mut Open, text: &str, token: &Token) {
    let word = |t: &Token| (t.kind == TokenKind::Ident).then(|| &text[t.range.clone()]);
    let is_copy = open
        .head
        .first()
        .and_then(word)
        .is_some_and(|w| w.eq_ignore_ascii_case("copy"));
    if !is_copy || open.paren_depth != 0 {
        return;
    }
    let stdin = word(token).is_some_and(|w| w.eq_ignore_ascii_case("stdin"));
    let after_from = open.previous_word_is_from;
    open.copy_from_stdin |= stdin && after_from;
    open.previous_word_is_from = word(token).is_some_and(|w| w.eq_ignore_ascii_case("from"));
}

/// `\copy … from stdin`: psql reads its data from the lines that follow.
fn copy_meta_reads_stdin(line: &str) -> bool {
    let words: Vec<String> = line
        .split_ascii_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    words.windows(2).any(|w| w[0] == "from" && w[1] == "stdin")
}

/// `U` before `&` that starts no `U&'…'` or `U&"…"`: psqlscan.l lexes it with a rule of its own,
/// not as an identifier, so it does not count among the statement's identifiers.
fn is_failed_unicode_prefix(text: &str, token: &Token) -> bool {
    token.range.len() == 1
        && text[token.range.clone()].eq_ignore_ascii_case("u")
        && text.as_bytes().get(token.range.end) == Some(&b'&')
}

/// PostgreSQL's message for an input that ends inside a token of this kind.
fn unterminated_message(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::QuotedIdent => "unterminated quoted identifier",
        TokenKind::DollarString => "unterminated dollar-quoted string",
        TokenKind::BlockComment => "unterminated /* comment",
        TokenKind::BitString => "unterminated bit string literal",
        _ => "unterminated quoted string",
    }
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

    fn texts_with(sql: &str, standard_conforming_strings: bool) -> Vec<&str> {
        split_with(sql, standard_conforming_strings)
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
    fn operators_never_hold_comment_starts() {
        // PostgreSQL cuts an operator before `--` and `/*`: what follows is a comment, and the
        // `;` on the next line ends the statement.
        for op in [">", "||", "<>", "!=", "+", "*", "@>", "~~"] {
            let sql = format!("SELECT 1 {op}-- '\n 1; COMMIT; DROP TABLE t; SELECT 1 --'\n");
            let t = texts(&sql);
            assert_eq!(t.len(), 4, "{op}: {t:?}");
            assert_eq!(t[2], "DROP TABLE t;", "{op}");
            let sql = format!("SELECT 1 {op}/* ' */ 1; DROP TABLE t; SELECT '*/';");
            assert_eq!(texts(&sql)[1], "DROP TABLE t;", "{op}");
        }
    }

    #[test]
    fn standard_conforming_strings_off_reads_backslash_quotes() {
        let sql = "SET standard_conforming_strings = off;\nSELECT 'a\\'; DROP TABLE t; SELECT ';\nSELECT 2;";
        assert_eq!(
            texts(sql),
            [
                "SET standard_conforming_strings = off;",
                "SELECT 'a\\'; DROP TABLE t; SELECT ';",
                "SELECT 2;"
            ]
        );
        // With it on (the default), the backslash is a character and the quote closes the string.
        let sql = "SELECT 'a\\'; DROP TABLE t; SELECT ';\n";
        assert_eq!(texts(sql)[1], "DROP TABLE t;");
        assert_eq!(texts_with(sql, false).len(), 1);
    }

    #[test]
    fn the_setting_follows_set_reset_and_transactions() {
        let probe = "SELECT 'x\\'; SELECT ';\n";
        // (prefix, whether the probe is read with backslash escapes: one statement)
        for (prefix, escapes) in [
            ("SET standard_conforming_strings TO off;", true),
            ("SET SESSION standard_conforming_strings = 'off';", true),
            ("SET standard_conforming_strings = false;", true),
            ("SET standard_conforming_strings = of;", true),
            ("SET standard_conforming_strings = 0;", true),
            ("SET standard_conforming_strings = o;", false),
            ("SET standard_conforming_strings = off, on;", false),
            (
                "SET standard_conforming_strings = off; RESET standard_conforming_strings;",
                false,
            ),
            ("SET standard_conforming_strings = off; RESET ALL;", false),
            (
                "SET standard_conforming_strings = off; SET standard_conforming_strings TO DEFAULT;",
                false,
            ),
            ("SET LOCAL standard_conforming_strings = off;", false),
            ("BEGIN; SET LOCAL standard_conforming_strings = off;", true),
            (
                "BEGIN; SET LOCAL standard_conforming_strings = off; COMMIT;",
                false,
            ),
            (
                "BEGIN; SET standard_conforming_strings = off; COMMIT;",
                true,
            ),
            (
                "BEGIN; SET standard_conforming_strings = off; ROLLBACK;",
                false,
            ),
            (
                "BEGIN; SET standard_conforming_strings = off; ABORT;",
                false,
            ),
            (
                "START TRANSACTION; SET standard_conforming_strings = off; END;",
                true,
            ),
            (
                "BEGIN; SAVEPOINT a; SET standard_conforming_strings = off; ROLLBACK TO a;",
                false,
            ),
            (
                "BEGIN; SAVEPOINT a; SET standard_conforming_strings = off; RELEASE a;",
                true,
            ),
            (
                "BEGIN; SAVEPOINT a; SET standard_conforming_strings = off; RELEASE a; ROLLBACK;",
                false,
            ),
            (
                "BEGIN; SET LOCAL standard_conforming_strings = off; COMMIT AND CHAIN;",
                false,
            ),
        ] {
            let sql = format!("{prefix}\n{probe}");
            let s = split(&sql);
            let last = &sql[s.statements[s.statements.len() - 1].span.start_byte..];
            let probe_statements = if last.starts_with("SELECT ';") { 2 } else { 1 };
            assert_eq!(probe_statements == 1, escapes, "{prefix}");
        }
    }

    #[test]
    fn quotes_of_every_kind() {
        for (sql, first) in [
            (
                "SELECT E'it\\'s; fine'; SELECT 2;",
                "SELECT E'it\\'s; fine';",
            ),
            ("SELECT e'\\\\'; SELECT 2;", "SELECT e'\\\\';"),
            ("SELECT U&'a\\'; SELECT 2;", "SELECT U&'a\\';"),
            ("SELECT U&\"a;\"\"b\"; SELECT 2;", "SELECT U&\"a;\"\"b\";"),
            ("SELECT B'10;'; SELECT 2;", "SELECT B'10;';"),
            ("SELECT X'1F;'; SELECT 2;", "SELECT X'1F;';"),
            ("SELECT N'a;''b'; SELECT 2;", "SELECT N'a;''b';"),
            ("SELECT 'a'\n'; b'; SELECT 2;", "SELECT 'a'\n'; b';"),
            (
                "SELECT E'a' -- c\n'\\'; b'; SELECT 2;",
                "SELECT E'a' -- c\n'\\'; b';",
            ),
            ("SELECT 'a' '; b'; SELECT 2;", "SELECT 'a' '; b';"),
            (
                "SELECT $fn$ ; $$ ; $fn$; SELECT 2;",
                "SELECT $fn$ ; $$ ; $fn$;",
            ),
            ("SELECT $a$b$ ;$a$; SELECT 2;", "SELECT $a$b$ ;$a$;"),
            ("SELECT a$$b; SELECT $$;$$;", "SELECT a$$b;"),
            ("SELECT $1$$;$$; SELECT 2;", "SELECT $1$$;$$;"),
            ("SELECT 1e$$;$$; SELECT 2;", "SELECT 1e$$;"),
            ("SELECT \"a;\"\"b\"; SELECT 2;", "SELECT \"a;\"\"b\";"),
            (
                "SELECT 1 /* a /* ; */ ; */; SELECT 2;",
                "SELECT 1 /* a /* ; */ ; */;",
            ),
        ] {
            assert_eq!(texts(sql)[0], first, "{sql:?}");
        }
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
    fn semicolons_inside_parentheses_do_not_end_a_statement() {
        assert_eq!(
            texts("SELECT (1; DROP TABLE t); SELECT 2;"),
            ["SELECT (1; DROP TABLE t);", "SELECT 2;"]
        );
        // An unbalanced `)` does not go below zero.
        assert_eq!(texts("SELECT 1); SELECT 2;").len(), 2);
    }

    #[test]
    fn begin_atomic_body() {
        let sql = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END; SELECT a; END;\nSELECT 3;";
        let t = texts(sql);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t[0].ends_with("SELECT a; END;"));
        let sql = "CREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC SELECT 1; END; SELECT 2;";
        assert_eq!(texts(sql).len(), 2);
        // Only at the start of the statement, as psql checks.
        assert_eq!(texts("SELECT 1 CREATE FUNCTION BEGIN; SELECT 2;").len(), 2);
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
        let s = split(sql);
        let t = texts(sql);
        assert_eq!(
            t,
            [
                "COPY t (a, b) FROM stdin;\n1\tit's; here\n2\t\\N\n\\.",
                "SELECT 1;"
            ]
        );
        assert_eq!(&sql[..s.statements[0].body_end], "COPY t (a, b) FROM stdin");
        // Data to the end of the input without its end marker; `\.` must be alone on its line.
        let sql = "COPY t FROM STDIN WITH (FORMAT csv);\n\\.x\n1;2\n";
        assert_eq!(texts(sql), [sql.trim_end()]);
        // COPY to a file or from a query has no data.
        assert_eq!(texts("COPY t TO STDOUT;\nSELECT 1;").len(), 2);
        assert_eq!(
            texts("COPY (SELECT 1 FROM stdin) TO STDOUT;\nSELECT 1;").len(),
            2
        );
    }

    #[test]
    fn copy_data_comes_before_the_rest_of_its_line() {
        // psql sends the COPY, reads the data lines, then reads what followed the `;`.
        let sql = "COPY t FROM stdin; SELECT 1;\n1\t2\n\\.\nSELECT 2;\n";
        let s = split(sql);
        assert_eq!(texts(sql), ["COPY t FROM stdin;", "SELECT 1;", "SELECT 2;"]);
        assert_eq!(s.statements.len(), 3);
        // A quote open at the end of that line goes on after the data.
        let sql = "COPY t FROM stdin; SELECT 'a\n1\t2\n\\.\n'; DROP TABLE t;\n";
        let t = texts(sql);
        assert_eq!(t[0], "COPY t FROM stdin;");
        assert_eq!(t[2], "DROP TABLE t;");
        assert_eq!(t.len(), 3, "{t:?}");
    }

    #[test]
    fn meta_commands_are_their_own_items() {
        let sql = "\\set ON_ERROR_STOP on\nSELECT 1;\n\\echo done; DROP TABLE t;\nSELECT 2 \\gset\nSELECT 3;";
        let s = split(sql);
        assert_eq!(texts(sql), ["SELECT 1;", "SELECT 2", "SELECT 3;"]);
        let metas: Vec<&str> = s
            .meta_commands
            .iter()
            .map(|m| &sql[m.span.start_byte..m.span.end_byte])
            .collect();
        assert_eq!(
            metas,
            [
                "\\set ON_ERROR_STOP on",
                "\\echo done; DROP TABLE t;",
                "\\gset"
            ]
        );
        assert_eq!(s.meta_commands[1].before_statement, 1);
        assert!(!s.statements[1].terminated);
        // A backslash inside quotes is text.
        assert_eq!(texts("SELECT '\\x'; SELECT 2;").len(), 2);
        // `\;` ends a statement without sending it; the server runs both.
        assert_eq!(
            texts("SELECT 1 \\; SELECT 2;"),
            ["SELECT 1 \\;", "SELECT 2;"]
        );
    }

    #[test]
    fn copy_meta_command_reads_data() {
        let sql = "\\copy t from stdin\n1;\n\\.\nSELECT 1;";
        let s = split(sql);
        assert_eq!(texts(sql), ["SELECT 1;"]);
        assert_eq!(
            &sql[s.meta_commands[0].span.start_byte..s.meta_commands[0].span.end_byte],
            "\\copy t from stdin\n1;\n\\."
        );
    }

    #[test]
    fn printed_text_runs_on_to_the_next_semicolon() {
        // What psql sends: the printed line and the statement after it, as one (failing) query.
        let sql = "SELECT 1;\n\nprocessing batch 1\n\nWITH c AS (SELECT 1) UPDATE t SET a = 1;\n";
        let s = split(sql);
        assert_eq!(
            texts(sql),
            [
                "SELECT 1;",
                "processing batch 1\n\nWITH c AS (SELECT 1) UPDATE t SET a = 1;"
            ]
        );
        assert_eq!(s.statements[1].kind, RawKind::Text);
        assert_eq!(
            texts("downgrade is done\nDROP TABLE x;\n"),
            ["downgrade is done\nDROP TABLE x;"]
        );
    }

    #[test]
    fn structlog_line_with_dashes() {
        let sql =
            "2026-01-02T03:04:05Z [info     ] Generating sql -- not submitted. [x.y]\n\nBEGIN;\n";
        let s = split(sql);
        assert_eq!(texts(sql), [sql.trim_end()]);
        assert_eq!(s.statements[0].kind, RawKind::Text);
        assert!(s.comments.is_empty());
    }

    #[test]
    fn unterminated_quote_in_prose_runs_to_the_end() {
        let sql = "SELECT 1;\nDon't do this\nSELECT 2;\n";
        let s = split(sql);
        assert_eq!(texts(sql), ["SELECT 1;", "Don't do this\nSELECT 2;\n"]);
        assert_eq!(s.statements[1].kind, RawKind::Text);
        assert!(!s.statements[1].terminated);
        assert_eq!(
            s.statements[1].error.as_deref(),
            Some("unterminated quoted string at line 2, column 4")
        );
    }

    #[test]
    fn unterminated_tokens_are_errors_with_their_place() {
        for (sql, message) in [
            (
                "SELECT 'abc\nSELECT 2;\n",
                "unterminated quoted string at line 1, column 8",
            ),
            (
                "SELECT \"abc;",
                "unterminated quoted identifier at line 1, column 8",
            ),
            (
                "SELECT $$abc;",
                "unterminated dollar-quoted string at line 1, column 8",
            ),
            (
                "SELECT $a$ $b$;",
                "unterminated dollar-quoted string at line 1, column 8",
            ),
            (
                "SELECT 1 /* a /* */;",
                "unterminated /* comment at line 1, column 10",
            ),
            (
                "SELECT B'01;",
                "unterminated bit string literal at line 1, column 8",
            ),
            (
                "SELECT E'\\';",
                "unterminated quoted string at line 1, column 8",
            ),
            (
                "SELECT 'é'||'é;",
                "unterminated quoted string at line 1, column 13",
            ),
        ] {
            let s = split(sql);
            assert_eq!(s.statements.len(), 1, "{sql:?}");
            assert_eq!(s.statements[0].span.end_byte, sql.len(), "{sql:?}");
            assert_eq!(s.statements[0].error.as_deref(), Some(message), "{sql:?}");
        }
    }

    #[test]
    fn a_revision_marker_inside_a_statement_is_part_of_it() {
        let sql = "SELECT 1\n-- Running upgrade a -> b\nSELECT 2;";
        let s = split(sql);
        assert_eq!(texts(sql), [sql]);
        assert!(s.comments.is_empty());
        // Between statements it is a comment.
        let s = split("SELECT 1;\n-- Running upgrade a -> b\nSELECT 2;");
        assert_eq!(s.comments.len(), 1);
        assert_eq!(s.comments[0].before_statement, 1);
    }

    #[test]
    fn comments_after_an_unterminated_last_statement_are_comments() {
        let s = split("SELECT 1 -- one\n-- two\n");
        assert_eq!(s.statements[0].span.end_byte, 8);
        assert_eq!(s.comments.len(), 2);
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

    #[test]
    fn a_long_literal_is_one_token() {
        let body = "x".repeat(1 << 20);
        let sql = format!("SELECT '{body}'; SELECT 2;");
        assert_eq!(split(&sql).statements.len(), 2);
    }
}
