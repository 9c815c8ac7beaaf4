//! SARIF 2.1.0 (with `serde-sarif`'s types) for code scanning, e.g. GitHub's `upload-sarif`.
//!
//! One log with one run for any number of files: GitHub code scanning rejects an upload with
//! several runs of the same tool and category, and one run keeps the rule table once. The driver
//! lists the rules it is given (the CLI gives every rule, not only those that fired) so a viewer can
//! show the docs of any rule; results point at their rule by id and index.
//!
//! A result's level follows the gate (`error` only when the finding reaches `--fail-on`; its rule's
//! severity is the `severity` property), and it points at the revision's Python file when the report
//! knows it (`--alembic-versions`), with the statement in the export as a related location.

use super::{python_file, revision_per_statement, severity_name, shown_level};
use crate::report::{Finding, Report, RevisionReport, RuleInfo, Severity, StatementReport};
use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run,
    Sarif, Tool, ToolComponent,
};
use std::collections::BTreeMap;

/// The `$schema` URI of SARIF 2.1.0 (OASIS errata 01, the one GitHub documents).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// One SARIF log for `reports` (one per migration file) describing `rules`, pretty JSON with a
/// trailing newline.
pub fn render(reports: &[Report], rules: &[RuleInfo]) -> String {
    let log = log(reports, rules);
    // Plain data with string keys always serialises; keep a valid document if it ever did not.
    let mut s = serde_json::to_string_pretty(&log)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    s.push('\n');
    s
}

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn level_value(s: Severity) -> Value {
    json!(match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    })
}

fn log(reports: &[Report], rules: &[RuleInfo]) -> Sarif {
    let version = reports
        .first()
        .map(|r| r.tool.version.clone())
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_string());
    let index: BTreeMap<&str, i64> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id, i as i64))
        .collect();
    let rules: Vec<ReportingDescriptor> = rules
        .iter()
        .map(|r| {
            let docs = r.docs.clone();
            ReportingDescriptor::builder()
                .id(r.id)
                .name(r.id)
                .short_description(MultiformatMessageString::builder().text(r.summary).build())
                .full_description(
                    MultiformatMessageString::builder()
                        .text(docs.clone())
                        .markdown(docs.clone())
                        .build(),
                )
                .help(
                    MultiformatMessageString::builder()
                        .text(docs.clone())
                        .markdown(docs)
                        .build(),
                )
                .default_configuration(
                    ReportingConfiguration::builder()
                        .level(level_value(r.severity))
                        .build(),
                )
                .build()
        })
        .collect();
    let mut results = Vec::new();
    for report in reports {
        let revisions = revision_per_statement(report);
        for (s, rev) in report.statements.iter().zip(revisions) {
            for f in &s.findings {
                results.push(result(report, s, rev, f, &index));
            }
        }
    }
    let driver = ToolComponent::builder()
        .name("migsafe")
        .version(version)
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();
    // Failure modes describe every multi-unit migration, safe ones included: as results they would
    // flood code scanning with alerts nobody can fix, so they travel in the run's property bag
    // (viewers ignore it, tools reading the log find them); the retry rules carry the actionable
    // part as results.
    let mut failure_modes = Vec::new();
    for report in reports {
        for (rev, m) in super::failure_modes(report) {
            let line = super::unit_line(report, m);
            failure_modes.push(json!({
                "uri": uri(&report.source),
                "revision": rev,
                "unit": m.unit,
                "startLine": line,
                "inTransaction": m.in_transaction,
                "message": m.message,
            }));
        }
    }
    let mut run_props = BTreeMap::new();
    run_props.insert("failureModes".to_string(), Value::Array(failure_modes));
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .properties(
            PropertyBag::builder()
                .additional_properties(run_props)
                .build(),
        )
        // Span columns count characters (Unicode code points), not UTF-16 units (SARIF's default).
        .column_kind(json!("unicodeCodePoints"))
        .build();
    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

/// One finding as a result: at the revision's Python file when the report knows it (the statement
/// in the export as a related location, and its place in the message), else at the statement.
fn result(
    report: &Report,
    s: &StatementReport,
    rev: Option<&RevisionReport>,
    f: &Finding,
    index: &BTreeMap<&str, i64>,
) -> SarifResult {
    let region = Region::builder()
        .start_line(i64::from(f.span.start_line))
        .start_column(i64::from(f.span.start_column))
        .end_line(i64::from(f.span.end_line))
        .end_column(i64::from(f.span.end_column))
        .build();
    let in_export = physical(uri(&report.source), Some(region));
    let mut text = if f.help.is_empty() {
        f.message.clone()
    } else {
        format!("{}\nHelp: {}", f.message, f.help)
    };
    let mut related = Vec::new();
    let location = match python_file(rev) {
        Some((file, line)) => {
            text = format!("{}:{}: {text}", report.source, f.span.start_line);
            let region = line.map(|l| Region::builder().start_line(i64::from(l)).build());
            related.push(
                Location::builder()
                    .id(0)
                    .physical_location(in_export)
                    .message(
                        Message::builder()
                            .text(format!("the statement in {}", report.source))
                            .build(),
                    )
                    .build(),
            );
            physical(uri(file), region)
        }
        None => in_export,
    };
    let mut props = BTreeMap::new();
    props.insert("help".to_string(), json!(f.help));
    props.insert("risk".to_string(), json!(f.risk.as_str()));
    props.insert("severity".to_string(), json!(severity_name(f.severity)));
    props.insert("statementKind".to_string(), json!(s.kind));
    if let Some(l) = s.lock {
        props.insert("lock".to_string(), json!(l.pg_name()));
    }
    let builder = SarifResult::builder()
        .rule_id(f.rule.clone())
        .level(level(shown_level(f, report.summary.fail_on)))
        .message(Message::builder().text(text).build())
        .locations(vec![
            Location::builder().physical_location(location).build(),
        ])
        .properties(PropertyBag::builder().additional_properties(props).build());
    match (index.get(f.rule.as_ref()), related.is_empty()) {
        (Some(i), true) => builder.rule_index(*i).build(),
        (Some(i), false) => builder.rule_index(*i).related_locations(related).build(),
        (None, true) => builder.build(),
        (None, false) => builder.related_locations(related).build(),
    }
}

/// A physical location in `uri`, within `region` when there is one.
fn physical(uri: String, region: Option<Region>) -> PhysicalLocation {
    let artifact = ArtifactLocation::builder().uri(uri).build();
    match region {
        Some(region) => PhysicalLocation::builder()
            .artifact_location(artifact)
            .region(region)
            .build(),
        None => PhysicalLocation::builder()
            .artifact_location(artifact)
            .build(),
    }
}

/// A relative URI reference for a file name as given: path separators kept, everything outside
/// RFC 3986's unreserved set percent-encoded (spaces, `#`, `?`, `<stdin>`'s brackets).
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            // Windows separators become URI separators.
            b'\\' => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(uri("migrations/0042 add.sql"), "migrations/0042%20add.sql");
        assert_eq!(uri("<stdin>"), "%3Cstdin%3E");
        assert_eq!(uri("a\\b.sql"), "a/b.sql");
    }

    #[test]
    fn results_carry_rule_level_and_region() {
        let r = crate::analyze("BEGIN;\nCREATE INDEX ix ON t (a);\nCOMMIT;\n");
        let rules = crate::rules();
        let v: Value =
            serde_json::from_str(&render(std::slice::from_ref(&r), &rules)).unwrap_or_default();
        let result = &v["runs"][0]["results"][0];
        assert_eq!(result["ruleId"], "create-index-non-concurrently");
        assert_eq!(result["level"], "error");
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], 2);
        assert_eq!(region["startColumn"], 1);
        let i = result["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
        assert_eq!(
            v["runs"][0]["tool"]["driver"]["rules"][i]["id"],
            "create-index-non-concurrently"
        );
    }

    #[test]
    fn results_point_at_the_revision_file_with_the_export_as_related() {
        let mut r = crate::analyze(
            "BEGIN;\n-- Running upgrade a1 -> b2\nCREATE INDEX ix ON t (a);\nCOMMIT;\n",
        );
        r.source = "out/upgrade.sql".into();
        r.revisions[0].file = Some("versions/b2 add index.py".into());
        r.revisions[0].file_line = Some(12);
        let v: Value =
            serde_json::from_str(&render(std::slice::from_ref(&r), &[])).unwrap_or_default();
        let result = &v["runs"][0]["results"][0];
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(
            location["artifactLocation"]["uri"],
            "versions/b2%20add%20index.py"
        );
        assert_eq!(location["region"], json!({"startLine": 12}));
        assert!(
            result["message"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("out/upgrade.sql:3: building ix takes")),
            "{result}"
        );
        let related = &result["relatedLocations"][0];
        assert_eq!(
            related["physicalLocation"]["artifactLocation"]["uri"],
            "out/upgrade.sql"
        );
        assert_eq!(related["physicalLocation"]["region"]["startLine"], 3);
        // No line known: the file alone.
        r.revisions[0].file_line = None;
        let v: Value =
            serde_json::from_str(&render(std::slice::from_ref(&r), &[])).unwrap_or_default();
        let location = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
        assert!(location.get("region").is_none(), "{location}");
    }

    #[test]
    fn the_level_follows_the_gate_and_the_severity_stays_a_property() {
        let mut r = crate::analyze("BEGIN;\nCREATE INDEX ix ON t (a);\nCOMMIT;\n");
        r.summary.fail_on = crate::report::Risk::Critical;
        let v: Value =
            serde_json::from_str(&render(std::slice::from_ref(&r), &[])).unwrap_or_default();
        let result = &v["runs"][0]["results"][0];
        assert_eq!(result["ruleId"], "create-index-non-concurrently");
        assert_eq!(result["level"], "warning");
        assert_eq!(result["properties"]["severity"], "error");
        assert_eq!(result["properties"]["risk"], "high");
    }
}
