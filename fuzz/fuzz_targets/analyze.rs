//! The whole pipeline on any bytes, as the CLI runs it: the text check, analysis, every report
//! format and the rollback script; and the JSON written while the analysis runs is the whole
//! report's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migsafe::report::render::json::Stream;
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
    let analyzer = migsafe::Analyzer::default();
    let mut out = Vec::new();
    let Ok(mut stream) = Stream::begin(&mut out, "fuzz.sql", analyzer.settings().pg_version) else {
        return;
    };
    let mut written = Ok(());
    let Ok(rest) = analyzer.analyze_each(Source::new("fuzz.sql", text), &mut |s| {
        if written.is_ok() {
            written = stream.statement(&s);
        }
    }) else {
        return;
    };
    assert!(written.is_ok() && stream.finish(&rest).is_ok());
    assert_eq!(out, report.render(Format::Json).into_bytes(), "streamed JSON differs");
});
