//! Recognises, from tokens, statements that sqlparser 0.64 rejects or misreads, so that they still
//! get an [`Op`]: `DROP INDEX CONCURRENTLY`, `REINDEX`, `DO`, `CLUSTER`, `ALTER SEQUENCE`,
//! `ALTER TABLE … SET SCHEMA`, identity and partition actions, `VACUUM ANALYZE t`, `SET CONSTRAINTS`,
//! `LOCK`, and the PostgreSQL forms of statements whose options sqlparser does not know.
//!
//! Only what the tokens say for sure is recorded; anything else stays `Unparsed`.

mod objects;
mod rejected;

use super::lower::{expr_from_sql, type_from_sql};
use super::*;
use crate::parse::Tok;
pub(crate) use objects::complete;
pub(crate) use rejected::rejected;

/// Statements that sqlparser parses *wrongly*: checked before its result is used.
/// `DROP INDEX CONCURRENTLY;` is read by sqlparser as dropping an index named "concurrently",
/// and `DROP INDEX CONCURRENTLY ix` is rejected.
pub(super) fn before_sqlparser(t: &[Tok]) -> Option<Op> {
    if t.len() >= 3 && t[0].is_kw("DROP") && t[1].is_kw("INDEX") && t[2].is_kw("CONCURRENTLY") {
        let mut c = Cursor { t, i: 3 };
        let if_exists = c.eat_seq(&["IF", "EXISTS"]);
        let names = c.names();
        if names.is_empty() {
            return Some(Op::Unparsed {
                error: "DROP INDEX CONCURRENTLY names no index".to_string(),
            });
        }
        let cascade = c.eat("CASCADE");
        return Some(Op::Drop {
            kind: ObjectKind::Index,
            names,
            if_exists,
            cascade,
            concurrently: true,
        });
    }
    // Read from the tokens even when sqlparser reads them: they keep what is needed to say the
    // statement again (privileges, sequence options).
    match t.first() {
        Some(first) if first.is_kw("GRANT") || first.is_kw("REVOKE") => objects::privileges(t),
        Some(first) if first.is_kw("CREATE") => objects::create_sequence(t),
        _ => None,
    }
}

/// Statements sqlparser rejected.
pub(super) fn recognise(t: &[Tok]) -> Option<Op> {
    let first = match t.first()? {
        Tok::Word { upper, .. } => upper.as_str(),
        _ => return None,
    };
    let mut c = Cursor { t, i: 1 };
    match first {
        "DO" => Some(do_block(c)),
        "REINDEX" => reindex(c),
        "CLUSTER" => {
            c.eat("VERBOSE");
            let table = c.name();
            let index = if c.eat("USING") {
                c.name().map(|n| n.name)
            } else {
                None
            };
            Some(Op::Cluster { table, index })
        }
        "VACUUM" => {
            let mut full = false;
            let mut analyze = false;
            if c.peek_punct("(") {
                // `(FULL false, ANALYZE)`: an option followed by FALSE/OFF/0 is switched off.
                let words = c.paren_words();
                let on = |i: usize| !words.get(i + 1).is_some_and(|v| v == "FALSE" || v == "OFF");
                for (i, w) in words.iter().enumerate() {
                    full |= w == "FULL" && on(i);
                    analyze |= (w == "ANALYZE" || w == "ANALYSE") && on(i);
                }
            }
            loop {
                if c.eat("FULL") {
                    full = true;
                } else if c.eat("ANALYZE") || c.eat("ANALYSE") {
                    analyze = true;
                } else if !(c.eat("FREEZE") || c.eat("VERBOSE")) {
                    break;
                }
            }
            Some(Op::Vacuum {
                tables: c.name_list(),
                full,
                analyze,
            })
        }
        "ANALYZE" | "ANALYSE" => {
            if c.peek_punct("(") {
                c.paren_words();
            }
            c.eat("VERBOSE");
            Some(Op::Analyze {
                tables: c.name_list(),
            })
        }
        "SET" => {
            if c.eat("CONSTRAINTS") {
                return Some(Op::SetConstraints {
                    sql: words_after(t, 0),
                });
            }
            let local = c.eat("LOCAL");
            c.eat("SESSION");
            let name = c.name()?.name;
            c.eat_punct("=");
            c.eat("TO");
            Some(Op::Set {
                name,
                value: words_after(t, c.i),
                local,
            })
        }
        "LOCK" => {
            c.eat("TABLE");
            c.eat("ONLY");
            let tables = c.name_list();
            let mode = if c.eat("IN") {
                let mut words = Vec::new();
                while let Some(w) = c.word() {
                    if w == "MODE" {
                        break;
                    }
                    words.push(w);
                }
                Some(words.join(" "))
            } else {
                None
            };
            Some(Op::Lock { tables, mode })
        }
        "REFRESH" => {
            if !c.eat_seq(&["MATERIALIZED", "VIEW"]) {
                return None;
            }
            let concurrently = c.eat("CONCURRENTLY");
            Some(Op::RefreshMaterializedView {
                name: c.name()?,
                concurrently,
            })
        }
        "ALTER" => objects::alter_table_with_collations(t).or_else(|| alter(c)),
        "COMMENT" => {
            if !c.eat("ON") {
                return None;
            }
            let word = c.word()?;
            let target = match word.as_str() {
                "TABLE" | "COLUMN" => ObjectKind::Table,
                "TRIGGER" => ObjectKind::Trigger,
                "INDEX" => ObjectKind::Index,
                "VIEW" => ObjectKind::View,
                "TYPE" => ObjectKind::Type,
                "FUNCTION" => ObjectKind::Function,
                _ => ObjectKind::Other,
            };
            if word == "COLUMN" {
                // [schema.]table.column
                let mut parts = Vec::new();
                while let Some(Tok::Word { ident, .. }) = c.t.get(c.i) {
                    parts.push(ident.clone());
                    c.i += 1;
                    if !c.eat_punct(".") {
                        break;
                    }
                }
                let column = parts.pop()?;
                let name = match parts.as_slice() {
                    [.., s, t] => QualName::new(Some(s), t),
                    [t] => QualName::new(None, t),
                    [] => return None,
                };
                return Some(Op::Comment {
                    target,
                    name,
                    column: Some(column),
                });
            }
            let name = c.name()?;
            // COMMENT ON CONSTRAINT c ON t / TRIGGER x ON t: named by its table.
            let name = if c.eat("ON") { c.name()? } else { name };
            Some(Op::Comment {
                target,
                name,
                column: None,
            })
        }
        "CREATE" => create(c),
        "DROP" if c.eat("STATISTICS") => objects::drop_statistics(c),
        _ => None,
    }
}

fn reindex(mut c: Cursor) -> Option<Op> {
    let mut concurrently = false;
    if c.peek_punct("(") {
        concurrently = c.paren_words().iter().any(|w| w == "CONCURRENTLY");
    }
    let target = match c.word()?.as_str() {
        "INDEX" => ObjectKind::Index,
        "TABLE" => ObjectKind::Table,
        "SCHEMA" => ObjectKind::Schema,
        _ => ObjectKind::Other, // DATABASE, SYSTEM
    };
    concurrently |= c.eat("CONCURRENTLY");
    Some(Op::Reindex {
        target,
        name: c.name(),
        concurrently,
    })
}

fn alter(mut c: Cursor) -> Option<Op> {
    match c.word()?.as_str() {
        "SEQUENCE" => {
            c.eat_seq(&["IF", "EXISTS"]);
            let name = c.name()?;
            let tail = c.i;
            let owned_by = (tail..c.t.len())
                .find(|&k| c.t[k].is_kw("OWNED") && c.t.get(k + 1).is_some_and(|t| t.is_kw("BY")))
                .map(|k| Box::new(objects::owned_column(&mut Cursor { t: c.t, i: k + 2 })));
            Some(Op::AlterSequence {
                name,
                // Its clauses are said again by the rollback: key words as written, in upper case.
                sql_tail: render(c.t.get(tail..).unwrap_or(&[]), Words::Upper, true),
                owned_by,
            })
        }
        "INDEX" => {
            c.eat_seq(&["IF", "EXISTS"]);
            let name = c.name()?;
            let rename_to = if c.eat_seq(&["RENAME", "TO"]) {
                c.name().map(|n| n.name)
            } else {
                None
            };
            Some(Op::AlterIndex {
                name,
                rename_to,
                sql_tail: Some(words_after(c.t, c.i)),
            })
        }
        "TABLE" => {
            let if_exists = c.eat_seq(&["IF", "EXISTS"]);
            let only = c.eat("ONLY");
            let name = c.name()?;
            c.eat_punct("*");
            let mut actions = Vec::new();
            loop {
                // sqlparser rejected the statement: accept it only when every action is one we
                // recognise.
                let start = c.i;
                actions.push(table_action(&mut c)?);
                actions.extend(objects::type_collation(c.t, start));
                // Skip to the next top-level comma, if any.
                if !c.skip_to_comma() {
                    break;
                }
            }
            Some(Op::AlterTable {
                name,
                if_exists,
                only,
                actions,
            })
        }
        "DOMAIN" => objects::alter_domain(c),
        // `pg_dump` gives each statistics object its owner: nothing a migration analysis needs.
        "STATISTICS" => Some(Op::Other {
            what: "ALTER STATISTICS".to_string(),
        }),
        "TYPE" => {
            let name = c.name()?;
            if c.eat_seq(&["RENAME", "TO"]) {
                return Some(Op::AlterTypeRename {
                    name,
                    to: c.name()?.name,
                });
            }
            if c.eat_seq(&["ADD", "VALUE"]) {
                let if_not_exists = c.eat_seq(&["IF", "NOT", "EXISTS"]);
                if let Some(Tok::Str(value)) = c.next() {
                    let position =
                        c.word()
                            .filter(|w| w == "BEFORE" || w == "AFTER")
                            .and_then(|w| match c.next() {
                                Some(Tok::Str(v)) => {
                                    Some(format!("{w} '{}'", v.replace('\'', "''")))
                                }
                                _ => None,
                            });
                    return Some(Op::AlterTypeAddValue {
                        name,
                        value: value.clone(),
                        if_not_exists,
                        position,
                    });
                }
            }
            None
        }
        _ => None,
    }
}

/// One ALTER TABLE action sqlparser could not read; `None` for one migsafe does not know.
fn table_action(c: &mut Cursor) -> Option<AlterAction> {
    let start = c.i;
    let other = |c: &Cursor| AlterAction::Other {
        sql: words_between(c.t, start, c.next_comma()),
    };
    if c.eat_seq(&["SET", "SCHEMA"]) {
        if let Some(n) = c.name() {
            return Some(AlterAction::SetSchema { schema: n.name });
        }
    }
    c.i = start;
    if c.eat_seq(&["SET", "TABLESPACE"]) {
        if let Some(n) = c.name() {
            return Some(AlterAction::SetTablespace { tablespace: n.name });
        }
    }
    c.i = start;
    if c.eat_seq(&["SET", "ACCESS", "METHOD"]) {
        return Some(AlterAction::SetAccessMethod);
    }
    c.i = start;
    if let Some(a) = objects::detailed_table_action(c) {
        return Some(a);
    }
    c.i = start;
    // Recognised actions that only take ACCESS EXCLUSIVE briefly, kept as SQL.
    for words in [
        &["ALTER", "CONSTRAINT"][..],
        &["OWNER", "TO"],
        &["INHERIT"],
        &["NO", "INHERIT"],
        &["FORCE", "ROW"],
        &["NO", "FORCE"],
        &["OF"],
        &["NOT", "OF"],
        &["SET", "WITHOUT", "OIDS"],
    ] {
        if c.eat_seq(words) {
            return Some(other(c));
        }
        c.i = start;
    }
    c.i = start;
    if c.eat("ALTER") {
        c.eat("COLUMN");
        if let Some(column) = c.name().map(|n| n.name) {
            if c.eat_seq(&["DROP", "IDENTITY"]) {
                let if_exists = c.eat_seq(&["IF", "EXISTS"]);
                return Some(AlterAction::DropIdentity { column, if_exists });
            }
            if c.eat_seq(&["ADD", "GENERATED"]) {
                let identity = if c.eat("ALWAYS") {
                    Identity::Always
                } else {
                    Identity::ByDefault
                };
                return Some(AlterAction::AddIdentity { column, identity });
            }
            let at = c.i;
            if c.eat_seq(&["SET", "STATISTICS"])
                || ((c.eat("SET") || c.eat("RESET")) && c.peek_punct("("))
            {
                return Some(AlterAction::SetColumnStatistics { column });
            }
            for words in [
                &["SET", "STORAGE"][..],
                &["SET", "COMPRESSION"],
                &["DROP", "EXPRESSION"],
                &["SET", "GENERATED"],
                &["RESTART"],
            ] {
                c.i = at;
                if c.eat_seq(words) {
                    return Some(other(c));
                }
            }
        }
    }
    c.i = start;
    if c.eat_seq(&["DETACH", "PARTITION"]) {
        if let Some(partition) = c.name() {
            let concurrently = c.eat("CONCURRENTLY");
            let finalize = c.eat("FINALIZE");
            return Some(AlterAction::DetachPartition {
                partition,
                concurrently,
                finalize,
            });
        }
    }
    c.i = start;
    if c.eat_seq(&["ATTACH", "PARTITION"]) {
        if let Some(partition) = c.name() {
            return Some(AlterAction::AttachPartition { partition });
        }
    }
    None
}

fn create(mut c: Cursor) -> Option<Op> {
    let or_replace = c.eat_seq(&["OR", "REPLACE"]);
    match c.word()?.as_str() {
        "FUNCTION" => {
            let name = c.name()?;
            // VOLATILE is the default; the body is one string token, so these words are options.
            let fixed = c.t[c.i..]
                .iter()
                .any(|t| t.is_kw("IMMUTABLE") || t.is_kw("STABLE"));
            Some(Op::CreateFunction {
                name,
                or_replace,
                kind: ObjectKind::Function,
                volatile: Some(!fixed),
            })
        }
        "PROCEDURE" => Some(Op::CreateFunction {
            name: c.name()?,
            or_replace,
            kind: ObjectKind::Procedure,
            volatile: None,
        }),
        "TRIGGER" | "CONSTRAINT" => {
            c.eat("TRIGGER");
            let name = c.name()?.name;
            while let Some(tok) = c.next() {
                if tok.is_kw("ON") {
                    return Some(Op::CreateTrigger {
                        name,
                        table: c.name()?,
                        or_replace,
                        // Filled from the tokens (`complete`).
                        sql: String::new(),
                    });
                }
            }
            None
        }
        "STATISTICS" => objects::create_statistics(c),
        _ => None,
    }
}

/// The statement's tokens from `from` on, as plain SQL-ish text (for `sql_tail` fields).
fn words_after(t: &[Tok], from: usize) -> String {
    words_between(t, from, t.len())
}

fn words_between(t: &[Tok], from: usize, to: usize) -> String {
    let to = to.min(t.len());
    render(t.get(from.min(to)..to).unwrap_or(&[]), Words::Folded, false)
}

/// How [`render`] writes unquoted words.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Words {
    /// Upper case (key words, mostly).
    Upper,
    /// As PostgreSQL folds them (lower case).
    Folded,
}

/// Tokens as SQL, identifiers quoted where needed. A dollar-quoted body is written out when
/// `bodies` (to run the SQL again), or as `$$…$$` (to show it).
fn render(t: &[Tok], words: Words, bodies: bool) -> String {
    let mut out = String::new();
    for tok in t {
        let s = match tok {
            Tok::Word { upper, ident } if upper.is_empty() => quote_ident(ident),
            Tok::Word { upper, .. } if words == Words::Upper => upper.clone(),
            Tok::Word { ident, .. } => ident.clone(),
            Tok::Str(s) => format!("'{}'", s.replace('\'', "''")),
            Tok::Number(n) => n.clone(),
            Tok::Dollar(d) if bodies => format!("$body${d}$body$"),
            Tok::Dollar(_) => "$$…$$".to_string(),
            Tok::Punct(p) => p.clone(),
        };
        let glue = matches!(tok, Tok::Punct(p) if p == "." || p == "," || p == ")")
            || out.ends_with('.')
            || out.ends_with('(');
        if !out.is_empty() && !glue {
            out.push(' ');
        }
        out.push_str(&s);
    }
    out
}

struct Cursor<'a> {
    t: &'a [Tok],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn next(&mut self) -> Option<&'a Tok> {
        let tok = self.t.get(self.i);
        self.i += 1;
        tok
    }

    fn eat(&mut self, kw: &str) -> bool {
        if self.t.get(self.i).is_some_and(|t| t.is_kw(kw)) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat_seq(&mut self, kws: &[&str]) -> bool {
        let ok = kws
            .iter()
            .enumerate()
            .all(|(k, kw)| self.t.get(self.i + k).is_some_and(|t| t.is_kw(kw)));
        if ok {
            self.i += kws.len();
        }
        ok
    }

    fn peek_punct(&self, p: &str) -> bool {
        matches!(self.t.get(self.i), Some(Tok::Punct(x)) if x == p)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if self.peek_punct(p) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// An unquoted word, upper case.
    fn word(&mut self) -> Option<String> {
        match self.t.get(self.i) {
            Some(Tok::Word { upper, .. }) if !upper.is_empty() => {
                self.i += 1;
                Some(upper.clone())
            }
            _ => None,
        }
    }

    /// Words inside the parentheses that start here (VACUUM (FULL, ANALYZE)).
    fn paren_words(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.eat_punct("(") {
            return out;
        }
        while let Some(tok) = self.next() {
            match tok {
                Tok::Punct(p) if p == ")" => break,
                Tok::Word { upper, .. } if !upper.is_empty() => out.push(upper.clone()),
                _ => {}
            }
        }
        out
    }

    /// The parts of a dotted name (`a.b.c`), folded.
    fn dotted(&mut self) -> Vec<String> {
        let mut parts = Vec::new();
        while let Some(Tok::Word { ident, .. }) = self.t.get(self.i) {
            parts.push(ident.clone());
            self.i += 1;
            if !self.eat_punct(".") {
                break;
            }
        }
        parts
    }

    /// `[schema.]name`
    fn name(&mut self) -> Option<QualName> {
        match self.dotted().as_slice() {
            [] => None,
            [n] => Some(QualName::new(None, n)),
            [.., s, n] => Some(QualName::new(Some(s), n)),
        }
    }

    fn names(&mut self) -> Vec<QualName> {
        let mut out = Vec::new();
        while let Some(n) = self.name() {
            out.push(n);
            if !self.eat_punct(",") {
                break;
            }
        }
        out
    }

    /// A list of table names, each possibly with a column list (`VACUUM ANALYZE t (a, b)`).
    fn name_list(&mut self) -> Vec<QualName> {
        let mut out = Vec::new();
        while let Some(n) = self.name() {
            out.push(n);
            if self.peek_punct("(") {
                self.paren_words();
            }
            if !self.eat_punct(",") {
                break;
            }
        }
        out
    }

    /// Index of the next comma at parenthesis depth 0 (or the end).
    fn next_comma(&self) -> usize {
        let mut depth = 0i32;
        for (k, tok) in self.t.iter().enumerate().skip(self.i) {
            match tok {
                Tok::Punct(p) if p == "(" => depth += 1,
                Tok::Punct(p) if p == ")" => depth -= 1,
                Tok::Punct(p) if p == "," && depth == 0 => return k,
                _ => {}
            }
        }
        self.t.len()
    }

    /// Moves past the next top-level comma; false at the end.
    fn skip_to_comma(&mut self) -> bool {
        let k = self.next_comma();
        if k < self.t.len() {
            self.i = k + 1;
            true
        } else {
            self.i = self.t.len();
            false
        }
    }
}

/// `DO [LANGUAGE plpgsql] $$ … $$`: the SQL statements of a PL/pgSQL body's top-level BEGIN … END,
/// read like statements of the migration. Control structures (IF, LOOP, PERFORM, RAISE …) are not
/// SQL: they are counted as unread, and the effects then say so.
fn do_block(mut c: Cursor) -> Op {
    let mut body = None;
    let mut plpgsql = true;
    while let Some(tok) = c.next() {
        match tok {
            Tok::Word { upper, .. } if upper == "LANGUAGE" => {
                plpgsql = c.word().is_some_and(|l| l == "PLPGSQL");
            }
            Tok::Dollar(b) | Tok::Str(b) => body = Some(b.clone()),
            _ => {}
        }
    }
    let Some(body) = body.filter(|_| plpgsql) else {
        return Op::Do {
            statements: Vec::new(),
            unread: 1,
        };
    };
    // A DO body inside a DO body inside … is read again at every level: past a few levels (which
    // no real migration has) it is left unread, so hostile nesting can neither overflow the stack
    // nor make the reading quadratic.
    let Some(_level) = DoNesting::enter() else {
        return Op::Do {
            statements: Vec::new(),
            unread: 1,
        };
    };
    // ASCII upper case keeps every byte offset, so the offsets found in `upper` cut `body` on
    // character boundaries (`to_uppercase` can change the length: `ß` becomes `SS`).
    let upper = body.to_ascii_uppercase();
    let start = find_word(&upper, "BEGIN").map(|i| i + "BEGIN".len());
    let end = upper.rfind("END");
    let inner = match (start, end) {
        (Some(s), Some(e)) if s <= e => &body[s..e],
        _ => body.as_str(),
    };
    let read = crate::source::read(inner);
    let mut statements = Vec::new();
    let mut unread = 0;
    for st in &read.statements {
        if st.kind != crate::source::RawKind::Sql || st.tokenizer_error.is_some() {
            unread += 1;
            continue;
        }
        let parsed = crate::parse::parse(&inner[st.body.clone()], 1, 1);
        match super::lower(&parsed) {
            Op::Unparsed { .. } | Op::Rejected { .. } | Op::Text | Op::Empty => unread += 1,
            op => statements.push(op),
        }
    }
    Op::Do { statements, unread }
}

/// How many DO bodies are being read on this thread, one inside the other.
const MAX_DO_NESTING: u32 = 4;

thread_local! {
    static DO_NESTING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// One level of DO-body nesting, left when dropped.
struct DoNesting;

impl DoNesting {
    fn enter() -> Option<DoNesting> {
        DO_NESTING.with(|d| {
            let level = d.get();
            (level < MAX_DO_NESTING).then(|| {
                d.set(level + 1);
                DoNesting
            })
        })
    }
}

impl Drop for DoNesting {
    fn drop(&mut self) {
        DO_NESTING.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Byte offset of `word` as a whole word in `text` (both upper case).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find(word).map(|i| i + from) {
        let before = i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'_';
        let after = bytes
            .get(i + word.len())
            .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'_');
        if before && after {
            return Some(i);
        }
        from = i + word.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::lower;
    use crate::parse::parse;

    fn op(sql: &str) -> Op {
        lower(&parse(sql, 1, 1))
    }

    #[test]
    fn drop_index_concurrently() {
        assert_eq!(
            op("DROP INDEX CONCURRENTLY IF EXISTS public.ix_b"),
            Op::Drop {
                kind: ObjectKind::Index,
                names: vec![QualName::new(Some("public"), "ix_b")],
                if_exists: true,
                cascade: false,
                concurrently: true
            }
        );
        assert!(matches!(op("DROP INDEX CONCURRENTLY"), Op::Unparsed { .. }));
    }

    #[test]
    fn reindex_cluster_do() {
        assert_eq!(
            op("REINDEX INDEX CONCURRENTLY ix_c"),
            Op::Reindex {
                target: ObjectKind::Index,
                name: Some(QualName::new(None, "ix_c")),
                concurrently: true
            }
        );
        assert_eq!(op("REINDEX TABLE orders").kind(), "reindex");
        assert_eq!(op("DO $$ BEGIN PERFORM 1; END $$").kind(), "do");
        assert_eq!(
            op("CLUSTER orders USING ix_orders_created"),
            Op::Cluster {
                table: Some(QualName::new(None, "orders")),
                index: Some("ix_orders_created".into())
            }
        );
    }

    #[test]
    fn vacuum_forms() {
        assert_eq!(
            op("VACUUM ANALYZE orders"),
            Op::Vacuum {
                tables: vec![QualName::new(None, "orders")],
                full: false,
                analyze: true
            }
        );
        assert_eq!(
            op("VACUUM (FULL, ANALYZE) orders"),
            Op::Vacuum {
                tables: vec![QualName::new(None, "orders")],
                full: true,
                analyze: true
            }
        );
    }

    #[test]
    fn alter_table_forms() {
        let Op::AlterTable { actions, .. } = op("ALTER TABLE orders SET SCHEMA archive") else {
            panic!()
        };
        assert_eq!(
            actions,
            [AlterAction::SetSchema {
                schema: "archive".into()
            }]
        );
        let Op::AlterTable { actions, .. } =
            op("ALTER TABLE orders DETACH PARTITION orders_2020 CONCURRENTLY")
        else {
            panic!()
        };
        assert!(matches!(
            &actions[0],
            AlterAction::DetachPartition {
                concurrently: true,
                ..
            }
        ));
        let Op::AlterTable { actions, .. } =
            op("ALTER TABLE orders ALTER COLUMN id DROP IDENTITY IF EXISTS")
        else {
            panic!()
        };
        assert_eq!(
            actions,
            [AlterAction::DropIdentity {
                column: "id".into(),
                if_exists: true
            }]
        );
        assert!(matches!(
            op("ALTER TABLE t FROBNICATE"),
            Op::Rejected { .. }
        ));
        assert!(matches!(
            op("ALTER TABLE t SET SCHEMA s, FROBNICATE"),
            Op::Unparsed { .. }
        ));
    }

    #[test]
    fn sequences_and_constraints() {
        assert_eq!(
            op("ALTER SEQUENCE orders_id_seq RESTART WITH 1000").kind(),
            "alter_sequence"
        );
        assert_eq!(
            op("SET CONSTRAINTS ALL IMMEDIATE").kind(),
            "set_constraints"
        );
        assert_eq!(
            op("SET CONSTRAINTS \"x\" IMMEDIATE").kind(),
            "set_constraints"
        );
        assert_eq!(
            op("LOCK TABLE orders IN SHARE MODE"),
            Op::Lock {
                tables: vec![QualName::new(None, "orders")],
                mode: Some("SHARE".into())
            }
        );
    }
}
