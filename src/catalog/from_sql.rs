//! Loading a catalog from SQL: `pg_dump --schema-only` output or any DDL file.

use super::Catalog;
use crate::error::Error;
use crate::ir::Op;
use rayon::prelude::*;

/// A statement of a schema file that could not be read (and so is not in the catalog).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The line the statement starts on.
    pub line: u32,
    /// Why it could not be read.
    pub reason: String,
}

impl Catalog {
    /// Reads a schema: every DDL statement is applied in order; DML, `SET`, `SELECT
    /// pg_catalog.set_config(…)`, `COPY` data and ownership statements are ignored. Statements that
    /// cannot be read are listed by [`Catalog::skipped`] rather than failing the load, so one exotic
    /// statement in a large dump does not hide the rest of the schema.
    pub fn from_sql(sql: &str) -> Result<Catalog, Error> {
        let mut catalog = Catalog::new();
        let read = crate::source::read(sql);
        // A dump of a large schema has hundreds of thousands of statements: they are parsed on
        // every core, a bounded batch at a time (so their IR is never all in memory), and applied
        // in order.
        let batches = read.statements.chunks(8192).flat_map(|batch| {
            let ops: Vec<Op> = batch
                .par_iter()
                .map(|st| crate::ir::lower_statement(sql, st))
                .collect();
            batch.iter().zip(ops)
        });
        for (st, op) in batches {
            match &op {
                Op::Unparsed { error: reason } | Op::Rejected { reason } => {
                    catalog.skipped.push(Skipped {
                        line: st.span.start_line,
                        reason: reason.clone(),
                    })
                }
                Op::Insert { .. }
                | Op::Update { .. }
                | Op::Delete { .. }
                | Op::Merge { .. }
                | Op::Truncate { .. }
                | Op::Copy { .. } => {}
                _ => catalog.apply(&op, false),
            }
        }
        catalog.set_schema_loaded();
        Ok(catalog)
    }

    /// Statements of the schema that could not be read.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::QualName;

    #[test]
    fn loads_a_pg_dump_schema() {
        let dump = "SET statement_timeout = 0;\n\
            SELECT pg_catalog.set_config('search_path', '', false);\n\
            CREATE TABLE public.runs (\n    id integer NOT NULL,\n    status character varying(20),\n    started timestamp without time zone\n);\n\
            ALTER TABLE public.runs OWNER TO app;\n\
            CREATE SEQUENCE public.runs_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;\n\
            ALTER TABLE ONLY public.runs ALTER COLUMN id SET DEFAULT nextval('public.runs_id_seq'::regclass);\n\
            ALTER TABLE ONLY public.runs ADD CONSTRAINT runs_pkey PRIMARY KEY (id);\n\
            ALTER TABLE public.runs ADD CONSTRAINT status_nn CHECK (status IS NOT NULL) NOT VALID;\n\
            CREATE INDEX ix_runs_status ON public.runs USING btree (status);\n\
            INSERT INTO public.runs VALUES (1, 'x', now());\n";
        let c = Catalog::from_sql(dump).expect("loads");
        let runs = QualName::new(None, "runs");
        assert!(c.schema_loaded());
        let status = c.column(&runs, "status").expect("status column");
        assert_eq!(status.ty.base, "varchar");
        assert_eq!(status.ty.modifiers, vec![20]);
        assert!(
            c.column(&runs, "id")
                .is_some_and(|c| c.not_null && c.default.is_some())
        );
        assert!(c.has_index_leading(&runs, "status"));
        assert!(c.has_index_leading(&runs, "id"));
        // NOT VALID: does not prove anything yet.
        assert!(!c.has_not_null_check(&runs, "status"));
        assert!(c.pre_existing(&runs));
        // A table the schema lacks is unknown: assumed to exist, and flagged.
        assert!(
            c.unknown(&QualName::new(None, "nope")) && c.pre_existing(&QualName::new(None, "nope"))
        );
        assert!(!c.unknown(&runs));
        assert!(c.skipped().is_empty(), "{:?}", c.skipped());
    }
}
