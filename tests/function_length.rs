//! Keeps every function of the library and the CLI readable on a screen or two: none longer than
//! [`LIMIT`] lines. The sources are rustfmt's, so a function's closing brace is the first line after
//! its signature that holds only `}` at the signature's indentation.

mod common;

use common::rust_files;
use std::path::Path;

const LIMIT: usize = 250;

/// `(name, first line, length)` of each function in `text` (with a body).
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let body = line.trim_start();
        let indent = line.len() - body.len();
        let mut rest = body;
        for qualifier in [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "const ",
            "async ",
            "unsafe ",
        ] {
            rest = rest.strip_prefix(qualifier).unwrap_or(rest);
        }
        let Some(rest) = rest.strip_prefix("fn ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{}}}", " ".repeat(indent));
        // A declaration without a body (in a trait) ends with `;` before any `{`.
        let opens = lines[i..]
            .iter()
            .position(|l| l.contains('{') || l.trim_end().ends_with(';'));
        if opens.is_none_or(|k| !lines[i + k].contains('{')) {
            continue;
        }
        if line.trim_end().ends_with('}') {
            continue; // a one-line function
        }
        if let Some(end) = lines[i + 1..].iter().position(|l| *l == close) {
            out.push((name, i + 1, end + 2));
        }
    }
    out
}

#[test]
fn no_function_is_longer_than_the_limit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("examples"), &mut files);
    assert!(files.len() > 50, "found only {} source files", files.len());
    let mut long = Vec::new();
    let mut longest = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for (name, line, length) in functions(&text) {
            longest = longest.max(length);
            if length > LIMIT {
                let shown = file.strip_prefix(root).unwrap_or(file).display();
                long.push(format!("{shown}:{line} {name}: {length} lines"));
            }
        }
    }
    assert!(
        longest > 100,
        "the scan found no long function at all ({longest} lines)"
    );
    assert!(
        long.is_empty(),
        "functions over {LIMIT} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_scan_measures_functions_as_rustfmt_lays_them_out() {
    let text = "fn short() {}\n\nfn two() {\n    let a = 1;\n}\n\ntrait T {\n    fn f(&self);\n    fn g(&self) {\n        if true {\n        }\n    }\n}\n";
    assert_eq!(
        functions(text),
        [("two".to_string(), 3, 3), ("g".to_string(), 9, 4)]
    );
}
