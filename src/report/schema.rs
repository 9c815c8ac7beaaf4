//! The JSON Schema of the report, generated from the report types with `schemars`. The shipped copy
//! is `schema/report.schema.json`; a test keeps the two equal and validates every fixture's report
//! against it.
//!
//! `Span`, `Direction` and `LockMode` live in `source` and `pg`, which know nothing of schemas: the
//! report's fields point at the schema-only mirrors below (`#[schemars(with = …)]`). A unit test
//! checks that every value those types serialise to is allowed by the mirror.

use schemars::JsonSchema;

/// A region of the source: 1-based lines and columns (columns count characters; the end column is
/// the one just after the last character) and 0-based byte offsets (end exclusive).
#[derive(JsonSchema)]
#[schemars(rename = "Span")]
#[allow(dead_code)] // only its schema is used
pub(crate) struct SpanSchema {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
    start_byte: usize,
    end_byte: usize,
}

/// Which way a revision runs.
#[derive(JsonSchema)]
#[schemars(rename = "Direction")]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub(crate) enum DirectionSchema {
    Upgrade,
    Downgrade,
}

/// A table lock mode, named as in `pg_locks.mode`.
#[derive(JsonSchema)]
#[schemars(rename = "LockMode")]
#[allow(dead_code, clippy::enum_variant_names)]
pub(crate) enum LockModeSchema {
    AccessShareLock,
    RowShareLock,
    RowExclusiveLock,
    ShareUpdateExclusiveLock,
    ShareLock,
    ShareRowExclusiveLock,
    ExclusiveLock,
    AccessExclusiveLock,
}

/// The JSON Schema (draft 2020-12) of [`Report`](super::Report), as shipped in
/// `schema/report.schema.json`.
pub fn json_schema() -> serde_json::Value {
    schemars::schema_for!(super::Report).to_value()
}

/// [`json_schema`] as the shipped file's text: pretty JSON with a trailing newline.
pub fn json_schema_text() -> String {
    // A `Value` always serialises.
    let mut s = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg::LockMode;
    use crate::source::Direction;

    fn enum_values(name: &str) -> Vec<serde_json::Value> {
        let schema = json_schema();
        let def = &schema["$defs"][name];
        match def.get("enum") {
            Some(serde_json::Value::Array(v)) => v.clone(),
            // schemars writes documented unit variants as oneOf of consts.
            _ => def["oneOf"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.get("const").cloned()).collect())
                .unwrap_or_default(),
        }
    }

    #[test]
    fn mirrors_allow_every_value() {
        let modes = enum_values("LockMode");
        for m in LockMode::ALL {
            let v = serde_json::to_value(m).unwrap_or_default();
            assert!(modes.contains(&v), "{v} missing from LockMode schema");
        }
        assert_eq!(modes.len(), LockMode::ALL.len());
        let dirs = enum_values("Direction");
        for d in [Direction::Upgrade, Direction::Downgrade] {
            let v = serde_json::to_value(d).unwrap_or_default();
            assert!(dirs.contains(&v), "{v} missing from Direction schema");
        }
        let span = serde_json::to_value(crate::source::Span::default()).unwrap_or_default();
        let props = &json_schema()["$defs"]["Span"]["properties"];
        for key in span.as_object().into_iter().flat_map(|o| o.keys()) {
            assert!(props.get(key).is_some(), "Span.{key} missing from schema");
        }
    }
}
