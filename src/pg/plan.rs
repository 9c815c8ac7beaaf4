//! What an `EXPLAIN (FORMAT JSON)` plan says that matters to a migration: which tables are read
//! sequentially, and with which filter. Parsed from the JSON PostgreSQL prints, so a plan captured
//! on a restored copy (`fixtures/plans/`) reads the same as one fetched live.
//!
//! Node and field names: <https://www.postgresql.org/docs/15/using-explain.html> and
//! `ExplainNode` in src/backend/commands/explain.c.

use crate::ir::QualName;
use serde_json::Value;

/// A sequential scan in a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqScan {
    /// The table read.
    pub table: QualName,
    /// The filter applied to every row read (`"Filter"`), as PostgreSQL prints it.
    pub filter: Option<String>,
    /// The planner's estimate of the rows the scan returns.
    pub plan_rows: f64,
}

/// The facts of one statement's plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Every sequential scan in the plan.
    pub seq_scans: Vec<SeqScan>,
    /// The planner's total cost of the statement.
    pub total_cost: f64,
}

impl Plan {
    /// Reads the output of `EXPLAIN (FORMAT JSON)`: an array holding one object with a `"Plan"`.
    pub fn from_json(json: &Value) -> Result<Plan, String> {
        let root = json
            .as_array()
            .and_then(|a| a.first())
            .unwrap_or(json)
            .get("Plan")
            .ok_or("EXPLAIN output has no \"Plan\"")?;
        let mut plan = Plan {
            seq_scans: Vec::new(),
            total_cost: root
                .get("Total Cost")
                .and_then(Value::as_f64)
                .unwrap_or(0.0),
        };
        // Plans are trees of bounded depth, but walk them without recursion anyway: the input
        // may come from a file.
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            let ty = node.get("Node Type").and_then(Value::as_str).unwrap_or("");
            if ty == "Seq Scan" {
                if let Some(rel) = node.get("Relation Name").and_then(Value::as_str) {
                    let schema = node.get("Schema").and_then(Value::as_str);
                    plan.seq_scans.push(SeqScan {
                        table: QualName::new(Some(schema.unwrap_or("public")), rel),
                        filter: node
                            .get("Filter")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        plan_rows: node.get("Plan Rows").and_then(Value::as_f64).unwrap_or(0.0),
                    });
                }
            }
            if let Some(children) = node.get("Plans").and_then(Value::as_array) {
                stack.extend(children.iter().rev());
            }
        }
        Ok(plan)
    }
}

/// The columns of `columns` that a printed filter mentions, in the order it mentions them.
/// PostgreSQL prints column references as plain or double-quoted identifiers
/// (`((status)::text = 'x'::text)`), and string constants in single quotes, which are skipped.
pub fn filter_columns(filter: &str, columns: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let b = filter.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' {
            // A literal: skip to its closing quote ('' is an escaped quote).
            i += 1;
            while i < b.len() {
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
        } else if c == b'"' {
            let start = i + 1;
            let mut end = start;
            while end < b.len() && b[end] != b'"' {
                end += 1;
            }
            let word = filter.get(start..end).unwrap_or("");
            push_column(&mut out, word, columns);
            i = end + 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            // A type cast (`::text`) names a type, not a column.
            let is_cast = start >= 2 && &b[start - 2..start] == b"::";
            if !is_cast {
                push_column(&mut out, &filter[start..i], columns);
            }
        } else {
            i += 1;
        }
    }
    out
}

fn push_column(out: &mut Vec<String>, word: &str, columns: &[&str]) {
    if columns.contains(&word) && !out.iter().any(|c| c == word) {
        out.push(word.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_seq_scans_from_nested_plans() {
        let json: Value = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "ModifyTable", "Operation": "Update", "Total Cost": 41.5,
                "Plans": [{"Node Type": "Hash Join", "Plans": [
                  {"Node Type": "Seq Scan", "Relation Name": "runs", "Schema": "app",
                   "Filter": "((status)::text = 'done'::text)", "Plan Rows": 12},
                  {"Node Type": "Index Scan", "Relation Name": "users", "Schema": "public"}]}]}}]"#,
        )
        .expect("json");
        let plan = Plan::from_json(&json).expect("plan");
        assert_eq!(plan.total_cost, 41.5);
        assert_eq!(
            plan.seq_scans,
            vec![SeqScan {
                table: QualName::new(Some("app"), "runs"),
                filter: Some("((status)::text = 'done'::text)".to_string()),
                plan_rows: 12.0,
            }]
        );
        assert!(Plan::from_json(&serde_json::json!({"x": 1})).is_err());
    }

    #[test]
    fn filter_columns_skip_literals_and_casts() {
        let cols = ["status", "text", "owner id", "created"];
        assert_eq!(
            filter_columns(
                "(((status)::text = 'created text'::text) AND (\"owner id\" IS NULL))",
                &cols
            ),
            vec!["status", "owner id"]
        );
        assert_eq!(filter_columns("(created < now())", &cols), vec!["created"]);
        assert!(filter_columns("('it''s status' = 'x')", &cols).is_empty());
    }
}
