//! Turns a parsed statement into our [`Op`]. The lowering (this directory) is the only place that
//! matches sqlparser's AST, split by family as sqlparser splits its own: `ddl.rs` (create, alter,
//! drop), `table.rs` (column definitions, constraints and ALTER TABLE actions), `dml.rs`,
//! `control.rs` (transactions, session settings, privileges, maintenance) and `expr.rs`
//! (expressions and type names).

mod control;
mod ddl;
mod dml;
mod expr;
mod reads;
mod table;

pub(super) use expr::{expr_from_sql, type_from_sql};

use super::fallback;
use super::*;
use crate::parse::Parsed;
use sqlparser::ast as sq;

/// Reads one statement of the source into an [`Op`]: parsed by sqlparser and lowered, or by the
/// keyword fallback; printed text, empty statements and statements with an unterminated token keep
/// their kind.
pub(crate) fn lower_statement(text: &str, st: &crate::source::SourceStatement) -> Op {
    use crate::source::RawKind;
    match (st.kind, &st.tokenizer_error) {
        (RawKind::Empty, _) => Op::Empty,
        (RawKind::Text, _) => Op::Text,
        (RawKind::Sql, Some(e)) => Op::Unparsed { error: e.clone() },
        (RawKind::Sql, None) => {
            let parsed = crate::parse::parse(
                &text[st.body.clone()],
                st.span.start_line,
                st.span.start_column,
            );
            lower(&parsed)
        }
    }
}

/// Lowers one parsed statement. Statements sqlparser rejects, or is known to misread, go to the
/// keyword fallback; what neither understands is `Op::Unparsed` with sqlparser's message.
pub(crate) fn lower(parsed: &Parsed) -> Op {
    if let Some(reason) = fallback::rejected(&parsed.tokens) {
        return Op::Rejected { reason };
    }
    if let Some(op) = fallback::before_sqlparser(&parsed.tokens) {
        return op;
    }
    let op = match &parsed.statement {
        Ok(stmt) => statement(stmt),
        Err(error) => fallback::recognise(&parsed.tokens).unwrap_or_else(|| Op::Unparsed {
            error: error.clone(),
        }),
    };
    fallback::complete(op, &parsed.tokens)
}

pub(super) fn fold(id: &sq::Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

/// The folded parts of a dotted name.
fn name_parts(name: &sq::ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            sq::ObjectNamePart::Identifier(i) => fold(i),
            other => other.to_string(),
        })
        .collect()
}

fn qual(name: &sq::ObjectName) -> QualName {
    match name_parts(name).as_slice() {
        [] => QualName::new(None, ""),
        [n] => QualName::new(None, n),
        [.., s, n] => QualName::new(Some(s), n),
    }
}

fn last_ident(name: &sq::ObjectName) -> String {
    qual(name).name
}

/// Lowers a statement sqlparser read, family by family; what none knows is [`Op::Other`].
fn statement(s: &sq::Statement) -> Op {
    ddl::create(s)
        .or_else(|| ddl::alter(s))
        .or_else(|| ddl::drop(s))
        .or_else(|| dml::statement(s))
        .or_else(|| control::transaction(s))
        .or_else(|| control::session(s))
        .or_else(|| control::maintenance(s))
        .unwrap_or_else(|| other(s))
}

/// A statement migsafe does not model, named by its first two words.
fn other(s: &sq::Statement) -> Op {
    let text = s.to_string();
    let what: Vec<&str> = text.split_whitespace().take(2).collect();
    Op::Other {
        what: what.join(" ").to_uppercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::expr::{expr_from_sql, type_from_sql};
    use super::*;
    use crate::parse::parse;

    fn op(sql: &str) -> Op {
        lower(&parse(sql, 1, 1))
    }

    #[test]
    fn pg_dump_matviews_and_detach_finalize() {
        let Op::CreateView {
            materialized,
            reads,
            ..
        } = op("CREATE MATERIALIZED VIEW public.mv AS\n SELECT id FROM public.t\n  WITH NO DATA")
        else {
            panic!("not a view")
        };
        assert!(materialized);
        assert_eq!(reads, vec![QualName::new(Some("public"), "t")]);
        let Op::AlterTable { actions, .. } = op("ALTER TABLE m DETACH PARTITION m1 FINALIZE")
        else {
            panic!("not an ALTER TABLE")
        };
        assert!(matches!(
            actions.as_slice(),
            [AlterAction::DetachPartition {
                finalize: true,
                concurrently: false,
                ..
            }]
        ));
    }

    #[test]
    fn types() {
        let t = type_from_sql("VARCHAR(250)");
        assert_eq!(
            (t.base.as_str(), t.modifiers.as_slice(), t.array),
            ("varchar", &[250][..], false)
        );
        assert_eq!(
            type_from_sql("TIMESTAMP WITH TIME ZONE").base,
            "timestamptz"
        );
        assert_eq!(type_from_sql("NUMERIC(10, 2)").modifiers, [10, 2]);
        assert_eq!(type_from_sql("INTEGER[]").base, "int4");
        assert!(type_from_sql("INTEGER[]").array);
        assert_eq!(type_from_sql("character varying").base, "varchar");
    }

    #[test]
    fn add_column_with_default() {
        let Op::AlterTable { name, actions, .. } =
            op("ALTER TABLE public.tags ADD COLUMN created TIMESTAMP DEFAULT now() NOT NULL")
        else {
            panic!("not alter table")
        };
        assert_eq!(name.display_qualified(), "public.tags");
        let AlterAction::AddColumn { column, .. } = &actions[0] else {
            panic!("not add column")
        };
        assert!(column.not_null);
        let d = column
            .default
            .as_ref()
            .map(|d| d.calls.clone())
            .unwrap_or_default();
        assert_eq!(d, ["now"]);
    }

    #[test]
    fn quoted_names_keep_case() {
        let Op::CreateTable { name, columns, .. } =
            op("CREATE TABLE \"Auth\".\"User\" (\"Id\" serial PRIMARY KEY)")
        else {
            panic!()
        };
        assert_eq!(name, QualName::new(Some("Auth"), "User"));
        assert_eq!(columns[0].name, "Id");
        assert_eq!(columns[0].ty.base, "int4 (serial)");
    }

    #[test]
    fn foreign_key_constraint() {
        let Op::AlterTable { actions, .. } = op(
            "ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES customers (id) ON DELETE CASCADE NOT VALID",
        ) else {
            panic!()
        };
        let AlterAction::AddConstraint { constraint } = &actions[0] else {
            panic!()
        };
        assert!(constraint.not_valid);
        assert_eq!(constraint.name.as_deref(), Some("fk"));
        assert!(matches!(
            &constraint.kind,
            ConstraintKind::ForeignKey {
                on_delete: Some(RefAction::Cascade),
                ..
            }
        ));
    }

    #[test]
    fn drop_columns_one_action_each() {
        let Op::AlterTable { actions, .. } =
            op("ALTER TABLE t DROP COLUMN a, DROP COLUMN IF EXISTS b CASCADE")
        else {
            panic!("not alter table")
        };
        assert_eq!(
            actions,
            [
                AlterAction::DropColumn {
                    name: "a".into(),
                    if_exists: false,
                    cascade: false
                },
                AlterAction::DropColumn {
                    name: "b".into(),
                    if_exists: true,
                    cascade: true
                },
            ]
        );
    }

    #[test]
    fn expressions() {
        let e = expr_from_sql(
            "COALESCE(a, gen_random_uuid()) = b.c AND d IS NOT NULL".into(),
            false,
        );
        assert_eq!(e.calls, ["coalesce", "gen_random_uuid"]);
        assert_eq!(e.columns, ["a", "c", "d"]);
        assert_eq!(
            expr_from_sql("CURRENT_TIMESTAMP".into(), false).calls,
            ["current_timestamp"]
        );
    }

    #[test]
    fn kinds() {
        assert_eq!(op("BEGIN").kind(), "begin");
        assert_eq!(op("COMMIT").kind(), "commit");
        assert_eq!(op("CREATE UNIQUE INDEX ix ON t (a)").kind(), "create_index");
        assert_eq!(op("DROP TABLE t").kind(), "drop_table");
        assert_eq!(op("INSERT INTO alembic_version (version_num) VALUES ('a') RETURNING alembic_version.version_num").kind(), "insert");
        assert_eq!(op("SHOW search_path").kind(), "other");
        assert_eq!(
            op("WITH c AS (SELECT 1) UPDATE t SET a = 1 FROM c").kind(),
            "update"
        );
        assert_eq!(op("WITH c AS (SELECT 1) SELECT * FROM c").kind(), "select");
    }
}
