//! Statements PostgreSQL's grammar rejects for certain, told from their words: a typo in the
//! command (`ALTER TABL`), an ALTER TABLE action PostgreSQL has no word for (MySQL's `MODIFY`,
//! `CHANGE`), MySQL's backtick quoting, table options and column attributes. Every statement is
//! asked (sqlparser reads some MySQL forms); what is not certain is left alone.

use crate::parse::Tok;

/// What may follow `CREATE` (gram.y's CreateStmt family, PostgreSQL 11–18).
const CREATE: &[&str] = &[
    "ACCESS",
    "AGGREGATE",
    "CAST",
    "COLLATION",
    "CONSTRAINT",
    "CONVERSION",
    "DATABASE",
    "DEFAULT",
    "DOMAIN",
    "EVENT",
    "EXTENSION",
    "FOREIGN",
    "FUNCTION",
    "GLOBAL",
    "GROUP",
    "INDEX",
    "LANGUAGE",
    "LOCAL",
    "MATERIALIZED",
    "OPERATOR",
    "OR",
    "POLICY",
    "PROCEDURAL",
    "PROCEDURE",
    "PUBLICATION",
    "RECURSIVE",
    "ROLE",
    "RULE",
    "SCHEMA",
    "SEQUENCE",
    "SERVER",
    "STATISTICS",
    "SUBSCRIPTION",
    "TABLE",
    "TABLESPACE",
    "TEMP",
    "TEMPORARY",
    "TEXT",
    "TRANSFORM",
    "TRIGGER",
    "TRUSTED",
    "TYPE",
    "UNIQUE",
    "UNLOGGED",
    "USER",
    "VIEW",
];

/// What may follow `ALTER`.
const ALTER: &[&str] = &[
    "AGGREGATE",
    "COLLATION",
    "CONVERSION",
    "DATABASE",
    "DEFAULT",
    "DOMAIN",
    "EVENT",
    "EXTENSION",
    "FOREIGN",
    "FUNCTION",
    "GROUP",
    "INDEX",
    "LANGUAGE",
    "LARGE",
    "MATERIALIZED",
    "OPERATOR",
    "POLICY",
    "PROCEDURAL",
    "PROCEDURE",
    "PUBLICATION",
    "ROLE",
    "ROUTINE",
    "RULE",
    "SCHEMA",
    "SEQUENCE",
    "SERVER",
    "STATISTICS",
    "SUBSCRIPTION",
    "SYSTEM",
    "TABLE",
    "TABLESPACE",
    "TEXT",
    "TRIGGER",
    "TYPE",
    "USER",
    "VIEW",
];

/// What may follow `DROP`.
const DROP: &[&str] = &[
    "ACCESS",
    "AGGREGATE",
    "CAST",
    "COLLATION",
    "CONVERSION",
    "DATABASE",
    "DOMAIN",
    "EVENT",
    "EXTENSION",
    "FOREIGN",
    "FUNCTION",
    "GROUP",
    "INDEX",
    "LANGUAGE",
    "MATERIALIZED",
    "OPERATOR",
    "OWNED",
    "POLICY",
    "PROCEDURAL",
    "PROCEDURE",
    "PUBLICATION",
    "ROLE",
    "ROUTINE",
    "RULE",
    "SCHEMA",
    "SEQUENCE",
    "SERVER",
    "STATISTICS",
    "SUBSCRIPTION",
    "TABLE",
    "TABLESPACE",
    "TEXT",
    "TRANSFORM",
    "TRIGGER",
    "TYPE",
    "USER",
    "VIEW",
];

/// The words an ALTER TABLE action (or the statement's rename/schema forms) starts with.
const TABLE_ACTIONS: &[&str] = &[
    "ADD", "ALTER", "ATTACH", "CLUSTER", "DETACH", "DISABLE", "DROP", "ENABLE", "FORCE", "INHERIT",
    "MERGE", "NO", "NOT", "OF", "OWNER", "RENAME", "REPLICA", "RESET", "SET", "SPLIT", "VALIDATE",
];

/// MySQL table options (`ENGINE=InnoDB`), which PostgreSQL has no word for.
const MYSQL_OPTIONS: &[&str] = &["ENGINE", "AUTO_INCREMENT", "CHARSET"];

/// MySQL column attributes, written after the type (`id int UNSIGNED AUTO_INCREMENT`).
const MYSQL_ATTRIBUTES: &[&str] = &["AUTO_INCREMENT", "UNSIGNED"];

/// Why PostgreSQL rejects the statement, when its tokens say so for certain.
pub(crate) fn rejected(t: &[Tok]) -> Option<String> {
    if t.windows(3).any(backtick_quoted) {
        return Some(
            "PostgreSQL has no backtick quoting (MySQL's): names are quoted with \"double quotes\""
                .to_string(),
        );
    }
    let defines_table = t
        .first()
        .is_some_and(|x| x.is_kw("CREATE") || x.is_kw("ALTER"))
        && t.iter().take(4).any(|x| x.is_kw("TABLE"));
    if let Some(word) = t
        .windows(3)
        .find_map(mysql_syntax)
        .filter(|_| defines_table)
    {
        return Some(format!(
            "{word} is MySQL syntax: PostgreSQL has no such word here"
        ));
    }
    let (first, second) = (upper(t.first()?)?, t.get(1).map(upper));
    let allowed = match first {
        "CREATE" => CREATE,
        "ALTER" => ALTER,
        "DROP" => DROP,
        _ => return None,
    };
    match second {
        Some(Some(word)) if !allowed.contains(&word) => {
            Some(format!("PostgreSQL has no {first} {word} statement"))
        }
        Some(Some("TABLE")) if first == "ALTER" => alter_table_action(&t[2..]),
        _ => None,
    }
}

fn upper(t: &Tok) -> Option<&str> {
    match t {
        Tok::Word { upper, .. } if !upper.is_empty() => Some(upper),
        _ => None,
    }
}

/// `` `name` ``: a word between backticks (a backtick alone may be part of an operator's name).
fn backtick_quoted(window: &[Tok]) -> bool {
    let tick = |t: &Tok| matches!(t, Tok::Punct(p) if p.contains('`'));
    matches!(window, [a, Tok::Word { .. }, b] if tick(a) && tick(b))
}

/// In CREATE TABLE or ALTER TABLE: `ENGINE =` and the like, or an attribute right after a type word (after `(` or `,` the same
/// word would be a column's name).
fn mysql_syntax(window: &[Tok]) -> Option<&str> {
    let [before, word, after] = window else {
        return None;
    };
    let w = upper(word)?;
    let option = MYSQL_OPTIONS.contains(&w) && matches!(after, Tok::Punct(p) if p == "=");
    let attribute = MYSQL_ATTRIBUTES.contains(&w) && upper(before).is_some();
    (option || attribute).then_some(w)
}

/// `ALTER TABLE [IF EXISTS] [ONLY] name [*] <action>`: the action's first word.
fn alter_table_action(t: &[Tok]) -> Option<String> {
    let mut i = 0;
    if t.first().is_some_and(|x| x.is_kw("ALL")) {
        return None;
    }
    if t.first().is_some_and(|x| x.is_kw("IF")) && t.get(1).is_some_and(|x| x.is_kw("EXISTS")) {
        i = 2;
    }
    if t.get(i).is_some_and(|x| x.is_kw("ONLY")) {
        i += 1;
    }
    // The name: words joined by dots.
    loop {
        match t.get(i) {
            Some(Tok::Word { .. }) => i += 1,
            _ => return None,
        }
        match t.get(i) {
            Some(Tok::Punct(p)) if p == "." => i += 1,
            _ => break,
        }
    }
    if matches!(t.get(i), Some(Tok::Punct(p)) if p == "*") {
        i += 1;
    }
    let word = upper(t.get(i)?)?;
    (!TABLE_ACTIONS.contains(&word))
        .then(|| format!("PostgreSQL's ALTER TABLE has no {word} action"))
}
