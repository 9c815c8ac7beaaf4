//! Introspection against a real PostgreSQL: what a restored copy's catalog holds once read (it
//! needs the catalog's inner view, so it lives beside the code).

use super::test_server as pg;

use super::session::{Access, Budget, Tx};
use crate::ir::{ConstraintKind, QualName};
use pg::Scratch;

#[test]
fn introspection_reads_the_catalog_and_sizes() {
    let Some(mut admin) = pg::admin() else {
        return;
    };
    let scratch = Scratch::new(&mut admin, "intro", None);
    let mut c = scratch.connect();
    pg::restored_copy(&mut c);
    let catalog = super::read_catalog(&mut c, &super::DbOptions::default()).expect("catalog");
    let runs = QualName::new(Some("public"), "runs");
    let status = catalog.column(&runs, "status").expect("runs.status");
    assert_eq!(
        (status.ty.base.as_str(), status.ty.modifiers.as_slice()),
        ("varchar", &[20][..])
    );
    assert!(!status.not_null);
    let id = catalog.column(&runs, "id").expect("runs.id");
    assert!(id.identity.is_some() && id.not_null);
    assert!(
        catalog
            .column(&runs, "doubled")
            .expect("doubled")
            .generated
            .is_some()
    );
    assert!(
        catalog
            .column(&runs, "created")
            .expect("created")
            .default
            .is_some()
    );
    assert!(catalog.has_index_leading(&runs, "created"));
    assert!(!catalog.has_index_leading(&runs, "status"));
    let state = catalog
        .type_def(&QualName::new(Some("public"), "run_state"))
        .expect("enum");
    assert_eq!(
        state.enum_values.as_deref(),
        Some(
            &[
                "queued".to_string(),
                "running".to_string(),
                "done".to_string()
            ][..]
        )
    );
    assert!(
        catalog
            .type_def(&QualName::new(Some("public"), "positive"))
            .is_some_and(|d| d.domain_constrained)
    );
    assert_eq!(
        catalog
            .function_volatile("public.touch")
            .or(catalog.function_volatile("touch")),
        Some(false)
    );
    let tags = catalog
        .table(&QualName::new(Some("public"), "tags"))
        .expect("tags");
    let nn = tags
        .constraints
        .iter()
        .find(|k| k.name == "tags_key_nn")
        .expect("check");
    assert!(!nn.validated, "NOT VALID stays unvalidated");
    let invalid = catalog
        .index(&QualName::new(Some("public"), "ix_tags_dup"))
        .expect("the invalid index is in the catalog");
    assert!(!invalid.valid);
    assert!(!catalog.has_index_leading(&QualName::new(Some("public"), "tags"), "dup"));
    let metrics = catalog
        .table(&QualName::new(Some("public"), "metrics"))
        .expect("metrics");
    assert!(metrics.constraints.iter().any(|k| matches!(&k.kind, ConstraintKind::ForeignKey { ref_table, .. } if ref_table.name == "runs")));
    assert!(
        catalog
            .table(&QualName::new(Some("public"), "finished"))
            .is_some()
    );
    // Sizes: planner statistics after ANALYZE, and the files.
    let size = catalog.size(&runs).expect("runs size");
    assert_eq!(size.rows, 20_000);
    let heap: i64 = c
        .query_one("SELECT pg_relation_size('runs')", &[])
        .expect("size")
        .get(0);
    let total: i64 = c
        .query_one("SELECT pg_total_relation_size('runs')", &[])
        .expect("size")
        .get(0);
    assert_eq!(
        (size.heap_bytes, size.total_bytes),
        (heap as u64, total as u64)
    );
    assert_eq!(
        catalog.size(&QualName::new(None, "tags")).map(|s| s.rows),
        Some(100)
    );
    assert!(catalog.skipped().is_empty(), "{:?}", catalog.skipped());
}

/// Roles for a test, dropped with the value (after the scratch database declared after it, which
/// holds their objects).
struct Roles(Vec<String>);

impl Drop for Roles {
    fn drop(&mut self) {
        if let Ok(mut a) = postgres::Client::connect(&pg::base_url(), postgres::NoTls) {
            for r in &self.0 {
                let _ = a.batch_execute(&format!("DROP ROLE IF EXISTS \"{r}\""));
            }
        }
    }
}

/// The role names of [`schema_ddl_has_pg_dumps_forms`]: an owner, a grantee, and one whose name
/// needs quoting.
struct Names {
    owner: String,
    app: String,
    reader: String,
}

/// Tables (inheriting, with a collation, storage parameters, column storage and compression),
/// sequences, an index the table is clustered on, statistics, triggers, a view, a domain with a
/// NOT VALID constraint, owners and privileges.
fn create_objects(c: &mut postgres::Client, names: &Names) {
    let Names { owner, app, reader } = names;
    c.batch_execute(&format!(
        "CREATE SCHEMA \"Other\";
         CREATE SEQUENCE s1;
         CREATE SEQUENCE s2 AS integer START 5 INCREMENT 2 MINVALUE 3 MAXVALUE 1000 CACHE 10 CYCLE;
         CREATE SEQUENCE s3 AS smallint INCREMENT -1;
         CREATE UNLOGGED SEQUENCE \"Other\".\"Mixed Seq\" MAXVALUE 99;
         CREATE TABLE parent (id integer NOT NULL, note text DEFAULT 'p', body text);
         CREATE TABLE child (extra integer, note text NOT NULL) INHERITS (parent);
         ALTER TABLE child ALTER COLUMN note DROP DEFAULT;
         CREATE TABLE grandchild () INHERITS (child);
         ALTER TABLE grandchild ALTER COLUMN body SET DEFAULT 'g';
         CREATE TABLE t (
             id serial PRIMARY KEY,
             a integer, b integer,
             name text COLLATE \"C\" NOT NULL DEFAULT 'n',
             big text,
             ident integer GENERATED ALWAYS AS IDENTITY)
             WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01, toast.autovacuum_enabled = false);
         ALTER TABLE t ALTER COLUMN big SET STORAGE EXTERNAL, ALTER COLUMN name SET COMPRESSION lz4;
         ALTER SEQUENCE s1 OWNED BY t.b;
         CREATE INDEX ix_t_a ON t (a);
         ALTER TABLE t CLUSTER ON ix_t_a;
         CREATE STATISTICS st (ndistinct, dependencies) ON a, b FROM t;
         CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
         CREATE TRIGGER tg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg();
         CREATE TRIGGER tg_off AFTER UPDATE OF a ON t FOR EACH ROW EXECUTE FUNCTION trg();
         ALTER TABLE t DISABLE TRIGGER tg_off;
         CREATE VIEW v AS SELECT id FROM t;
         CREATE DOMAIN d AS integer CONSTRAINT d_pos CHECK (VALUE > 0);
         ALTER DOMAIN d ADD CONSTRAINT d_small CHECK (VALUE < 100) NOT VALID;
         ALTER TABLE t OWNER TO {owner};
         ALTER VIEW v OWNER TO {owner};
         ALTER SEQUENCE s2 OWNER TO {owner};
         GRANT SELECT, INSERT ON t TO {app};
         GRANT UPDATE ON t TO {app} WITH GRANT OPTION;
         GRANT SELECT ON t TO PUBLIC;
         GRANT SELECT (a) ON t TO {app};
         GRANT ALL ON SEQUENCE s2 TO {app};
         GRANT USAGE ON SEQUENCE s3 TO \"{reader}\" WITH GRANT OPTION;
         GRANT SELECT ON v TO \"{reader}\";
         REVOKE DELETE ON parent FROM postgres;
         GRANT SELECT ON parent TO {app} WITH GRANT OPTION;
         SET ROLE {app};
         GRANT SELECT ON parent TO \"{reader}\";
         RESET ROLE;"
    ))
    .expect("objects");
}

/// What `pg_dump -s` (PostgreSQL 15) prints for [`create_objects`]'s objects, one line per
/// statement (it breaks some over lines and orders them otherwise).
fn expected_ddl(names: &Names) -> Vec<String> {
    let Names { owner, app, reader } = names;
    let reader_q = format!("\"{reader}\"");
    vec![
        // 1. Sequences, with pg_dump's parameters; the identity column's is not created apart.
        "CREATE SEQUENCE public.s1 START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;".to_string(),
        "CREATE SEQUENCE public.s2 AS integer START WITH 5 INCREMENT BY 2 MINVALUE 3 MAXVALUE 1000 CACHE 10 CYCLE;".to_string(),
        "CREATE SEQUENCE public.s3 AS smallint START WITH -1 INCREMENT BY -1 NO MINVALUE NO MAXVALUE CACHE 1;".to_string(),
        "CREATE UNLOGGED SEQUENCE \"Other\".\"Mixed Seq\" START WITH 1 INCREMENT BY 1 NO MINVALUE MAXVALUE 99 CACHE 1;".to_string(),
        "CREATE SEQUENCE public.t_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;".to_string(),
        "ALTER SEQUENCE public.s1 OWNED BY public.t.b;".to_string(),
        "ALTER SEQUENCE public.t_id_seq OWNED BY public.t.id;".to_string(),
        // 2, 3. Collation after the rest of the column, storage parameters with the TOAST ones.
        "CREATE TABLE public.t (\n    id integer DEFAULT nextval('public.t_id_seq'::regclass) NOT NULL,\n    a integer,\n    b integer,\n    name text DEFAULT 'n'::text NOT NULL COLLATE pg_catalog.\"C\",\n    big text,\n    ident integer GENERATED ALWAYS AS IDENTITY NOT NULL\n) WITH (fillfactor='70', autovacuum_vacuum_scale_factor='0.01', toast.autovacuum_enabled='false');".to_string(),
        // 4. Storage and compression.
        "ALTER TABLE ONLY public.t ALTER COLUMN name SET COMPRESSION lz4;".to_string(),
        "ALTER TABLE ONLY public.t ALTER COLUMN big SET STORAGE EXTERNAL;".to_string(),
        // 5. Inheritance: the parent's columns are not repeated; NOT NULL and defaults follow
        // what the child has of its own.
        "CREATE TABLE public.parent (\n    id integer NOT NULL,\n    note text DEFAULT 'p'::text,\n    body text\n);".to_string(),
        "CREATE TABLE public.child (\n    note text DEFAULT NULL NOT NULL,\n    extra integer\n) INHERITS (public.parent);".to_string(),
        "CREATE TABLE public.grandchild (\n) INHERITS (public.child);".to_string(),
        "ALTER TABLE ONLY public.grandchild ALTER COLUMN note SET DEFAULT NULL;".to_string(),
        "ALTER TABLE ONLY public.grandchild ALTER COLUMN body SET DEFAULT 'g'::text;".to_string(),
        // 6, 7.
        "ALTER TABLE public.t CLUSTER ON ix_t_a;".to_string(),
        "CREATE STATISTICS public.st (ndistinct, dependencies) ON a, b FROM public.t;".to_string(),
        // 8. Triggers after the functions.
        "CREATE TRIGGER tg BEFORE INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.trg();".to_string(),
        "CREATE TRIGGER tg_off AFTER UPDATE OF a ON public.t FOR EACH ROW EXECUTE FUNCTION public.trg();\nALTER TABLE public.t DISABLE TRIGGER tg_off;".to_string(),
        // 9. Owners (ALTER TABLE whatever the relation) and privileges.
        format!("ALTER TABLE public.t OWNER TO {owner};"),
        format!("ALTER TABLE public.v OWNER TO {owner};"),
        format!("ALTER TABLE public.s2 OWNER TO {owner};"),
        format!("ALTER TABLE public.t_id_seq OWNER TO {owner};"),
        "ALTER TABLE public.parent OWNER TO postgres;".to_string(),
        format!("GRANT SELECT,INSERT ON TABLE public.t TO {app};\nGRANT UPDATE ON TABLE public.t TO {app} WITH GRANT OPTION;"),
        "GRANT SELECT ON TABLE public.t TO PUBLIC;".to_string(),
        format!("GRANT SELECT(a) ON TABLE public.t TO {app};"),
        format!("GRANT ALL ON SEQUENCE public.s2 TO {app};"),
        format!("GRANT USAGE ON SEQUENCE public.s3 TO {reader_q} WITH GRANT OPTION;"),
        format!("GRANT SELECT ON TABLE public.v TO {reader_q};"),
        format!(
            "REVOKE ALL ON TABLE public.parent FROM postgres;\nGRANT SELECT,INSERT,REFERENCES,TRIGGER,TRUNCATE,UPDATE ON TABLE public.parent TO postgres;\nGRANT SELECT ON TABLE public.parent TO {app} WITH GRANT OPTION;\nSET SESSION AUTHORIZATION {app};\nGRANT SELECT ON TABLE public.parent TO {reader_q};\nRESET SESSION AUTHORIZATION;"
        ),
        // 10. Domain constraints: NOT VALID ones apart.
        "CREATE DOMAIN public.d AS integer CONSTRAINT d_pos CHECK ((VALUE > 0));".to_string(),
        "ALTER DOMAIN public.d ADD CONSTRAINT d_small CHECK ((VALUE < 100)) NOT VALID;".to_string(),
    ]
}

/// What [`describe`](super::introspect::describe) says of [`create_objects`]'s objects.
fn expected_description(names: &Names) -> Vec<String> {
    let Names { owner, app, .. } = names;
    vec![
        format!("owner public.t {owner}"),
        format!("privilege public.t {app}=arw*/{owner}"),
        format!("privilege public.t =r/{owner}"),
        format!("privilege public.t.a {app}=r/{owner}"),
        "privilege public.parent revoked postgres=arwdDxt/postgres".to_string(),
        "privilege public.parent postgres=arwDxt/postgres".to_string(),
        "sequence public.s1 bigint start 1 increment 1 min 1 max 9223372036854775807 cache 1 owned by public.t.b a".to_string(),
        "sequence public.s2 integer start 5 increment 2 min 3 max 1000 cache 10 cycle".to_string(),
        "sequence public.t_ident_seq integer start 1 increment 1 min 1 max 2147483647 cache 1 owned by public.t.ident i".to_string(),
        "index CREATE INDEX ix_t_a ON public.t USING btree (a) (clustered)".to_string(),
        "reloptions public.t fillfactor=70,autovacuum_vacuum_scale_factor=0.01 toast autovacuum_enabled=false".to_string(),
        "column public.t.name text not null default 'n'::text collate \"C\" compression l".to_string(),
        "column public.t.big text storage e".to_string(),
        "statistics CREATE STATISTICS public.st (ndistinct, dependencies) ON a, b FROM public.t".to_string(),
        "inherits public.child public.parent".to_string(),
        "inherits public.grandchild public.child".to_string(),
        "constraint public.d d_small CHECK ((VALUE < 100)) NOT VALID (not validated)".to_string(),
    ]
}

/// The DDL read from the database has the statement forms `pg_dump --schema-only` (PostgreSQL 15)
/// prints for the same objects, and the schema description covers the same facts.
#[test]
fn schema_ddl_has_pg_dumps_forms() {
    let Some(mut admin) = pg::admin() else {
        return;
    };
    let pid = std::process::id();
    let (owner, app, reader) = (
        format!("migsafe_ddl_owner_{pid}"),
        format!("migsafe_ddl_app_{pid}"),
        format!("Migsafe Reader {pid}"),
    );
    let roles = Roles(vec![owner.clone(), app.clone(), reader.clone()]);
    for r in &roles.0 {
        admin
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS \"{r}\"; CREATE ROLE \"{r}\" NOLOGIN"
            ))
            .expect("role");
    }
    let scratch = Scratch::new(&mut admin, "ddl", None);
    let mut c = scratch.connect();
    let names = Names { owner, app, reader };
    create_objects(&mut c, &names);
    let (ddl, described) = {
        let mut tx = Tx::begin(
            &mut c,
            Access::ReadOnly,
            super::DbOptions::default().limits(),
            Budget::new(60_000),
        )
        .expect("tx");
        let ddl = super::introspect::schema_ddl(&mut tx).expect("ddl");
        tx.execute("SELECT set_config('search_path', '', true)", &[])
            .expect("search_path");
        let described = super::introspect::describe(&mut tx).expect("describe");
        tx.rollback().expect("rollback");
        (ddl, described)
    };
    for want in &expected_ddl(&names) {
        assert!(
            ddl.contains(&format!("{want}\n")),
            "missing:\n{want}\n--- in:\n{ddl}"
        );
    }
    // The identity column makes its sequence: neither created nor owned apart.
    assert!(!ddl.contains("t_ident_seq"), "{ddl}");
    // Parents come before their children.
    let at = |s: &str| ddl.find(s).unwrap_or_else(|| panic!("{s}"));
    assert!(at("TABLE public.parent (") < at("TABLE public.child ("));
    assert!(at("TABLE public.child (") < at("TABLE public.grandchild ("));
    assert!(at("CREATE FUNCTION public.trg()") < at("CREATE TRIGGER tg "));
    // The DDL is read like a dump: every statement is read, and the tables are there with their
    // columns, inherited or not.
    let catalog = crate::catalog::Catalog::from_sql(&ddl).expect("read");
    let lines: Vec<&str> = ddl.lines().collect();
    let skipped: Vec<String> = catalog
        .skipped()
        .iter()
        .map(|s| {
            let line = lines
                .get((s.line as usize).saturating_sub(1))
                .unwrap_or(&"");
            format!("{line}: {}", s.reason)
        })
        .collect();
    assert!(skipped.is_empty(), "{skipped:#?}");
    let t = QualName::new(Some("public"), "t");
    assert!(catalog.column(&t, "name").is_some_and(|c| c.not_null));
    assert!(
        catalog
            .column(&QualName::new(Some("public"), "child"), "extra")
            .is_some()
    );
    assert!(
        catalog
            .table(&QualName::new(Some("public"), "grandchild"))
            .is_some()
    );
    for want in expected_description(&names) {
        assert!(
            described.contains(&want),
            "missing {want} in {described:#?}"
        );
    }
    drop(c);
    drop(scratch);
    drop(roles);
}

/// Objects whose reading differs between the catalogs of PostgreSQL 11 to 18: a column with a
/// compression of its own, collations (one in a schema of its own, which prints qualified), a
/// partitioned table's trigger whose clone is disabled on one partition and left as it is on the
/// other, a foreign key (whose internal triggers stay out), identity, inheritance. No generated
/// column: there are none before 12.
fn create_versioned_objects(c: &mut postgres::Client) {
    c.batch_execute(
        "CREATE SCHEMA \"Other\";
         CREATE COLLATION \"Other\".\"My C\" FROM \"C\";
         CREATE TABLE t (
             id integer PRIMARY KEY,
             name text COLLATE \"C\",
             label text COLLATE \"Other\".\"My C\",
             body text COMPRESSION pglz,
             ident integer GENERATED ALWAYS AS IDENTITY);
         ALTER TABLE t ALTER COLUMN body SET STORAGE EXTERNAL;
         CREATE TABLE r (id integer PRIMARY KEY, t_id integer REFERENCES t);
         CREATE TABLE parent (id integer NOT NULL, note text DEFAULT 'p');
         CREATE TABLE child (extra integer) INHERITS (parent);
         CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
         CREATE TRIGGER tt AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION trg();
         CREATE TABLE p (id integer, x integer) PARTITION BY RANGE (id);
         CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);
         CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (10) TO (20);
         CREATE TRIGGER tp BEFORE INSERT ON p FOR EACH ROW EXECUTE FUNCTION trg();
         ALTER TABLE p1 DISABLE TRIGGER tp;",
    )
    .expect("objects");
}

/// The query forms for every version migsafe reads (PostgreSQL 11 to 18) run, here on the test
/// server's version, and read what its own form reads, but for what an older catalog does not
/// have: before 14, a column's compression.
#[test]
fn every_versions_queries_read_the_same_schema() {
    let Some(mut admin) = pg::admin() else {
        return;
    };
    let scratch = Scratch::new(&mut admin, "versions", None);
    let mut c = scratch.connect();
    create_versioned_objects(&mut c);
    let mut tx = Tx::begin(
        &mut c,
        Access::ReadOnly,
        super::DbOptions::default().limits(),
        Budget::new(60_000),
    )
    .expect("tx");
    tx.execute("SELECT set_config('search_path', '', true)", &[])
        .expect("search_path");
    let ddl = super::introspect::schema_ddl(&mut tx).expect("ddl");
    let described = super::introspect::describe(&mut tx).expect("describe");
    // What the server's own form reads, so that the comparisons below mean something.
    for want in [
        "ALTER TABLE ONLY public.t ALTER COLUMN body SET COMPRESSION pglz;",
        "CREATE TRIGGER tp BEFORE INSERT ON public.p FOR EACH ROW EXECUTE FUNCTION public.trg();",
        "ALTER TABLE public.p1 DISABLE TRIGGER tp;",
    ] {
        assert!(ddl.lines().any(|l| l == want), "missing {want} in:\n{ddl}");
    }
    assert!(!ddl.contains("ON public.p1 FOR EACH ROW"), "{ddl}");
    assert!(!ddl.contains("RI_ConstraintTrigger"), "{ddl}");
    for want in [
        "column public.t.name text collate \"C\"",
        "column public.t.label text collate \"Other\".\"My C\"",
        "column public.t.body text storage e compression p",
    ] {
        assert!(
            described.iter().any(|l| l == want),
            "missing {want} in {described:#?}"
        );
    }
    for partition in ["p1", "p2"] {
        assert!(
            described
                .iter()
                .any(|l| l.starts_with(&format!("trigger public.{partition} CREATE TRIGGER tp "))),
            "the clone on {partition} in {described:#?}"
        );
    }
    for major in 11..=18 {
        let version = super::introspect::Version(major);
        let old_ddl = super::introspect::schema_ddl_as(&mut tx, version)
            .unwrap_or_else(|e| panic!("PostgreSQL {major}'s DDL queries: {e}"));
        let old_described = super::introspect::describe_as(&mut tx, version)
            .unwrap_or_else(|e| panic!("PostgreSQL {major}'s description queries: {e}"));
        let (want_ddl, want_described) = if major >= 14 {
            (ddl.clone(), described.clone())
        } else {
            let lines = ddl.lines().filter(|l| !l.contains(" SET COMPRESSION "));
            let mut described: Vec<String> = described
                .iter()
                .map(|l| l.replace(" compression p", ""))
                .collect();
            described.sort();
            (lines.map(|l| format!("{l}\n")).collect(), described)
        };
        assert_eq!(old_ddl, want_ddl, "PostgreSQL {major}'s DDL");
        assert_eq!(
            old_described, want_described,
            "PostgreSQL {major}'s description"
        );
    }
    tx.rollback().expect("rollback");
}
