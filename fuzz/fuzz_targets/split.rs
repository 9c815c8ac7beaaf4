//! The splitter on any text: no panic, spans in order, inside the text and on character
//! boundaries, and the same statements whatever the chunk size the splitter tokenizes by, whether
//! it splits on one thread or on several, and whether the byte scanner or sqlparser's tokenizer
//! reads the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migsafe::source::split;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let whole = split::split_in_chunks_of(&text, usize::MAX);
    let mut end = 0;
    for s in &whole.statements {
        let sp = s.span;
        assert!(sp.start_byte >= end, "statements overlap: {sp:?}");
        assert!(sp.start_byte <= sp.end_byte && sp.end_byte <= text.len());
        assert!(text.is_char_boundary(sp.start_byte) && text.is_char_boundary(sp.end_byte));
        assert!(s.body_end >= sp.start_byte && s.body_end <= sp.end_byte);
        assert!(text.is_char_boundary(s.body_end));
        end = sp.end_byte;
    }
    for c in &whole.comments {
        assert!(c.span.end_byte <= text.len() && text.is_char_boundary(c.span.end_byte));
    }
    // The smallest chunks cut after every `;` that ends a line: the most restarts of the tokenizer.
    let chunked = split::split_in_chunks_of(&text, 1);
    assert_eq!(whole, chunked, "chunked split differs");
    // Split on several threads from lines that start like SQL: when the cuts are accepted, the
    // same statements and comments.
    for parts in [2, 3, 5] {
        if let Some(p) = split::split_in_parts(&text, parts, 1) {
            assert_eq!(whole, p, "split in {parts} parts differs");
        }
    }
    // The byte scanner, when it answers, answers as the tokenizer does.
    if let Some(scanned) = split::split_scanned(&text) {
        assert_eq!(whole, scanned, "scanned split differs");
    }
    let _ = migsafe::source::read(&text);
});
