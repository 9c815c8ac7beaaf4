//! The README shows real output: every ```console block whose commands are all `migsafe …` (and
//! `echo $?`) is run from the repository's root, and what it prints must be what the README says.
//! Blocks with other commands (the CI recipe's `alembic …`, `python manage.py …`) are run by
//! scripts/ci-recipe.sh on a throwaway project instead.

mod common;

use common::cli::exe;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One command of a console block and what the README says it prints.
struct Step {
    line: usize,
    command: String,
    shown: String,
}

/// The console blocks: their steps, in order.
fn console_blocks(readme: &str) -> Vec<Vec<Step>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<Step>> = None;
    for (n, line) in readme.lines().enumerate() {
        match (&mut current, line) {
            (None, "```console") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(steps), l) => match l.strip_prefix("$ ") {
                Some(command) => steps.push(Step {
                    line: n + 1,
                    command: command.to_string(),
                    shown: String::new(),
                }),
                None => {
                    if let Some(step) = steps.last_mut() {
                        step.shown.push_str(l);
                        step.shown.push('\n');
                    }
                }
            },
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn readme_console_blocks_print_what_they_show() {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md"))
        .unwrap_or_else(|e| panic!("README.md: {e}"));
    let blocks = console_blocks(&readme);
    let runnable = |b: &Vec<Step>| {
        b.iter()
            .all(|s| s.command.starts_with("migsafe ") || s.command == "echo $?")
    };
    let mut ran = 0;
    for block in blocks.iter().filter(|b| runnable(b)) {
        let mut last_code = None;
        for step in block {
            if step.command == "echo $?" {
                assert_eq!(
                    Some(step.shown.trim().to_string()),
                    last_code.map(|c: i32| c.to_string()),
                    "README.md:{}: exit code",
                    step.line
                );
                continue;
            }
            let args: Vec<&str> = step.command.split_whitespace().skip(1).collect();
            let o = Command::new(exe())
                .args(&args)
                .current_dir(ROOT)
                .env("NO_COLOR", "1")
                .env_remove("MIGSAFE_DATABASE_URL")
                .output()
                .unwrap_or_else(|e| panic!("{}: {e}", exe().display()));
            last_code = o.status.code();
            let printed = String::from_utf8_lossy(&o.stdout);
            assert_eq!(
                printed, step.shown,
                "README.md:{}: `{}` prints something else",
                step.line, step.command
            );
            ran += 1;
        }
    }
    assert!(ran >= 1, "no README command was run");
}

#[test]
fn blocks_are_split_into_steps() {
    let text =
        "x\n```console\n$ migsafe check a.sql\nline 1\n\n$ echo $?\n1\n```\n```sh\n$ ls\n```\n";
    let blocks = console_blocks(text);
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0][0].command, "migsafe check a.sql");
    assert_eq!(blocks[0][0].shown, "line 1\n\n");
    assert_eq!((blocks[0][1].line, blocks[0][1].shown.as_str()), (6, "1\n"));
}
