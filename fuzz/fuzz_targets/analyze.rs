//! The whole pipeline on any bytes, as the CLI runs it: the text check, analysis, every report
//! format and the rollback script; the JSON written while the analysis runs is the whole
//! report's, and migsafe's JSON serializer writes serde_json's pretty bytes.
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
    let json = report.render(Format::Json);
    assert_eq!(out, json.as_bytes(), "streamed JSON differs");
    let serde = serde_json::to_string_pretty(&report).map(|s| s + "\n");
    assert_eq!(Ok(json), serde.map_err(|e| e.to_string()), "JSON differs from serde_json's");
});
