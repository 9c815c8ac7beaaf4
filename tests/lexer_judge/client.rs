//! A client of `scripts/lexer_judge.py --serve`, and migsafe's answer in the same form; shared by
//! `tests/lexer_judge.rs` and the fuzz target `lexer_judge`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// Where statements and meta-commands are: (start, end of the statement's own text) and (start,
/// end) in bytes. Empty statements (`;` alone) are left out: psql sends them, the server does
/// nothing with them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Boundaries {
    pub statements: Vec<(usize, usize)>,
    pub meta: Vec<(usize, usize)>,
}

/// migsafe's boundaries of `text`.
pub fn ours(text: &str) -> Boundaries {
    let split = migsafe::source::split::split(text);
    Boundaries {
        statements: split
            .statements
            .iter()
            .filter(|s| s.kind != migsafe::source::RawKind::Empty)
            .map(|s| (s.span.start_byte, s.body_end))
            .collect(),
        meta: split
            .meta_commands
            .iter()
            .map(|m| (m.span.start_byte, m.span.end_byte))
            .collect(),
    }
}

/// The judge process.
pub struct Judge {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Judge {
    /// Starts the judge of the crate at `root`, or `None` when no Python with pglast is found.
    pub fn start(root: &Path) -> Option<Judge> {
        let python = std::env::var_os("MIGSAFE_LEXER_JUDGE_PYTHON")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| root.join("target/lexer-judge-venv/bin/python"));
        if !python.exists() {
            return None;
        }
        let mut child = Command::new(python)
            .arg(root.join("scripts/lexer_judge.py"))
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let input = child.stdin.take()?;
        let output = BufReader::new(child.stdout.take()?);
        Some(Judge {
            child,
            input,
            output,
        })
    }

    /// PostgreSQL's boundaries of `text`, or `None` when its scanner cannot judge it.
    pub fn ask(&mut self, text: &str) -> Option<Boundaries> {
        writeln!(self.input, "{}", text.len()).expect("judge stdin");
        self.input.write_all(text.as_bytes()).expect("judge stdin");
        self.input.flush().expect("judge stdin");
        let mut line = String::new();
        self.output.read_line(&mut line).expect("judge stdout");
        let answer: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("judge said {line:?}: {e}"));
        let pairs = |key: &str| -> Option<Vec<(usize, usize)>> {
            answer
                .get(key)?
                .as_array()?
                .iter()
                .map(|p| Some((p.get(0)?.as_u64()? as usize, p.get(1)?.as_u64()? as usize)))
                .collect()
        };
        Some(Boundaries {
            statements: pairs("statements")?,
            meta: pairs("meta")?,
        })
    }
}

impl Drop for Judge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small deterministic generator (xorshift), so a failure reproduces.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Pieces that open, close or hide something in PostgreSQL's scanner or psql's.
pub const PIECES: &[&str] = &[
    ">--",
    "||--",
    "<>--",
    "!=/*",
    "+-",
    "-+",
    "*/",
    "/*",
    "*/*",
    "/*/",
    "--",
    "-",
    "+",
    "=-",
    "?-",
    "@-",
    "~+",
    "<=",
    ">=",
    "=>",
    "::",
    ":=",
    ":",
    ":a",
    ":'a'",
    ":\"a\"",
    ":{?a}",
    "'",
    "''",
    "\"",
    "\"\"",
    "E'",
    "e'",
    "E'\\'",
    "\\'",
    "'\\'",
    "U&'",
    "U&\"",
    "u&",
    "B'",
    "X'",
    "N'",
    "n'",
    "$$",
    "$a$",
    "$A$",
    "$_$",
    "$1",
    "$1a",
    "$é$",
    "a$",
    "a$$",
    "$",
    "1e",
    "1e+",
    "1e-",
    "1.",
    ".5",
    "1..2",
    "0x",
    "0x1F",
    "0b",
    "1_000",
    "1a",
    "(",
    ")",
    ";",
    ";;",
    "\\;",
    "\\:",
    "\\",
    "\\\\",
    "\\echo x",
    "\\g",
    "\\.",
    "\n",
    "\r\n",
    "\r",
    " ",
    "\t",
    "\u{b}",
    "\u{c}",
    "\n\n",
    "CREATE ",
    "create ",
    "OR ",
    "REPLACE ",
    "FUNCTION ",
    "PROCEDURE ",
    "BEGIN",
    " BEGIN ",
    " ATOMIC ",
    " CASE ",
    " END",
    "END;",
    "COPY t FROM stdin;",
    "COPY t FROM STDIN;\n",
    "FROM ",
    "stdin",
    "SELECT ",
    "DROP TABLE t",
    "COMMIT",
    "-- Running upgrade a -> b\n",
    "é",
    "ß",
    "\u{1F600}",
    "x",
    "1",
    "_",
    ",",
    ".",
    "[",
    "]",
];

/// Random text made of [`PIECES`] and random characters.
pub fn hostile_text(rng: &mut Rng) -> String {
    let len = 1 + rng.below(300);
    let mut s = String::new();
    while s.len() < len {
        if rng.below(6) == 0 {
            let c = match rng.below(4) {
                0 => char::from(rng.below(128) as u8),
                1 => char::from_u32(0x80 + rng.below(0x780) as u32).unwrap_or('x'),
                _ => char::from(b' ' + rng.below(95) as u8),
            };
            s.push(c);
        } else {
            s.push_str(PIECES[rng.below(PIECES.len())]);
        }
    }
    s
}
