//! The one session setting that changes how SQL text is lexed: `standard_conforming_strings`, as
//! psql sees it while it runs a file.
//!
//! psql reads each statement with the value the server last reported (a `ParameterStatus`
//! message, sent after every statement that changed it). So the value follows the server's rules:
//! `SET` and `RESET` change it; `SET LOCAL` changes it until the transaction ends and does nothing
//! outside a transaction block; `ROLLBACK` (and `ROLLBACK TO SAVEPOINT`) undo what was set since
//! `BEGIN` (or the savepoint); `COMMIT` keeps `SET` and drops `SET LOCAL`. A statement that fails
//! on the server changes nothing there, which a file alone cannot tell: every statement is taken
//! to succeed.

use super::lexer::{Token, TokenKind};

/// The value of `standard_conforming_strings` through a file.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The value at connection start, which `RESET` goes back to.
    initial: bool,
    /// The value now.
    current: bool,
    /// The value `COMMIT` leaves (set by `SET`, not by `SET LOCAL`).
    session: bool,
    /// Inside a transaction block: the values at `BEGIN`, and at each savepoint by name.
    transaction: Option<Transaction>,
}

#[derive(Debug, Clone)]
struct Transaction {
    /// `session` at `BEGIN`.
    at_begin: bool,
    /// (name, `session`, `current`) at each savepoint still open, oldest first.
    savepoints: Vec<(String, bool, bool)>,
}

impl Session {
    /// A session whose value is `initial` at connection start.
    pub(crate) fn new(initial: bool) -> Self {
        Session {
            initial,
            current: initial,
            session: initial,
            transaction: None,
        }
    }

    /// The value the next statement is read with.
    pub(crate) fn standard_conforming_strings(&self) -> bool {
        self.current
    }

    /// Takes in one statement that ran: its first tokens (without whitespace and comments) and
    /// the text they are in.
    pub(crate) fn ran(&mut self, text: &str, head: &[Token]) {
        let word = |i: usize| {
            head.get(i)
                .filter(|t| t.kind == TokenKind::Ident)
                .map(|t| text[t.range.clone()].to_ascii_lowercase())
                .unwrap_or_default()
        };
        let first = word(0);
        match first.as_str() {
            "set" => self.set(text, head),
            "reset" => {
                let what = word(1);
                if what == "all" || what == "standard_conforming_strings" {
                    self.assign(self.initial, false);
                }
            }
            "discard" if word(1) == "all" => self.assign(self.initial, false),
            "begin" | "start" => self.begin(),
            "commit" | "end" => self.end(true, chained(text, head)),
            "prepare" if word(1) == "transaction" => self.end(true, false),
            "abort" => self.end(false, chained(text, head)),
            "rollback" => self.rollback(text, head),
            "savepoint" => self.savepoint(name(text, head.get(1))),
            "release" => {
                let at = if word(1) == "savepoint" { 2 } else { 1 };
                self.release(name(text, head.get(at)));
            }
            _ => {}
        }
    }

    /// `SET [SESSION | LOCAL] standard_conforming_strings { TO | = } value`.
    fn set(&mut self, text: &str, head: &[Token]) {
        let lower = |t: &Token| text[t.range.clone()].to_ascii_lowercase();
        let mut at = 1;
        let mut local = false;
        match head.get(at).map(lower).as_deref() {
            Some("local") => {
                local = true;
                at += 1;
            }
            Some("session") => at += 1,
            _ => {}
        }
        if head.get(at).map(lower).as_deref() != Some("standard_conforming_strings") {
            return;
        }
        if !matches!(head.get(at + 1).map(lower).as_deref(), Some("to" | "=")) {
            return;
        }
        let Some(value) = head.get(at + 2) else {
            return;
        };
        let raw = &text[value.range.clone()];
        let value = match value.kind {
            TokenKind::Ident if raw.eq_ignore_ascii_case("default") => Some(self.initial),
            TokenKind::Ident | TokenKind::Number => parse_bool(raw),
            TokenKind::String if raw.starts_with('\'') => {
                parse_bool(raw.trim_start_matches('\'').trim_end_matches('\''))
            }
            _ => None,
        };
        // More after the value (a list, an expression) is an error on the server: no change.
        if let Some(on) = value
            && head.len() == at + 3
        {
            self.assign(on, local);
        }
    }

    fn assign(&mut self, on: bool, local: bool) {
        match (&self.transaction, local) {
            // SET LOCAL outside a transaction block only warns.
            (None, true) => {}
            (_, true) => self.current = on,
            (_, false) => {
                self.session = on;
                self.current = on;
            }
        }
    }

    fn begin(&mut self) {
        if self.transaction.is_none() {
            self.transaction = Some(Transaction {
                at_begin: self.session,
                savepoints: Vec::new(),
            });
        }
    }

    /// COMMIT (`keep`) or ROLLBACK of the transaction block; `AND CHAIN` opens the next one.
    fn end(&mut self, keep: bool, chain: bool) {
        if let Some(t) = self.transaction.take()
            && !keep
        {
            self.session = t.at_begin;
        }
        self.current = self.session;
        if chain {
            self.begin();
        }
    }

    /// `ROLLBACK [WORK | TRANSACTION] [TO [SAVEPOINT] name | AND [NO] CHAIN]`, `ROLLBACK PREPARED`.
    fn rollback(&mut self, text: &str, head: &[Token]) {
        let is = |i: usize, w: &str| {
            head.get(i)
                .is_some_and(|t| text[t.range.clone()].eq_ignore_ascii_case(w))
        };
        let mut at = 1;
        if is(at, "work") || is(at, "transaction") {
            at += 1;
        }
        if is(1, "prepared") {
            return;
        }
        if !is(at, "to") {
            self.end(false, chained(text, head));
            return;
        }
        at += 1;
        if is(at, "savepoint") {
            at += 1;
        }
        let target = name(text, head.get(at));
        if let Some(t) = &mut self.transaction
            && let Some(i) = t.savepoints.iter().rposition(|(n, ..)| *n == target)
        {
            let (_, session, current) = t.savepoints[i].clone();
            t.savepoints.truncate(i + 1);
            self.session = session;
            self.current = current;
        }
    }

    fn savepoint(&mut self, name: String) {
        if let Some(t) = &mut self.transaction {
            t.savepoints.push((name, self.session, self.current));
        }
    }

    fn release(&mut self, name: String) {
        if let Some(t) = &mut self.transaction
            && let Some(i) = t.savepoints.iter().rposition(|(n, ..)| *n == name)
        {
            t.savepoints.truncate(i);
        }
    }
}

/// `… AND CHAIN` (not `AND NO CHAIN`) at the end of COMMIT or ROLLBACK.
fn chained(text: &str, head: &[Token]) -> bool {
    let n = head.len();
    n >= 2
        && text[head[n - 1].range.clone()].eq_ignore_ascii_case("chain")
        && text[head[n - 2].range.clone()].eq_ignore_ascii_case("and")
}

/// A savepoint's name as the server compares it: unquoted names fold to lower case.
fn name(text: &str, token: Option<&Token>) -> String {
    match token {
        Some(t) if t.kind == TokenKind::QuotedIdent => {
            let quoted = &text[t.range.clone()];
            let inner = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or("");
            inner.replace("\"\"", "\"")
        }
        Some(t) => text[t.range.clone()].to_ascii_lowercase(),
        None => String::new(),
    }
}

/// A boolean setting's value as the server reads it: any unambiguous prefix of `true`, `false`,
/// `yes`, `no`, `on` (at least `on`), `off` (at least `of`), or `1` / `0`.
fn parse_bool(value: &str) -> Option<bool> {
    let v = value.to_ascii_lowercase();
    let prefix_of = |word: &str, min: usize| v.len() >= min && word.starts_with(v.as_str());
    if prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || v == "1" {
        Some(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || v == "0" {
        Some(false)
    } else {
        None
    }
}
