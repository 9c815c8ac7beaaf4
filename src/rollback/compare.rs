//! Comparing the author's own downgrade with the schema before the upgrade (and with the generated
//! rollback): what the downgrade misses or adds, per revision.

use crate::catalog::{Catalog, RelKind};
use crate::ir::Op;
use std::collections::BTreeMap;

/// One line per schema object, keyed by what it is: what a downgrade must restore.
fn describe(c: &Catalog) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for t in c.tables() {
        let name = t.name.display_qualified();
        if t.complete {
            let kind = match t.kind {
                RelKind::Table => "table",
                RelKind::View => "view",
                RelKind::MaterializedView => "materialized view",
            };
            out.insert(format!("{kind} {name}"), String::new());
        } else if t.kind != RelKind::Table {
            out.insert(format!("view {name}"), String::new());
        }
        for col in &t.columns {
            let mut v = col.ty.sql.to_lowercase();
            if col.not_null {
                v.push_str(" not null");
            }
            if let Some(d) = &col.default {
                v.push_str(&format!(" default {}", d.sql));
            }
            out.insert(format!("column {name}.{}", col.name), v);
        }
        for k in &t.constraints {
            out.insert(
                format!("constraint {} on {name}", k.name),
                if k.validated {
                    "validated".to_string()
                } else {
                    "NOT VALID".to_string()
                },
            );
        }
    }
    for t in c.tables() {
        for ix in c.indexes_of(&t.name) {
            if ix.constraint.is_none() {
                out.insert(
                    format!("index {}", ix.name.display_qualified()),
                    format!(
                        "on {} ({})",
                        t.name.display_qualified(),
                        ix.columns.join(", ")
                    ),
                );
            }
        }
    }
    for f in c.functions() {
        out.insert(format!("function {f}"), String::new());
    }
    for ty in c.types() {
        let name = ty.name.display_qualified();
        match &ty.enum_values {
            Some(v) => out.insert(format!("type {name}"), format!("enum ({})", v.join(", "))),
            None => out.insert(format!("type {name}"), String::new()),
        };
    }
    out
}

/// What the author's downgrade leaves different from the schema before the upgrade, in words.
pub(crate) fn downgrade_differences(
    before: &Catalog,
    after: &Catalog,
    downgrade: &[Op],
) -> Vec<String> {
    let mut authored = after.clone();
    for op in downgrade {
        authored.apply(op, true);
    }
    let want = describe(before);
    let got = describe(&authored);
    let mut out = Vec::new();
    for (k, v) in &want {
        match got.get(k) {
            None => out.push(format!("the downgrade does not restore {k}")),
            Some(g) if g != v => out.push(format!(
                "after the downgrade {k} is `{g}`; before the upgrade it was `{v}`"
            )),
            _ => {}
        }
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        out.push(format!(
            "the downgrade leaves {k}, which the upgrade created"
        ));
    }
    out
}

/// A statement as compared: lower case, single spaces, no quotes, no `public.`, no `IF [NOT]
/// EXISTS`, no trailing `;`.
fn normalise(sql: &str) -> String {
    let lower = sql.to_lowercase().replace('"', "");
    let words: Vec<&str> = lower.split_whitespace().collect();
    let mut s = words.join(" ");
    for noise in [" if not exists", " if exists", "public."] {
        s = s.replace(noise, "");
    }
    s.trim_end_matches(';').trim().to_string()
}

/// The statements only in the generated rollback and only in the downgrade (normalised), each in
/// its own order. The same statement in another order is not a difference; a statement written
/// twice on one side and once on the other is.
pub(crate) fn statement_diff(
    generated: &[String],
    downgrade: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut only_downgrade: Vec<Option<String>> =
        downgrade.iter().map(|s| Some(normalise(s))).collect();
    let mut only_generated = Vec::new();
    for g in generated.iter().map(|s| normalise(s)) {
        match only_downgrade
            .iter_mut()
            .find(|d| d.as_deref() == Some(g.as_str()))
        {
            Some(matched) => *matched = None,
            None => only_generated.push(g),
        }
    }
    (
        only_generated,
        only_downgrade.into_iter().flatten().collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_ignores_noise() {
        assert_eq!(
            normalise("DROP INDEX IF EXISTS public.\"ix_a\";"),
            normalise("drop index ix_a")
        );
    }

    #[test]
    fn statement_diff_ignores_order_and_counts_repeats() {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let generated = strings(&[
            "DROP INDEX ix_a;",
            "ALTER TABLE t DROP COLUMN c;",
            "DROP TABLE u;",
        ]);
        let downgrade = strings(&[
            "alter table t drop column c",
            "DROP INDEX IF EXISTS public.ix_a",
            "ALTER TABLE t DROP COLUMN c;",
            "DROP TABLE v;",
        ]);
        let (only_generated, only_downgrade) = statement_diff(&generated, &downgrade);
        assert_eq!(only_generated, vec!["drop table u"]);
        assert_eq!(
            only_downgrade,
            vec!["alter table t drop column c", "drop table v"]
        );
    }
}
