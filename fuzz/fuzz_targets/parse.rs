//! The parser front on any text: split, sqlparser, lowering to migsafe's own operations and the
//! keyword fallback (`ir::read_ops`), and the schema-dump reader, which applies every statement to
//! a catalog. Neither may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = migsafe::ir::read_ops(&text);
    let _ = migsafe::Catalog::from_sql(&text);
});
