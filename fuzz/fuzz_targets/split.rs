//! The splitter on any text: no panic; statements in order, inside the text and on character
//! boundaries; comments and meta-commands inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migsafe::source::split;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for standard_conforming_strings in [true, false] {
        let s = split::split_with(&text, standard_conforming_strings);
        let mut end = 0;
        for st in &s.statements {
            let sp = st.span;
            assert!(sp.start_byte >= end, "statements overlap: {sp:?}");
            assert!(sp.start_byte <= sp.end_byte && sp.end_byte <= text.len());
            assert!(text.is_char_boundary(sp.start_byte) && text.is_char_boundary(sp.end_byte));
            assert!(st.body_end >= sp.start_byte && st.body_end <= sp.end_byte);
            assert!(text.is_char_boundary(st.body_end));
            end = sp.end_byte;
        }
        for c in &s.comments {
            assert!(c.span.end_byte <= text.len() && text.is_char_boundary(c.span.end_byte));
        }
        for m in &s.meta_commands {
            assert!(m.span.end_byte <= text.len() && text.is_char_boundary(m.span.end_byte));
        }
    }
    let _ = migsafe::source::read(&text);
});
