//! Hostile input: whatever the text, analysis ends with a report in which what could not be read is
//! an unparsed statement with a clear message, and bytes that are not text get a clear error. No
//! panic, no stack overflow. (Memory: tests/hostile_memory.rs; speed: benches/ and
//! scripts/bench-vs-squawk.sh, never timed tests.)

use migsafe::source::split;
use migsafe::{Error, Format, Report};

/// Analyses `sql`, renders every format and the rollback script (all must succeed).
fn analyze_all(sql: &str) -> Report {
    let report = migsafe::analyze(sql);
    for format in Format::ALL {
        let _ = report.render(format);
    }
    let _ = report.rollback_script();
    report
}

/// The message of the `unparsed-statement` finding on statement `i`.
fn unparsed_message(report: &Report, i: usize) -> String {
    let s = &report.statements[i];
    assert!(!s.parsed, "statement {i} parsed: {}", s.sql);
    s.findings
        .iter()
        .find(|f| f.rule == "unparsed-statement")
        .map(|f| f.message.clone())
        .unwrap_or_else(|| panic!("no unparsed-statement finding on {i}: {:?}", s.findings))
}

#[test]
fn deeply_nested_parentheses_are_unparsed_not_a_stack_overflow() {
    for depth in [60, 1_000, 100_000] {
        let open = "(".repeat(depth);
        let close = ")".repeat(depth);
        for sql in [
            format!("SELECT {open}1{close};"),
            format!("ALTER TABLE t ADD CONSTRAINT c CHECK ({open}a > 0{close});"),
            format!("UPDATE t SET a = {open}a + 1{close} WHERE id = 1;"),
            format!("CREATE INDEX ix ON t ({open}lower(a){close});"),
        ] {
            let report = analyze_all(&sql);
            assert_eq!(report.statements.len(), 1, "depth {depth}");
            let message = unparsed_message(&report, 0);
            assert!(
                message.contains("nested too deeply"),
                "depth {depth}: {message}"
            );
        }
    }
}

#[test]
fn deeply_nested_subqueries_arrays_and_unary_operators() {
    let depth = 10_000;
    for sql in [
        format!("SELECT {}1{};", "(SELECT ".repeat(depth), ")".repeat(depth)),
        format!("SELECT {}1{};", "ARRAY[".repeat(depth), "]".repeat(depth)),
        format!("SELECT {}1;", "- ".repeat(depth)),
        format!("SELECT {}true;", "NOT ".repeat(depth)),
        format!("SELECT 1{};", "::int".repeat(depth)),
    ] {
        let report = analyze_all(&sql);
        assert_eq!(report.statements.len(), 1);
        // Whatever sqlparser makes of it, the analysis ends; rejected ones say why.
        if !report.statements[0].parsed {
            assert!(!unparsed_message(&report, 0).is_empty());
        }
    }
}

#[test]
fn nested_do_blocks_are_read_a_few_levels_deep() {
    let depth = 2_000;
    let mut sql = String::from("ALTER TABLE t ADD COLUMN c int;");
    for level in 0..depth {
        sql = format!("DO $l{level}$ BEGIN {sql} END $l{level}$;");
    }
    let report = analyze_all(&sql);
    assert_eq!(report.statements.len(), 1);
    assert_eq!(report.statements[0].kind, "do");
}

#[test]
fn do_body_with_characters_that_change_length_in_upper_case() {
    // `ß` upper-cases to `SS`: offsets found in an upper-cased copy must still cut the body.
    let report = analyze_all(
        "DO $$ ßßßß BEGIN ALTER TABLE t ADD COLUMN c int; ßßßß END ßß $$;\nDO $$ BEGIN ﬃ END $$;",
    );
    assert_eq!(report.statements.len(), 2);
}

#[test]
fn unterminated_quotes_comments_and_dollar_quotes() {
    for (sql, expect) in [
        ("SELECT 'abc;\nSELECT 1;", "unterminated quoted string"),
        ("SELECT E'abc\\';", "unterminated quoted string"),
        ("SELECT \"abc;", "unterminated quoted identifier"),
        ("SELECT $$abc;", "unterminated dollar-quoted string"),
        (
            "SELECT $tag$ abc $other$;",
            "unterminated dollar-quoted string",
        ),
        ("SELECT 1 /* never closed;", "unterminated /* comment"),
        ("SELECT U&'abc;", "unterminated quoted string"),
    ] {
        let report = analyze_all(sql);
        let i = report
            .statements
            .iter()
            .position(|s| !s.parsed)
            .unwrap_or_else(|| panic!("{sql:?}: every statement parsed"));
        let message = unparsed_message(&report, i);
        assert!(message.contains(expect), "{sql:?}: {message}");
        assert!(
            message.contains("line "),
            "{sql:?}: no position in {message}"
        );
    }
}

#[test]
fn bytes_that_are_not_text_are_a_clear_error() {
    let nul = migsafe::check_text("m.sql", b"SELECT 1;\0\0");
    assert!(
        matches!(nul, Err(Error::Binary { offset: 9, .. })),
        "{nul:?}"
    );
    let latin1 = migsafe::check_text("m.sql", b"SELECT 'caf\xe9';");
    assert!(
        matches!(latin1, Err(Error::NotUtf8 { offset: 11, .. })),
        "{latin1:?}"
    );
    let message = latin1.map(|_| ()).unwrap_err().to_string();
    assert_eq!(message, "m.sql: not UTF-8 text: invalid byte at offset 11");
}

#[test]
fn nul_and_control_characters_in_a_str_do_not_break_the_reader() {
    // Library users can hand over any &str, NUL included.
    let report = analyze_all(
        "SELECT '\0';\nALTER TABLE t ADD COLUMN \0 int;\n\u{1b}[31mred\u{7}\n\0\0\0;\nCOMMENT ON TABLE t IS '\r\u{8}';",
    );
    assert!(report.statements.len() >= 4);
}

#[test]
fn printed_text_with_quotes_many_times() {
    // As psql reads it: each apostrophe opens a string that the next one closes, so the prose and
    // the statements after it run on to the `;` after the second apostrophe. Linear all the same.
    let n = 3_000;
    let mut sql = String::new();
    for i in 0..n {
        sql.push_str(&format!(
            "ALTER TABLE t{i} ADD COLUMN c int;\nDon't forget table {i}\n\n"
        ));
    }
    let report = analyze_all(&sql);
    assert_eq!(report.statements.len(), n / 2 + 1);
    assert_eq!(
        report.statements[1].sql,
        "Don't forget table 0\n\nALTER TABLE t1 ADD COLUMN c int;\nDon't forget table 1\n\nALTER TABLE t2 ADD COLUMN c int;"
    );
    assert_eq!(
        report.statements[n / 2].sql,
        format!(
            "Don't forget table {}\n\nALTER TABLE t{} ADD COLUMN c int;\nDon't forget table {}",
            n - 2,
            n - 1,
            n - 1
        )
    );
}

#[test]
fn a_statement_too_long_to_parse_is_unparsed_with_its_size() {
    // Several MiB in one statement: sqlparser's tokens would take many times that.
    let values: Vec<String> = (0..700_000).map(|i| format!("({i})")).collect();
    let sql = format!(
        "INSERT INTO t (a) VALUES {};\nALTER TABLE t ADD COLUMN c int;",
        values.join(",")
    );
    let report = analyze_all(&sql);
    assert_eq!(report.statements.len(), 2);
    let message = unparsed_message(&report, 0);
    assert!(message.contains("too long to parse"), "{message}");
    assert!(report.statements[1].parsed);
}

/// Thousands of statements outside any transaction and any revision (a plain SQL file, a schema
/// dump): each is a commit unit whose failure mode says what the units before it committed. Those
/// lists are bounded, so the report grows with the file, not with its square (unbounded, a plain
/// file of 5,000 statements gave 760 MB of JSON).
#[test]
fn many_autocommit_statements_keep_the_report_linear() {
    // A failure mode lists at most this many committed statements (the report's documented bound).
    const LISTED: usize = 20;
    let n = 3000;
    let mut sql = String::from("SET lock_timeout = '5s';\n");
    for i in 0..n {
        sql.push_str(&format!(
            "CREATE TABLE t{i} (id int);\nCREATE INDEX CONCURRENTLY ix_{i} ON t{i} (id);\n"
        ));
    }
    let report = migsafe::analyze(&sql);
    let modes = &report.failure_modes;
    assert_eq!(modes.len(), 2 * n);
    for (k, m) in modes.iter().enumerate() {
        // Unit k (from 0) fails after units 0..k committed: k statements, of which the CREATE
        // TABLEs and the CREATE INDEXes all fail on a second run (no IF NOT EXISTS).
        assert_eq!(m.committed_count, k, "unit {}", m.unit);
        assert_eq!(m.rerun_fail_count, k, "unit {}", m.unit);
        assert_eq!(m.committed.len(), k.min(LISTED));
        assert_eq!(m.rerun_fails.len(), k.min(LISTED));
    }
    let last = &modes[2 * n - 1].message;
    assert!(
        last.contains(&format!(
            "statements 2–21, … ({} in all, lines 2–{}) are committed already",
            2 * n - 1,
            2 * n
        )),
        "{last}"
    );
    assert!(
        last.contains(&format!("(and {} more like it)", 2 * n - 2)),
        "{last}"
    );
    let json = report.render(Format::Json);
    assert!(
        json.len() < 200 * sql.len(),
        "{} bytes of JSON for {} bytes of SQL",
        json.len(),
        sql.len()
    );
}

/// A small deterministic generator (xorshift), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Pieces of SQL that open or close something, mixed with random characters.
const PIECES: &[&str] = &[
    "(",
    ")",
    "'",
    "\"",
    "$$",
    "$a$",
    "E'",
    "U&'",
    "--",
    "/*",
    "*/",
    ";",
    ";;",
    "\n",
    "\r\n",
    " ",
    "\\",
    "\\.\n",
    "BEGIN",
    "COMMIT",
    "END",
    "ATOMIC",
    "CASE",
    "DO",
    "CREATE",
    "ALTER TABLE t ",
    "ADD COLUMN ",
    "DROP ",
    "INDEX ",
    "CONCURRENTLY ",
    "COPY t FROM stdin;\n",
    "%(x)s",
    "%%",
    "%s",
    "-- Running upgrade a -> b\n",
    "-- migsafe: ignore all\n",
    "UPDATE alembic_version SET ",
    "é",
    "ß",
    "\u{1F600}",
    "\0",
    ".",
    "._",
    "1e",
    "::",
    "[",
    "]",
    ",",
    "=",
    "int",
    "text",
];

fn random_text(rng: &mut Rng, len: usize) -> String {
    let mut s = String::new();
    while s.len() < len {
        if rng.below(4) == 0 {
            let bytes: Vec<u8> = (0..rng.below(8)).map(|_| rng.next() as u8).collect();
            s.push_str(&String::from_utf8_lossy(&bytes));
        } else {
            s.push_str(PIECES[rng.below(PIECES.len())]);
        }
    }
    s
}

#[test]
fn random_text_never_panics_and_splits_in_order() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for round in 0..400 {
        let len = 1 + rng.below(1_500);
        let text = random_text(&mut rng, len);
        assert_in_order(&text, &format!("round {round}"));
        let report = analyze_all(&text);
        let _ = migsafe::Catalog::from_sql(&text);
        let mut end = 0;
        for s in &report.statements {
            assert!(
                s.span.start_byte >= end,
                "round {round}: overlap in {text:?}"
            );
            end = s.span.end_byte;
        }
    }
}

/// The split's statements are in order, do not overlap, and lie on character boundaries.
fn assert_in_order(text: &str, what: &str) {
    let split = split::split(text);
    let mut end = 0;
    for s in &split.statements {
        let sp = s.span;
        assert!(sp.start_byte >= end, "{what}: statements overlap: {sp:?}");
        assert!(
            sp.start_byte <= s.body_end && s.body_end <= sp.end_byte,
            "{what}: {sp:?}"
        );
        assert!(sp.end_byte <= text.len(), "{what}: {sp:?}");
        for at in [sp.start_byte, s.body_end, sp.end_byte] {
            assert!(text.is_char_boundary(at), "{what}: {sp:?}");
        }
        end = sp.end_byte;
    }
}

#[test]
fn regression_fixtures_from_fuzzing() {
    // Inputs that once crashed or hung a fuzz target: fixtures/hostile/*.
    let Ok(entries) = std::fs::read_dir("fixtures/hostile") else {
        return;
    };
    for e in entries.flatten() {
        let Ok(bytes) = std::fs::read(e.path()) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        assert_in_order(&text, &e.path().display().to_string());
        let _ = analyze_all(&text);
        let _ = migsafe::Catalog::from_sql(&text);
        if let Ok(t) = migsafe::check_text("x", &bytes) {
            let _ = analyze_all(t);
        }
    }
}
