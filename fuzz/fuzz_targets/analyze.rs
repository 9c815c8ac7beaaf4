//! The whole pipeline on any bytes, as the CLI runs it: the text check, analysis, every report
//! format and the rollback script; the JSON report reads back into the same report.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migsafe::{Format, Report, Source};

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
    let json = report.render(Format::Json);
    let back: Report = match serde_json::from_str(&json) {
        Ok(r) => r,
        Err(e) => panic!("the JSON report does not read back: {e}"),
    };
    assert_eq!(back.render(Format::Json), json, "JSON differs after a round trip");
});
