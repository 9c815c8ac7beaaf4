//! The whole pipeline on any bytes, as the CLI runs it: the text check, analysis, every report
//! format and the rollback script.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migsafe::{Format, Source};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = migsafe::check_text("fuzz.sql", data) else {
        return;
    };
    let Ok(report) = migsafe::Analyzer::default().analyze(Source::new("fuzz.sql", text)) else {
        return;
    };
    for format in Format::ALL {
        let _ = report.render(format);
    }
    let _ = report.rollback_script();
});
