//! # truncate
//! TRUNCATE of an existing table removes all its rows under ACCESS EXCLUSIVE.
//!
//! ## What it does
//! Flags `TRUNCATE` of a table that existed before the migration. Emptying a table that the same
//! migration created is not flagged. With `CASCADE`, the finding names the tables that are emptied
//! as well because their foreign keys point at a truncated table (as far as the schema tells).
//!
//! ## Why is this bad?
//! Once the transaction commits, every row of the table is gone and no rollback script can bring
//! them back; `ON DELETE` triggers do not fire, so no audit or cleanup logic runs either. It takes
//! an ACCESS EXCLUSIVE lock, so it waits for every transaction that touched the table and blocks
//! all reads and writes meanwhile. With `CASCADE`, every table that references it (and every table
//! referencing those) is emptied too, although the migration does not name them; without
//! `CASCADE`, a table referenced by a foreign key cannot be truncated alone and the migration fails.
//!
//! ## Example
//! ```sql
//! TRUNCATE TABLE sessions CASCADE;
//! ```
//!
//! ## Use instead
//! Data removal rarely belongs in a schema migration. If the rows really must go, delete them in
//! batches outside the migration (`DELETE FROM sessions WHERE id BETWEEN … AND …`), after a backup,
//! and name every table you mean to empty explicitly instead of relying on `CASCADE`:
//! ```sql
//! DELETE FROM sessions WHERE id BETWEEN 1 AND 10000;  -- repeated per range, each its own transaction
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/current/sql-truncate.html
//! - https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{Op, QualName};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "truncate",
    severity: Severity::Error,
    summary: "TRUNCATE of an existing table removes all its rows under ACCESS EXCLUSIVE.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::Truncate { tables, cascade } = ctx.op else {
        return Vec::new();
    };
    let named: Vec<QualName> = tables.iter().map(normal).collect();
    let existing: Vec<&QualName> = named
        .iter()
        .filter(|t| ctx.catalog.pre_existing(t))
        .collect();
    if existing.is_empty() {
        return Vec::new();
    }
    let extra: Vec<String> = if *cascade {
        cascaded(ctx, &named)
            .iter()
            .filter(|t| ctx.catalog.pre_existing(t))
            .map(QualName::display_qualified)
            .collect()
    } else {
        Vec::new()
    };
    let list = existing
        .iter()
        .map(|t| t.display_qualified())
        .collect::<Vec<_>>()
        .join(", ");
    let lock = match existing.as_slice() {
        [only] => say::lock_on(LockMode::AccessExclusiveLock, only),
        _ => "ACCESS EXCLUSIVE lock on each (blocks reads and writes)".to_string(),
    };
    let mut message = format!(
        "TRUNCATE removes every row of {list} under an {lock}; no rollback can restore them"
    );
    if !extra.is_empty() {
        message.push_str(&format!(
            "; CASCADE also empties {}, whose foreign keys point at a truncated table",
            extra.join(", ")
        ));
    } else if !*cascade {
        // Without CASCADE, a table referenced by a foreign key of a table outside the list cannot be
        // truncated ("cannot truncate a table referenced in a foreign key constraint").
        let blockers: Vec<String> = named
            .iter()
            .flat_map(|t| ctx.catalog.referencing(t))
            .filter(|(tab, _)| !named.contains(&normal(&tab.name)))
            .map(|(tab, c)| format!("{} on {}", c.name, tab.name.display_qualified()))
            .collect();
        if !blockers.is_empty() {
            message.push_str(&format!(
                "; it fails as written, because the foreign keys {} point at it",
                blockers.join(", ")
            ));
        }
    } else if !ctx.catalog.schema_loaded() {
        message.push_str(
            "; CASCADE also empties every table whose foreign keys point at it (unknown without a schema)",
        );
    }
    vec![Hit::new(
        message,
        "Keep data removal out of schema migrations; if the rows must go, back them up and delete in batches by primary key outside the migration, naming every table explicitly.",
    )]
}

/// The tables TRUNCATE … CASCADE empties besides the named ones: the tables with a foreign key to a
/// truncated table, repeatedly (docs: sql-truncate.html, "or to any tables added to the group due
/// to CASCADE").
pub(crate) fn cascaded(ctx: &Ctx, named: &[QualName]) -> Vec<QualName> {
    let mut group: Vec<QualName> = named.to_vec();
    let mut extra = Vec::new();
    let mut i = 0;
    while let Some(t) = group.get(i).cloned() {
        for (tab, _) in ctx.catalog.referencing(&t) {
            let n = normal(&tab.name);
            if !group.contains(&n) {
                group.push(n.clone());
                extra.push(n);
            }
        }
        i += 1;
    }
    extra
}

#[cfg(test)]
mod tests {

    fn findings(version: u32, schema: Option<&str>, sql: &str) -> Vec<Vec<String>> {
        crate::rules::test_support::messages(super::RULE.id, version, schema, sql)
    }

    #[test]
    fn cascade_follows_foreign_keys_recursively() {
        let schema = "CREATE TABLE a (id bigint PRIMARY KEY);\n\
            CREATE TABLE b (id bigint PRIMARY KEY, a_id bigint REFERENCES a (id));\n\
            CREATE TABLE c (id bigint PRIMARY KEY, b_id bigint REFERENCES b (id));";
        let f = findings(15, Some(schema), "TRUNCATE a CASCADE;");
        let m = f.concat().join(" ");
        assert!(m.contains("public.b") && m.contains("public.c"), "{m}");
        let f = findings(15, Some(schema), "TRUNCATE a;");
        assert!(f.concat().join(" ").contains("fails"), "{f:?}");
    }
}
