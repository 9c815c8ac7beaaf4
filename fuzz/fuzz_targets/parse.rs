//! The parser front on any text: split, sqlparser, lowering to migsafe's own operations and the
//! keyword fallback (`ir::read_ops`), the schema-dump reader, which applies every statement to a
//! catalog, and migsafe's own tokenizer, which must give sqlparser's tokens wherever it answers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = migsafe::ir::read_ops(&text);
    let _ = migsafe::Catalog::from_sql(&text);
    assert!(migsafe::tokenizers_agree(&text), "tokens differ: {text:?}");
    let read = migsafe::source::read(&text);
    for st in &read.statements {
        let sql = &text[st.body.clone()];
        assert!(migsafe::tokenizers_agree(sql), "tokens differ: {sql:?}");
    }
});
