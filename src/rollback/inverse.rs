//! The inverse of one statement.

use super::objects;
use crate::catalog::{Catalog, ConstraintInfo, Index, RelKind, Table, normal};
use crate::ir::{
    AlterAction, Constraint, ConstraintKind, Expr, Identity, IndexDef, ObjectKind, Op, QualName,
    RefAction, TypeName, quote_ident,
};
use crate::pg::types::{TimeZone, type_change};

/// One statement of a rollback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub sql: String,
    /// Can run inside a transaction block (false for the CONCURRENTLY forms).
    pub transactional: bool,
}

impl Step {
    pub(super) fn tx(sql: impl Into<String>) -> Step {
        Step {
            sql: sql.into(),
            transactional: true,
        }
    }

    fn no_tx(sql: impl Into<String>) -> Step {
        Step {
            sql: sql.into(),
            transactional: false,
        }
    }
}

/// How a statement is undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inverse {
    /// These statements restore the schema and data exactly (often none: SET, SELECT, VACUUM).
    Exact(Vec<Step>),
    /// These statements restore the schema, but `loses` is gone for good.
    Lossy { steps: Vec<Step>, loses: String },
    /// Nothing migsafe can generate undoes it.
    Impossible { reason: String },
}

impl Inverse {
    pub(super) fn none() -> Inverse {
        Inverse::Exact(Vec::new())
    }

    pub(super) fn impossible(reason: impl Into<String>) -> Inverse {
        Inverse::Impossible {
            reason: reason.into(),
        }
    }

    pub fn steps(&self) -> &[Step] {
        match self {
            Inverse::Exact(s) | Inverse::Lossy { steps: s, .. } => s,
            Inverse::Impossible { .. } => &[],
        }
    }

    /// The steps, taken.
    pub fn into_steps(self) -> Vec<Step> {
        match self {
            Inverse::Exact(s) | Inverse::Lossy { steps: s, .. } => s,
            Inverse::Impossible { .. } => Vec::new(),
        }
    }

    /// Runs `self` after `other`: the worse verdict wins, steps in order.
    fn then(self, other: Inverse) -> Inverse {
        match (self, other) {
            (Inverse::Impossible { reason }, _) | (_, Inverse::Impossible { reason }) => {
                Inverse::Impossible { reason }
            }
            (Inverse::Exact(mut a), Inverse::Exact(b)) => {
                // Kept for the whole pass: exactly as long as it is (a growth step reserved four).
                a.reserve_exact(b.len());
                a.extend(b);
                Inverse::Exact(a)
            }
            (a, b) => {
                let mut losses = Vec::new();
                let mut steps = Vec::new();
                for x in [a, b] {
                    match x {
                        Inverse::Exact(s) => steps.extend(s),
                        Inverse::Lossy { steps: s, loses } => {
                            steps.extend(s);
                            losses.push(loses);
                        }
                        Inverse::Impossible { .. } => {}
                    }
                }
                Inverse::Lossy {
                    steps,
                    loses: losses.join("; "),
                }
            }
        }
    }
}

/// What the inverse is computed against.
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    pub timezone: &'a TimeZone,
    pub pg_version: u32,
}

pub(super) fn q(n: &QualName) -> String {
    n.to_string()
}

pub(super) fn id(s: &str) -> String {
    quote_ident(s)
}

pub(super) fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Retry safety: the rollback script must work whether the migration finished or stopped after any
/// commit unit, so every step checks that what it undoes is there. Statements with `IF [NOT]
/// EXISTS` say so themselves; the others run inside a DO block that asks the catalog first (a
/// transactional step only: nothing CONCURRENTLY runs in a DO block).
pub(super) fn guarded(cond: &str, sql: &str) -> Step {
    Step::tx(format!(
        "DO $migsafe$ BEGIN IF {cond} THEN {sql} END IF; END $migsafe$;"
    ))
}

/// SQL condition: the relation exists.
pub(super) fn has_rel(t: &QualName) -> String {
    format!("to_regclass({}) IS NOT NULL", lit(&q(t)))
}

/// SQL condition: the table has the column.
pub(super) fn has_column(t: &QualName, c: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass({}) AND attname = {} AND NOT attisdropped)",
        lit(&q(t)),
        lit(c)
    )
}

/// SQL condition: the table has a constraint of that name.
fn has_constraint(t: &QualName, c: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass({}) AND conname = {})",
        lit(&q(t)),
        lit(c)
    )
}

/// A name in the table's schema (indexes and constraints live there).
fn sibling(table: &QualName, name: &str) -> QualName {
    QualName::new(table.schema.as_deref(), name)
}

fn ref_action(a: &RefAction) -> &'static str {
    match a {
        RefAction::NoAction => "NO ACTION",
        RefAction::Restrict => "RESTRICT",
        RefAction::Cascade => "CASCADE",
        RefAction::SetNull => "SET NULL",
        RefAction::SetDefault => "SET DEFAULT",
    }
}

fn cols(c: &[String]) -> String {
    c.iter().map(|c| id(c)).collect::<Vec<_>>().join(", ")
}

/// The body of a constraint as `ADD CONSTRAINT name <body>` takes it.
pub(crate) fn constraint_body(kind: &ConstraintKind) -> Option<String> {
    Some(match kind {
        ConstraintKind::PrimaryKey { columns, .. } if !columns.is_empty() => {
            format!("PRIMARY KEY ({})", cols(columns))
        }
        ConstraintKind::Unique { columns, .. } if !columns.is_empty() => {
            format!("UNIQUE ({})", cols(columns))
        }
        ConstraintKind::ForeignKey {
            columns,
            ref_table,
            ref_columns,
            on_delete,
            on_update,
            deferrable,
            initially_deferred,
        } => {
            let mut s = format!(
                "FOREIGN KEY ({}) REFERENCES {}",
                cols(columns),
                q(ref_table)
            );
            if !ref_columns.is_empty() {
                s.push_str(&format!(" ({})", cols(ref_columns)));
            }
            if let Some(a) = on_update {
                s.push_str(&format!(" ON UPDATE {}", ref_action(a)));
            }
            if let Some(a) = on_delete {
                s.push_str(&format!(" ON DELETE {}", ref_action(a)));
            }
            if *deferrable {
                s.push_str(" DEFERRABLE");
                if *initially_deferred {
                    s.push_str(" INITIALLY DEFERRED");
                }
            }
            s
        }
        ConstraintKind::Check { expr } => format!("CHECK ({})", expr.sql),
        ConstraintKind::Exclude { sql } => {
            // Kept as written, possibly with its CONSTRAINT name in front.
            let upper = sql.to_uppercase();
            match upper.find("EXCLUDE") {
                Some(i) => sql[i..].to_string(),
                None => return None,
            }
        }
        _ => return None,
    })
}

/// `ALTER TABLE t ADD CONSTRAINT …` re-creating a constraint as it was (NOT VALID then VALIDATE
/// for a validated CHECK or foreign key, so the re-check does not block writes).
fn re_add_constraint(table: &QualName, c: &ConstraintInfo) -> Option<Vec<Step>> {
    let body = constraint_body(&c.kind)?;
    let t = q(table);
    let name = id(&c.name);
    // Re-added only on the table, and only when it is not there (the drop never ran).
    let cond = format!(
        "{} AND NOT {}",
        has_rel(table),
        has_constraint(table, &c.name)
    );
    let validatable = matches!(
        c.kind,
        ConstraintKind::Check { .. } | ConstraintKind::ForeignKey { .. }
    );
    Some(if validatable {
        let mut steps = vec![guarded(
            &cond,
            &format!("ALTER TABLE {t} ADD CONSTRAINT {name} {body} NOT VALID;"),
        )];
        if c.validated {
            steps.push(Step::tx(format!(
                "ALTER TABLE IF EXISTS {t} VALIDATE CONSTRAINT {name};"
            )));
        }
        steps
    } else {
        vec![guarded(
            &cond,
            &format!("ALTER TABLE {t} ADD CONSTRAINT {name} {body};"),
        )]
    })
}

/// `CREATE INDEX` re-creating an index from its definition.
fn re_create_index(ix: &Index, concurrently: bool) -> Option<Step> {
    let d = ix.definition.as_ref()?;
    let mut s = format!(
        "CREATE {}INDEX {}IF NOT EXISTS {} ON {}",
        if d.unique { "UNIQUE " } else { "" },
        if concurrently { "CONCURRENTLY " } else { "" },
        id(&ix.name.name),
        q(&ix.table)
    );
    if let Some(m) = &d.method {
        s.push_str(&format!(" USING {m}"));
    }
    s.push_str(&format!(" ({})", d.keys.join(", ")));
    if !d.include.is_empty() {
        s.push_str(&format!(" INCLUDE ({})", cols(&d.include)));
    }
    if let Some(p) = &d.predicate {
        s.push_str(&format!(" WHERE {p}"));
    }
    s.push(';');
    // IF NOT EXISTS does not cover the table: on a second run it may have been renamed back.
    Some(if concurrently {
        Step::no_tx(s)
    } else {
        guarded(&has_rel(&ix.table), &s)
    })
}

/// A column definition as CREATE TABLE / ADD COLUMN take it.
fn column_sql(c: &crate::catalog::Column) -> String {
    let serial = c.ty.base.ends_with("(serial)");
    let mut s = format!("{} {}", id(&c.name), c.ty.sql);
    if let Some(coll) = &c.settings().collation {
        s.push_str(&format!(" COLLATE {coll}"));
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(" GENERATED ALWAYS AS ({}) STORED", g.sql));
    } else if let Some(i) = &c.identity {
        s.push_str(match i {
            Identity::Always => " GENERATED ALWAYS AS IDENTITY",
            Identity::ByDefault => " GENERATED BY DEFAULT AS IDENTITY",
        });
    } else if let (Some(d), false) = (&c.default, serial) {
        s.push_str(&format!(" DEFAULT {}", d.sql));
    }
    if c.not_null && !serial && c.identity.is_none() {
        s.push_str(" NOT NULL");
    }
    s
}

/// Re-creates a dropped table: its sequences, columns, storage parameters, parents, constraints
/// (then, by the caller, its indexes and [`objects::table_steps`]).
fn re_create_table(t: &Table, cat: &Catalog) -> Option<Vec<Step>> {
    if !t.complete || t.kind != RelKind::Table {
        return None;
    }
    let mut steps = objects::sequences_before(cat, &t.name, None);
    let columns: Vec<String> = t.columns.iter().map(column_sql).collect();
    let mut create = format!(
        "CREATE TABLE IF NOT EXISTS {} (\n    {}\n)",
        q(&t.name),
        columns.join(",\n    ")
    );
    let parents = cat.parents(&t.name);
    if !parents.is_empty() {
        let names: Vec<String> = parents.iter().map(q).collect();
        create.push_str(&format!(" INHERITS ({})", names.join(", ")));
    }
    let options = cat.reloptions(&t.name);
    if !options.is_empty() {
        let list: Vec<String> = options
            .iter()
            .map(|(k, v)| format!("{k} = {}", lit(v)))
            .collect();
        create.push_str(&format!(" WITH ({})", list.join(", ")));
    }
    create.push(';');
    steps.push(Step::tx(create));
    for c in &t.constraints {
        steps.extend(re_add_constraint(&t.name, c)?);
    }
    steps.extend(objects::sequences_after(cat, &t.name, None));
    Some(steps)
}

/// Indexes of `table` not backing a constraint, re-created.
fn plain_indexes(cat: &Catalog, table: &QualName, only_with_column: Option<&str>) -> Vec<Step> {
    cat.indexes_of(table)
        .filter(|i| i.constraint.is_none())
        .filter(|i| {
            only_with_column.is_none_or(|c| {
                i.columns.iter().any(|x| x == c)
                    || i.definition.as_ref().is_some_and(|d| {
                        d.keys.iter().any(|k| mentions(k, c))
                            || d.predicate.as_deref().is_some_and(|p| mentions(p, c))
                    })
            })
        })
        .filter_map(|i| re_create_index(i, false))
        .collect()
}

/// Whether SQL text mentions the column as a word.
fn mentions(sql: &str, column: &str) -> bool {
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == column)
}

fn constraint_columns(kind: &ConstraintKind) -> Vec<String> {
    match kind {
        ConstraintKind::PrimaryKey { columns, .. }
        | ConstraintKind::Unique { columns, .. }
        | ConstraintKind::ForeignKey { columns, .. } => columns.clone(),
        ConstraintKind::Check { expr } => expr.columns.clone(),
        ConstraintKind::Exclude { .. } => Vec::new(),
    }
}

/// The inverse of `op`, given the catalog before it.
pub fn inverse(op: &Op, cx: &Context) -> Inverse {
    match op {
        // Statements that change no schema object: nothing to undo.
        Op::Transaction(_)
        | Op::Set { .. }
        | Op::Reset { .. }
        | Op::Select { .. }
        | Op::Empty
        | Op::Text
        | Op::SetConstraints { .. }
        | Op::Lock { .. }
        | Op::Vacuum { .. }
        | Op::Analyze { .. }
        | Op::Reindex { .. }
        | Op::RefreshMaterializedView { .. } => Inverse::none(),
        Op::CreateTable { .. }
        | Op::CreateIndex(_)
        | Op::CreateType { .. }
        | Op::CreateDomain { .. }
        | Op::CreateSequence { .. }
        | Op::CreateView { .. }
        | Op::CreateFunction { .. }
        | Op::CreateTrigger { .. }
        | Op::CreateExtension { .. }
        | Op::CreateSchema { .. } => create_inverse(op, cx.catalog),
        Op::AlterTable { name, actions, .. } => alter_table_inverse(name, actions, cx),
        Op::AlterIndex { .. }
        | Op::AlterTypeAddValue { .. }
        | Op::AlterTypeRenameValue { .. }
        | Op::AlterTypeRename { .. }
        | Op::AlterSequence { .. }
        | Op::Comment { .. } => alter_object_inverse(op, cx.catalog),
        Op::Drop { .. } | Op::DropTrigger { .. } => drop_inverse(op, cx.catalog),
        Op::Cluster { table, index } => {
            objects::cluster_inverse(table.as_ref(), index.as_deref(), cx.catalog)
        }
        Op::CreateStatistics {
            name,
            if_not_exists,
            ..
        } => objects::create_statistics_inverse(name, *if_not_exists, cx.catalog),
        Op::AlterDomain { name, action } => objects::alter_domain_inverse(name, action, cx.catalog),
        Op::Insert { .. }
        | Op::Update { .. }
        | Op::Delete { .. }
        | Op::Merge { .. }
        | Op::Truncate { .. }
        | Op::Copy { .. } => data_inverse(op, cx.catalog),
        Op::Do { .. } => {
            Inverse::impossible("a DO block runs procedural code whose effects migsafe cannot undo")
        }
        Op::Grant(p) => objects::privileges_inverse(p.as_deref(), true, cx.catalog),
        Op::Revoke(p) => objects::privileges_inverse(p.as_deref(), false, cx.catalog),
        Op::Other { what } => Inverse::impossible(format!("{what}: migsafe does not model it")),
        Op::Unparsed { .. } => Inverse::impossible("migsafe could not read this statement"),
        Op::Rejected { .. } => Inverse::impossible("PostgreSQL rejects this statement"),
    }
}

/// The answer for a statement outside the family a function handles, which `inverse` never sends
/// it: impossible, so that no undo is claimed.
fn unmodelled(op: &Op) -> Inverse {
    Inverse::impossible(format!("{}: migsafe does not model it", op.kind()))
}

/// CREATE: the object is dropped again; IF NOT EXISTS and OR REPLACE depend on what was there.
fn create_inverse(op: &Op, cat: &Catalog) -> Inverse {
    match op {
        Op::CreateTable {
            name,
            if_not_exists,
            temporary,
            ..
        } => {
            if *temporary || (*if_not_exists && cat.table(name).is_some()) {
                Inverse::none()
            } else {
                Inverse::Exact(vec![Step::tx(format!("DROP TABLE IF EXISTS {};", q(name)))])
            }
        }
        Op::CreateIndex(ix) => create_index_inverse(ix, cat),
        Op::CreateType { name, .. } => {
            Inverse::Exact(vec![Step::tx(format!("DROP TYPE IF EXISTS {};", q(name)))])
        }
        Op::CreateDomain { name, .. } => Inverse::Exact(vec![Step::tx(format!(
            "DROP DOMAIN IF EXISTS {};",
            q(name)
        ))]),
        Op::CreateSequence {
            name,
            if_not_exists,
            ..
        } => {
            if *if_not_exists && !cat.schema_loaded() {
                Inverse::Lossy {
                    steps: vec![Step::tx(format!("DROP SEQUENCE IF EXISTS {};", q(name)))],
                    loses: format!("{name}, should it have existed before (IF NOT EXISTS)"),
                }
            } else {
                Inverse::Exact(vec![Step::tx(format!(
                    "DROP SEQUENCE IF EXISTS {};",
                    q(name)
                ))])
            }
        }
        Op::CreateView {
            name,
            materialized,
            or_replace,
            ..
        } => create_view_inverse(name, *materialized, *or_replace, cat),
        Op::CreateFunction {
            name,
            or_replace,
            kind,
            ..
        } => create_function_inverse(name, *or_replace, kind, cat),
        Op::CreateTrigger {
            name,
            table,
            or_replace,
            ..
        } => create_trigger_inverse(name, table, *or_replace, cat),
        Op::CreateExtension {
            name,
            if_not_exists,
        } => create_extension_inverse(name, *if_not_exists, cat),
        Op::CreateSchema {
            name,
            if_not_exists,
        } => {
            if *if_not_exists && !cat.schema_loaded() {
                Inverse::Lossy {
                    steps: vec![Step::tx(format!("DROP SCHEMA IF EXISTS {};", id(name)))],
                    loses: format!("schema {name}, should it have existed before (IF NOT EXISTS)"),
                }
            } else {
                Inverse::Exact(vec![Step::tx(format!(
                    "DROP SCHEMA IF EXISTS {};",
                    id(name)
                ))])
            }
        }
        // `inverse` sends only CREATE statements here.
        _ => unmodelled(op),
    }
}

/// CREATE INDEX: dropped by name, CONCURRENTLY when it was built so.
fn create_index_inverse(ix: &IndexDef, cat: &Catalog) -> Inverse {
    let table = normal(&ix.table);
    let Some(name) = &ix.name else {
        return Inverse::impossible(
            "the index has no name: PostgreSQL picks one, so migsafe cannot name it to drop it",
        );
    };
    let qn = sibling(&table, name);
    if ix.if_not_exists && cat.index(&qn).is_some() {
        return Inverse::none();
    }
    let step = if ix.concurrently {
        Step::no_tx(format!("DROP INDEX CONCURRENTLY IF EXISTS {};", q(&qn)))
    } else {
        Step::tx(format!("DROP INDEX IF EXISTS {};", q(&qn)))
    };
    Inverse::Exact(vec![step])
}

/// CREATE [OR REPLACE] TRIGGER: dropped; a replaced definition is put back when known.
fn create_trigger_inverse(
    name: &str,
    table: &QualName,
    or_replace: bool,
    cat: &Catalog,
) -> Inverse {
    let drop = Step::tx(format!(
        "DROP TRIGGER IF EXISTS {} ON {};",
        id(name),
        q(table)
    ));
    if let Some(old) = or_replace
        .then(|| objects::replaced_trigger(name, table, cat))
        .flatten()
    {
        return Inverse::Exact(vec![old]);
    }
    if or_replace
        && !(cat.schema_loaded() || cat.table(table).is_some_and(|t| t.created_in_migration))
    {
        Inverse::Lossy {
            steps: vec![drop],
            loses: format!("the previous definition of trigger {name}, if one was replaced"),
        }
    } else {
        Inverse::Exact(vec![drop])
    }
}

/// CREATE EXTENSION: dropped, unless IF NOT EXISTS found it installed.
fn create_extension_inverse(name: &str, if_not_exists: bool, cat: &Catalog) -> Inverse {
    if if_not_exists && cat.has_extension(name) {
        return Inverse::none();
    }
    let drop = Step::tx(format!("DROP EXTENSION IF EXISTS {};", id(name)));
    if if_not_exists {
        Inverse::Lossy {
            steps: vec![drop],
            loses: format!(
                "extension {name}, should it have been installed before the migration (IF NOT EXISTS)"
            ),
        }
    } else {
        Inverse::Exact(vec![drop])
    }
}

/// CREATE [OR REPLACE] [MATERIALIZED] VIEW: dropped; a replaced definition is lost.
fn create_view_inverse(
    name: &QualName,
    materialized: bool,
    or_replace: bool,
    cat: &Catalog,
) -> Inverse {
    let kind = if materialized {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    };
    let existed = cat.table(name).is_some();
    if or_replace && (existed || !cat.schema_loaded()) {
        if existed {
            Inverse::impossible(format!(
                "CREATE OR REPLACE VIEW {name}: the previous definition is not known to migsafe"
            ))
        } else {
            Inverse::Lossy {
                steps: vec![Step::tx(format!("DROP {kind} IF EXISTS {};", q(name)))],
                loses: format!("the previous definition of {name}, if OR REPLACE replaced one"),
            }
        }
    } else {
        Inverse::Exact(vec![Step::tx(format!(
            "DROP {kind} IF EXISTS {};",
            q(name)
        ))])
    }
}

/// CREATE [OR REPLACE] FUNCTION or PROCEDURE: dropped; a replaced body is lost.
fn create_function_inverse(
    name: &QualName,
    or_replace: bool,
    kind: &ObjectKind,
    cat: &Catalog,
) -> Inverse {
    let what = if *kind == ObjectKind::Procedure {
        "PROCEDURE"
    } else {
        "FUNCTION"
    };
    let drop = Step::tx(format!("DROP {what} IF EXISTS {};", q(name)));
    if or_replace {
        if cat.function_volatile(&name.name).is_some() {
            Inverse::impossible(format!(
                "CREATE OR REPLACE {what} {name}: the previous body is not known to migsafe"
            ))
        } else {
            Inverse::Lossy {
                steps: vec![drop],
                loses: format!("the previous body of {name}, if OR REPLACE replaced one"),
            }
        }
    } else {
        Inverse::Exact(vec![drop])
    }
}

/// ALTER TABLE, action by action.
fn alter_table_inverse(name: &QualName, actions: &[AlterAction], cx: &Context) -> Inverse {
    // Undo the actions last to first; all are computed against the catalog before the
    // statement, with the table name as each action sees it.
    let mut table = normal(name);
    let mut names = Vec::new();
    for a in actions {
        names.push(table.clone());
        match a {
            AlterAction::RenameTable { to } => table = sibling(&table, to),
            AlterAction::SetSchema { schema } => table = QualName::new(Some(schema), &table.name),
            _ => {}
        }
    }
    let mut out = Inverse::none();
    for (a, t) in actions.iter().zip(names).rev() {
        out = out.then(alter_inverse(a, &normal(name), &t, cx));
    }
    out
}

/// ALTER of an index, type or sequence, and COMMENT ON.
fn alter_object_inverse(op: &Op, cat: &Catalog) -> Inverse {
    match op {
        Op::AlterIndex {
            name,
            rename_to: Some(to),
            ..
        } => Inverse::Exact(vec![Step::tx(format!(
            "ALTER INDEX IF EXISTS {} RENAME TO {};",
            q(&sibling(&normal(name), to)),
            id(&name.name)
        ))]),
        Op::AlterIndex { name, .. } => Inverse::impossible(format!(
            "ALTER INDEX {name}: the previous settings are not known to migsafe"
        )),
        Op::AlterTypeAddValue { name, value, .. } => Inverse::impossible(format!(
            "ALTER TYPE {name} ADD VALUE {}: PostgreSQL cannot remove a value from an enum (before PostgreSQL 18 not even by hand without rebuilding the type and every column using it)",
            lit(value)
        )),
        Op::AlterTypeRenameValue { name, from, to } => Inverse::Exact(vec![guarded(
            &format!(
                "EXISTS (SELECT 1 FROM pg_enum WHERE enumtypid = to_regtype({}) AND enumlabel = {})",
                lit(&q(name)),
                lit(to)
            ),
            &format!(
                "ALTER TYPE {} RENAME VALUE {} TO {};",
                q(name),
                lit(to),
                lit(from)
            ),
        )]),
        Op::AlterTypeRename { name, to } => Inverse::Exact(vec![guarded(
            &format!("to_regtype({}) IS NOT NULL", lit(&q(&sibling(name, to)))),
            &format!(
                "ALTER TYPE {} RENAME TO {};",
                q(&sibling(name, to)),
                id(&name.name)
            ),
        )]),
        Op::AlterSequence {
            name,
            sql_tail,
            owned_by,
        } => objects::alter_sequence_inverse(name, sql_tail, owned_by.is_some(), cat),
        Op::Comment {
            target,
            name,
            column,
        } => comment_inverse(target, name, column.as_deref()),
        // `inverse` sends only ALTER and COMMENT statements here.
        _ => unmodelled(op),
    }
}

/// COMMENT ON: the comment is cleared; the one it replaced is not known.
fn comment_inverse(target: &ObjectKind, name: &QualName, column: Option<&str>) -> Inverse {
    let what = match (target, column) {
        (ObjectKind::Table, Some(_)) => "COLUMN",
        (ObjectKind::Table, None) => "TABLE",
        (ObjectKind::View, _) => "VIEW",
        (ObjectKind::MaterializedView, _) => "MATERIALIZED VIEW",
        (ObjectKind::Index, _) => "INDEX",
        (ObjectKind::Type, _) => "TYPE",
        (ObjectKind::Schema, _) => "SCHEMA",
        (ObjectKind::Sequence, _) => "SEQUENCE",
        _ => {
            return Inverse::impossible(
                "COMMENT ON this kind of object: migsafe does not restore it",
            );
        }
    };
    let target = match column {
        Some(c) => format!("{}.{}", q(name), id(c)),
        None => q(name),
    };
    let exists = match (target_kind_is_type(what), column) {
        (_, Some(c)) => has_column(name, c),
        (true, None) => format!("to_regtype({}) IS NOT NULL", lit(&q(name))),
        (false, None) if what == "SCHEMA" => format!(
            "EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = {})",
            lit(&name.name)
        ),
        (false, None) => has_rel(name),
    };
    Inverse::Lossy {
        steps: vec![guarded(
            &exists,
            &format!("COMMENT ON {what} {target} IS NULL;"),
        )],
        loses: "the previous comment, if there was one".to_string(),
    }
}

/// DROP: each object re-created from the catalog, the last named first.
fn drop_inverse(op: &Op, cat: &Catalog) -> Inverse {
    match op {
        Op::Drop {
            kind,
            names,
            cascade,
            concurrently,
            if_exists,
        } => {
            let mut out = Inverse::none();
            for n in names.iter().rev() {
                out = out.then(drop_object_inverse(
                    kind,
                    n,
                    *cascade,
                    *concurrently,
                    *if_exists,
                    cat,
                ));
            }
            out
        }
        Op::DropTrigger {
            name,
            table,
            if_exists,
        } => objects::drop_trigger_inverse(name, table.as_ref(), *if_exists, cat),
        // `inverse` sends only DROP statements here.
        _ => unmodelled(op),
    }
}

/// Statements that change rows: what they changed is gone, unless the rollback drops it anyway
/// (an UPDATE that only fills columns the migration added: undoing the ADD COLUMN drops them).
fn data_inverse(op: &Op, cat: &Catalog) -> Inverse {
    match op {
        Op::Update {
            table, assignments, ..
        } if !assignments.is_empty()
            && assignments.iter().all(|(c, _)| {
                !c.is_empty() && cat.column(table, c).is_some_and(|c| c.created_in_migration)
            }) =>
        {
            Inverse::none()
        }
        Op::Insert { table, .. } => Inverse::impossible(format!(
            "INSERT INTO {table}: migsafe cannot tell which rows to delete again"
        )),
        Op::Update { table, .. } => {
            Inverse::impossible(format!("UPDATE {table}: the previous values are gone"))
        }
        Op::Delete { table, .. } => {
            Inverse::impossible(format!("DELETE FROM {table}: the deleted rows are gone"))
        }
        Op::Merge { table } => {
            Inverse::impossible(format!("MERGE INTO {table}: the previous rows are gone"))
        }
        Op::Truncate { tables, .. } => Inverse::impossible(format!(
            "TRUNCATE {}: the rows are gone",
            tables.iter().map(q).collect::<Vec<_>>().join(", ")
        )),
        Op::Copy { table, .. } => Inverse::impossible(format!(
            "COPY {}: migsafe cannot tell which rows to delete again",
            table.as_ref().map(q).unwrap_or_default()
        )),
        // `inverse` sends only data-changing statements here.
        _ => unmodelled(op),
    }
}

fn target_kind_is_type(what: &str) -> bool {
    what == "TYPE"
}

fn drop_object_inverse(
    kind: &ObjectKind,
    n: &QualName,
    cascade: bool,
    concurrently: bool,
    if_exists: bool,
    cat: &Catalog,
) -> Inverse {
    let cascade_note = if cascade {
        " and whatever CASCADE dropped with it"
    } else {
        ""
    };
    match kind {
        ObjectKind::Table => match cat.table(n) {
            Some(t) => {
                let created_here = t.created_in_migration;
                match re_create_table(t, cat) {
                    Some(mut steps) => {
                        steps.extend(plain_indexes(cat, n, None));
                        steps.extend(objects::table_steps(cat, n));
                        if created_here && !cascade {
                            Inverse::Exact(steps)
                        } else {
                            let mut loses = vec![format!("the rows of {n}{cascade_note}")];
                            loses.extend(objects::sequence_losses(cat, n, None));
                            if !cat.privileges_known() {
                                loses.push(format!(
                                    "the privileges on {n}, if it had any (the schema lists none: pg_dump without -x prints them)"
                                ));
                            }
                            Inverse::Lossy {
                                steps,
                                loses: loses.join("; "),
                            }
                        }
                    }
                    None => Inverse::impossible(format!(
                        "DROP TABLE {n}: its columns are not fully known (give --schema)"
                    )),
                }
            }
            None if if_exists && cat.schema_loaded() => Inverse::none(),
            None => Inverse::impossible(format!(
                "DROP TABLE {n}: its definition is not known (give --schema)"
            )),
        },
        ObjectKind::Index => match cat.index(n) {
            Some(ix) if ix.constraint.is_none() => match re_create_index(ix, concurrently) {
                Some(s) => Inverse::Exact(vec![s]),
                None => Inverse::impossible(format!(
                    "DROP INDEX {n}: its definition is not known (give --schema)"
                )),
            },
            Some(_) => Inverse::impossible(format!(
                "DROP INDEX {n}: it backs a constraint and cannot be dropped by itself"
            )),
            None if if_exists && cat.schema_loaded() => Inverse::none(),
            None => Inverse::impossible(format!(
                "DROP INDEX {n}: its definition is not known (give --schema)"
            )),
        },
        ObjectKind::Type => match cat.type_def(n).and_then(|t| t.enum_values.as_ref()) {
            Some(values) if !cascade => Inverse::Exact(vec![guarded(
                &format!("to_regtype({}) IS NULL", lit(&q(n))),
                &format!(
                    "CREATE TYPE {} AS ENUM ({});",
                    q(n),
                    values.iter().map(|v| lit(v)).collect::<Vec<_>>().join(", ")
                ),
            )]),
            _ => Inverse::impossible(format!(
                "DROP TYPE {n}: its definition is not known{cascade_note}"
            )),
        },
        ObjectKind::View | ObjectKind::MaterializedView => Inverse::impossible(format!(
            "DROP VIEW {n}: its query is not known to migsafe{cascade_note}"
        )),
        ObjectKind::Sequence if !cascade => objects::drop_sequence_inverse(n, if_exists, cat),
        ObjectKind::Statistics => objects::drop_statistics_inverse(n, if_exists, cat),
        _ => Inverse::impossible(format!(
            "DROP of {n}: its definition is not known to migsafe{cascade_note}"
        )),
    }
}

/// One ALTER TABLE action undone: `before` is the table's name before the statement, `t` its name
/// when the action runs.
fn alter_inverse(a: &AlterAction, before: &QualName, t: &QualName, cx: &Context) -> Inverse {
    match a {
        AlterAction::AddColumn { .. }
        | AlterAction::DropColumn { .. }
        | AlterAction::AlterColumnType { .. }
        | AlterAction::SetDefault { .. }
        | AlterAction::DropDefault { .. }
        | AlterAction::SetNotNull { .. }
        | AlterAction::DropNotNull { .. }
        | AlterAction::AddIdentity { .. }
        | AlterAction::DropIdentity { .. }
        | AlterAction::RenameColumn { .. }
        | AlterAction::SetColumnStatistics { .. } => column_inverse(a, before, t, cx),
        AlterAction::AddConstraint { .. }
        | AlterAction::DropConstraint { .. }
        | AlterAction::ValidateConstraint { .. }
        | AlterAction::RenameConstraint { .. } => constraint_inverse(a, before, t, cx.catalog),
        AlterAction::RenameTable { .. }
        | AlterAction::SetSchema { .. }
        | AlterAction::AttachPartition { .. }
        | AlterAction::DetachPartition { .. }
        | AlterAction::EnableTrigger { .. }
        | AlterAction::DisableTrigger { .. }
        | AlterAction::SetLogged
        | AlterAction::SetUnlogged
        | AlterAction::RowLevelSecurity { .. }
        | AlterAction::SetTablespace { .. }
        | AlterAction::SetAccessMethod
        | AlterAction::ReplicaIdentity
        | AlterAction::Other { .. } => table_action_inverse(a, t),
        AlterAction::SetStorageParams { params, .. } => {
            objects::storage_params_inverse(params, before, t, cx.catalog)
        }
        AlterAction::ClusterOn { .. } => objects::cluster_on_inverse(before, t, cx.catalog),
        AlterAction::SetStorage { column, .. } => {
            objects::column_setting_inverse(column, true, before, t, cx.catalog)
        }
        AlterAction::SetCompression { column, .. } => {
            objects::column_setting_inverse(column, false, before, t, cx.catalog)
        }
        AlterAction::Inherit { parent, inherit } => objects::inherit_inverse(parent, *inherit, t),
        AlterAction::OwnerTo { .. } => objects::owner_inverse(before, t, cx.catalog),
        // Undone with the type change it belongs to, which puts the collation before back.
        AlterAction::SetCollation { .. } => Inverse::none(),
        AlterAction::RestartIdentity { column } => Inverse::Lossy {
            steps: Vec::new(),
            loses: format!("the position of {t}.{column}'s identity sequence before RESTART"),
        },
    }
}

/// `ALTER TABLE IF EXISTS t <sql>;`
fn on_table(t: &QualName, sql: String) -> Inverse {
    Inverse::Exact(vec![Step::tx(format!(
        "ALTER TABLE IF EXISTS {} {sql};",
        q(t)
    ))])
}

/// `ALTER TABLE t <sql>;` when the column is there: it is missing when the statement that added it
/// belongs to a commit unit that never committed.
fn on_column(t: &QualName, c: &str, sql: String) -> Inverse {
    Inverse::Exact(vec![guarded(
        &has_column(t, c),
        &format!("ALTER TABLE {} {sql};", q(t)),
    )])
}

/// Actions on one column: from the column as the catalog had it.
fn column_inverse(a: &AlterAction, before: &QualName, t: &QualName, cx: &Context) -> Inverse {
    let cat = cx.catalog;
    let tq = q(t);
    let col = |c: &str| cat.column(before, c);
    match a {
        AlterAction::AddColumn {
            column,
            if_not_exists,
        } => {
            if *if_not_exists && col(&column.name).is_some() {
                Inverse::none()
            } else {
                // Dropping the column also drops its indexes and constraints.
                on_table(t, format!("DROP COLUMN IF EXISTS {}", id(&column.name)))
            }
        }
        AlterAction::DropColumn {
            name,
            if_exists,
            cascade,
        } => drop_column_inverse(name, *if_exists, *cascade, before, t, cat),
        AlterAction::AlterColumnType { column, ty, using } => {
            column_type_inverse(column, ty, using.as_deref(), before, t, cx)
        }
        AlterAction::SetDefault { column, .. } | AlterAction::DropDefault { column } => {
            match col(column) {
                Some(c) => match (&c.default, c.ty.base.ends_with("(serial)")) {
                    (Some(d), false) => on_column(
                        t,
                        column,
                        format!("ALTER COLUMN {} SET DEFAULT {}", id(column), d.sql),
                    ),
                    (Some(_), true) => match cat.owned_sequences(before, Some(column)).next() {
                        Some(s) => on_column(
                            t,
                            column,
                            format!(
                                "ALTER COLUMN {} SET DEFAULT nextval({}::regclass)",
                                id(column),
                                lit(&q(&s.name))
                            ),
                        ),
                        None => Inverse::impossible(format!(
                            "the default of serial column {column} (its sequence's name) is not known"
                        )),
                    },
                    (None, _) => on_column(
                        t,
                        column,
                        format!("ALTER COLUMN {} DROP DEFAULT", id(column)),
                    ),
                },
                None => Inverse::impossible(format!(
                    "the previous default of {column} is not known (give --schema)"
                )),
            }
        }
        // Written only for a column that was nullable (or NOT NULL): without a schema, that is
        // what the statement implies.
        AlterAction::SetNotNull { column } => match col(column) {
            Some(c) if c.not_null => Inverse::none(),
            _ => on_column(
                t,
                column,
                format!("ALTER COLUMN {} DROP NOT NULL", id(column)),
            ),
        },
        AlterAction::DropNotNull { column } => match col(column) {
            Some(c) if !c.not_null => Inverse::none(),
            _ => on_column(
                t,
                column,
                format!("ALTER COLUMN {} SET NOT NULL", id(column)),
            ),
        },
        AlterAction::AddIdentity { column, .. } => on_column(
            t,
            column,
            format!("ALTER COLUMN {} DROP IDENTITY IF EXISTS", id(column)),
        ),
        AlterAction::DropIdentity { column, .. } => drop_identity_inverse(column, before, t, cat),
        AlterAction::RenameColumn { from, to } => {
            on_column(t, to, format!("RENAME COLUMN {} TO {}", id(to), id(from)))
        }
        AlterAction::SetColumnStatistics { column } => Inverse::Lossy {
            steps: vec![guarded(
                &has_column(t, column),
                &format!(
                    "ALTER TABLE {tq} ALTER COLUMN {} SET STATISTICS -1;",
                    id(column)
                ),
            )],
            loses: format!("the previous statistics target of {column}, if it was not the default"),
        },
        // `alter_inverse` sends only column actions here.
        _ => Inverse::impossible("migsafe does not model this action"),
    }
}

/// DROP COLUMN: re-added with its constraints and indexes; its values are lost.
fn drop_column_inverse(
    name: &str,
    if_exists: bool,
    cascade: bool,
    before: &QualName,
    t: &QualName,
    cat: &Catalog,
) -> Inverse {
    let tq = q(t);
    let Some(c) = cat.column(before, name) else {
        if if_exists && cat.schema_loaded() {
            return Inverse::none();
        }
        return Inverse::impossible(format!(
            "DROP COLUMN {name}: its type is not known (give --schema)"
        ));
    };
    let mut steps = objects::sequences_before(cat, before, Some(name));
    steps.push(Step::tx(format!(
        "ALTER TABLE IF EXISTS {tq} ADD COLUMN IF NOT EXISTS {};",
        column_sql(c)
    )));
    steps.extend(objects::column_setting_steps(t, c));
    if let Some(table) = cat.table(before) {
        for k in table
            .constraints
            .iter()
            .filter(|k| constraint_columns(&k.kind).iter().any(|x| x == name))
        {
            match re_add_constraint(t, k) {
                Some(s) => steps.extend(s),
                None => {
                    return Inverse::impossible(format!(
                        "DROP COLUMN {name}: constraint {} on it cannot be re-created",
                        k.name
                    ));
                }
            }
        }
    }
    steps.extend(plain_indexes(cat, before, Some(name)));
    steps.extend(objects::sequences_after(cat, before, Some(name)));
    let mut loses = if c.created_in_migration {
        String::new()
    } else {
        let mut l = vec![format!("the values of {t}.{name}")];
        l.extend(objects::sequence_losses(cat, before, Some(name)));
        l.join("; ")
    };
    if c.not_null
        && c.default.is_none()
        && c.identity.is_none()
        && c.generated.is_none()
        && !loses.is_empty()
    {
        loses.push_str(
            " (NOT NULL without a default: re-adding it fails on a table with rows until the values are restored)",
        );
    }
    if cascade {
        if !loses.is_empty() {
            loses.push_str("; ");
        }
        loses.push_str("objects CASCADE dropped with the column");
    }
    if loses.is_empty() {
        Inverse::Exact(steps)
    } else {
        Inverse::Lossy { steps, loses }
    }
}

/// ALTER COLUMN TYPE: cast back to the type the catalog had.
fn column_type_inverse(
    column: &str,
    ty: &TypeName,
    using: Option<&Expr>,
    before: &QualName,
    t: &QualName,
    cx: &Context,
) -> Inverse {
    let tq = q(t);
    let Some(c) = cx.catalog.column(before, column) else {
        return Inverse::impossible(format!(
            "ALTER COLUMN {column} TYPE: the previous type is not known (give --schema)"
        ));
    };
    let change = type_change(&c.ty, ty, using, column, cx.timezone, cx.pg_version);
    // The collation before: without COLLATE the column takes the type's default, which also
    // undoes a COLLATE the change named.
    let collate = match &c.settings().collation {
        Some(coll) => format!(" COLLATE {coll}"),
        None => String::new(),
    };
    // Enums take no cast from other enums or most types: through text, which every type has.
    let via = if cx
        .catalog
        .type_def(&c.ty.qual_name())
        .is_some_and(|d| d.enum_values.is_some())
    {
        "::text"
    } else {
        ""
    };
    let back = guarded(
        &has_column(t, column),
        &format!(
            "ALTER TABLE {tq} ALTER COLUMN {} TYPE {}{collate} USING {}{via}::{};",
            id(column),
            c.ty.sql,
            id(column),
            c.ty.sql
        ),
    );
    match change.lossy {
        Some(l) if !c.created_in_migration => Inverse::Lossy {
            steps: vec![back],
            loses: l,
        },
        _ => Inverse::Exact(vec![back]),
    }
}

/// DROP IDENTITY: added back with a new sequence.
fn drop_identity_inverse(column: &str, before: &QualName, t: &QualName, cat: &Catalog) -> Inverse {
    let tq = q(t);
    match cat.column(before, column).and_then(|c| c.identity.clone()) {
        Some(i) => Inverse::Lossy {
            steps: vec![guarded(
                &format!(
                    "EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass({}) AND attname = {} AND NOT attisdropped AND attidentity = '')",
                    lit(&tq),
                    lit(column)
                ),
                &format!(
                    "ALTER TABLE {tq} ALTER COLUMN {} ADD GENERATED {} AS IDENTITY;",
                    id(column),
                    match i {
                        Identity::Always => "ALWAYS",
                        Identity::ByDefault => "BY DEFAULT",
                    }
                ),
            )],
            loses: format!(
                "the position of {column}'s identity sequence: the new one starts at 1 (setval it past the largest value)"
            ),
        },
        None => Inverse::impossible(format!(
            "DROP IDENTITY on {column}: its identity kind is not known (give --schema)"
        )),
    }
}

/// Actions on constraints: re-created from the catalog, or dropped by the name they were given.
fn constraint_inverse(a: &AlterAction, before: &QualName, t: &QualName, cat: &Catalog) -> Inverse {
    let tq = q(t);
    match a {
        AlterAction::AddConstraint { constraint } => {
            add_constraint_inverse(constraint, before, t, cat)
        }
        AlterAction::DropConstraint { name, .. } => {
            let found = cat
                .table(before)
                .and_then(|t| t.constraints.iter().find(|c| &c.name == name));
            match found.and_then(|c| re_add_constraint(t, c)) {
                Some(steps) => Inverse::Exact(steps),
                None => Inverse::impossible(format!(
                    "DROP CONSTRAINT {name}: its definition is not known (give --schema)"
                )),
            }
        }
        AlterAction::ValidateConstraint { name } => {
            validate_constraint_inverse(name, before, t, cat)
        }
        AlterAction::RenameConstraint { from, to } => Inverse::Exact(vec![guarded(
            &has_constraint(t, to),
            &format!(
                "ALTER TABLE {tq} RENAME CONSTRAINT {} TO {};",
                id(to),
                id(from)
            ),
        )]),
        // `alter_inverse` sends only constraint actions here.
        _ => Inverse::impossible("migsafe does not model this action"),
    }
}

/// ADD CONSTRAINT: dropped, and an index it took over with USING INDEX built again.
fn add_constraint_inverse(
    constraint: &Constraint,
    before: &QualName,
    t: &QualName,
    cat: &Catalog,
) -> Inverse {
    let tq = q(t);
    let name = crate::catalog::constraint_name(&before.name, constraint);
    let mut steps = vec![Step::tx(format!(
        "ALTER TABLE IF EXISTS {tq} DROP CONSTRAINT IF EXISTS {};",
        id(&name)
    ))];
    // USING INDEX turned an index into the constraint's: dropping the constraint drops
    // it, so it is built again as it was.
    let using = match &constraint.kind {
        ConstraintKind::PrimaryKey { using_index, .. }
        | ConstraintKind::Unique { using_index, .. } => using_index.as_ref(),
        _ => None,
    };
    if let Some(ix) = using {
        match cat
            .index(&sibling(before, ix))
            .and_then(|i| re_create_index(i, false))
        {
            Some(s) => steps.push(s),
            None => {
                return Inverse::impossible(format!(
                    "ADD CONSTRAINT … USING INDEX {ix}: the index's definition is not known"
                ));
            }
        }
    }
    if let ConstraintKind::PrimaryKey { columns, .. } = &constraint.kind {
        let columns = match using {
            Some(ix) if columns.is_empty() => cat
                .index(&sibling(before, ix))
                .map(|i| i.columns.clone())
                .unwrap_or_default(),
            _ => columns.clone(),
        };
        match primary_key_not_null_inverse(&columns, before, t, cat) {
            Ok(more) => steps.extend(more),
            Err(reason) => return Inverse::impossible(reason),
        }
    }
    Inverse::Exact(steps)
}

/// A primary key makes its columns NOT NULL, and dropping it leaves them so: the columns that were
/// nullable before get DROP NOT NULL again.
fn primary_key_not_null_inverse(
    columns: &[String],
    before: &QualName,
    t: &QualName,
    cat: &Catalog,
) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for c in columns {
        match cat.column(before, c) {
            Some(col) if col.not_null => {}
            Some(_) => steps.push(guarded(
                &has_column(t, c),
                &format!("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL;", q(t), id(c)),
            )),
            None => {
                return Err(format!(
                    "PRIMARY KEY: whether {c} was NOT NULL before is not known (give --schema)"
                ));
            }
        }
    }
    Ok(steps)
}

/// VALIDATE CONSTRAINT: the constraint re-created NOT VALID.
fn validate_constraint_inverse(
    name: &str,
    before: &QualName,
    t: &QualName,
    cat: &Catalog,
) -> Inverse {
    let tq = q(t);
    let found = cat
        .table(before)
        .and_then(|t| t.constraints.iter().find(|c| c.name == name));
    match found {
        Some(c) if c.validated => Inverse::none(),
        Some(c) => {
            let unvalidated = ConstraintInfo {
                validated: false,
                ..c.clone()
            };
            let mut steps = vec![Step::tx(format!(
                "ALTER TABLE IF EXISTS {tq} DROP CONSTRAINT IF EXISTS {};",
                id(name)
            ))];
            match re_add_constraint(t, &unvalidated) {
                Some(s) => {
                    steps.extend(s);
                    Inverse::Exact(steps)
                }
                None => Inverse::impossible(format!(
                    "VALIDATE CONSTRAINT {name}: the constraint cannot be re-created NOT VALID"
                )),
            }
        }
        None => Inverse::impossible(format!(
            "VALIDATE CONSTRAINT {name}: the constraint is not known (give --schema)"
        )),
    }
}

/// Actions on the table as a whole: its name, schema, partitions, triggers and storage.
fn table_action_inverse(a: &AlterAction, t: &QualName) -> Inverse {
    let tq = q(t);
    match a {
        AlterAction::RenameTable { to } => Inverse::Exact(vec![Step::tx(format!(
            "ALTER TABLE IF EXISTS {} RENAME TO {};",
            q(&sibling(t, to)),
            id(&t.name)
        ))]),
        AlterAction::SetSchema { schema } => Inverse::Exact(vec![Step::tx(format!(
            "ALTER TABLE IF EXISTS {} SET SCHEMA {};",
            q(&QualName::new(Some(schema), &t.name)),
            id(t.schema.as_deref().unwrap_or("public"))
        ))]),
        AlterAction::AttachPartition { partition } => Inverse::Exact(vec![guarded(
            &format!(
                "EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = to_regclass({}) AND inhrelid = to_regclass({}))",
                lit(&tq),
                lit(&q(partition))
            ),
            &format!("ALTER TABLE {tq} DETACH PARTITION {};", q(partition)),
        )]),
        AlterAction::DetachPartition { partition, .. } => Inverse::impossible(format!(
            "DETACH PARTITION {partition}: its partition bound is not known to migsafe"
        )),
        AlterAction::EnableTrigger { name } | AlterAction::DisableTrigger { name } => {
            let back = if matches!(a, AlterAction::EnableTrigger { .. }) {
                "DISABLE"
            } else {
                "ENABLE"
            };
            Inverse::Exact(vec![guarded(
                &format!(
                    "EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass({}) AND tgname = {})",
                    lit(&tq),
                    lit(name)
                ),
                &format!("ALTER TABLE {tq} {back} TRIGGER {};", id(name)),
            )])
        }
        AlterAction::SetLogged => on_table(t, "SET UNLOGGED".to_string()),
        AlterAction::SetUnlogged => on_table(t, "SET LOGGED".to_string()),
        AlterAction::RowLevelSecurity { enable } => on_table(
            t,
            format!(
                "{} ROW LEVEL SECURITY",
                if *enable { "DISABLE" } else { "ENABLE" }
            ),
        ),
        AlterAction::SetTablespace { .. } => {
            Inverse::impossible("SET TABLESPACE: the previous tablespace is not known to migsafe")
        }
        AlterAction::SetAccessMethod => Inverse::impossible(
            "SET ACCESS METHOD: the previous access method is not known to migsafe",
        ),
        AlterAction::ReplicaIdentity => {
            Inverse::impossible("REPLICA IDENTITY: the previous setting is not known to migsafe")
        }
        AlterAction::Other { sql } => {
            Inverse::impossible(format!("{sql}: migsafe does not model this action"))
        }
        // `alter_inverse` sends only table-level actions here.
        _ => Inverse::impossible("migsafe does not model this action"),
    }
}

/// The inverse of a migration tool's bookkeeping statement (`alembic_version`,
/// `django_migrations`), read from the statement itself so that merges and un-merges reverse too.
/// When the migration itself created the table, the rollback drops it at the end, so a second run
/// of the script finds no table: the row changes then only run while the table is there.
pub fn bookkeeping_inverse(op: &Op, cat: &Catalog) -> Inverse {
    let inverse = bookkeeping_rows_inverse(op, cat);
    let created_here = |t: &QualName| cat.table(t).is_some_and(|t| t.created_in_migration);
    match (op, inverse) {
        (
            Op::Insert { table, .. } | Op::Update { table, .. } | Op::Delete { table, .. },
            Inverse::Exact(steps),
        ) if created_here(table) => Inverse::Exact(
            steps
                .into_iter()
                .map(|s| guarded(&has_rel(table), &s.sql))
                .collect(),
        ),
        (_, inverse) => inverse,
    }
}

fn bookkeeping_rows_inverse(op: &Op, cat: &Catalog) -> Inverse {
    let table_is = |t: &QualName, n: &str| t.name == n;
    match op {
        Op::CreateTable { name, .. } => {
            Inverse::Exact(vec![Step::tx(format!("DROP TABLE IF EXISTS {};", q(name)))])
        }
        Op::Drop {
            kind: ObjectKind::Table,
            names,
            ..
        } if names.iter().all(|n| table_is(n, "alembic_version")) => {
            Inverse::Exact(vec![Step::tx(
                "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));",
            )])
        }
        Op::Insert {
            table,
            columns,
            values,
            ..
        } if table_is(table, "alembic_version") => {
            let rows: Vec<String> = values.iter().flat_map(Expr::literals).collect();
            if rows.is_empty() {
                return Inverse::impossible(
                    "INSERT INTO alembic_version without a literal version",
                );
            }
            let _ = columns;
            Inverse::Exact(vec![Step::tx(format!(
                "DELETE FROM {} WHERE version_num IN ({});",
                q(table),
                rows.iter().map(|r| lit(r)).collect::<Vec<_>>().join(", ")
            ))])
        }
        Op::Insert {
            table,
            columns,
            values,
            ..
        } if table_is(table, "django_migrations") => {
            let get = |c: &str| {
                columns
                    .iter()
                    .position(|x| x == c)
                    .and_then(|i| values.get(i))
                    .and_then(|e| e.literals().into_iter().next())
            };
            match (get("app"), get("name")) {
                (Some(app), Some(name)) => Inverse::Exact(vec![Step::tx(format!(
                    "DELETE FROM {} WHERE app = {} AND name = {};",
                    q(table),
                    lit(&app),
                    lit(&name)
                ))]),
                _ => Inverse::impossible("INSERT INTO django_migrations without app and name"),
            }
        }
        Op::Update {
            table,
            assignments,
            filter,
            ..
        } if table_is(table, "alembic_version") => {
            let new = assignments
                .first()
                .and_then(|(_, e)| e.literals().into_iter().next());
            let old = filter
                .as_ref()
                .and_then(|f| f.literals().into_iter().next());
            match (new, old) {
                (Some(new), Some(old)) => Inverse::Exact(vec![Step::tx(format!(
                    "UPDATE {} SET version_num={} WHERE {}.version_num = {};",
                    q(table),
                    lit(&old),
                    id(&table.name),
                    lit(&new)
                ))]),
                _ => Inverse::impossible("UPDATE alembic_version without literal versions"),
            }
        }
        Op::Delete {
            table,
            filter: Some(f),
            ..
        } if table_is(table, "alembic_version") => {
            let rows = f.literals();
            if rows.is_empty() {
                return Inverse::impossible(
                    "DELETE FROM alembic_version without a literal version",
                );
            }
            // ON CONFLICT: the row is still there when the DELETE never committed. Not at all
            // when a version this one was upgraded from is there: the rollback already took the
            // revisions back beyond it (it runs a second time).
            let earlier: Vec<String> = rows
                .iter()
                .flat_map(|r| cat.versions_before(r))
                .map(lit)
                .collect();
            let values = rows
                .iter()
                .map(|r| format!("({})", lit(r)))
                .collect::<Vec<_>>()
                .join(", ");
            Inverse::Exact(vec![Step::tx(if earlier.is_empty() {
                format!(
                    "INSERT INTO {} (version_num) VALUES {values} ON CONFLICT DO NOTHING;",
                    q(table)
                )
            } else {
                format!(
                    "INSERT INTO {t} (version_num) SELECT v FROM (VALUES {values}) AS r (v) WHERE NOT EXISTS (SELECT 1 FROM {t} WHERE version_num IN ({})) ON CONFLICT DO NOTHING;",
                    earlier.join(", "),
                    t = q(table)
                )
            })])
        }
        Op::Delete { table, .. } if table_is(table, "django_migrations") => {
            Inverse::impossible("DELETE FROM django_migrations: the rows are not known")
        }
        _ => Inverse::none(),
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::Catalog;
    use crate::report::Reversibility;
    use crate::{Analyzer, Settings, Source};

    const SCHEMA: &str = "CREATE SCHEMA \"Sales\";\n\
        CREATE TABLE \"Sales\".\"Order\" (\"Id\" bigint PRIMARY KEY, \"user\" text NOT NULL DEFAULT 'x', total numeric(10,2), note varchar(20));\n\
        CREATE INDEX \"ix_Order_user\" ON \"Sales\".\"Order\" (\"user\");\n\
        ALTER TABLE \"Sales\".\"Order\" ADD CONSTRAINT \"Order_total_check\" CHECK (total >= 0);\n\
        CREATE TYPE mood AS ENUM ('sad', 'ok');\n";

    fn report(sql: &str) -> crate::Report {
        Analyzer::new(Settings::default())
            .schema(Catalog::from_sql(SCHEMA).expect("schema"))
            .analyze(Source::new("t.sql", sql))
            .expect("analyze")
    }

    fn rollback(sql: &str) -> (Vec<String>, Reversibility) {
        let r = report(sql);
        let s = r.statements.into_iter().next().expect("one statement");
        (s.rollback, s.reversible)
    }

    #[test]
    fn quoting_survives_mixed_case_reserved_words_and_schemas() {
        let (sql, rev) = rollback("ALTER TABLE \"Sales\".\"Order\" DROP COLUMN \"user\";");
        assert_eq!(rev, Reversibility::Lossy);
        assert_eq!(
            sql,
            vec![
                "ALTER TABLE IF EXISTS \"Sales\".\"Order\" ADD COLUMN IF NOT EXISTS \"user\" TEXT DEFAULT 'x' NOT NULL;",
                r#"DO $migsafe$ BEGIN IF to_regclass('"Sales"."Order"') IS NOT NULL THEN CREATE INDEX IF NOT EXISTS "ix_Order_user" ON "Sales"."Order" ("user"); END IF; END $migsafe$;"#,
            ]
        );
        let (sql, rev) =
            rollback("ALTER TABLE \"Sales\".\"Order\" RENAME COLUMN \"user\" TO \"select\";");
        assert_eq!(rev, Reversibility::Exact);
        assert_eq!(
            sql,
            vec![
                r#"DO $migsafe$ BEGIN IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('"Sales"."Order"') AND attname = 'select' AND NOT attisdropped) THEN ALTER TABLE "Sales"."Order" RENAME COLUMN "select" TO "user"; END IF; END $migsafe$;"#
            ]
        );
    }

    #[test]
    fn exact_inverses() {
        let cases = [
            (
                "ALTER TABLE \"Sales\".\"Order\" ALTER COLUMN note TYPE varchar(50);",
                r#"DO $migsafe$ BEGIN IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('"Sales"."Order"') AND attname = 'note' AND NOT attisdropped) THEN ALTER TABLE "Sales"."Order" ALTER COLUMN note TYPE VARCHAR(20) USING note::VARCHAR(20); END IF; END $migsafe$;"#,
            ),
            (
                "ALTER TABLE \"Sales\".\"Order\" ALTER COLUMN \"user\" DROP DEFAULT;",
                r#"DO $migsafe$ BEGIN IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('"Sales"."Order"') AND attname = 'user' AND NOT attisdropped) THEN ALTER TABLE "Sales"."Order" ALTER COLUMN "user" SET DEFAULT 'x'; END IF; END $migsafe$;"#,
            ),
            (
                "ALTER TABLE \"Sales\".\"Order\" DROP CONSTRAINT \"Order_total_check\";",
                r#"DO $migsafe$ BEGIN IF to_regclass('"Sales"."Order"') IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass('"Sales"."Order"') AND conname = 'Order_total_check') THEN ALTER TABLE "Sales"."Order" ADD CONSTRAINT "Order_total_check" CHECK (total >= 0) NOT VALID; END IF; END $migsafe$;"#,
            ),
            (
                "DROP INDEX \"Sales\".\"ix_Order_user\";",
                r#"DO $migsafe$ BEGIN IF to_regclass('"Sales"."Order"') IS NOT NULL THEN CREATE INDEX IF NOT EXISTS "ix_Order_user" ON "Sales"."Order" ("user"); END IF; END $migsafe$;"#,
            ),
            (
                "CREATE INDEX CONCURRENTLY ix_note ON \"Sales\".\"Order\" (note);",
                "DROP INDEX CONCURRENTLY IF EXISTS \"Sales\".ix_note;",
            ),
        ];
        for (forward, first) in cases {
            let (sql, rev) = rollback(forward);
            assert_eq!(rev, Reversibility::Exact, "{forward}");
            assert_eq!(sql.first().map(String::as_str), Some(first), "{forward}");
        }
    }

    #[test]
    fn impossible_and_lossy_say_why() {
        let r = report(
            "ALTER TYPE mood ADD VALUE 'happy';\nUPDATE \"Sales\".\"Order\" SET note = 'x';\nALTER TABLE \"Sales\".\"Order\" ALTER COLUMN total TYPE numeric(10,1);",
        );
        assert_eq!(r.statements[0].reversible, Reversibility::Impossible);
        assert_eq!(r.statements[1].reversible, Reversibility::Impossible);
        assert_eq!(r.statements[2].reversible, Reversibility::Lossy);
        assert!(!r.rollback.complete);
        assert_eq!(r.rollback.irreversible.len(), 2);
        assert!(
            r.rollback.irreversible[0]
                .reason
                .contains("cannot remove a value from an enum")
        );
        assert!(
            r.rollback
                .script
                .contains("-- migsafe: cannot reverse statement 1")
        );
        assert!(r.rollback.script.contains("NOT COMPLETE"));
    }

    #[test]
    fn renames_earlier_in_the_migration_are_followed() {
        // prefect d38c5e6a9115: a foreign key dropped after its tables and column were renamed is
        // re-created with the new names.
        let schema = "CREATE TABLE block_spec (id uuid PRIMARY KEY);\n\
            CREATE TABLE block (id uuid PRIMARY KEY, block_spec_id uuid, name text);\n\
            ALTER TABLE block ADD CONSTRAINT fk_block FOREIGN KEY (block_spec_id) REFERENCES block_spec (id) ON DELETE CASCADE;\n\
            CREATE INDEX ix_block_name ON block (name);\n\
            CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;\n";
        let r = Analyzer::new(Settings::default())
            .schema(Catalog::from_sql(schema).expect("schema"))
            .analyze(Source::new(
                "t.sql",
                "ALTER TABLE block_spec RENAME TO block_schema;\n\
                 ALTER TABLE block RENAME block_spec_id TO block_schema_id;\n\
                 ALTER TABLE block RENAME name TO title;\n\
                 ALTER TABLE block DROP CONSTRAINT fk_block;\n\
                 DROP INDEX ix_block_name;\n\
                 CREATE EXTENSION IF NOT EXISTS pg_trgm;",
            ))
            .expect("analyze");
        assert_eq!(
            r.statements[3].rollback[0],
            "DO $migsafe$ BEGIN IF to_regclass('public.block') IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass('public.block') AND conname = 'fk_block') THEN ALTER TABLE public.block ADD CONSTRAINT fk_block FOREIGN KEY (block_schema_id) REFERENCES public.block_schema (id) ON DELETE CASCADE NOT VALID; END IF; END $migsafe$;"
        );
        assert_eq!(
            r.statements[4].rollback[0],
            "DO $migsafe$ BEGIN IF to_regclass('public.block') IS NOT NULL THEN CREATE INDEX IF NOT EXISTS ix_block_name ON public.block (title); END IF; END $migsafe$;"
        );
        // The extension was there already: nothing to undo.
        assert!(r.statements[5].rollback.is_empty());
        assert_eq!(r.statements[5].reversible, Reversibility::Exact);
    }

    /// Every generated rollback statement of every fixture parses again.
    #[test]
    fn generated_sql_reparses() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut checked = 0;
        for dir in ["alembic", "django", "plain", "safe", "history", "rules"] {
            let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for e in rd.filter_map(|e| e.ok()) {
                let path = e.path();
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let (schema, migration) = match text.split_once("\n-- end of schema\n") {
                    Some((s, m)) => (s.to_string(), m.to_string()),
                    None => (String::new(), text.clone()),
                };
                let mut a = Analyzer::new(Settings::default());
                if !schema.is_empty() {
                    a = a.schema(Catalog::from_sql(&schema).expect("schema"));
                }
                let r = a
                    .analyze(Source::new(path.display().to_string(), &migration))
                    .expect("analyze");
                for s in &r.statements {
                    for sql in &s.rollback {
                        let again = crate::analyze(sql);
                        checked += 1;
                        assert!(
                            again.statements.iter().all(|x| x.parsed),
                            "{}: rollback of line {} does not parse again: {sql}",
                            path.display(),
                            s.span.start_line
                        );
                    }
                }
            }
        }
        assert!(checked > 200, "only {checked} rollback statements");
    }
}
