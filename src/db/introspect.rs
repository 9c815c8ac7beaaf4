//! The catalog and table sizes of a live database (a restored copy of production).
//!
//! The schema is read from `pg_catalog` and written out as the DDL `pg_dump --schema-only` would
//! give, which [`Catalog::from_sql`] then loads: one loader for dumps and databases, so both give
//! the same catalog. Sizes come from the planner's statistics (`pg_class.reltuples`, falling back
//! to `pg_stat_user_tables.n_live_tup` for never-analysed tables) and from the files
//! (`pg_relation_size`, `pg_total_relation_size`).
//! <https://www.postgresql.org/docs/15/catalogs.html>,
//! <https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADMIN-DBSIZE>

use super::db_error;
use super::session::{Access, Budget, Limits, Tx};
use crate::catalog::{Catalog, TableSize};
use crate::error::Error;
use crate::ir::QualName;
use postgres::Client;

/// Schemas that belong to the server, not the application.
const USER: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

/// What introspection read.
#[derive(Debug, Clone)]
pub struct Introspection {
    /// The schema and sizes.
    pub catalog: Catalog,
    /// Tables, views and materialized views.
    pub relations: usize,
}

/// Reads the catalog and sizes in a READ ONLY transaction (rolled back at the end).
pub(crate) fn introspect(
    client: &mut Client,
    limits: Limits,
    budget: Budget,
) -> Result<Introspection, Error> {
    let mut tx = Tx::begin(client, Access::ReadOnly, limits, budget)?;
    let intro = read(&mut tx)?;
    tx.check()?;
    tx.rollback()?;
    Ok(intro)
}

/// Reads the catalog inside an open transaction (the verification run uses its own).
pub(crate) fn read(tx: &mut Client) -> Result<Introspection, Error> {
    let ddl = schema_ddl(tx)?;
    let mut catalog = Catalog::from_sql(&ddl)?;
    let mut relations = 0;
    let sizes = tx
        .query(
            format!(
                "SELECT n.nspname::text, c.relname::text, c.relkind::text,
                        CASE WHEN c.reltuples >= 0 THEN c.reltuples::float8
                             ELSE coalesce(s.n_live_tup, 0)::float8 END,
                        CASE WHEN c.relkind IN ('r','m','p','t') THEN pg_relation_size(c.oid) ELSE 0 END,
                        CASE WHEN c.relkind IN ('r','m','p','t') THEN pg_total_relation_size(c.oid) ELSE 0 END
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
                 WHERE {USER} AND c.relkind IN ('r','p','v','m','f')"
            )
            .as_str(),
            &[],
        )
        .map_err(|e| db_error("reading table sizes", &e))?;
    for row in sizes {
        let schema: String = row.try_get(0).map_err(|e| db_error("table sizes", &e))?;
        let name: String = row.try_get(1).map_err(|e| db_error("table sizes", &e))?;
        let kind: String = row.try_get(2).map_err(|e| db_error("table sizes", &e))?;
        let rows: f64 = row.try_get(3).map_err(|e| db_error("table sizes", &e))?;
        let heap: i64 = row.try_get(4).map_err(|e| db_error("table sizes", &e))?;
        let total: i64 = row.try_get(5).map_err(|e| db_error("table sizes", &e))?;
        relations += 1;
        if kind == "v" {
            continue;
        }
        catalog.set_size(
            &QualName::new(Some(&schema), &name),
            TableSize {
                rows: rows.max(0.0) as u64,
                heap_bytes: heap.max(0) as u64,
                total_bytes: total.max(0) as u64,
            },
        );
    }
    let invalid = tx
        .query(
            format!(
                "SELECT n.nspname::text, c.relname::text FROM pg_index i
                 JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE {USER} AND NOT i.indisvalid"
            )
            .as_str(),
            &[],
        )
        .map_err(|e| db_error("reading index validity", &e))?;
    for row in invalid {
        let schema: String = row.try_get(0).map_err(|e| db_error("index validity", &e))?;
        let name: String = row.try_get(1).map_err(|e| db_error("index validity", &e))?;
        catalog.set_index_invalid(&QualName::new(Some(&schema), &name));
    }
    Ok(Introspection { catalog, relations })
}

/// The user schema as `pg_dump`-style DDL: schemas, extensions, enum and domain types, sequences,
/// tables with their columns, views, constraints (with `NOT VALID` where unvalidated), indexes,
/// and functions (with their volatility). Ordered so that what a statement refers to comes first.
pub(crate) fn schema_ddl(tx: &mut Client) -> Result<String, Error> {
    let queries: [(&str, String); 10] = [
        (
            "schemas",
            format!(
                "SELECT 'CREATE SCHEMA IF NOT EXISTS ' || quote_ident(n.nspname) || ';' FROM pg_namespace n
                 WHERE {USER} AND n.nspname <> 'public' ORDER BY 1"
            ),
        ),
        (
            "extensions",
            "SELECT 'CREATE EXTENSION IF NOT EXISTS ' || quote_ident(extname) || ';' FROM pg_extension
             WHERE extname <> 'plpgsql' ORDER BY 1"
                .to_string(),
        ),
        (
            "enum types",
            format!(
                "SELECT 'CREATE TYPE ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) || ' AS ENUM ('
                        || string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) || ');'
                 FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE {USER} GROUP BY n.nspname, t.typname ORDER BY 1"
            ),
        ),
        (
            "domains",
            format!(
                "SELECT 'CREATE DOMAIN ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) || ' AS '
                        || format_type(t.typbasetype, t.typtypmod)
                        || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
                        || coalesce((SELECT string_agg(' CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid), '' ORDER BY c.conname)
                                     FROM pg_constraint c WHERE c.contypid = t.oid), '') || ';'
                 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE {USER} AND t.typtype = 'd' ORDER BY 1"
            ),
        ),
        (
            "sequences",
            format!(
                "SELECT 'CREATE SEQUENCE ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ';'
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE {USER} AND c.relkind = 'S' ORDER BY 1"
            ),
        ),
        (
            "tables",
            format!(
                "SELECT 'CREATE ' || CASE c.relpersistence WHEN 'u' THEN 'UNLOGGED ' ELSE '' END || 'TABLE '
                        || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' ('
                        || coalesce(string_agg(E'\\n    ' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
                            || CASE WHEN a.attidentity = 'a' THEN ' GENERATED ALWAYS AS IDENTITY'
                                    WHEN a.attidentity = 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END
                            || CASE WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
                                    WHEN d.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END
                            || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
                            ',' ORDER BY a.attnum), '') || E'\\n)'
                        || CASE WHEN c.relkind = 'p' THEN ' PARTITION BY ' || pg_get_partkeydef(c.oid) ELSE '' END || ';'
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                 WHERE {USER} AND c.relkind IN ('r','p')
                 GROUP BY n.nspname, c.relname, c.oid, c.relpersistence, c.relkind ORDER BY 1"
            ),
        ),
        (
            "views",
            format!(
                "SELECT 'CREATE ' || CASE c.relkind WHEN 'm' THEN 'MATERIALIZED ' ELSE '' END || 'VIEW '
                        || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' AS '
                        || rtrim(pg_get_viewdef(c.oid), ';') || ';'
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE {USER} AND c.relkind IN ('v','m') ORDER BY c.oid"
            ),
        ),
        (
            // Primary keys and unique constraints before foreign keys, which need them.
            "constraints",
            format!(
                "SELECT 'ALTER TABLE ONLY ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname)
                        || ' ADD CONSTRAINT ' || quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid) || ';'
                 FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE {USER} AND k.contype IN ('p','u','c','f','x') AND k.conislocal
                 ORDER BY CASE k.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'x' THEN 2 WHEN 'c' THEN 3 ELSE 4 END, 1"
            ),
        ),
        (
            "indexes",
            format!(
                "SELECT pg_get_indexdef(i.indexrelid) || ';'
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE {USER} AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p','u','x'))
                 ORDER BY 1"
            ),
        ),
        (
            // The body does not matter to the analysis; the name and volatility do.
            "functions",
            format!(
                "SELECT 'CREATE FUNCTION ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname)
                        || '(' || pg_get_function_identity_arguments(p.oid) || ') RETURNS '
                        || CASE WHEN p.prokind = 'p' THEN 'void' ELSE pg_get_function_result(p.oid) END
                        || ' LANGUAGE sql ' || CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END
                        || ' AS $migsafe$ SELECT NULL $migsafe$;'
                 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE {USER} AND p.prokind IN ('f','p')
                   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
                 ORDER BY 1"
            ),
        ),
    ];
    let mut out = String::new();
    for (what, sql) in &queries {
        let rows = tx
            .query(sql.as_str(), &[])
            .map_err(|e| db_error(&format!("reading {what}"), &e))?;
        for row in rows {
            let line: Option<String> = row
                .try_get(0)
                .map_err(|e| db_error(&format!("reading {what}"), &e))?;
            if let Some(line) = line {
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// The schema as comparable lines (relations, columns by name, indexes, constraints with validity,
/// types, views, triggers, functions, extensions, schemas, comments): equal lines, equal schema for
/// everything a migration changes. Column order is left aside, as a rollback cannot restore it.
pub(crate) fn describe(tx: &mut Client) -> Result<Vec<String>, Error> {
    let queries = [
        format!(
            "SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || c.relpersistence::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND c.relkind IN ('r','p','v','m','S','f')"
        ),
        format!(
            "SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END || CASE WHEN a.attgenerated <> '' THEN ' generated' ELSE '' END FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE {USER} AND c.relkind IN ('r','p','v','m','f') AND a.attnum > 0 AND NOT a.attisdropped"
        ),
        format!(
            "SELECT 'index ' || pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' (invalid)' END FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER}"
        ),
        format!(
            "SELECT 'constraint ' || n.nspname || '.' || coalesce(c.relname, t.typname) || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) || CASE WHEN k.convalidated THEN '' ELSE ' (not validated)' END FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid WHERE {USER}"
        ),
        format!(
            "SELECT 'enum ' || n.nspname || '.' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER} GROUP BY n.nspname, t.typname"
        ),
        format!(
            "SELECT 'type ' || n.nspname || '.' || t.typname || ' ' || t.typtype::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER} AND t.typtype IN ('d','e','c') AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)"
        ),
        format!(
            "SELECT 'view ' || n.nspname || '.' || c.relname || ' ' || pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND c.relkind IN ('v','m')"
        ),
        "SELECT 'trigger ' || tgrelid::regclass::text || ' ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text FROM pg_trigger t WHERE NOT t.tgisinternal".to_string(),
        format!(
            "SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') ' || md5(coalesce(p.prosrc, '')) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
        ),
        "SELECT 'extension ' || extname || ' ' || extversion FROM pg_extension".to_string(),
        format!("SELECT 'schema ' || n.nspname FROM pg_namespace n WHERE {USER}"),
        "SELECT 'comment ' || classoid::regclass::text || ' ' || objoid::regclass::text || ' ' || objsubid || ' ' || description FROM pg_description WHERE classoid = 'pg_class'::regclass AND objoid >= 16384".to_string(),
    ];
    let mut out = Vec::new();
    for sql in &queries {
        let rows = tx
            .query(sql.as_str(), &[])
            .map_err(|e| db_error("describing the schema", &e))?;
        for row in rows {
            let line: Option<String> = row
                .try_get(0)
                .map_err(|e| db_error("describing the schema", &e))?;
            out.push(line.unwrap_or_default());
        }
    }
    out.sort();
    Ok(out)
}
