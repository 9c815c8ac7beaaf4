//! The splitter on any text: no panic; statements and meta-commands in order, inside the text and
//! on character boundaries, with `standard_conforming_strings` on and off.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for standard_conforming_strings in [true, false] {
        let (statements, meta) = migsafe::internals::boundaries(&text, standard_conforming_strings);
        let mut end = 0;
        for (start, body_end) in statements {
            assert!(start >= end, "statements overlap at {start}");
            assert!(start <= body_end && body_end <= text.len());
            assert!(text.is_char_boundary(start) && text.is_char_boundary(body_end));
            end = body_end;
        }
        for (start, end) in meta {
            assert!(start <= end && end <= text.len());
            assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
        }
    }
    let _ = migsafe::analyze(&text);
});
