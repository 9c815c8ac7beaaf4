//! # cascade
//! CASCADE silently drops or empties dependent objects that the migration does not name.
//!
//! ## What it does
//! Flags `DROP … CASCADE` (tables, views, types, indexes, sequences, functions, extensions,
//! schemas), `TRUNCATE … CASCADE`, `ALTER TABLE … DROP COLUMN … CASCADE` and `ALTER TABLE … DROP
//! CONSTRAINT … CASCADE`, and names the dependents the schema knows (foreign keys, referencing
//! tables, columns of a dropped type, views). It stays quiet when the schema proves that nothing
//! can depend on the object (for example no foreign key points at the table and the database has
//! no views), and for objects the migration itself created that nothing from before the migration
//! depends on. Django writes `CASCADE` into every `DROP TABLE` and `DROP COLUMN`, so with a schema
//! this check only speaks when it matters.
//!
//! ## Why is this bad?
//! `CASCADE` tells PostgreSQL to drop (or, for `TRUNCATE`, empty) everything that depends on the
//! object, recursively: foreign keys of other tables, views and the views built on them, columns
//! whose type is dropped, column defaults that call a dropped function or sequence, whole tables
//! referencing a truncated one. None of it appears in the migration, so the reviewer does not see
//! it, the rollback script cannot recreate it, and the application finds a view or a constraint
//! missing (or a table empty) after the deploy. Without `CASCADE`, PostgreSQL stops with "cannot
//! drop … because other objects depend on it" and names them, which is the safer default.
//!
//! ## Example
//! ```sql
//! ALTER TABLE customers DROP CONSTRAINT customers_pkey CASCADE;  -- also drops orders_customer_id_fkey
//! DROP TABLE customers CASCADE;                                   -- and the view active_customers
//! ```
//!
//! ## Use instead
//! Drop the dependents explicitly first, each as its own reviewed statement, and leave `CASCADE`
//! out, so that PostgreSQL refuses if something unexpected still depends on the object:
//! ```sql
//! ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey;
//! DROP VIEW active_customers;
//! DROP TABLE customers;
//! ```
//! In Alembic, `op.drop_constraint()` and `op.drop_table()` never add `CASCADE`; with Django,
//! remove the dependent fields and models in earlier operations so that nothing is left to cascade.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/ddl-depend.html
//! - https://www.postgresql.org/docs/current/sql-droptable.html
//! - https://www.postgresql.org/docs/current/sql-truncate.html
//! - https://www.postgresql.org/docs/current/sql-altertable.html (DROP COLUMN, DROP CONSTRAINT)

use super::{Ctx, Hit, Rule};
use crate::catalog::{RelKind, Table, normal, same_normal};
use crate::ir::{AlterAction, ConstraintKind, ObjectKind, Op, QualName};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "cascade",
    severity: Severity::Warning,
    summary: "CASCADE silently drops or empties dependent objects that the migration does not name.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};

const HELP: &str = "Drop the dependent objects explicitly in earlier statements and remove CASCADE, so that PostgreSQL refuses (and names them) if anything unexpected still depends on it.";

/// What the catalog says about an object's dependents.
enum Deps {
    /// Nothing can depend on it (or only objects the migration created and nothing older).
    None,
    /// These depend on it (and perhaps more the catalog does not model).
    Known(Vec<String>),
    /// The catalog cannot tell; the words say what kind of objects may depend on it.
    Unknown(&'static str),
}

fn check(ctx: &Ctx) -> Vec<Hit> {
    match ctx.op {
        Op::Drop {
            kind,
            names,
            cascade: true,
            ..
        } => names
            .iter()
            .filter_map(|n| {
                let what = format!("{} {} CASCADE", drop_words(kind), display(kind, n));
                hit(&what, drop_deps(ctx, kind, n, names))
            })
            .collect(),
        Op::Truncate {
            tables,
            cascade: true,
        } => {
            let what = format!(
                "TRUNCATE {} CASCADE",
                tables
                    .iter()
                    .map(|t| normal(t).display_qualified())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            hit(&what, truncate_deps(ctx, tables)).into_iter().collect()
        }
        Op::AlterTable { name, actions, .. } => actions
            .iter()
            .filter_map(|a| match a {
                AlterAction::DropColumn {
                    name: col,
                    cascade: true,
                    ..
                } => hit(
                    &format!(
                        "ALTER TABLE {} DROP COLUMN {col} CASCADE",
                        normal(name).display_qualified()
                    ),
                    column_deps(ctx, name, col),
                ),
                AlterAction::DropConstraint {
                    name: con,
                    cascade: true,
                    ..
                } => hit(
                    &format!(
                        "ALTER TABLE {} DROP CONSTRAINT {con} CASCADE",
                        normal(name).display_qualified()
                    ),
                    constraint_deps(ctx, name, con),
                ),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn hit(what: &str, deps: Deps) -> Option<Hit> {
    // TRUNCATE … CASCADE empties the referencing tables rather than dropping anything.
    let verb = if what.starts_with("TRUNCATE") {
        "empties"
    } else {
        "drops"
    };
    let message = match deps {
        Deps::None => return None,
        Deps::Known(list) => format!(
            "{what} also {verb} what depends on it, which the migration does not name: {}",
            list.join(", ")
        ),
        Deps::Unknown(kinds) => format!(
            "{what} also {verb} whatever depends on it ({kinds}); the migration does not name them and the schema at hand cannot list them"
        ),
    };
    Some(Hit::new(message, HELP))
}

fn drop_words(kind: &ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Table => "DROP TABLE",
        ObjectKind::View => "DROP VIEW",
        ObjectKind::MaterializedView => "DROP MATERIALIZED VIEW",
        ObjectKind::Index => "DROP INDEX",
        ObjectKind::Sequence => "DROP SEQUENCE",
        ObjectKind::Type => "DROP TYPE",
        ObjectKind::Domain => "DROP DOMAIN",
        ObjectKind::Schema => "DROP SCHEMA",
        ObjectKind::Extension => "DROP EXTENSION",
        ObjectKind::Function => "DROP FUNCTION",
        ObjectKind::Procedure => "DROP PROCEDURE",
        ObjectKind::Trigger => "DROP TRIGGER",
        ObjectKind::Statistics => "DROP STATISTICS",
        ObjectKind::Other => "DROP",
    }
}

fn display(kind: &ObjectKind, n: &QualName) -> String {
    match kind {
        ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView => {
            normal(n).display_qualified()
        }
        _ => n.to_string(),
    }
}

/// Views and materialized views the catalog knows, other than `except`.
fn other_views<'a>(ctx: &'a Ctx, except: &'a [QualName]) -> impl Iterator<Item = &'a Table> + 'a {
    ctx.catalog.tables().filter(move |t| {
        matches!(t.kind, RelKind::View | RelKind::MaterializedView)
            && !except.iter().any(|e| normal(e) == t.name)
    })
}

/// Whether a view may depend on something: without a schema anything may exist; with one, only if
/// it lists views (view definitions are not modelled, so any view might).
fn views_possible(ctx: &Ctx, except: &[QualName]) -> bool {
    !ctx.catalog.schema_loaded() || other_views(ctx, except).next().is_some()
}

/// "any view that uses it (the schema has the views a, b)".
fn view_words(ctx: &Ctx, except: &[QualName], what: &str) -> String {
    let names: Vec<String> = other_views(ctx, except)
        .map(|t| t.name.display_qualified())
        .take(5)
        .collect();
    if names.is_empty() {
        format!("any view that uses {what}")
    } else {
        format!(
            "any view that uses {what} (the schema has the views {})",
            names.join(", ")
        )
    }
}

/// Columns whose type is `ty` (or an array of it), with whether their table existed before the
/// migration.
fn columns_of_type(ctx: &Ctx, ty: &QualName) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for t in ctx.catalog.tables() {
        for c in &t.columns {
            if c.ty.base == ty.name {
                out.push((
                    format!(
                        "column {}.{} and its values",
                        t.name.display_qualified(),
                        c.name
                    ),
                    !t.created_in_migration,
                ));
            }
        }
    }
    out
}

/// A plain CREATE of this object earlier in the migration (not `IF NOT EXISTS` / `OR REPLACE`, which
/// may have found an older object).
fn created_earlier(ctx: &Ctx, kind: &ObjectKind, n: &QualName) -> bool {
    let n = normal(n);
    ctx.ops.iter().take(ctx.index).any(|op| match (kind, op) {
        (
            ObjectKind::Sequence,
            Op::CreateSequence {
                name,
                if_not_exists: false,
                ..
            },
        ) => same_normal(name, &n),
        (
            ObjectKind::Function | ObjectKind::Procedure,
            Op::CreateFunction {
                name,
                or_replace: false,
                ..
            },
        ) => same_normal(name, &n),
        (
            ObjectKind::Extension,
            Op::CreateExtension {
                name,
                if_not_exists: false,
            },
        ) => *name == n.name,
        (
            ObjectKind::Schema,
            Op::CreateSchema {
                name,
                if_not_exists: false,
            },
        ) => *name == n.name,
        _ => false,
    })
}

fn drop_deps(ctx: &Ctx, kind: &ObjectKind, n: &QualName, names: &[QualName]) -> Deps {
    let cat = ctx.catalog;
    let dropped: Vec<QualName> = names.iter().map(normal).collect();
    match kind {
        ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView => {
            let mut known: Vec<String> = Vec::new();
            if *kind == ObjectKind::Table {
                // Foreign keys of other tables (not dropped by the same statement) pointing at it.
                for (tab, c) in cat.referencing(n) {
                    if !dropped.contains(&normal(&tab.name)) {
                        known.push(format!(
                            "foreign key {} on {}",
                            c.name,
                            tab.name.display_qualified()
                        ));
                    }
                }
                // Columns whose type is the table's row type.
                for t in cat.tables() {
                    if dropped.contains(&t.name) {
                        continue;
                    }
                    for c in &t.columns {
                        if c.ty.base == n.name {
                            known.push(format!(
                                "column {}.{} (of its row type)",
                                t.name.display_qualified(),
                                c.name
                            ));
                        }
                    }
                }
            }
            if !cat.pre_existing(n) {
                // Made by this migration: only what it made since can depend on it, unless a
                // table from before the migration got a foreign key to it.
                let older = cat
                    .referencing(n)
                    .any(|(tab, _)| cat.pre_existing(&tab.name));
                if !older {
                    return Deps::None;
                }
            }
            if views_possible(ctx, &dropped) {
                known.push(view_words(ctx, &dropped, "it"));
                if !cat.schema_loaded() && known.len() == 1 {
                    return Deps::Unknown("views, foreign keys of other tables, and more");
                }
            }
            if known.is_empty() {
                Deps::None
            } else {
                Deps::Known(known)
            }
        }
        ObjectKind::Type | ObjectKind::Domain => {
            let created = cat.type_def(n).is_some_and(|t| t.created_in_migration);
            let cols = columns_of_type(ctx, n);
            if created && !cols.iter().any(|(_, older)| *older) {
                // Made by this migration and used only by tables it made.
                Deps::None
            } else if !cols.is_empty() {
                Deps::Known(cols.into_iter().map(|(c, _)| c).collect())
            } else {
                Deps::Unknown(
                    "columns of that type with their values, functions and domains using it",
                )
            }
        }
        ObjectKind::Index => {
            let Some(ix) = cat.index(n) else {
                return Deps::Unknown(
                    "the constraint the index backs, and foreign keys that rely on it",
                );
            };
            if ix.created_in_migration {
                return Deps::None;
            }
            let mut known = Vec::new();
            if let Some(c) = &ix.constraint {
                known.push(format!(
                    "constraint {c} on {}",
                    ix.table.display_qualified()
                ));
            }
            if ix.unique || ix.constraint.is_some() {
                known.extend(fks_on_columns(ctx, &ix.table, &ix.columns, false));
            }
            if known.is_empty() {
                // A plain index: only constraints can depend on an index.
                Deps::None
            } else {
                Deps::Known(known)
            }
        }
        ObjectKind::Sequence => {
            if created_earlier(ctx, kind, n) {
                return Deps::None;
            }
            let mut known = Vec::new();
            for t in cat.tables() {
                for c in &t.columns {
                    let serial_seq = c.ty.base.ends_with("(serial)")
                        && format!("{}_{}_seq", t.name.name, c.name) == n.name;
                    let named = c.default.as_ref().is_some_and(|d| {
                        d.calls.iter().any(|f| f == "nextval") && d.sql.contains(&n.name)
                    });
                    if serial_seq || named {
                        known.push(format!(
                            "the default of {}.{}",
                            t.name.display_qualified(),
                            c.name
                        ));
                    }
                }
            }
            if !known.is_empty() {
                Deps::Known(known)
            } else if cat.schema_loaded() {
                Deps::None
            } else {
                Deps::Unknown("column defaults that call nextval() on it")
            }
        }
        ObjectKind::Schema => {
            let tables: Vec<String> = cat
                .tables()
                .filter(|t| t.name.schema.as_deref() == Some(n.name.as_str()))
                .filter(|t| cat.pre_existing(&t.name))
                .map(|t| format!("table {}", t.name.display_qualified()))
                .collect();
            if !tables.is_empty() {
                Deps::Known(tables)
            } else if created_earlier(ctx, kind, n) {
                Deps::None
            } else {
                Deps::Unknown("every table, view, function and type in the schema")
            }
        }
        ObjectKind::Function | ObjectKind::Procedure => {
            if created_earlier(ctx, kind, n) {
                Deps::None
            } else {
                Deps::Unknown("triggers, column defaults, constraints and views that call it")
            }
        }
        ObjectKind::Extension => {
            if created_earlier(ctx, kind, n) {
                Deps::None
            } else {
                Deps::Unknown(
                    "columns of its types with their values, indexes using its operator classes, functions and views using it",
                )
            }
        }
        ObjectKind::Trigger | ObjectKind::Statistics | ObjectKind::Other => Deps::Unknown("objects that depend on it"),
    }
}

/// Foreign keys of other tables that reference `columns` of `table` (`pk`: the columns are the
/// primary key, so a REFERENCES without a column list counts too).
fn fks_on_columns(ctx: &Ctx, table: &QualName, columns: &[String], pk: bool) -> Vec<String> {
    let mut want: Vec<&String> = columns.iter().collect();
    want.sort();
    ctx.catalog
        .referencing(table)
        .filter(|(_, c)| match &c.kind {
            ConstraintKind::ForeignKey { ref_columns, .. } => {
                if ref_columns.is_empty() {
                    return pk;
                }
                let mut got: Vec<&String> = ref_columns.iter().collect();
                got.sort();
                got == want
            }
            _ => false,
        })
        .map(|(tab, c)| format!("foreign key {} on {}", c.name, tab.name.display_qualified()))
        .collect()
}

fn truncate_deps(ctx: &Ctx, tables: &[QualName]) -> Deps {
    let named: Vec<QualName> = tables.iter().map(normal).collect();
    let extra: Vec<String> = super::truncate::cascaded(ctx, &named)
        .iter()
        .map(|t| format!("table {}", t.display_qualified()))
        .collect();
    if !extra.is_empty() {
        return Deps::Known(extra);
    }
    // Without a schema, tables from before the migration may be referenced by tables nobody told
    // us about. Tables the migration created can only be referenced by foreign keys it added, which
    // the catalog has seen.
    if !ctx.catalog.schema_loaded() && named.iter().any(|t| ctx.catalog.pre_existing(t)) {
        Deps::Unknown("every table whose foreign keys point at it, recursively")
    } else {
        Deps::None
    }
}

fn column_deps(ctx: &Ctx, table: &QualName, column: &str) -> Deps {
    let cat = ctx.catalog;
    let pk = cat.table(table).is_some_and(|t| {
        t.constraints.iter().any(|c| {
            matches!(&c.kind, ConstraintKind::PrimaryKey { columns, .. } if columns.len() == 1 && columns.first().is_some_and(|x| x == column))
        })
    });
    let mut known: Vec<String> = cat
        .referencing(table)
        .filter(|(tab, _)| normal(&tab.name) != normal(table))
        .filter(|(_, c)| match &c.kind {
            ConstraintKind::ForeignKey { ref_columns, .. } => {
                ref_columns.iter().any(|r| r == column) || (ref_columns.is_empty() && pk)
            }
            _ => false,
        })
        .map(|(tab, c)| format!("foreign key {} on {}", c.name, tab.name.display_qualified()))
        .collect();
    if !cat.pre_existing(table) && known.is_empty() {
        return Deps::None;
    }
    // Indexes and constraints of the table itself go with the column even without CASCADE; what
    // CASCADE adds is objects outside the table: foreign keys and views (sql-altertable.html).
    let except = [normal(table)];
    if views_possible(ctx, &except) {
        if !cat.schema_loaded() && known.is_empty() {
            return Deps::Unknown("views that use the column, foreign keys of other tables");
        }
        known.push(view_words(ctx, &except, "the column"));
    }
    if known.is_empty() {
        Deps::None
    } else {
        Deps::Known(known)
    }
}

fn constraint_deps(ctx: &Ctx, table: &QualName, name: &str) -> Deps {
    let cat = ctx.catalog;
    let Some(c) = cat
        .table(table)
        .and_then(|t| t.constraints.iter().find(|c| c.name == name))
    else {
        if cat.pre_existing(table) && !cat.schema_loaded() {
            return Deps::Unknown("foreign keys of other tables that rely on it");
        }
        return Deps::None;
    };
    // Only a primary key or unique constraint has dependents: the foreign keys that use its index.
    let (columns, pk) = match &c.kind {
        ConstraintKind::PrimaryKey { columns, .. } => (columns.clone(), true),
        ConstraintKind::Unique { columns, .. } => (columns.clone(), false),
        _ => return Deps::None,
    };
    let columns = if columns.is_empty() {
        // `… PRIMARY KEY USING INDEX ix`: the index has the columns.
        cat.indexes_of(table)
            .find(|i| i.constraint.as_deref() == Some(name))
            .map(|i| i.columns.clone())
            .unwrap_or_default()
    } else {
        columns
    };
    let known = fks_on_columns(ctx, table, &columns, pk);
    if !known.is_empty() {
        Deps::Known(known)
    } else if !cat.schema_loaded() && cat.pre_existing(table) {
        Deps::Unknown("foreign keys of other tables that rely on it")
    } else {
        Deps::None
    }
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
    fn without_a_schema_dependents_are_unknown() {
        let sql = "DROP TABLE shop_wishlist CASCADE;\nTRUNCATE orders CASCADE;\nALTER TABLE orders DROP COLUMN note CASCADE;";
        assert_eq!(fired(15, None, sql), vec![1, 1, 1]);
    }

    #[test]
    fn views_in_the_schema_may_depend_on_a_column() {
        let schema = "CREATE TABLE customers (id bigint PRIMARY KEY, legacy_code text);\n\
            CREATE VIEW customer_codes AS SELECT id, legacy_code FROM customers;";
        let sql = "ALTER TABLE customers DROP COLUMN legacy_code CASCADE;";
        let f = findings(15, Some(schema), sql);
        assert!(
            f.concat()
                .iter()
                .any(|m| m.contains("public.customer_codes")),
            "{f:?}"
        );
    }

    #[test]
    fn dropped_type_names_its_columns() {
        let schema = "CREATE TYPE order_status AS ENUM ('new', 'paid');\n\
            CREATE TABLE orders (id bigint PRIMARY KEY, status order_status);";
        let f = findings(15, Some(schema), "DROP TYPE order_status CASCADE;");
        assert!(
            f.concat()
                .iter()
                .any(|m| m.contains("public.orders.status")),
            "{f:?}"
        );
        // A type the migration made and only its own new table uses.
        let sql = "CREATE TYPE tier AS ENUM ('a');\nCREATE TABLE plans (id bigint PRIMARY KEY, t tier);\nDROP TYPE tier CASCADE;";
        assert_eq!(fired(15, Some(schema), sql), vec![0, 0, 0]);
    }

    #[test]
    fn foreign_keys_on_a_dropped_unique_index() {
        let schema = "CREATE TABLE customers (id bigint PRIMARY KEY, email text);\n\
            CREATE UNIQUE INDEX customers_email_idx ON customers (email);\n\
            CREATE TABLE invites (id bigint PRIMARY KEY, email text REFERENCES customers (email));\n\
            CREATE INDEX customers_lower_idx ON customers (id);";
        let sql =
            "DROP INDEX customers_email_idx CASCADE;\nDROP INDEX customers_lower_idx CASCADE;";
        assert_eq!(fired(15, Some(schema), sql), vec![1, 0]);
    }
}
