//! The statements of `fixtures/lexer/*.sql` are the ones psql sends (each file was run with psql
//! 15 against a scratch database, `psql -e`; a trailing comment at the end of the input is a
//! comment after the last statement, not part of it): statements hidden behind an operator glued to a
//! comment start, or behind a backslash with `standard_conforming_strings` off, are reported as
//! statements of their own.

use std::path::Path;

fn fixture(name: &str) -> String {
    let path = Path::new("fixtures/lexer").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The statements' texts as migsafe cuts them (empty `;` left out).
fn statements(sql: &str) -> Vec<String> {
    migsafe::source::split::split(sql)
        .statements
        .iter()
        .filter(|s| s.kind != migsafe::source::RawKind::Empty)
        .map(|s| sql[s.span.start_byte..s.span.end_byte].to_string())
        .collect()
}

/// The hidden `DROP TABLE t` is reported as a statement that drops a table.
fn assert_drop_reported(sql: &str, times: usize) {
    let report = migsafe::analyze(sql);
    let drops = report
        .statements
        .iter()
        .filter(|s| s.sql == "DROP TABLE t;" && s.kind == "drop_table")
        .count();
    assert_eq!(drops, times, "{sql}");
}

#[test]
fn operators_glued_to_a_line_comment() {
    for (name, select) in [
        ("operator_greater_dashdash.sql", "SELECT 1 >-- '\n 1;"),
        ("operator_concat_dashdash.sql", "SELECT 'a' ||-- '\n 'b';"),
        ("operator_not_equal_dashdash.sql", "SELECT 1 <>-- '\n 2;"),
    ] {
        let sql = fixture(name);
        assert_eq!(
            statements(&sql),
            [select, "COMMIT;", "DROP TABLE t;", "SELECT 1"],
            "{name}"
        );
        assert_drop_reported(&sql, 1);
    }
}

#[test]
fn operators_glued_to_a_block_comment() {
    let sql = fixture("operator_block_comment.sql");
    assert_eq!(
        statements(&sql),
        [
            "SELECT 1 +/* ' */ 1;",
            "COMMIT;",
            "DROP TABLE t;",
            "SELECT '*/';",
            "SELECT 2 !=/* ' */ 1;",
            "DROP TABLE t;",
            "SELECT '*/';",
            "SELECT 3 */* ' */ 1;",
            "DROP TABLE t;",
            "SELECT '*/';",
        ]
    );
    assert_drop_reported(&sql, 3);
}

#[test]
fn standard_conforming_strings_off() {
    let sql = fixture("standard_conforming_strings_off.sql");
    assert_eq!(
        statements(&sql),
        [
            "SET standard_conforming_strings = off;",
            "SELECT 'it\\'s';",
            "COMMIT;",
            "DROP TABLE t;",
            "SELECT 'harmless';",
        ]
    );
    assert_drop_reported(&sql, 1);
}

#[test]
fn standard_conforming_strings_set_local_ends_with_the_transaction() {
    let sql = fixture("standard_conforming_strings_set_local.sql");
    assert_eq!(
        statements(&sql),
        [
            "BEGIN;",
            "SET LOCAL standard_conforming_strings = off;",
            "SELECT 'a\\'; DROP TABLE t; SELECT ';",
            "COMMIT;",
            "SELECT 'b\\';",
            "DROP TABLE t;",
            "SELECT ';\n",
        ]
    );
    assert_drop_reported(&sql, 1);
}

#[test]
fn copy_data_is_read_before_the_rest_of_its_line() {
    let sql = fixture("copy_text_after_semicolon.sql");
    assert_eq!(
        statements(&sql),
        ["COPY c FROM stdin;", "SELECT 1;", "SELECT 2;"]
    );
    // psql sends `SELECT 'a\n';`: the string goes on after the data. Its span holds the data
    // lines between its two parts.
    let sql = fixture("copy_quote_open_after_semicolon.sql");
    assert_eq!(
        statements(&sql),
        [
            "COPY c FROM stdin;",
            "SELECT 'a\n1\t2\n\\.\n';",
            "SELECT 3;"
        ]
    );
}

#[test]
fn meta_commands() {
    let sql = fixture("meta_commands.sql");
    let split = migsafe::source::split::split(&sql);
    let metas: Vec<&str> = split
        .meta_commands
        .iter()
        .map(|m| &sql[m.span.start_byte..m.span.end_byte])
        .collect();
    assert_eq!(
        metas,
        [
            "\\set ON_ERROR_STOP on",
            "\\echo starting ",
            "\\\\",
            "\\echo inside"
        ]
    );
    // After `\\` psql reads SQL again; `\echo` inside a statement leaves it open.
    assert_eq!(
        statements(&sql),
        ["DROP TABLE t;", "SELECT 1\n\\echo inside\n;"]
    );
}
