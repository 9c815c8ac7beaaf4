//! # drop-schema
//! DROP SCHEMA removes a namespace the application may use; with CASCADE, everything in it.
//!
//! ## What it does
//! Flags `DROP SCHEMA` of a schema the migration did not create itself. With `CASCADE` the finding
//! lists the tables of the schema that the catalog knows (all dropped with their rows); without
//! `CASCADE` it says that the statement fails while the schema still holds tables.
//!
//! ## Why is this bad?
//! `DROP SCHEMA … CASCADE` drops every table (with all rows), view, sequence, function and type in
//! the schema, plus objects elsewhere that depend on them, in one statement that no rollback
//! script can undo. Without `CASCADE` PostgreSQL refuses to drop a schema that still contains
//! objects, so the migration fails instead; and even an empty schema may still be named in a
//! `search_path`, in grants or in application code, which then breaks.
//!
//! ## Example
//! ```sql
//! DROP SCHEMA reporting CASCADE;
//! ```
//!
//! ## Use instead
//! Drop the objects one by one, each in the release after the code stopped using it, so that every
//! step is visible and reviewed, and drop the empty schema last (without `CASCADE`, so that
//! PostgreSQL refuses if anything is left):
//! ```sql
//! DROP VIEW reporting.daily_totals;
//! DROP TABLE reporting.snapshots;   -- after a backup, in a release that no longer uses it
//! DROP SCHEMA reporting;            -- fails if anything is still inside
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-dropschema.html
//! - https://www.postgresql.org/docs/current/ddl-depend.html

use super::{Ctx, Hit, Rule};
use crate::ir::{ObjectKind, Op};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "drop-schema",
    severity: Severity::Error,
    summary: "DROP SCHEMA removes a namespace the application may use; with CASCADE, everything in it.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::Drop {
        kind: ObjectKind::Schema,
        names,
        cascade,
        ..
    } = ctx.op
    else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    for n in names {
        let schema = n.name.as_str();
        let tables: Vec<String> = ctx
            .catalog
            .tables()
            .filter(|t| t.name.schema.as_deref() == Some(schema))
            .filter(|t| ctx.catalog.pre_existing(&t.name))
            .map(|t| t.name.display_qualified())
            .collect();
        if tables.is_empty() && created_earlier(ctx, schema) {
            // The migration made it: it holds nothing from before the migration.
            continue;
        }
        let listed = |tables: &[String]| {
            const SHOWN: usize = 5;
            let mut s = tables
                .iter()
                .take(SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if tables.len() > SHOWN {
                s.push_str(&format!(" and {} more", tables.len() - SHOWN));
            }
            s
        };
        let message = match (*cascade, tables.is_empty()) {
            (true, false) => format!(
                "DROP SCHEMA {schema} CASCADE drops every object in it, among them the tables {} with all their rows, and whatever depends on them elsewhere; no rollback can restore the data",
                listed(&tables)
            ),
            (true, true) => format!(
                "DROP SCHEMA {schema} CASCADE drops every object in it (tables with their rows, views, functions, types) and whatever depends on them elsewhere, none of which the migration names; no rollback can restore the data"
            ),
            (false, false) => format!(
                "DROP SCHEMA {schema} fails: the schema still holds the tables {} (PostgreSQL refuses to drop a non-empty schema without CASCADE)",
                listed(&tables)
            ),
            (false, true) => format!(
                "DROP SCHEMA {schema} removes a schema that existed before the migration: it fails if anything is still in it, and a search_path, grant or query that names it breaks"
            ),
        };
        hits.push(Hit::new(
            message,
            "Drop the schema's objects one by one in releases after the code stopped using them (backing up the data), then drop the empty schema without CASCADE.",
        ));
    }
    hits
}

/// A `CREATE SCHEMA` of this name earlier in the migration (`IF NOT EXISTS` may have found the schema
/// already there, so it does not count).
fn created_earlier(ctx: &Ctx, schema: &str) -> bool {
    ctx.ops.iter().take(ctx.index).any(
        |op| matches!(op, Op::CreateSchema { name, if_not_exists: false, .. } if name == schema),
    )
}

#[cfg(test)]
mod tests {

    fn findings(version: u32, schema: Option<&str>, sql: &str) -> Vec<Vec<String>> {
        crate::rules::test_support::messages(super::RULE.id, version, schema, sql)
    }

    fn fired(version: u32, schema: Option<&str>, sql: &str) -> Vec<usize> {
        findings(version, schema, sql)
            .iter()
            .map(Vec::len)
            .collect()
    }

    #[test]
    fn without_cascade_a_schema_with_tables_fails() {
        let schema =
            "CREATE SCHEMA reporting;\nCREATE TABLE reporting.snapshots (id bigint PRIMARY KEY);";
        let f = findings(15, Some(schema), "DROP SCHEMA reporting;");
        assert!(f.concat().iter().any(|m| m.contains("fails")), "{f:?}");
    }

    #[test]
    fn if_not_exists_may_have_found_an_old_schema() {
        let sql = "CREATE SCHEMA IF NOT EXISTS legacy;\nDROP SCHEMA legacy;";
        assert_eq!(fired(15, None, sql), vec![0, 1]);
    }
}
