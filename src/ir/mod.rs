//! Our own statement model: small, stable, and free of sqlparser types.
//!
//! Rules, the catalog and rollback generation read only these types. `lower/` is the only place that
//! turns sqlparser's AST into them; `fallback.rs` recognises, from tokens, the statements sqlparser 0.64
//! rejects or misreads, so that they still get an [`Op`].

mod fallback;
mod lower;

pub(crate) use lower::{lower, lower_statement};

use serde::Serialize;
use std::fmt;

/// A possibly schema-qualified name. Identifiers are stored as PostgreSQL folds them: unquoted names
/// in lower case, quoted names exactly as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct QualName {
    pub schema: Option<String>,
    pub name: String,
}

impl QualName {
    pub fn new(schema: Option<&str>, name: &str) -> Self {
        QualName {
            schema: schema.map(str::to_string),
            name: name.to_string(),
        }
    }

    /// `schema.name` with `public` for an unqualified name: how reports name tables.
    pub fn display_qualified(&self) -> String {
        format!(
            "{}.{}",
            self.schema.as_deref().unwrap_or("public"),
            self.name
        )
    }
}

impl fmt::Display for QualName {
    /// Renders valid SQL: each part quoted when PostgreSQL would otherwise fold or reject it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.schema {
            write!(f, "{}.", quote_ident(s))?;
        }
        write!(f, "{}", quote_ident(&self.name))
    }
}

/// Quotes an identifier when it is not a plain lower-case name or is a reserved word.
pub fn quote_ident(ident: &str) -> String {
    let plain = !ident.is_empty()
        && ident
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && ident
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !is_reserved(ident);
    if plain {
        ident.to_string()
    } else {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }
}

/// PostgreSQL's reserved key words (https://www.postgresql.org/docs/current/sql-keywords-appendix.html),
/// plus the type/function-name ones that cannot be a bare column or table name.
fn is_reserved(word: &str) -> bool {
    RESERVED.binary_search(&word).is_ok()
}

/// Sorted, for binary search.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// A SQL expression kept as text, with what rules need to know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expr {
    /// The expression as SQL (re-parses; spacing and case may differ from the source).
    pub sql: String,
    /// Functions it calls, lower case, without schema (`now`, `gen_random_uuid`, `nextval`).
    pub calls: Vec<String>,
    /// Column names it mentions, folded.
    pub columns: Vec<String>,
    /// A literal or a cast of a literal (`'0'`, `'[]'::jsonb`, `NULL`, `TRUE`).
    pub constant: bool,
}

impl Expr {
    /// The single-quoted string literals of the expression, unescaped (`'it''s'` → `it's`).
    pub fn literals(&self) -> Vec<String> {
        literals(&self.sql)
    }
}

/// The single-quoted string literals of SQL text, unescaped.
pub fn literals(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut value = String::new();
        loop {
            match chars.next() {
                None => break,
                Some('\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                    value.push('\'');
                }
                Some('\'') => break,
                Some(ch) => value.push(ch),
            }
        }
        out.push(value);
    }
    out
}

/// A column or value type as written, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeName {
    /// The type as SQL, e.g. `VARCHAR(250)`, `TIMESTAMP WITH TIME ZONE`, `state_type`.
    pub sql: String,
    /// Canonical lower-case base name: `varchar`, `int4`, `timestamptz`, `numeric`, `state_type`.
    pub base: String,
    /// Type modifiers: `[250]` for VARCHAR(250), `[10, 2]` for NUMERIC(10,2).
    pub modifiers: Vec<u32>,
    pub array: bool,
}

impl TypeName {
    /// The type's name as a (possibly schema-qualified) name, for catalog lookups of user types.
    pub fn qual_name(&self) -> QualName {
        match self.base.split_once('.') {
            Some((schema, name)) => QualName::new(Some(schema), name),
            None => QualName::new(None, &self.base),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    Always,
    ByDefault,
}

/// A column as declared in CREATE TABLE or ADD COLUMN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnDef {
    pub name: String,
    pub ty: TypeName,
    pub not_null: bool,
    pub default: Option<Expr>,
    pub identity: Option<Identity>,
    /// `GENERATED ALWAYS AS (expr) STORED`.
    pub generated: Option<Box<Expr>>,
    pub collation: Option<String>,
    /// Inline constraints (PRIMARY KEY, UNIQUE, REFERENCES, CHECK), as table constraints on this column.
    pub constraints: Vec<Constraint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ConstraintKind {
    PrimaryKey {
        columns: Vec<String>,
        using_index: Option<String>,
    },
    Unique {
        columns: Vec<String>,
        using_index: Option<String>,
    },
    ForeignKey {
        columns: Vec<String>,
        ref_table: QualName,
        ref_columns: Vec<String>,
        on_delete: Option<RefAction>,
        on_update: Option<RefAction>,
        deferrable: bool,
        /// `INITIALLY DEFERRED`.
        initially_deferred: bool,
    },
    Check {
        expr: Expr,
    },
    Exclude {
        sql: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Constraint {
    pub name: Option<String>,
    pub kind: ConstraintKind,
    /// `NOT VALID`: existing rows are not checked now.
    pub not_valid: bool,
    /// The constraint as SQL (`CONSTRAINT fk FOREIGN KEY (a) REFERENCES b (id)`), for re-adding it.
    pub sql: String,
}

/// One action of `ALTER TABLE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum AlterAction {
    AddColumn {
        column: Box<ColumnDef>,
        if_not_exists: bool,
    },
    DropColumn {
        name: String,
        if_exists: bool,
        cascade: bool,
    },
    AlterColumnType {
        column: String,
        ty: TypeName,
        using: Option<Box<Expr>>,
    },
    /// `COLLATE name` of a type change (`ALTER COLUMN c TYPE t COLLATE name`): follows the
    /// [`AlterAction::AlterColumnType`] it belongs to.
    SetCollation {
        column: String,
        collation: String,
    },
    SetDefault {
        column: String,
        expr: Expr,
    },
    DropDefault {
        column: String,
    },
    SetNotNull {
        column: String,
    },
    DropNotNull {
        column: String,
    },
    AddIdentity {
        column: String,
        identity: Identity,
    },
    DropIdentity {
        column: String,
        if_exists: bool,
    },
    AddConstraint {
        constraint: Box<Constraint>,
    },
    DropConstraint {
        name: String,
        if_exists: bool,
        cascade: bool,
    },
    ValidateConstraint {
        name: String,
    },
    RenameColumn {
        from: String,
        to: String,
    },
    RenameConstraint {
        from: String,
        to: String,
    },
    RenameTable {
        to: String,
    },
    SetSchema {
        schema: String,
    },
    AttachPartition {
        partition: QualName,
    },
    DetachPartition {
        partition: QualName,
        concurrently: bool,
        /// `FINALIZE`: completes an interrupted DETACH … CONCURRENTLY.
        finalize: bool,
    },
    EnableTrigger {
        name: String,
    },
    DisableTrigger {
        name: String,
    },
    SetLogged,
    SetUnlogged,
    /// `SET TABLESPACE`: the files are copied (a rewrite).
    SetTablespace {
        tablespace: String,
    },
    /// `SET ACCESS METHOD` (PG ≥ 15): a rewrite.
    SetAccessMethod,
    /// `SET (…)` / `RESET (…)` storage parameters.
    SetStorageParams {
        sql: String,
        /// The parameters named, folded, with the value SET gives them (`None` for RESET).
        params: Vec<(String, Option<String>)>,
    },
    /// `ALTER COLUMN … SET STORAGE PLAIN|EXTERNAL|EXTENDED|MAIN|DEFAULT`.
    SetStorage {
        column: String,
        /// Upper case.
        storage: String,
    },
    /// `ALTER COLUMN … SET COMPRESSION method` (`DEFAULT` included).
    SetCompression {
        column: String,
        method: String,
    },
    /// `INHERIT parent` / `NO INHERIT parent`.
    Inherit {
        parent: QualName,
        inherit: bool,
    },
    /// `ALTER COLUMN … RESTART [WITH n]` of an identity column.
    RestartIdentity {
        column: String,
    },
    /// `OWNER TO role`.
    OwnerTo {
        role: String,
    },
    /// `ALTER COLUMN … SET STATISTICS` / `SET (n_distinct …)` / `RESET (…)`.
    SetColumnStatistics {
        column: String,
    },
    /// `CLUSTER ON index` / `SET WITHOUT CLUSTER` (`None`).
    ClusterOn {
        index: Option<String>,
    },
    ReplicaIdentity,
    RowLevelSecurity {
        enable: bool,
    },
    /// Anything else, as SQL (SET (storage params), OWNER TO, CLUSTER ON, …).
    Other {
        sql: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexDef {
    pub name: Option<String>,
    pub table: QualName,
    pub unique: bool,
    pub concurrently: bool,
    pub if_not_exists: bool,
    /// Access method (`btree`, `gin`, …) when given.
    pub method: Option<String>,
    /// Key parts as SQL (`name`, `lower(email)`, `name gin_trgm_ops`).
    pub keys: Vec<String>,
    /// Plain column keys (for matching an index to a filter).
    pub columns: Vec<String>,
    pub include: Vec<String>,
    pub predicate: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Table,
    View,
    MaterializedView,
    Index,
    Sequence,
    Type,
    Domain,
    Schema,
    Extension,
    Function,
    Procedure,
    Trigger,
    /// Extended statistics (`CREATE STATISTICS`).
    Statistics,
    Other,
}

/// What `GRANT privileges ON [TABLE|SEQUENCE] objects TO grantees` (or the REVOKE) names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Privileges {
    /// `Table` (tables, views, matviews) or `Sequence`.
    pub on: ObjectKind,
    pub objects: Vec<QualName>,
    /// As written, upper case: `SELECT, INSERT`, `ALL PRIVILEGES`, `UPDATE (a, b)`.
    pub privileges: String,
    /// Role names as written (folded), or `PUBLIC`.
    pub grantees: Vec<String>,
    /// `WITH GRANT OPTION` (GRANT) / `GRANT OPTION FOR` (REVOKE).
    pub grant_option: bool,
}

/// The rarer clauses of `CREATE TABLE`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TableExtras {
    /// `WITH (name = value, …)`: folded names, values as written (quotes removed).
    pub with: Vec<(String, String)>,
    /// `INHERITS (parent, …)`.
    pub inherits: Vec<QualName>,
}

/// One action of `ALTER DOMAIN`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum DomainAction {
    AddConstraint {
        name: Option<String>,
        /// The constraint's body (`CHECK (…)`), as SQL.
        body: String,
        not_valid: bool,
    },
    DropConstraint {
        name: String,
        if_exists: bool,
    },
    ValidateConstraint {
        name: String,
    },
    /// Anything else, as SQL.
    Other {
        sql: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxControl {
    Begin,
    Commit,
    Rollback,
    Savepoint,
    ReleaseSavepoint,
    RollbackToSavepoint,
}

/// One statement, as migsafe understands it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum Op {
    CreateTable {
        name: QualName,
        if_not_exists: bool,
        columns: Vec<ColumnDef>,
        constraints: Vec<Constraint>,
        /// `CREATE TABLE … AS SELECT` or `LIKE`: columns are not listed.
        as_query: bool,
        partition_of: Option<Box<QualName>>,
        temporary: bool,
        unlogged: bool,
        /// `WITH (…)` storage parameters and `INHERITS (…)`, when given.
        extras: Option<Box<TableExtras>>,
    },
    AlterTable {
        name: QualName,
        if_exists: bool,
        only: bool,
        actions: Vec<AlterAction>,
    },
    Drop {
        kind: ObjectKind,
        names: Vec<QualName>,
        if_exists: bool,
        cascade: bool,
        concurrently: bool,
    },
    // Boxed, as are the other large payloads few statements have (filters, PARTITION OF, an added
    // column or constraint, a USING): every statement's `Op` lives for the whole pass, and an enum
    // is as large as its largest variant (256 bytes before, 136 now; a test keeps it so).
    CreateIndex(Box<IndexDef>),
    AlterIndex {
        name: QualName,
        rename_to: Option<String>,
        sql_tail: Option<String>,
    },
    Reindex {
        target: ObjectKind,
        name: Option<QualName>,
        concurrently: bool,
    },
    CreateType {
        name: QualName,
        enum_values: Option<Vec<String>>,
    },
    AlterTypeAddValue {
        name: QualName,
        value: String,
        if_not_exists: bool,
        /// `BEFORE 'x'` / `AFTER 'x'`, when given.
        position: Option<String>,
    },
    AlterTypeRenameValue {
        name: QualName,
        from: String,
        to: String,
    },
    AlterTypeRename {
        name: QualName,
        to: String,
    },
    CreateSequence {
        name: QualName,
        if_not_exists: bool,
        /// The options as written after the name (`AS integer START WITH 1 …`), `OWNED BY` left out.
        options: String,
        /// `OWNED BY table.column`.
        owned_by: Option<Box<(QualName, String)>>,
    },
    AlterSequence {
        name: QualName,
        sql_tail: String,
        /// `OWNED BY`, when the statement has it: the column, or `None` for `OWNED BY NONE`.
        owned_by: Option<Box<Option<(QualName, String)>>>,
    },
    CreateView {
        name: QualName,
        materialized: bool,
        or_replace: bool,
        /// Tables and views the query reads.
        reads: Vec<QualName>,
    },
    /// `CREATE DOMAIN`; `constrained` when it has CHECK / NOT NULL constraints.
    CreateDomain {
        name: QualName,
        constrained: bool,
    },
    RefreshMaterializedView {
        name: QualName,
        concurrently: bool,
    },
    CreateFunction {
        name: QualName,
        or_replace: bool,
        kind: ObjectKind,
        /// Declared VOLATILE (the default) rather than STABLE or IMMUTABLE; `None` for procedures.
        volatile: Option<bool>,
    },
    CreateTrigger {
        name: String,
        table: QualName,
        or_replace: bool,
        /// The statement as SQL, to create the trigger again after a later DROP.
        sql: String,
    },
    /// `CREATE STATISTICS name … FROM table`.
    CreateStatistics {
        name: QualName,
        table: QualName,
        if_not_exists: bool,
        /// The statement as SQL.
        sql: String,
    },
    /// `ALTER DOMAIN name …`.
    AlterDomain {
        name: QualName,
        action: DomainAction,
    },
    DropTrigger {
        name: String,
        table: Option<QualName>,
        if_exists: bool,
    },
    CreateExtension {
        name: String,
        if_not_exists: bool,
    },
    CreateSchema {
        name: String,
        if_not_exists: bool,
    },
    Comment {
        target: ObjectKind,
        /// The object; for a column, constraint or trigger comment, its table.
        name: QualName,
        /// `COMMENT ON COLUMN t.c`: the column.
        column: Option<String>,
    },
    Insert {
        table: QualName,
        /// The column list, folded (empty when not given).
        columns: Vec<String>,
        from_select: bool,
        returning: bool,
        /// Tables the source query reads.
        reads: Vec<QualName>,
        /// The source query's top-level WHERE clause.
        filter: Option<Box<Expr>>,
        /// The expressions of a `VALUES` list.
        values: Vec<Expr>,
    },
    Update {
        table: QualName,
        has_where: bool,
        filter: Option<Box<Expr>>,
        from: bool,
        /// `SET column = expr` (the column is empty for a tuple target).
        assignments: Vec<(String, Expr)>,
    },
    Delete {
        table: QualName,
        has_where: bool,
        filter: Option<Box<Expr>>,
    },
    Select {
        /// Tables and views the query reads.
        reads: Vec<QualName>,
        /// The top-level WHERE clause.
        filter: Option<Box<Expr>>,
    },
    Merge {
        table: QualName,
    },
    Truncate {
        tables: Vec<QualName>,
        cascade: bool,
    },
    Copy {
        table: Option<QualName>,
        from_stdin: bool,
    },
    /// `DO $$ … $$`: the SQL statements found in its body, and how many parts were not SQL migsafe reads.
    Do {
        statements: Vec<Op>,
        unread: usize,
    },
    Vacuum {
        tables: Vec<QualName>,
        full: bool,
        analyze: bool,
    },
    Analyze {
        tables: Vec<QualName>,
    },
    Cluster {
        table: Option<QualName>,
        index: Option<String>,
    },
    Lock {
        tables: Vec<QualName>,
        mode: Option<String>,
    },
    Set {
        name: String,
        value: String,
        local: bool,
    },
    Reset {
        name: Option<String>,
    },
    SetConstraints {
        sql: String,
    },
    Transaction(TxControl),
    /// `GRANT`; the privileges when they are on tables or sequences.
    Grant(Option<Box<Privileges>>),
    /// `REVOKE`; the privileges when they are on tables or sequences.
    Revoke(Option<Box<Privileges>>),
    /// Parsed, but nothing migsafe models (SHOW, LISTEN, CALL, …): the keyword(s) it starts with.
    Other {
        what: String,
    },
    /// Empty statement (a lone `;`).
    Empty,
    /// Not SQL: text that migration code printed into the export.
    Text,
    /// SQL that neither sqlparser nor the fallback could read.
    /// A statement PostgreSQL's grammar rejects, for the reason given: psql stops there.
    Rejected {
        reason: String,
    },
    Unparsed {
        error: String,
    },
}

impl Op {
    /// The statement is a migration tool's own bookkeeping (`alembic_version`,
    /// `django_migrations`): never a finding, always handled by the rollback script.
    pub fn is_bookkeeping(&self) -> bool {
        let bookkeeping = |n: &QualName| crate::source::alembic::is_bookkeeping_table(&n.name);
        match self {
            Op::Drop {
                kind: ObjectKind::Table,
                names,
                ..
            } => !names.is_empty() && names.iter().all(bookkeeping),
            _ => self.target_table().is_some_and(bookkeeping),
        }
    }

    /// The constraints the statement adds, in order, each with its table and, for a column's
    /// constraint, the column: CREATE TABLE's (the table's constraints, then the columns'), ALTER
    /// TABLE's ADD CONSTRAINT and ADD COLUMN.
    pub fn added_constraints(&self) -> Vec<(&QualName, &Constraint, Option<&str>)> {
        let mut out = Vec::new();
        match self {
            Op::CreateTable {
                name,
                columns,
                constraints,
                ..
            } => {
                out.extend(constraints.iter().map(|c| (name, c, None)));
                for col in columns {
                    out.extend(
                        col.constraints
                            .iter()
                            .map(|c| (name, c, Some(col.name.as_str()))),
                    );
                }
            }
            Op::AlterTable { name, actions, .. } => {
                for a in actions {
                    match a {
                        AlterAction::AddConstraint { constraint } => {
                            out.push((name, constraint, None))
                        }
                        AlterAction::AddColumn { column, .. } => out.extend(
                            column
                                .constraints
                                .iter()
                                .map(|c| (name, c, Some(column.name.as_str()))),
                        ),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        out
    }

    /// The report's `kind`: snake case, stable.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::CreateTable { .. } => "create_table",
            Op::AlterTable { .. } => "alter_table",
            Op::Drop { kind, .. } => match kind {
                ObjectKind::Table => "drop_table",
                ObjectKind::View => "drop_view",
                ObjectKind::MaterializedView => "drop_materialized_view",
                ObjectKind::Index => "drop_index",
                ObjectKind::Sequence => "drop_sequence",
                ObjectKind::Type => "drop_type",
                ObjectKind::Domain => "drop_domain",
                ObjectKind::Schema => "drop_schema",
                ObjectKind::Extension => "drop_extension",
                ObjectKind::Function => "drop_function",
                ObjectKind::Procedure => "drop_procedure",
                ObjectKind::Trigger => "drop_trigger",
                ObjectKind::Statistics => "drop_statistics",
                ObjectKind::Other => "drop",
            },
            Op::CreateIndex(_) => "create_index",
            Op::AlterIndex { .. } => "alter_index",
            Op::Reindex { .. } => "reindex",
            Op::CreateType { .. } => "create_type",
            Op::AlterTypeAddValue { .. }
            | Op::AlterTypeRenameValue { .. }
            | Op::AlterTypeRename { .. } => "alter_type",
            Op::CreateSequence { .. } => "create_sequence",
            Op::AlterSequence { .. } => "alter_sequence",
            Op::CreateView {
                materialized: true, ..
            } => "create_materialized_view",
            Op::CreateView { .. } => "create_view",
            Op::CreateDomain { .. } => "create_domain",
            Op::RefreshMaterializedView { .. } => "refresh_materialized_view",
            Op::CreateFunction {
                kind: ObjectKind::Procedure,
                ..
            } => "create_procedure",
            Op::CreateFunction { .. } => "create_function",
            Op::CreateTrigger { .. } => "create_trigger",
            Op::CreateStatistics { .. } => "create_statistics",
            Op::AlterDomain { .. } => "alter_domain",
            Op::DropTrigger { .. } => "drop_trigger",
            Op::CreateExtension { .. } => "create_extension",
            Op::CreateSchema { .. } => "create_schema",
            Op::Comment { .. } => "comment",
            Op::Insert { .. } => "insert",
            Op::Update { .. } => "update",
            Op::Delete { .. } => "delete",
            Op::Select { .. } => "select",
            Op::Merge { .. } => "merge",
            Op::Truncate { .. } => "truncate",
            Op::Copy { .. } => "copy",
            Op::Do { .. } => "do",
            Op::Vacuum { .. } => "vacuum",
            Op::Analyze { .. } => "analyze",
            Op::Cluster { .. } => "cluster",
            Op::Lock { .. } => "lock",
            Op::Set { .. } => "set",
            Op::Reset { .. } => "reset",
            Op::SetConstraints { .. } => "set_constraints",
            Op::Transaction(t) => match t {
                TxControl::Begin => "begin",
                TxControl::Commit => "commit",
                TxControl::Rollback => "rollback",
                TxControl::Savepoint => "savepoint",
                TxControl::ReleaseSavepoint => "release_savepoint",
                TxControl::RollbackToSavepoint => "rollback_to_savepoint",
            },
            Op::Grant(_) => "grant",
            Op::Revoke(_) => "revoke",
            Op::Other { .. } => "other",
            Op::Empty => "empty",
            Op::Text => "text",
            Op::Unparsed { .. } => "unparsed",
            Op::Rejected { .. } => "rejected",
        }
    }

    /// The table a DML or DDL statement writes to, when it has exactly one.
    pub fn target_table(&self) -> Option<&QualName> {
        match self {
            Op::CreateTable { name, .. } | Op::AlterTable { name, .. } => Some(name),
            Op::Insert { table, .. } | Op::Update { table, .. } | Op::Delete { table, .. } => {
                Some(table)
            }
            Op::Merge { table } => Some(table),
            Op::Drop {
                kind: ObjectKind::Table,
                names,
                ..
            } if names.len() == 1 => names.first(),
            _ => None,
        }
    }

    /// Whether sqlparser or the fallback understood the statement.
    pub fn is_parsed(&self) -> bool {
        !matches!(self, Op::Unparsed { .. } | Op::Rejected { .. } | Op::Text)
    }
}

/// Reads every statement of `text` into an [`Op`] (split, sqlparser, lowering, keyword fallback)
/// without analysing them.
#[cfg(test)]
pub fn read_ops(text: &str) -> Vec<Op> {
    let read = crate::source::read(text);
    read.statements
        .iter()
        .map(|st| lower_statement(text, st))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("tags"), "tags");
        assert_eq!(quote_ident("Tags"), "\"Tags\"");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("1abc"), "\"1abc\"");
        assert_eq!(
            QualName::new(Some("Sales"), "order").to_string(),
            "\"Sales\".\"order\""
        );
    }

    #[test]
    fn reserved_list_is_sorted() {
        // binary_search needs it.
        assert!(RESERVED.windows(2).all(|w| w[0] < w[1]));
        assert!(
            ["all", "analyse", "with", "user"]
                .iter()
                .all(|w| is_reserved(w))
        );
        assert!(!is_reserved("name"));
    }

    /// Every statement's `Op` is kept for the whole pass: a new variant with a large payload
    /// inline would grow all of them. Box it instead.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn the_ir_stays_small() {
        assert!(size_of::<Op>() <= 136, "Op is {} bytes", size_of::<Op>());
        assert!(
            size_of::<AlterAction>() <= 112,
            "AlterAction is {} bytes",
            size_of::<AlterAction>()
        );
    }
}
