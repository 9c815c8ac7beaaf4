//! The splitter against PostgreSQL's own scanner on any text: statement boundaries (and psql
//! meta-commands) must be where `scripts/lexer_judge.py` puts them, over libpg_query's tokens and
//! psql's rules. Needs a Python with pglast: `MIGSAFE_LEXER_JUDGE_PYTHON`, or the venv
//! `scripts/test.sh` makes at `target/lexer-judge-venv`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

#[path = "../../tests/lexer_judge/client.rs"]
#[allow(dead_code)]
mod client;

fn judge() -> &'static Mutex<client::Judge> {
    static JUDGE: OnceLock<Mutex<client::Judge>> = OnceLock::new();
    JUDGE.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let judge = client::Judge::start(&root).expect("a Python with pglast for the judge");
        Mutex::new(judge)
    })
}

fuzz_target!(|data: &[u8]| {
    // The scanner takes C strings: NUL becomes another control character, on both sides.
    let text = String::from_utf8_lossy(data).replace('\0', "\u{1}");
    let Ok(mut judge) = judge().lock() else {
        return;
    };
    if let Some(theirs) = judge.ask(&text) {
        let ours = client::ours(&text);
        assert_eq!(ours, theirs, "boundaries differ from PostgreSQL's on {text:?}");
    }
});
