//! The parser front on any text: the schema-dump reader (split, sqlparser, lowering to migsafe's
//! own operations, the keyword fallback, and every statement applied to a catalog) and the
//! analysis of the same text. Neither may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = migsafe::analyze(&text);
    let _ = migsafe::Catalog::from_sql(&text);
});
