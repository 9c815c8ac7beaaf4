//! Keeps the crate's layers in the order DESIGN.md draws them: a module uses only modules of its
//! own layer or of a lower one. Data flows one way (source → parse → ir → catalog/pg → rules/rollback
//! → analyze → render); the report model and the shared words (severity, risk) are plain data that
//! the layers that fill or read them import. Test modules may use anything.

mod common;

use common::rust_files;
use std::path::Path;

/// Each top-level module of `src/` with its layer, lowest first. `report` is the report model
/// (`src/report/mod.rs`, `schema.rs`); its renderers (`src/report/render/`) sit above the analysis
/// and see only the model.
const LAYERS: &[(&str, u32)] = &[
    ("vocab", 0),
    ("error", 0),
    ("source", 1),
    ("parse", 2),
    ("ir", 3),
    ("catalog", 4),
    ("pg", 4),
    ("report", 5),
    ("rules", 6),
    ("rollback", 6),
    ("analyze", 7),
    ("render", 8),
    ("project", 8),
    ("db", 9),
    ("testing", 10),
];

/// The modules of what the crate root re-exports, for uses such as `crate::SizeSettings`.
const ROOT_NAMES: &[(&str, &str)] = &[
    ("Analyzer", "analyze"),
    ("Settings", "analyze"),
    ("RuleSettings", "analyze"),
    ("SizeSettings", "analyze"),
    ("Facts", "analyze"),
    ("check_text", "analyze"),
    ("Catalog", "catalog"),
    ("Source", "source"),
    ("Error", "error"),
    ("Report", "report"),
    ("Format", "report"),
    ("RenderOptions", "report"),
    ("RuleInfo", "report"),
    ("Risk", "vocab"),
    ("Severity", "vocab"),
];

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// The module a file belongs to, as `LAYERS` names it.
fn module_of(path: &Path, src: &Path) -> Option<String> {
    let rel = path.strip_prefix(src).ok()?;
    let mut parts = rel.iter().filter_map(|p| p.to_str());
    let first = parts.next()?;
    if first == "report" && parts.next() == Some("render") {
        return Some("render".to_string());
    }
    Some(first.trim_end_matches(".rs").to_string())
}

/// The `crate::module` paths a file uses outside its test module.
fn uses(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        if line.trim_start().starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let path = if name == "report" && rest.starts_with("report::render") {
                "render".to_string()
            } else if let Some((_, m)) = ROOT_NAMES.iter().find(|(n, _)| *n == name) {
                m.to_string()
            } else {
                name
            };
            if layer(&path).is_some() {
                out.push((n + 1, path));
            }
        }
    }
    out
}

#[test]
fn no_module_uses_a_higher_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for path in &files {
        let Some(module) = module_of(path, &src) else {
            continue;
        };
        let Some(own) = layer(&module) else {
            continue;
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for (line, used) in uses(&text) {
            checked += 1;
            if layer(&used).is_some_and(|l| l > own) {
                wrong.push(format!(
                    "{}:{line}: {module} uses {used}",
                    path.strip_prefix(&src).unwrap_or(path).display()
                ));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} uses found: is the scan broken?"
    );
    assert!(
        wrong.is_empty(),
        "uses of a higher layer:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_scan_sees_uses_and_skips_tests() {
    let text = "use crate::ir::Op;\nfn f(s: &crate::SizeSettings) { crate::report::render::json::render(r); }\n#[cfg(test)]\nuse crate::analyze;\n";
    assert_eq!(
        uses(text),
        [
            (1, "ir".to_string()),
            (2, "analyze".to_string()),
            (2, "render".to_string())
        ]
    );
}
