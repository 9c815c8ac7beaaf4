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

/// One query of the schema DDL: what it reads (for error messages) and its SQL, each row of which
/// is one or more lines of DDL.
type Query = (&'static str, String);

/// The major version of the server read (migsafe reads PostgreSQL 11 to 18), which decides the
/// form of the catalog queries where the catalog changed: `pg_attribute.attgenerated` appeared in
/// 12, `pg_trigger.tgparentid` and the `regcollation` type in 13, `pg_attribute.attcompression` in
/// 14, and a partition's clone of a trigger is marked internal (`tgisinternal`) before 15. What an
/// older catalog lacks, its server does not have: no generated column before 12, no compression
/// of a column's own before 14, so the forms for those versions leave it out.
/// <https://www.postgresql.org/docs/11/catalog-pg-attribute.html>,
/// <https://www.postgresql.org/docs/13/catalog-pg-trigger.html>
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version(pub(crate) u32);

impl Version {
    /// The version of the server `tx` is connected to (`server_version_num`).
    fn of(tx: &mut Client) -> Result<Version, Error> {
        Ok(Version(super::server_major(tx)?))
    }

    /// `attgenerated` of the `pg_attribute` row `a` (before 12, no column is generated: `''`, as
    /// `pg_dump` reads it there).
    fn attgenerated(self, a: &str) -> String {
        if self.0 >= 12 {
            format!("{a}.attgenerated")
        } else {
            "''".to_string()
        }
    }

    /// `pg_dump`'s `SET COMPRESSION` for the column `a` (`x.alter_col` is its `ALTER TABLE ONLY …
    /// ALTER COLUMN …`), or NULL: before 14, a column has no compression of its own.
    fn set_compression(self) -> &'static str {
        if self.0 >= 14 {
            "CASE a.attcompression WHEN 'p' THEN x.alter_col || ' SET COMPRESSION pglz;'
                                   WHEN 'l' THEN x.alter_col || ' SET COMPRESSION lz4;' END"
        } else {
            "NULL"
        }
    }

    /// [`describe`]'s ` compression …` of the column `a`, or `''` (none before 14).
    fn compression_words(self) -> &'static str {
        if self.0 >= 14 {
            "CASE WHEN a.attcompression <> '' THEN ' compression ' || a.attcompression::text ELSE '' END"
        } else {
            "''"
        }
    }

    /// The name of the column `a`'s collation as `regcollation` prints it (qualified unless the
    /// search path finds it); before 13, which has no `regcollation`, from `pg_collation` the same
    /// way.
    fn collation_name(self) -> &'static str {
        if self.0 >= 13 {
            "a.attcollation::regcollation::text"
        } else {
            "(SELECT CASE WHEN pg_collation_is_visible(co.oid) THEN quote_ident(co.collname)
                          ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
              FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation)"
        }
    }

    /// Joins `u`, the trigger that the trigger `t` of a partition was cloned from (NULL for a
    /// trigger of its own): `tgparentid`, or before 13 the clone's dependency on its parent in
    /// `pg_depend`, which is how `pg_dump` finds it there.
    fn trigger_parent(self) -> &'static str {
        if self.0 >= 13 {
            "LEFT JOIN pg_trigger u ON u.oid = t.tgparentid"
        } else {
            "LEFT JOIN pg_depend td ON td.classid = 'pg_trigger'::regclass AND td.objid = t.oid
                                   AND td.refclassid = 'pg_trigger'::regclass
             LEFT JOIN pg_trigger u ON u.oid = td.refobjid"
        }
    }

    /// The triggers [`describe`] lists: those not internal, which from 15 include the clones of
    /// partitioned tables' triggers on their partitions; before 15 those clones are internal, and
    /// are listed by their parent (`u`, [`Version::trigger_parent`]).
    fn described_triggers(self) -> &'static str {
        if self.0 >= 15 {
            "NOT t.tgisinternal"
        } else {
            "NOT t.tgisinternal OR u.oid IS NOT NULL"
        }
    }
}

/// The user schema as `pg_dump --schema-only`-style DDL, in the statement forms `pg_dump` prints:
/// schemas, extensions, enum and domain types (domain constraints that are `NOT VALID` apart, as
/// `ALTER DOMAIN … ADD CONSTRAINT`), sequences with their parameters, tables (parents before
/// children, with `INHERITS` and without the inherited columns, column collations, storage
/// parameters), per-column storage, compression and inherited-column defaults, sequence
/// ownership, views, owners, constraints (with `NOT VALID` where unvalidated), indexes, clustered
/// indexes, extended statistics, functions (with their volatility; the body is a stub), triggers
/// (with their enabled state) and the privileges of relations and columns. Ordered so that what a
/// statement refers to comes first. The text is only parsed (by [`Catalog::from_sql`]), never run.
/// The queries take the form the server's version reads ([`Version`]).
pub(crate) fn schema_ddl(tx: &mut Client) -> Result<String, Error> {
    let version = Version::of(tx)?;
    schema_ddl_as(tx, version)
}

/// [`schema_ddl`] with the queries in the form of `version`'s catalog.
pub(crate) fn schema_ddl_as(tx: &mut Client, version: Version) -> Result<String, Error> {
    let queries = [
        type_ddl(),
        table_ddl(version),
        dependent_ddl(version),
        privilege_ddl(),
    ]
    .concat();
    let mut out = String::new();
    for (what, sql) in &queries {
        let rows = tx
            .query(sql.as_str(), &[])
            .map_err(|e| db_error(&format!("reading {what}"), &e))?;
        for row in rows {
            let line: Option<String> = row
                .try_get(0)
                .map_err(|e| db_error(&format!("reading {what}"), &e))?;
            if let Some(line) = line.filter(|l| !l.is_empty()) {
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// Whether the sequence `c` belongs to an identity column (which makes it: it is not created on
/// its own).
const IDENTITY_SEQUENCE: &str =
    "EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                        AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'i')";

/// Schemas, extensions, enum and domain types, and sequences (`pg_dump`'s parameters: `AS` unless
/// bigint, `MINVALUE`/`MAXVALUE` unless the type's default for the direction, `CYCLE` when set).
fn type_ddl() -> Vec<Query> {
    vec![
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
            // Validated constraints inline; NOT VALID ones come after the tables, as pg_dump has them.
            "domains",
            format!(
                "SELECT 'CREATE DOMAIN ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) || ' AS '
                        || format_type(t.typbasetype, t.typtypmod)
                        || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
                        || coalesce((SELECT string_agg(' CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid), '' ORDER BY c.conname)
                                     FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c' AND c.convalidated), '') || ';'
                 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE {USER} AND t.typtype = 'd' ORDER BY 1"
            ),
        ),
        (
            "sequences",
            format!(
                "SELECT 'CREATE ' || CASE c.relpersistence WHEN 'u' THEN 'UNLOGGED ' ELSE '' END || 'SEQUENCE '
                        || quote_ident(n.nspname) || '.' || quote_ident(c.relname)
                        || CASE WHEN s.seqtypid <> 'int8'::regtype THEN ' AS ' || format_type(s.seqtypid, NULL) ELSE '' END
                        || ' START WITH ' || s.seqstart || ' INCREMENT BY ' || s.seqincrement
                        || CASE WHEN s.seqmin = CASE WHEN s.seqincrement > 0 THEN 1 WHEN s.seqtypid = 'int2'::regtype THEN -32768
                                                     WHEN s.seqtypid = 'int4'::regtype THEN -2147483648 ELSE -9223372036854775808 END
                                THEN ' NO MINVALUE' ELSE ' MINVALUE ' || s.seqmin END
                        || CASE WHEN s.seqmax = CASE WHEN s.seqincrement < 0 THEN -1 WHEN s.seqtypid = 'int2'::regtype THEN 32767
                                                     WHEN s.seqtypid = 'int4'::regtype THEN 2147483647 ELSE 9223372036854775807 END
                                THEN ' NO MAXVALUE' ELSE ' MAXVALUE ' || s.seqmax END
                        || ' CACHE ' || s.seqcache || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END || ';'
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
                 WHERE {USER} AND c.relkind = 'S' AND NOT {IDENTITY_SEQUENCE} ORDER BY 1"
            ),
        ),
    ]
}

/// Per column `a`: whether a parent has it NOT NULL (`p.not_null`), and whether an ancestor has a
/// default for it (`p.has_default`: `pg_dump` then gives the column `DEFAULT NULL` when it has none
/// of its own), which decide what `pg_dump` prints for it.
fn from_parents(version: Version) -> String {
    let generated = version.attgenerated("pa");
    format!(
        "CROSS JOIN LATERAL (
         WITH RECURSIVE anc(relid) AS (
             SELECT inhparent FROM pg_inherits WHERE inhrelid = a.attrelid
             UNION
             SELECT i.inhparent FROM pg_inherits i JOIN anc ON i.inhrelid = anc.relid)
         SELECT coalesce(bool_or(pa.attnotnull) FILTER (WHERE pi.inhrelid IS NOT NULL), false) AS not_null,
                coalesce(bool_or(pd.oid IS NOT NULL AND {generated} = ''), false) AS has_default
         FROM anc JOIN pg_attribute pa ON pa.attrelid = anc.relid AND pa.attname = a.attname AND NOT pa.attisdropped
         LEFT JOIN pg_inherits pi ON pi.inhrelid = a.attrelid AND pi.inhparent = anc.relid
         LEFT JOIN pg_attrdef pd ON pd.adrelid = pa.attrelid AND pd.adnum = pa.attnum) p"
    )
}

/// Tables as `pg_dump` writes them: only the columns defined in the table itself (a partition
/// has all of its own), `DEFAULT NULL` where an ancestor has a default and the column none,
/// `NOT NULL` unless a parent has it, `COLLATE` (always schema-qualified) after the rest, then
/// `INHERITS`, `PARTITION BY` and `WITH` (the table's storage parameters, then its TOAST table's
/// as `toast.name`). Parents come before their children.
fn tables_sql(version: Version) -> String {
    let generated = version.attgenerated("a");
    let from_parents = from_parents(version);
    format!(
        "WITH RECURSIVE up(relid, depth) AS (
             SELECT inhrelid, 1 FROM pg_inherits
             UNION ALL
             SELECT i.inhrelid, up.depth + 1 FROM pg_inherits i JOIN up ON up.relid = i.inhparent)
         SELECT 'CREATE ' || CASE c.relpersistence WHEN 'u' THEN 'UNLOGGED ' ELSE '' END || 'TABLE '
                || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' (' || coalesce(cols.list, '') || E'\\n)'
                || CASE WHEN c.relispartition THEN '' ELSE coalesce(' INHERITS (' || (
                       SELECT string_agg(quote_ident(pn.nspname) || '.' || quote_ident(pc.relname), ', ' ORDER BY i.inhseqno)
                       FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                       WHERE i.inhrelid = c.oid) || ')', '') END
                || CASE WHEN c.relkind = 'p' THEN ' PARTITION BY ' || pg_get_partkeydef(c.oid) ELSE '' END
                || coalesce(' WITH (' || (
                       SELECT string_agg(o.prefix || quote_ident(split_part(o.opt, '=', 1)) || '='
                                         || '''' || replace(substr(o.opt, strpos(o.opt, '=') + 1), '''', '''''') || '''',
                                         ', ' ORDER BY o.toast, o.ord)
                       FROM (SELECT '' AS prefix, 0 AS toast, x.opt, x.ord FROM unnest(c.reloptions) WITH ORDINALITY x(opt, ord)
                             UNION ALL
                             SELECT 'toast.', 1, x.opt, x.ord FROM pg_class tc, unnest(tc.reloptions) WITH ORDINALITY x(opt, ord)
                             WHERE tc.oid = c.reltoastrelid) o) || ')', '') || ';'
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN (SELECT relid, max(depth) AS depth FROM up GROUP BY relid) dp ON dp.relid = c.oid
         LEFT JOIN LATERAL (
             SELECT string_agg(E'\\n    ' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
                    || CASE WHEN a.attidentity = 'a' THEN ' GENERATED ALWAYS AS IDENTITY'
                            WHEN a.attidentity = 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END
                    || CASE WHEN {generated} = 's' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
                            WHEN d.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid)
                            WHEN p.has_default THEN ' DEFAULT NULL' ELSE '' END
                    || CASE WHEN a.attnotnull AND (c.relispartition OR NOT p.not_null) THEN ' NOT NULL' ELSE '' END
                    || CASE WHEN a.attcollation <> t.typcollation
                            THEN ' COLLATE ' || quote_ident(cn.nspname) || '.' || quote_ident(co.collname) ELSE '' END,
                    ',' ORDER BY a.attnum) AS list
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
             LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             {from_parents}
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND (a.attislocal OR c.relispartition)) cols ON true
         WHERE {USER} AND c.relkind IN ('r','p')
         ORDER BY coalesce(dp.depth, 0), n.nspname, c.relname"
    )
}

/// Tables, what `pg_dump` says of their columns in `ALTER TABLE ONLY` statements (NOT NULL and
/// defaults of columns it leaves out, storage other than the type's, compression), sequence
/// ownership, views, and the owners of relations (`ALTER TABLE`, whatever the relation).
fn table_ddl(version: Version) -> Vec<Query> {
    let generated = version.attgenerated("a");
    let compression = version.set_compression();
    let from_parents = from_parents(version);
    vec![
        ("tables", tables_sql(version)),
        (
            "column properties",
            format!(
                "SELECT concat_ws(E'\\n',
                        CASE WHEN NOT x.local AND a.attnotnull AND NOT p.not_null THEN x.alter_col || ' SET NOT NULL;' END,
                        CASE WHEN NOT x.local AND d.adbin IS NOT NULL AND {generated} = ''
                             THEN x.alter_col || ' SET DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) || ';'
                             WHEN NOT x.local AND d.adbin IS NULL AND p.has_default THEN x.alter_col || ' SET DEFAULT NULL;' END,
                        CASE WHEN a.attstorage <> t.typstorage THEN x.alter_col || ' SET STORAGE '
                             || CASE a.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END || ';' END,
                        {compression})
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                 JOIN pg_type t ON t.oid = a.atttypid
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                 {from_parents}
                 CROSS JOIN LATERAL (SELECT a.attislocal OR c.relispartition AS local,
                                            'ALTER TABLE ONLY ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname)
                                            || ' ALTER COLUMN ' || quote_ident(a.attname) AS alter_col) x
                 WHERE {USER} AND c.relkind IN ('r','p')
                 ORDER BY n.nspname, c.relname, a.attnum"
            ),
        ),
        (
            "sequence ownership",
            format!(
                "SELECT 'ALTER SEQUENCE ' || quote_ident(n.nspname) || '.' || quote_ident(s.relname) || ' OWNED BY '
                        || quote_ident(tn.nspname) || '.' || quote_ident(t.relname) || '.' || quote_ident(a.attname) || ';'
                 FROM pg_depend d JOIN pg_class s ON s.oid = d.objid JOIN pg_namespace n ON n.oid = s.relnamespace
                 JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
                 JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                 WHERE {USER} AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                   AND d.deptype = 'a' AND s.relkind = 'S'
                 ORDER BY 1"
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
            "owners",
            format!(
                "SELECT 'ALTER TABLE ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname)
                        || ' OWNER TO ' || quote_ident(pg_get_userbyid(c.relowner)) || ';'
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE {USER} AND c.relkind IN ('r','p','v','m','S') AND NOT (c.relkind = 'S' AND {IDENTITY_SEQUENCE})
                 ORDER BY 1"
            ),
        ),
    ]
}

/// What needs the tables: NOT VALID domain constraints, constraints, indexes, clustered indexes,
/// extended statistics, functions, and triggers (which need their functions) with their enabled
/// state, as `pg_dump` has them (a partition's clone of its parent's trigger only when its state
/// differs).
fn dependent_ddl(version: Version) -> Vec<Query> {
    let parent = version.trigger_parent();
    vec![
        (
            "NOT VALID domain constraints",
            format!(
                "SELECT 'ALTER DOMAIN ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname)
                        || ' ADD CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid) || ';'
                 FROM pg_constraint c JOIN pg_type t ON t.oid = c.contypid JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE {USER} AND c.contype = 'c' AND NOT c.convalidated ORDER BY 1"
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
            "clustered indexes",
            format!(
                "SELECT 'ALTER TABLE ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname)
                        || ' CLUSTER ON ' || quote_ident(ic.relname) || ';'
                 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                 JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE {USER} AND i.indisclustered ORDER BY 1"
            ),
        ),
        (
            "extended statistics",
            format!(
                "SELECT pg_get_statisticsobjdef(s.oid) || ';'
                 FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
                 WHERE {USER} ORDER BY 1"
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
        (
            "triggers",
            format!(
                "SELECT concat_ws(E'\\n',
                        CASE WHEN u.oid IS NULL THEN pg_get_triggerdef(t.oid, false) || ';' END,
                        CASE WHEN t.tgenabled NOT IN ('O', 't') THEN 'ALTER TABLE ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname)
                             || CASE t.tgenabled WHEN 'A' THEN ' ENABLE ALWAYS' WHEN 'R' THEN ' ENABLE REPLICA' ELSE ' DISABLE' END
                             || ' TRIGGER ' || quote_ident(t.tgname) || ';' END)
                 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 {parent}
                 WHERE {USER} AND ((NOT t.tgisinternal AND u.oid IS NULL) OR t.tgenabled <> u.tgenabled)
                 ORDER BY n.nspname, c.relname, t.tgname"
            ),
        ),
    ]
}

/// The privileges of tables, views, materialized views and sequences, and of columns, as
/// `pg_dump` prints them: against the owner's default privileges (`acldefault`; none for a
/// column), a `REVOKE ALL` for each default entry that is gone and a `GRANT` for each entry that
/// is not a default one (`ALL` when it holds every privilege, `WITH GRANT OPTION` apart, between
/// `SET SESSION AUTHORIZATION` and `RESET SESSION AUTHORIZATION` when the owner did not grant
/// it).
fn privilege_ddl() -> Vec<Query> {
    vec![(
        "privileges",
        format!(
            "WITH obj AS (
                 SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name, n.nspname, c.relname,
                        CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind, c.relowner AS owner,
                        0 AS attnum, '' AS sub, c.relacl AS acl,
                        acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner) AS base
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE {USER} AND c.relkind IN ('r','p','v','m','S') AND c.relacl IS NOT NULL
                 UNION ALL
                 SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), n.nspname, c.relname, 'TABLE', c.relowner,
                        a.attnum, '(' || quote_ident(a.attname) || ')', a.attacl, ARRAY[]::aclitem[]
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE {USER} AND c.relkind IN ('r','p','v','m') AND a.attacl IS NOT NULL)
             SELECT line FROM (
                 SELECT o.nspname, o.relname, o.attnum, 0 AS phase, b.ord,
                        'REVOKE ALL' || o.sub || ' ON ' || o.kind || ' ' || o.name || ' FROM '
                        || CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(e.grantee)) END || ';' AS line
                 FROM obj o CROSS JOIN LATERAL unnest(o.base) WITH ORDINALITY b(item, ord)
                 CROSS JOIN LATERAL (SELECT DISTINCT x.grantee FROM aclexplode(ARRAY[b.item]) x) e
                 WHERE NOT b.item = ANY(o.acl)
                 UNION ALL
                 SELECT o.nspname, o.relname, o.attnum, 1, g.ord,
                        concat_ws(E'\\n',
                            CASE WHEN e.grantor <> o.owner THEN 'SET SESSION AUTHORIZATION ' || quote_ident(pg_get_userbyid(e.grantor)) || ';' END,
                            CASE WHEN e.plain <> '' THEN 'GRANT ' || e.plain || ' ON ' || o.kind || ' ' || o.name || ' TO ' || e.grantee || ';' END,
                            CASE WHEN e.go <> '' THEN 'GRANT ' || e.go || ' ON ' || o.kind || ' ' || o.name || ' TO ' || e.grantee || ' WITH GRANT OPTION;' END,
                            CASE WHEN e.grantor <> o.owner THEN 'RESET SESSION AUTHORIZATION;' END)
                 FROM obj o CROSS JOIN LATERAL unnest(o.acl) WITH ORDINALITY g(item, ord)
                 CROSS JOIN LATERAL (
                     SELECT min(x.grantor) AS grantor,
                            CASE WHEN min(x.grantee) = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(min(x.grantee))) END AS grantee,
                            CASE WHEN count(*) FILTER (WHERE NOT x.is_grantable) = al.n THEN 'ALL' || o.sub
                                 ELSE coalesce(string_agg(x.privilege_type || o.sub, ',' ORDER BY k.pos) FILTER (WHERE NOT x.is_grantable), '') END AS plain,
                            CASE WHEN count(*) FILTER (WHERE x.is_grantable) = al.n THEN 'ALL' || o.sub
                                 ELSE coalesce(string_agg(x.privilege_type || o.sub, ',' ORDER BY k.pos) FILTER (WHERE x.is_grantable), '') END AS go
                     FROM aclexplode(ARRAY[g.item]) x
                     JOIN (VALUES ('SELECT', 1), ('USAGE', 2), ('INSERT', 3), ('REFERENCES', 4), ('DELETE', 5), ('TRIGGER', 6),
                                  ('TRUNCATE', 7), ('MAINTAIN', 8), ('UPDATE', 9)) k(word, pos) ON k.word = x.privilege_type
                     CROSS JOIN (SELECT CASE WHEN o.attnum <> 0 THEN 4 ELSE (SELECT count(*) FROM aclexplode(o.base)) END AS n) al
                     GROUP BY al.n) e
                 WHERE NOT g.item = ANY(o.base)) l
             ORDER BY nspname, relname, attnum, phase, ord"
        ),
    )]
}

/// The schema as comparable lines (relations, their owners and privileges (those other than the
/// owner's defaults) and those of columns, storage parameters (and the TOAST table's), columns by
/// name (with a collation, storage or compression other than the type's), inheritance, sequence
/// parameters and owning columns, indexes, clustered indexes, constraints with validity (domain
/// ones too), types, views, triggers with their enabled state, extended statistics, functions,
/// extensions, schemas, comments): equal lines, equal schema for everything a migration changes.
/// Column order is left aside, as a rollback cannot restore it. The queries take the form the
/// server's version reads ([`Version`]); the lines compare within one server.
pub(crate) fn describe(tx: &mut Client) -> Result<Vec<String>, Error> {
    let version = Version::of(tx)?;
    describe_as(tx, version)
}

/// [`describe`] with the queries in the form of `version`'s catalog.
pub(crate) fn describe_as(tx: &mut Client, version: Version) -> Result<Vec<String>, Error> {
    let queries = [describe_relations(version), describe_objects(version)].concat();
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

/// [`describe`]'s queries on relations and their columns.
fn describe_relations(version: Version) -> Vec<String> {
    let generated = version.attgenerated("a");
    let collation = version.collation_name();
    let compression = version.compression_words();
    vec![
        format!(
            "SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || c.relpersistence::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND c.relkind IN ('r','p','v','m','S','f')"
        ),
        format!(
            "SELECT 'owner ' || n.nspname || '.' || c.relname || ' ' || pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND c.relkind IN ('r','p','v','m','S','f')"
        ),
        format!(
            "SELECT 'privilege ' || n.nspname || '.' || c.relname || CASE WHEN x.item = ANY(c.relacl) THEN ' ' ELSE ' revoked ' END || x.item::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL (SELECT acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner) AS base) b CROSS JOIN LATERAL (SELECT unnest(c.relacl) UNION SELECT unnest(b.base)) x(item) WHERE {USER} AND c.relkind IN ('r','p','v','m','S','f') AND c.relacl IS NOT NULL AND (x.item = ANY(c.relacl)) <> (x.item = ANY(b.base))"
        ),
        format!(
            "SELECT 'privilege ' || n.nspname || '.' || c.relname || '.' || a.attname || ' ' || x.item::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL unnest(a.attacl) x(item) WHERE {USER} AND NOT a.attisdropped"
        ),
        format!(
            "SELECT 'reloptions ' || n.nspname || '.' || c.relname || ' ' || coalesce(array_to_string(c.reloptions, ','), '') || coalesce(' toast ' || array_to_string(tc.reloptions, ','), '') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid WHERE {USER} AND (c.reloptions IS NOT NULL OR tc.reloptions IS NOT NULL)"
        ),
        format!(
            "SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END || CASE WHEN {generated} <> '' THEN ' generated' ELSE '' END || CASE WHEN a.attcollation <> t.typcollation THEN ' collate ' || {collation} ELSE '' END || CASE WHEN a.attstorage <> t.typstorage THEN ' storage ' || a.attstorage::text ELSE '' END || {compression} FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE {USER} AND c.relkind IN ('r','p','v','m','f') AND a.attnum > 0 AND NOT a.attisdropped"
        ),
        format!(
            "SELECT 'inherits ' || i.inhrelid::regclass::text || ' ' || i.inhparent::regclass::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER}"
        ),
        format!(
            "SELECT 'sequence ' || n.nspname || '.' || c.relname || ' ' || format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END || coalesce((SELECT ' owned by ' || d.refobjid::regclass::text || '.' || a.attname || ' ' || d.deptype::text FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a','i')), '') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid WHERE {USER}"
        ),
        format!(
            "SELECT 'index ' || pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' (invalid)' END || CASE WHEN i.indisclustered THEN ' (clustered)' ELSE '' END FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER}"
        ),
        format!(
            "SELECT 'constraint ' || n.nspname || '.' || coalesce(c.relname, t.typname) || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) || CASE WHEN k.convalidated THEN '' ELSE ' (not validated)' END FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid WHERE {USER}"
        ),
    ]
}

/// [`describe`]'s queries on the other objects.
fn describe_objects(version: Version) -> Vec<String> {
    let parent = version.trigger_parent();
    let triggers = version.described_triggers();
    vec![
        format!(
            "SELECT 'enum ' || n.nspname || '.' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER} GROUP BY n.nspname, t.typname"
        ),
        format!(
            "SELECT 'type ' || n.nspname || '.' || t.typname || ' ' || t.typtype::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER} AND t.typtype IN ('d','e','c') AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)"
        ),
        format!(
            "SELECT 'view ' || n.nspname || '.' || c.relname || ' ' || pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND c.relkind IN ('v','m')"
        ),
        format!(
            "SELECT 'trigger ' || t.tgrelid::regclass::text || ' ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text FROM pg_trigger t {parent} WHERE {triggers}"
        ),
        format!(
            "SELECT 'statistics ' || pg_get_statisticsobjdef(s.oid) FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE {USER}"
        ),
        format!(
            "SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') ' || md5(coalesce(p.prosrc, '')) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
        ),
        "SELECT 'extension ' || extname || ' ' || extversion FROM pg_extension".to_string(),
        format!("SELECT 'schema ' || n.nspname FROM pg_namespace n WHERE {USER}"),
        "SELECT 'comment ' || classoid::regclass::text || ' ' || objoid::regclass::text || ' ' || objsubid || ' ' || description FROM pg_description WHERE classoid = 'pg_class'::regclass AND objoid >= 16384".to_string(),
    ]
}
