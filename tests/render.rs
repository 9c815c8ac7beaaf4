//! The reports people read: snapshots of every format over the fixtures, the shipped JSON Schema
//! (equal to the generated one; every fixture's report validates), and SARIF logs validated against
//! the official SARIF 2.1.0 schema (vendored in tests/sarif/).

mod common;

use migsafe::report::render;
use migsafe::{Format, RenderOptions, Report};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The fixtures whose reports are snapshot in every format: every Alembic, Django and plain export,
/// and a few safe migrations.
const SNAPSHOT_FOLDERS: &str = "{alembic,django,plain}/*.sql";
const SAFE_SAMPLES: &str = "safe/{alembic_ticketing_index_concurrently,django_helpdesk_0007_add_fields,plain_metrics_rollup_tables}.sql";

fn report(path: &Path) -> Report {
    common::analyze_fixture(path).unwrap_or_else(|e| panic!("{e}"))
}

/// The tool version changes with every release; snapshots should not.
fn without_version(text: &str) -> String {
    text.replace(
        &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
        "\"[version]\"",
    )
}

#[test]
fn text_reports() {
    insta::glob!("../fixtures", SNAPSHOT_FOLDERS, |path| {
        insta::assert_snapshot!(report(path).render(Format::Text));
    });
    insta::glob!("../fixtures", SAFE_SAMPLES, |path| {
        insta::assert_snapshot!(report(path).render(Format::Text));
    });
}

/// The verbose text report (statement table, failure modes, rollback) of a few exports.
#[test]
fn verbose_text_reports() {
    let options = RenderOptions::default().verbose(true);
    insta::glob!(
        "../fixtures",
        "{alembic/merge,alembic/per_revision_txn,django/0002_add_field}.sql",
        |path| {
            insta::assert_snapshot!(report(path).render_with(Format::Text, options));
        }
    );
}

/// An Alembic export with one index built on an existing table: the whole default text report
/// fits in 25 lines.
#[test]
fn one_hazard_fits_in_25_lines_of_text() {
    let export = "BEGIN;\n\n\
        -- Running upgrade 1f2e3d4c5b6a -> 7ac759974ad8\n\n\
        CREATE INDEX ix_orders_created_at ON orders (created_at);\n\n\
        UPDATE alembic_version SET version_num='7ac759974ad8' \
        WHERE alembic_version.version_num = '1f2e3d4c5b6a';\n\n\
        COMMIT;\n\n";
    let r = migsafe::analyze(export);
    let text = r.render(Format::Text);
    assert_eq!(text.matches("\nerror[").count(), 1, "{text}");
    assert!(
        text.lines().count() <= 25,
        "{} lines:\n{text}",
        text.lines().count()
    );
}

#[test]
fn markdown_reports() {
    insta::glob!("../fixtures", SNAPSHOT_FOLDERS, |path| {
        insta::assert_snapshot!(report(path).render(Format::Markdown));
    });
    insta::glob!("../fixtures", SAFE_SAMPLES, |path| {
        insta::assert_snapshot!(report(path).render(Format::Markdown));
    });
}

#[test]
fn json_reports() {
    insta::glob!("../fixtures", SNAPSHOT_FOLDERS, |path| {
        insta::assert_snapshot!(without_version(&report(path).render(Format::Json)));
    });
}

/// SARIF results per fixture; the rule table (every rule's docs, the same in every log) is checked
/// once in `sarif_driver_lists_every_rule_with_docs` instead of in each snapshot.
#[test]
fn sarif_reports() {
    insta::glob!("../fixtures", SNAPSHOT_FOLDERS, |path| {
        let mut v: Value = serde_json::from_str(&report(path).render(Format::Sarif))
            .unwrap_or_else(|e| panic!("{e}"));
        let driver = &mut v["runs"][0]["tool"]["driver"];
        let n = driver["rules"].as_array().map_or(0, Vec::len);
        driver["rules"] = Value::String(format!("[{n} rules]"));
        let text = serde_json::to_string_pretty(&v).unwrap_or_default();
        insta::assert_snapshot!(without_version(&text));
    });
}

#[test]
fn github_reports() {
    insta::glob!("../fixtures", SNAPSHOT_FOLDERS, |path| {
        insta::assert_snapshot!(report(path).render(Format::Github));
    });
}

/// Every migration fixture: the export folders, safe migrations, rule fixtures and oracle cases.
fn all_fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    for dir in ["alembic", "django", "plain", "safe", "rules"] {
        let folder = root.join(dir);
        for e in std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        {
            let p = e.map(|e| e.path()).unwrap_or_default();
            if p.extension().is_some_and(|x| x == "sql") {
                out.push(p);
            }
        }
    }
    let oracle = root.join("oracle");
    for e in std::fs::read_dir(&oracle).unwrap_or_else(|e| panic!("{}: {e}", oracle.display())) {
        let p = e
            .map(|e| e.path().join("migration.sql"))
            .unwrap_or_default();
        if p.is_file() {
            out.push(p);
        }
    }
    out.sort();
    assert!(out.len() > 150, "only {} fixtures", out.len());
    out
}

fn schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json")
}

/// `schema/report.schema.json` is what `schemars` generates from the report types. After changing
/// them, regenerate with `MIGSAFE_BLESS=1 cargo test --test render shipped_json_schema`.
#[test]
fn shipped_json_schema_is_the_generated_one() {
    let generated = migsafe::report::schema::json_schema_text();
    let path = schema_path();
    if std::env::var_os("MIGSAFE_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == generated,
        "{} is stale: run `MIGSAFE_BLESS=1 cargo test --test render shipped_json_schema`",
        path.display()
    );
}

fn validator(schema_file: &Path) -> jsonschema::Validator {
    let text = std::fs::read_to_string(schema_file)
        .unwrap_or_else(|e| panic!("{}: {e}", schema_file.display()));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{}: {e}", schema_file.display()))
}

fn assert_valid(v: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(instance)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}:\n{}", errors.join("\n"));
}

#[test]
fn every_fixture_report_validates_against_the_shipped_schema() {
    let v = validator(&schema_path());
    for path in all_fixtures() {
        let json: Value = serde_json::from_str(&report(&path).render(Format::Json))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_valid(&v, &json, &path.display().to_string());
    }
    // A report with a rollback, irreversible statements, tables and revisions filled in.
    let r = report(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/alembic/merge.sql"));
    let mut json: Value = serde_json::from_str(&r.render(Format::Json)).unwrap_or_default();
    json["rollback"]["irreversible"] = serde_json::json!([{"statement": 0, "reason": "test"}]);
    assert_valid(&v, &json, "edited merge.sql report");
    // And the schema rejects what the contract forbids.
    let mut bad = json.clone();
    bad["statements"][0]["risk"] = Value::String("extreme".into());
    assert!(!v.is_valid(&bad), "risk outside the contract accepted");
    let mut bad = json;
    bad["statements"][0]["lock"] = Value::String("BigLock".into());
    assert!(!v.is_valid(&bad), "lock mode outside the contract accepted");
}

#[test]
fn sarif_logs_validate_against_the_official_schema() {
    let v = validator(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif/sarif-schema-2.1.0.json"),
    );
    let reports: Vec<Report> = all_fixtures().iter().map(|p| report(p)).collect();
    for r in &reports {
        let log: Value =
            serde_json::from_str(&r.render(Format::Sarif)).unwrap_or_else(|e| panic!("{e}"));
        assert_valid(&v, &log, &r.source);
    }
    let rules = migsafe::rules();
    let all: Value = serde_json::from_str(&render::render_many(
        &reports,
        Format::Sarif,
        RenderOptions::default().rules(&rules),
    ))
    .unwrap_or_default();
    assert_valid(&v, &all, "all fixtures in one log");
}

/// Results that point at the revisions' Python files (`--alembic-versions`) validate too.
#[test]
fn sarif_pointing_at_python_files_validates() {
    let v = validator(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif/sarif-schema-2.1.0.json"),
    );
    let mut r = report(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/alembic/merge.sql"));
    for (i, rev) in r.revisions.iter_mut().enumerate() {
        rev.file = Some(format!("migrations/versions/{}_step.py", rev.id));
        rev.file_line = (i > 0).then_some(20 + i as u32);
    }
    let log: Value = serde_json::from_str(&r.render(Format::Sarif)).unwrap_or_default();
    assert_valid(&v, &log, "merge.sql with revision files");
    let uris: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(!uris.is_empty());
    assert!(
        uris.iter().all(|u| u.starts_with("migrations/versions/")),
        "{uris:?}"
    );
}

/// The fields GitHub code scanning and other SARIF consumers require, checked by name.
#[test]
fn sarif_has_the_required_fields() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/django/0002_add_field.sql");
    let mut r = report(&path);
    r.source = "migrations/0002 add field.sql".into();
    let log: Value = serde_json::from_str(&r.render(Format::Sarif)).unwrap_or_default();
    assert_eq!(log["version"], "2.1.0");
    assert!(
        log["$schema"]
            .as_str()
            .is_some_and(|s| s.ends_with("sarif-schema-2.1.0.json"))
    );
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "migsafe");
    let results = run["results"].as_array().cloned().unwrap_or_default();
    let expected: usize = r.statements.iter().map(|s| s.findings.len()).sum();
    assert_eq!(results.len(), expected);
    assert!(expected > 0, "the fixture should have findings");
    let findings = r.statements.iter().flat_map(|s| &s.findings);
    for (res, f) in results.iter().zip(findings) {
        assert_eq!(res["ruleId"], f.rule.as_ref());
        // The level follows the gate; the rule's severity is a property.
        let level = match f.severity {
            _ if f.risk >= r.summary.fail_on => "error",
            migsafe::Severity::Info => "note",
            _ => "warning",
        };
        assert_eq!(res["level"], level);
        let severity = serde_json::to_value(f.severity).unwrap_or_default();
        assert_eq!(res["properties"]["severity"], severity);
        assert!(
            res["message"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with(&f.message))
        );
        let loc = &res["locations"][0]["physicalLocation"];
        assert_eq!(
            loc["artifactLocation"]["uri"],
            "migrations/0002%20add%20field.sql"
        );
        let region = &loc["region"];
        assert_eq!(region["startLine"], f.span.start_line);
        assert_eq!(region["startColumn"], f.span.start_column);
        assert_eq!(region["endLine"], f.span.end_line);
        assert_eq!(region["endColumn"], f.span.end_column);
    }
}

#[test]
fn sarif_driver_lists_every_rule_with_docs() {
    let log: Value = serde_json::from_str(&migsafe::analyze("SELECT 1;").render(Format::Sarif))
        .unwrap_or_default();
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let all = migsafe::rules();
    assert_eq!(rules.len(), all.len());
    for (json, rule) in rules.iter().zip(&all) {
        assert_eq!(json["id"], rule.id);
        assert_eq!(json["shortDescription"]["text"], rule.summary);
        assert_eq!(json["fullDescription"]["markdown"], rule.docs.as_str());
        assert_eq!(json["help"]["markdown"], rule.docs.as_str());
        assert!(json["defaultConfiguration"]["level"].is_string());
    }
}

#[test]
fn several_reports_render_as_one_document() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let reports = vec![
        report(&root.join("alembic/merge.sql")),
        report(&root.join("django/0002_add_field.sql")),
    ];
    let json: Value = serde_json::from_str(&render::render_many(
        &reports,
        Format::Json,
        RenderOptions::default(),
    ))
    .unwrap_or_default();
    assert_eq!(json.as_array().map(Vec::len), Some(2));
    let rules = migsafe::rules();
    let sarif: Value = serde_json::from_str(&render::render_many(
        &reports,
        Format::Sarif,
        RenderOptions::default().rules(&rules),
    ))
    .unwrap_or_default();
    assert_eq!(sarif["runs"].as_array().map(Vec::len), Some(1));
    let uris: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(
        uris.contains(&"merge.sql") && uris.contains(&"0002_add_field.sql"),
        "{uris:?}"
    );
    let text = render::render_many(&reports, Format::Text, RenderOptions::default());
    assert_eq!(text.matches("\nsummary: ").count(), 2);
}

/// The JSON report is a contract tools read back: every fixture's report (schemas, downgrades and
/// EXPLAIN plans included) reads back into a `Report` that renders the same bytes in every format.
#[test]
fn json_reads_back_into_the_same_report() {
    for path in all_fixtures() {
        let (analyzer, name, migration) =
            common::fixture_analyzer(&path).unwrap_or_else(|e| panic!("{e}"));
        let report = analyzer
            .analyze(migsafe::Source::new(name.as_str(), &migration))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let json = render::json::render(&report);
        let back: migsafe::Report = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("{}: the JSON does not read back: {e}", path.display()));
        for format in Format::ALL {
            assert_eq!(
                back.render(format),
                report.render(format),
                "{} as {}",
                path.display(),
                format.name()
            );
        }
    }
}

/// Rendering is deterministic: the same report twice gives the same bytes, in every format (the
/// snapshot workflow depends on it).
#[test]
fn rendering_is_deterministic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/alembic/merge.sql");
    for format in Format::ALL {
        assert_eq!(report(&path).render(format), report(&path).render(format));
    }
}

#[test]
fn a_rollback_script_appears_in_verbose_text_and_markdown() {
    let mut r = migsafe::analyze("CREATE TABLE t (a int);\n");
    r.rollback.script = "DROP TABLE t;\n".into();
    let verbose = RenderOptions::default().verbose(true);
    assert!(
        r.render_with(Format::Text, verbose)
            .contains("    DROP TABLE t;\n")
    );
    assert!(!r.render(Format::Text).contains("DROP TABLE t;"));
    assert!(
        r.render(Format::Markdown)
            .contains("```sql\nDROP TABLE t;\n```")
    );
}

#[test]
fn format_names_round_trip() {
    for f in Format::ALL {
        assert_eq!(Format::parse(f.name()), Some(f));
    }
    assert_eq!(Format::parse("yaml"), None);
}

/// A migration of `n` statements (at least) on existing tables, each with findings, of every risk
/// from low to high: a serial primary key (low), an index built without CONCURRENTLY (high), a
/// foreign key and a column added without lock_timeout (medium), SET NOT NULL (high).
fn big_migration(n: usize) -> String {
    let mut sql = String::new();
    for i in 0..n.div_ceil(5) {
        let t = format!("table_{}", i % 50);
        sql.push_str(&format!(
            "CREATE TABLE new_{i} (id SERIAL NOT NULL, PRIMARY KEY (id));\n\
             CREATE INDEX ix_{t}_{i} ON {t} (name);\n\
             ALTER TABLE {t} ADD CONSTRAINT fk_{i} FOREIGN KEY (owner_id) REFERENCES owners (id) NOT VALID;\n\
             ALTER TABLE {t} ADD COLUMN c_{i} integer DEFAULT 0;\n\
             ALTER TABLE {t} ALTER COLUMN c_{i} SET NOT NULL;\n"
        ));
    }
    sql
}

/// Checks that `md` is well-formed: every code fence closed, every `<details>` closed, and every
/// table made of a header, a separator and rows of as many cells.
fn assert_well_formed(md: &str) {
    let mut fence: Option<String> = None;
    let mut table_cells: Option<usize> = None;
    let mut details = 0i64;
    for (i, line) in md.lines().enumerate() {
        if let Some(f) = &fence {
            if line == f {
                fence = None;
            }
            continue;
        }
        if line.starts_with("```") {
            fence = Some(line.chars().take_while(|c| *c == '`').collect());
            continue;
        }
        details += line.matches("<details>").count() as i64;
        details -= line.matches("</details>").count() as i64;
        assert!(details >= 0, "line {}: </details> without <details>", i + 1);
        if line.starts_with('|') {
            let cells = line.replace("\\|", "").matches('|').count();
            match table_cells {
                None => {
                    let next = md.lines().nth(i + 1).unwrap_or_default();
                    assert!(
                        next.starts_with("|---"),
                        "line {}: table without separator",
                        i + 1
                    );
                    table_cells = Some(cells);
                }
                Some(n) => assert_eq!(n, cells, "line {}: {line}", i + 1),
            }
        } else {
            table_cells = None;
        }
    }
    assert!(fence.is_none(), "unclosed fence {fence:?}");
    assert_eq!(details, 0, "unclosed <details>");
    assert!(md.ends_with('\n'));
}

/// `(risk, count)` of the findings a cut Markdown report names as left out.
fn left_out_risks(md: &str) -> Vec<(migsafe::Risk, usize)> {
    let Some(note) = md.lines().find(|l| l.starts_with("_… ")) else {
        return Vec::new();
    };
    let Some(list) = note
        .split_once("findings (")
        .or_else(|| note.split_once("finding ("))
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(list, _)| list)
    else {
        return Vec::new();
    };
    list.split(", ")
        .filter_map(|item| {
            let (n, risk) = item.split_once(' ')?;
            Some((migsafe::Risk::parse(risk)?, n.parse().ok()?))
        })
        .collect()
}

#[test]
fn markdown_of_a_huge_migration_fits_in_a_comment() {
    let r = migsafe::analyze(&big_migration(2_000));
    assert!(r.summary.statements >= 2_000, "{}", r.summary.statements);
    // Far more findings than a comment holds (causes shared by statements count once).
    let findings: usize = r.statements.iter().map(|s| s.findings.len()).sum();
    assert!(findings >= 1_000, "{findings} findings");
    let md = r.render(Format::Markdown);
    assert!(
        md.chars().count() <= render::markdown::LIMIT,
        "{}",
        md.len()
    );
    assert_well_formed(&md);
    // The summary and the gate first; the highest-risk findings kept, the lowest left out first.
    assert!(
        md.starts_with("## migsafe: `-`\n\n**Risk: high** · "),
        "{}",
        &md[..300]
    );
    assert!(
        md.contains("\n**Fails** (`--fail-on high`): "),
        "{}",
        &md[..600]
    );
    let kept: Vec<migsafe::Risk> = md
        .lines()
        .filter_map(|l| l.strip_prefix("#### Line "))
        .filter_map(|l| {
            l.rsplit_once("(risk ")
                .and_then(|(_, r)| r.split(')').next())
        })
        .filter_map(migsafe::Risk::parse)
        .collect();
    assert!(kept.len() > 10, "{} findings kept", kept.len());
    let dropped = left_out_risks(&md);
    assert!(!dropped.is_empty(), "no note on what was left out");
    let lowest_kept = kept.iter().min().copied().unwrap_or(migsafe::Risk::None);
    for (risk, _) in &dropped {
        assert!(
            *risk <= lowest_kept,
            "{risk:?} left out, {lowest_kept:?} kept"
        );
    }
    let total: usize = r.statements.iter().map(|s| s.findings.len()).sum();
    let shown = md.lines().filter(|l| l.starts_with("- **")).count();
    let left: usize = dropped.iter().map(|(_, n)| n).sum();
    assert_eq!(shown + left, total);
    assert!(
        md.contains(" and the rollback script are left out to fit in a comment: run `migsafe check --format json` or see the CI log._\n"),
        "{}",
        md.lines().last().unwrap_or_default()
    );
    assert!(!md.contains("<details>") && !md.contains("| revision | line |"));
}

#[test]
fn several_markdown_reports_fit_in_one_comment() {
    let big = migsafe::analyze(&big_migration(600));
    let small =
        report(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/django/0002_add_field.sql"));
    let reports = vec![small.clone(), big.clone(), big, small.clone()];
    let md = render::render_many(&reports, Format::Markdown, RenderOptions::default());
    assert!(
        md.chars().count() <= render::markdown::LIMIT,
        "{}",
        md.len()
    );
    assert_well_formed(&md);
    assert_eq!(md.matches("## migsafe: ").count(), 4);
    assert_eq!(md.matches("left out to fit in a comment").count(), 4);
    // Each file keeps its first high-risk findings: the small ones are not crowded out.
    let whole = small.render(Format::Markdown);
    let high: Vec<&str> = whole
        .split("\n#### ")
        .skip(1)
        .filter(|part| part.contains("(risk high)"))
        .map(|part| part.split("\n### ").next().unwrap_or(part))
        .collect();
    assert_eq!(high.len(), 2, "{whole}");
    for part in high {
        assert_eq!(md.matches(part).count(), 2, "{part}");
    }
}

#[test]
fn many_markdown_reports_keep_their_heads_until_the_limit() {
    let r = migsafe::analyze(&big_migration(40));
    let reports = vec![r; 400];
    let md = render::render_many(&reports, Format::Markdown, RenderOptions::default());
    assert!(
        md.chars().count() <= render::markdown::LIMIT,
        "{}",
        md.len()
    );
    assert_well_formed(&md);
    let heads = md.matches("## migsafe: ").count();
    assert!(heads > 20 && heads < 400, "{heads}");
    assert!(
        md.contains(&format!(
            "_… {} more files are left out to fit in a comment: ",
            400 - heads
        )),
        "{}",
        &md[md.len() - 600..]
    );
}
