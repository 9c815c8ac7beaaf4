//! What one statement does on the server: the table locks it requests, which tables it rewrites or
//! scans in full, and which data it destroys, for a given PostgreSQL version and the catalog before it.
//!
//! Sources: the lock level switch in `AlterTableGetLockLevel` (`src/backend/commands/tablecmds.c`),
//! <https://www.postgresql.org/docs/current/explicit-locking.html>, the Notes of
//! <https://www.postgresql.org/docs/current/sql-altertable.html>, and runs of tools/pg-oracle on
//! PostgreSQL 15 (recorded under `fixtures/oracle/`). Only tables, views and materialized views that
//! existed before the migration count: locks on indexes, sequences and objects the migration created
//! are left out, as in the report's `locks`.

use super::LockMode::{self, *};
use super::types::{Storage, TimeZone, type_change};
use super::volatility::{Volatility, volatility};
use crate::catalog::{Catalog, normal};
use crate::ir::{
    AlterAction, ColumnDef, ConstraintKind, DomainAction, Expr, ObjectKind, Op, QualName, TypeName,
};

/// What the effect is computed against.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    pub pg_version: u32,
    pub timezone: &'a TimeZone,
}

/// The effect of one statement on pre-existing tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effect {
    /// Relation locks requested, strongest per table, in statement order. Names are normalised
    /// (`public` when unqualified).
    pub locks: Vec<(QualName, LockMode)>,
    /// Tables (or materialized views) that get new storage.
    pub rewrites: Vec<QualName>,
    /// Tables read in full (validation scans, rewrites, index builds, unfiltered DML).
    pub scans: Vec<QualName>,
    /// What data is lost, in words (empty: nothing).
    pub destroys: Vec<String>,
    /// Assumptions the verdict rests on because the schema does not tell.
    pub assumptions: Vec<String>,
}

impl Effect {
    /// The strongest lock, if any.
    pub fn strongest(&self) -> Option<LockMode> {
        self.locks.iter().map(|(_, m)| *m).max()
    }

    fn lock(&mut self, cx: &Context, table: &QualName, mode: LockMode) {
        if !cx.catalog.pre_existing(table) {
            return;
        }
        let t = normal(table);
        match self.locks.iter_mut().find(|(n, _)| *n == t) {
            Some((_, m)) => *m = (*m).max(mode),
            None => self.locks.push((t, mode)),
        }
    }

    fn merge(&mut self, other: Effect) {
        for (t, m) in other.locks {
            match self.locks.iter_mut().find(|(n, _)| *n == t) {
                Some((_, mine)) => *mine = (*mine).max(m),
                None => self.locks.push((t, m)),
            }
        }
        for t in other.rewrites {
            push_unique(&mut self.rewrites, t);
        }
        for t in other.scans {
            push_unique(&mut self.scans, t);
        }
        self.destroys.extend(other.destroys);
        for a in other.assumptions {
            self.assume(a);
        }
    }

    fn rewrite(&mut self, cx: &Context, table: &QualName) {
        if cx.catalog.pre_existing(table) {
            push_unique(&mut self.rewrites, normal(table));
            push_unique(&mut self.scans, normal(table));
        }
    }

    fn scan(&mut self, cx: &Context, table: &QualName) {
        if cx.catalog.pre_existing(table) {
            push_unique(&mut self.scans, normal(table));
        }
    }

    fn destroy(&mut self, cx: &Context, table: &QualName, what: String) {
        if cx.catalog.pre_existing(table) {
            self.destroys.push(what);
        }
    }

    fn assume(&mut self, what: String) {
        if !self.assumptions.contains(&what) {
            self.assumptions.push(what);
        }
    }
}

fn push_unique(v: &mut Vec<QualName>, n: QualName) {
    if !v.contains(&n) {
        v.push(n);
    }
}

/// Why `op` cannot run inside a transaction block, if it cannot.
pub fn no_transaction_block(op: &Op, pg_version: u32) -> Option<&'static str> {
    match op {
        Op::CreateIndex(ix) if ix.concurrently => Some("CREATE INDEX CONCURRENTLY"),
        Op::Drop {
            kind: ObjectKind::Index,
            concurrently: true,
            ..
        } => Some("DROP INDEX CONCURRENTLY"),
        Op::Reindex {
            concurrently: true, ..
        } => Some("REINDEX CONCURRENTLY"),
        Op::AlterTable { actions, .. }
            if actions.iter().any(|a| {
                matches!(
                    a,
                    AlterAction::DetachPartition {
                        concurrently: true,
                        ..
                    }
                )
            }) =>
        {
            Some("DETACH PARTITION CONCURRENTLY")
        }
        Op::Vacuum { .. } => Some("VACUUM"),
        // Allowed in a transaction block since PostgreSQL 12 (release notes 12, E.x "ALTER TYPE … ADD VALUE").
        Op::AlterTypeAddValue { .. } if pg_version < 12 => Some("ALTER TYPE … ADD VALUE"),
        _ => None,
    }
}

/// The table an index belongs to, or a placeholder naming the index when the catalog does not know.
pub fn table_of_index(catalog: &Catalog, index: &QualName) -> Option<QualName> {
    catalog.index(index).map(|i| i.table.clone())
}

/// Computes the effect of `op` with the catalog as it is before `op`.
pub fn effect(op: &Op, cx: &Context) -> Effect {
    let mut e = Effect::default();
    match op {
        Op::CreateTable { .. }
        | Op::CreateIndex(_)
        | Op::CreateTrigger { .. }
        | Op::CreateView { .. } => create_effect(&mut e, cx, op),
        // IF EXISTS of a table the schema given does not list: the statement does nothing.
        Op::AlterTable {
            name,
            if_exists: true,
            ..
        } if cx.catalog.unknown(name) => {}
        Op::AlterTable { name, actions, .. } => {
            for a in actions {
                alter_action(&mut e, cx, name, a);
            }
        }
        Op::Drop {
            kind,
            names,
            cascade,
            concurrently,
            if_exists,
        } => {
            let names: Vec<QualName> = names
                .iter()
                .filter(|n| !(*if_exists && cx.catalog.unknown(n)))
                .cloned()
                .collect();
            drop(&mut e, cx, kind, &names, *cascade, *concurrently)
        }
        Op::DropTrigger { table: Some(t), .. } => e.lock(cx, t, AccessExclusiveLock),
        // `CreateStatistics` (statscmds.c) opens the table with SHARE UPDATE EXCLUSIVE.
        Op::CreateStatistics { table, .. } => e.lock(cx, table, ShareUpdateExclusiveLock),
        Op::AlterDomain { name, action } => domain_effect(&mut e, cx, name, action),
        // COMMENT ON a table, view or one of their columns (observed, PG 15).
        Op::Comment {
            target: ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView,
            name,
            ..
        } => e.lock(cx, name, ShareUpdateExclusiveLock),
        Op::Insert { .. }
        | Op::Merge { .. }
        | Op::Copy { .. }
        | Op::Update { .. }
        | Op::Delete { .. }
        | Op::Truncate { .. }
        | Op::Select { .. } => data_effect(&mut e, cx, op),
        Op::Reindex { .. }
        | Op::RefreshMaterializedView { .. }
        | Op::Vacuum { .. }
        | Op::Analyze { .. }
        | Op::Cluster { .. }
        | Op::Lock { .. } => maintenance_effect(&mut e, cx, op),
        Op::Do { statements, unread } => {
            // The body's SQL statements run as part of this one statement.
            for inner in statements {
                e.merge(effect(inner, cx));
            }
            if *unread > 0 {
                e.assume(format!(
                    "{unread} part(s) of the DO block are not plain SQL and were not analysed"
                ));
            }
        }
        _ => {}
    }
    e
}

/// CREATE TABLE, INDEX, TRIGGER and VIEW: the locks and reads on the tables they build on.
fn create_effect(e: &mut Effect, cx: &Context, op: &Op) {
    match op {
        Op::CreateTable {
            columns,
            constraints,
            partition_of,
            ..
        } => {
            // A REFERENCES clause locks the referenced table SHARE ROW EXCLUSIVE (observed, PG 15).
            for c in constraints
                .iter()
                .chain(columns.iter().flat_map(|c| &c.constraints))
            {
                if let ConstraintKind::ForeignKey { ref_table, .. } = &c.kind {
                    e.lock(cx, ref_table, ShareRowExclusiveLock);
                }
            }
            if let Some(parent) = partition_of {
                e.lock(cx, parent, AccessExclusiveLock);
            }
        }
        Op::CreateIndex(ix) => {
            let mode = if ix.concurrently {
                ShareUpdateExclusiveLock
            } else {
                ShareLock
            };
            e.lock(cx, &ix.table, mode);
            e.scan(cx, &ix.table);
        }
        Op::CreateTrigger { table, .. } => e.lock(cx, table, ShareRowExclusiveLock),
        Op::CreateView {
            reads,
            materialized,
            ..
        } => {
            // Creating a view locks what it reads; a materialized view is populated by running
            // its query.
            for t in reads {
                e.lock(cx, t, AccessShareLock);
                if *materialized {
                    e.scan(cx, t);
                }
            }
        }
        _ => {}
    }
}

/// Statements that read or change rows.
fn data_effect(e: &mut Effect, cx: &Context, op: &Op) {
    match op {
        Op::Insert {
            table,
            reads,
            filter,
            ..
        } => {
            e.lock(cx, table, RowExclusiveLock);
            for t in reads {
                e.lock(cx, t, AccessShareLock);
                dml_scan(e, cx, t, filter.as_deref());
            }
        }
        Op::Merge { table }
        | Op::Copy {
            table: Some(table),
            from_stdin: true,
        } => e.lock(cx, table, RowExclusiveLock),
        Op::Copy { table: Some(t), .. } => e.lock(cx, t, AccessShareLock),
        Op::Update { table, filter, .. } => {
            e.lock(cx, table, RowExclusiveLock);
            dml_scan(e, cx, table, filter.as_deref());
        }
        Op::Delete { table, filter, .. } => {
            e.lock(cx, table, RowExclusiveLock);
            dml_scan(e, cx, table, filter.as_deref());
            e.destroy(cx, table, format!("rows of {} are deleted", table));
        }
        Op::Truncate { tables, cascade } => truncate(e, cx, tables, *cascade),
        Op::Select { reads, filter } => {
            for t in reads {
                e.lock(cx, t, AccessShareLock);
                dml_scan(e, cx, t, filter.as_deref());
            }
        }
        _ => {}
    }
}

/// TRUNCATE locks and empties the tables, and with CASCADE every table referencing them.
fn truncate(e: &mut Effect, cx: &Context, tables: &[QualName], cascade: bool) {
    let cat = cx.catalog;
    let mut all: Vec<QualName> = tables.iter().map(normal).collect();
    if cascade {
        // CASCADE follows foreign keys all the way down (ExecuteTruncate's
        // heap_truncate_find_FKs loop).
        let mut i = 0;
        while let Some(t) = all.get(i).cloned() {
            for (tab, _) in cat.referencing(&t) {
                if !all.contains(&tab.name) {
                    all.push(tab.name.clone());
                }
            }
            i += 1;
        }
    }
    for t in &all {
        e.lock(cx, t, AccessExclusiveLock);
        e.destroy(cx, t, format!("all rows of {t} are removed"));
    }
}

/// REINDEX, REFRESH MATERIALIZED VIEW, VACUUM, ANALYZE, CLUSTER and LOCK.
fn maintenance_effect(e: &mut Effect, cx: &Context, op: &Op) {
    match op {
        Op::Reindex {
            target,
            name,
            concurrently,
        } => reindex(e, cx, target, name.as_ref(), *concurrently),
        Op::RefreshMaterializedView { name, concurrently } => {
            if *concurrently {
                // Reads stay possible; the view is updated in place from a diff against the
                // new result, which reads the whole view.
                e.lock(cx, name, ExclusiveLock);
                e.scan(cx, name);
            } else {
                e.lock(cx, name, AccessExclusiveLock);
                e.rewrite(cx, name);
            }
        }
        Op::Vacuum { tables, full, .. } => {
            if tables.is_empty() {
                e.assume(
                    "VACUUM without a table list processes every table of the database".to_string(),
                );
            }
            for t in tables {
                if *full {
                    e.lock(cx, t, AccessExclusiveLock);
                    e.rewrite(cx, t);
                } else {
                    e.lock(cx, t, ShareUpdateExclusiveLock);
                }
            }
        }
        Op::Analyze { tables } => {
            for t in tables {
                e.lock(cx, t, ShareUpdateExclusiveLock);
            }
        }
        Op::Cluster { table, .. } => match table {
            Some(t) => {
                e.lock(cx, t, AccessExclusiveLock);
                e.rewrite(cx, t);
            }
            None => e.assume(
                "CLUSTER without a table re-clusters every previously clustered table".to_string(),
            ),
        },
        Op::Lock { tables, mode } => {
            let m = mode
                .as_deref()
                .and_then(LockMode::parse)
                .unwrap_or(AccessExclusiveLock);
            for t in tables {
                e.lock(cx, t, m);
            }
        }
        _ => {}
    }
}

/// REINDEX of an index or a table locks and reads the table; of a schema or database, it is noted.
fn reindex(
    e: &mut Effect,
    cx: &Context,
    target: &ObjectKind,
    name: Option<&QualName>,
    concurrently: bool,
) {
    let cat = cx.catalog;
    // REINDEX takes SHARE on the table (ACCESS EXCLUSIVE on the index, which blocks the
    // planner); CONCURRENTLY takes SHARE UPDATE EXCLUSIVE (docs: sql-reindex.html).
    let mode = if concurrently {
        ShareUpdateExclusiveLock
    } else {
        ShareLock
    };
    match (target, name) {
        (ObjectKind::Index, Some(ix)) => match table_of_index(cat, ix) {
            Some(t) => {
                e.lock(cx, &t, mode);
                e.scan(cx, &t);
            }
            None => e.assume(format!(
                "the table of index {ix} is unknown: its lock and scan are not listed"
            )),
        },
        (ObjectKind::Table, Some(t)) => {
            e.lock(cx, t, mode);
            e.scan(cx, t);
        }
        _ => e.assume(
            "REINDEX of a schema or database: every table in it is locked in turn".to_string(),
        ),
    }
}

/// An UPDATE or DELETE reads the whole table unless its filter can use an index.
fn dml_scan(e: &mut Effect, cx: &Context, table: &QualName, filter: Option<&Expr>) {
    let Some(f) = filter else {
        e.scan(cx, table);
        return;
    };
    let cat = cx.catalog;
    // The migration tools' version tables hold a row or two: the planner always reads them whole.
    if crate::source::alembic::is_bookkeeping_table(&table.name) {
        e.scan(cx, table);
        return;
    }
    let indexed = f.columns.iter().any(|c| cat.has_index_leading(table, c));
    if indexed {
        return;
    }
    let known = cat.table(table).is_some_and(|t| t.complete) || cat.schema_loaded();
    if known {
        e.scan(cx, table);
    } else if f.columns.iter().any(|c| c == "id") {
        e.assume(format!(
            "the indexes of {table} are unknown: assuming the filter on id uses its primary key"
        ));
    } else {
        e.assume(format!(
            "the indexes of {table} are unknown: assuming the filter ({}) has no index",
            f.columns.join(", ")
        ));
        e.scan(cx, table);
    }
}

fn drop(
    e: &mut Effect,
    cx: &Context,
    kind: &ObjectKind,
    names: &[QualName],
    cascade: bool,
    concurrently: bool,
) {
    let cat = cx.catalog;
    for n in names {
        match kind {
            ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView => {
                e.lock(cx, n, AccessExclusiveLock);
                if *kind == ObjectKind::Table {
                    e.destroy(cx, n, format!("table {n} and all its rows are dropped"));
                    // Its foreign keys' triggers are removed from the referenced tables.
                    if let Some(t) = cat.table(n) {
                        for c in &t.constraints {
                            if let ConstraintKind::ForeignKey { ref_table, .. } = &c.kind {
                                if normal(ref_table) != normal(n) {
                                    e.lock(cx, ref_table, AccessExclusiveLock);
                                }
                            }
                        }
                    }
                }
                if cascade {
                    for (tab, _) in cat.referencing(n) {
                        if normal(&tab.name) != normal(n) {
                            e.lock(cx, &tab.name, AccessExclusiveLock);
                        }
                    }
                }
            }
            // RemoveStatisticsById locks the statistics object's table (observed, PG 15).
            ObjectKind::Statistics => {
                if let Some((t, _)) = cat.statistics(n) {
                    e.lock(cx, t, ShareUpdateExclusiveLock);
                }
            }
            ObjectKind::Index => match table_of_index(cat, n) {
                Some(t) => e.lock(
                    cx,
                    &t,
                    if concurrently {
                        ShareUpdateExclusiveLock
                    } else {
                        AccessExclusiveLock
                    },
                ),
                None => e.assume(format!(
                    "the table of index {n} is unknown: its lock is not listed"
                )),
            },
            ObjectKind::Schema => {
                let tables: Vec<QualName> = cat
                    .tables()
                    .filter(|t| t.name.schema.as_deref() == Some(n.name.as_str()))
                    .map(|t| t.name.clone())
                    .collect();
                for t in &tables {
                    e.lock(cx, t, AccessExclusiveLock);
                    e.destroy(
                        cx,
                        t,
                        format!("table {t} is dropped with schema {}", n.name),
                    );
                }
                if cascade && tables.is_empty() {
                    e.destroy(
                        cx,
                        &QualName::new(Some(&n.name), ""),
                        format!("every table of schema {} is dropped", n.name),
                    );
                }
            }
            ObjectKind::Type | ObjectKind::Domain if cascade => {
                e.assume(format!(
                    "DROP TYPE {n} CASCADE also drops the columns of that type"
                ));
            }
            _ => {}
        }
    }
}

fn column_rewrites(cx: &Context, col: &ColumnDef) -> Option<String> {
    if col.ty.base.ends_with("(serial)") {
        return Some(format!(
            "serial column {}: nextval() is evaluated for every row",
            col.name
        ));
    }
    if col.identity.is_some() {
        return Some(format!(
            "identity column {}: a value is generated for every row",
            col.name
        ));
    }
    if col.generated.is_some() {
        return Some(format!(
            "stored generated column {}: computed for every row",
            col.name
        ));
    }
    // A domain with constraints must be checked row by row, so even a NULL default rewrites
    // (`ATExecAddColumn` skips the missing-value path when `DomainHasConstraints`).
    if cx
        .catalog
        .type_def(&col.ty.qual_name())
        .is_some_and(|t| t.domain_constrained)
    {
        return Some(format!(
            "{} has domain type {} with constraints: every row is checked and rewritten",
            col.name, col.ty.sql
        ));
    }
    let d = col.default.as_ref()?;
    match volatility(&d.calls, |f| cx.catalog.function_volatile(f)) {
        Volatility::Fixed => None,
        Volatility::Volatile(f) => Some(format!(
            "the default calls {f}(), which is volatile: evaluated for every row"
        )),
        Volatility::Unknown(f) => Some(format!(
            "the default calls {f}(), whose volatility migsafe does not know: assuming volatile (evaluated for every row)"
        )),
    }
}

/// ALTER DOMAIN: a constraint added valid, or validated, is checked against every column of the
/// domain: each table is locked SHARE and read (`validateDomainConstraint` in typecmds.c).
fn domain_effect(e: &mut Effect, cx: &Context, domain: &QualName, action: &DomainAction) {
    let checks = matches!(
        action,
        DomainAction::AddConstraint {
            not_valid: false,
            ..
        } | DomainAction::ValidateConstraint { .. }
    );
    if !checks {
        return;
    }
    let d = normal(domain);
    let tables: Vec<QualName> = cx
        .catalog
        .tables()
        .filter(|t| t.columns.iter().any(|c| normal(&c.ty.qual_name()) == d))
        .map(|t| t.name.clone())
        .collect();
    for t in &tables {
        e.lock(cx, t, ShareLock);
        e.scan(cx, t);
    }
    if !cx.catalog.schema_loaded() {
        e.assume(format!(
            "every table with a column of domain {domain} is locked SHARE and read to check the constraint (give --schema to name them)"
        ));
    }
}

/// One ALTER TABLE action, routed by what it acts on.
fn alter_action(e: &mut Effect, cx: &Context, table: &QualName, a: &AlterAction) {
    match a {
        AlterAction::AddColumn { .. }
        | AlterAction::DropColumn { .. }
        | AlterAction::AlterColumnType { .. }
        | AlterAction::SetNotNull { .. } => column_action(e, cx, table, a),
        AlterAction::SetDefault { .. }
        | AlterAction::DropDefault { .. }
        | AlterAction::DropNotNull { .. }
        | AlterAction::AddIdentity { .. }
        | AlterAction::DropIdentity { .. }
        | AlterAction::RenameColumn { .. }
        | AlterAction::RenameConstraint { .. }
        | AlterAction::RenameTable { .. }
        | AlterAction::SetSchema { .. }
        | AlterAction::ReplicaIdentity
        | AlterAction::RowLevelSecurity { .. }
        | AlterAction::SetStorage { .. }
        | AlterAction::SetCompression { .. }
        | AlterAction::Inherit { .. }
        | AlterAction::RestartIdentity { .. }
        | AlterAction::SetCollation { .. }
        | AlterAction::OwnerTo { .. }
        | AlterAction::Other { .. } => e.lock(cx, table, AccessExclusiveLock),
        AlterAction::AddConstraint { constraint } => {
            add_constraint(e, cx, table, &constraint.kind, constraint.not_valid, false)
        }
        AlterAction::DropConstraint { .. } | AlterAction::ValidateConstraint { .. } => {
            constraint_action(e, cx, table, a)
        }
        AlterAction::AttachPartition { .. } | AlterAction::DetachPartition { .. } => {
            partition_action(e, cx, table, a)
        }
        AlterAction::EnableTrigger { .. } | AlterAction::DisableTrigger { .. } => {
            e.lock(cx, table, ShareRowExclusiveLock)
        }
        AlterAction::SetTablespace { .. }
        | AlterAction::SetLogged
        | AlterAction::SetUnlogged
        | AlterAction::SetAccessMethod => storage_action(e, cx, table, a),
        // Most storage parameters take SHARE UPDATE EXCLUSIVE (`AlterTableGetRelOptionsLockLevel`).
        AlterAction::SetStorageParams { .. }
        | AlterAction::SetColumnStatistics { .. }
        | AlterAction::ClusterOn { .. } => e.lock(cx, table, ShareUpdateExclusiveLock),
    }
}

/// ADD COLUMN, DROP COLUMN, ALTER COLUMN TYPE and SET NOT NULL: the column actions that can
/// rewrite, scan or destroy.
fn column_action(e: &mut Effect, cx: &Context, table: &QualName, a: &AlterAction) {
    let cat = cx.catalog;
    match a {
        AlterAction::AddColumn { column, .. } => add_column(e, cx, table, column),
        AlterAction::DropColumn { name, .. } => {
            e.lock(cx, table, AccessExclusiveLock);
            let added_here = cat
                .column(table, name)
                .is_some_and(|c| c.created_in_migration);
            if !added_here {
                e.destroy(
                    cx,
                    table,
                    format!("column {name} of {table} and its values are dropped"),
                );
            }
        }
        AlterAction::AlterColumnType {
            column, ty, using, ..
        } => alter_column_type(e, cx, table, column, ty, using.as_deref()),
        AlterAction::SetNotNull { column } => {
            e.lock(cx, table, AccessExclusiveLock);
            let col = cat.column(table, column);
            let already = col.is_some_and(|c| c.not_null);
            // PG ≥ 12 skips the scan when a valid CHECK proves the column not null
            // (`NotNullImpliedByRelConstraints` in tablecmds.c).
            let proven = cx.pg_version >= 12 && cat.has_not_null_check(table, column);
            if !already && !proven {
                e.scan(cx, table);
            }
        }
        _ => {}
    }
}

/// ADD COLUMN: a rewrite when each row needs its own value, and the column's constraints.
fn add_column(e: &mut Effect, cx: &Context, table: &QualName, column: &ColumnDef) {
    e.lock(cx, table, AccessExclusiveLock);
    let rewrites = column_rewrites(cx, column);
    if let Some(why) = &rewrites {
        if why.contains("does not know") {
            e.assume(why.clone());
        }
        e.rewrite(cx, table);
    }
    // A new column without a default is NULL in every row: a foreign key on it has
    // nothing to check (observed, PG 15: no scan).
    let all_null = column.default.is_none() && rewrites.is_none();
    for c in &column.constraints {
        let fk_on_nulls = all_null && matches!(c.kind, ConstraintKind::ForeignKey { .. });
        add_constraint(
            e,
            cx,
            table,
            &c.kind,
            c.not_valid || fk_on_nulls,
            rewrites.is_some(),
        );
    }
}

/// ALTER COLUMN TYPE: a rewrite, an index rebuild or nothing, as the type change decides.
fn alter_column_type(
    e: &mut Effect,
    cx: &Context,
    table: &QualName,
    column: &str,
    ty: &TypeName,
    using: Option<&Expr>,
) {
    let cat = cx.catalog;
    let pre = cat.pre_existing(table);
    e.lock(cx, table, AccessExclusiveLock);
    let Some(col) = cat.column(table, column) else {
        if pre {
            e.assume(format!("type of {column} unknown: assuming a rewrite"));
            e.rewrite(cx, table);
            if !crate::pg::types::trivial_using(using, column) {
                e.destroy(
                    cx,
                    table,
                    format!("the USING expression computes new values for {column}"),
                );
            }
        }
        return;
    };
    let change = type_change(&col.ty, ty, using, column, cx.timezone, cx.pg_version);
    if let Some(a) = &change.assumption {
        e.assume(a.clone());
    }
    match change.storage {
        Storage::Rewritten => e.rewrite(cx, table),
        Storage::IndexesRebuilt => {
            if cat
                .indexes_of(table)
                .any(|i| i.columns.iter().any(|x| x == column))
            {
                e.scan(cx, table);
            }
        }
        Storage::Kept => {}
    }
    // Validated CHECK constraints that use the column are verified again (NOT VALID ones
    // are not: observed, PG 15).
    let checks = cat.table(table).is_some_and(|t| {
                t.constraints.iter().any(|c| {
                    c.validated
                        && matches!(&c.kind, ConstraintKind::Check { expr } if expr.columns.iter().any(|x| x == column))
                })
            });
    if checks {
        e.scan(cx, table);
    }
    if let Some(l) = change.lossy {
        if !col.created_in_migration {
            e.destroy(cx, table, l);
        }
    }
}

/// DROP CONSTRAINT and VALIDATE CONSTRAINT, which also lock a foreign key's referenced table.
fn constraint_action(e: &mut Effect, cx: &Context, table: &QualName, a: &AlterAction) {
    match a {
        AlterAction::DropConstraint { name, .. } => {
            e.lock(cx, table, AccessExclusiveLock);
            if let Some(r) = referenced_table(cx.catalog, table, name) {
                // The constraint's triggers on the referenced table are dropped too.
                e.lock(cx, &r, AccessExclusiveLock);
            }
        }
        AlterAction::ValidateConstraint { name } => {
            e.lock(cx, table, ShareUpdateExclusiveLock);
            e.scan(cx, table);
            if let Some(r) = referenced_table(cx.catalog, table, name) {
                e.lock(cx, &r, RowShareLock);
            }
        }
        _ => {}
    }
}

/// The table referenced by `table`'s foreign key `name`, when that constraint is a known foreign key.
fn referenced_table(cat: &Catalog, table: &QualName, name: &str) -> Option<QualName> {
    cat.table(table).and_then(|t| {
        t.constraints.iter().find_map(|c| match &c.kind {
            ConstraintKind::ForeignKey { ref_table, .. } if c.name == name => {
                Some(ref_table.clone())
            }
            _ => None,
        })
    })
}

/// ATTACH and DETACH PARTITION: the parent's lock depends on the version and the form.
fn partition_action(e: &mut Effect, cx: &Context, table: &QualName, a: &AlterAction) {
    let cat = cx.catalog;
    match a {
        AlterAction::AttachPartition { partition } => {
            // The parent's lock was reduced to SHARE UPDATE EXCLUSIVE in PostgreSQL 12.
            let parent = if cx.pg_version >= 12 {
                ShareUpdateExclusiveLock
            } else {
                AccessExclusiveLock
            };
            e.lock(cx, table, parent);
            e.lock(cx, partition, AccessExclusiveLock);
            // The partition is scanned to prove the bound unless a valid CHECK constraint implies
            // it (`PartConstraintImpliedByRelConstraint`). migsafe does not prove implication: it
            // takes a validated CHECK on the partition as the matching one, and says so.
            let has_check = cat.table(partition).is_some_and(|t| {
                t.constraints
                    .iter()
                    .any(|c| c.validated && matches!(c.kind, ConstraintKind::Check { .. }))
            });
            if has_check {
                e.assume(format!(
                    "the CHECK constraint of {partition} is taken to imply the partition bound (no scan)"
                ));
            } else {
                e.scan(cx, partition);
            }
        }
        AlterAction::DetachPartition {
            partition,
            concurrently,
            finalize,
        } => {
            // CONCURRENTLY and FINALIZE (PG ≥ 14) lower the parent's lock
            // (`AlterTableGetLockLevel`); the partition itself is still locked ACCESS EXCLUSIVE
            // (observed, PG 15).
            let parent = if (*concurrently || *finalize) && cx.pg_version >= 14 {
                ShareUpdateExclusiveLock
            } else {
                AccessExclusiveLock
            };
            e.lock(cx, table, parent);
            e.lock(cx, partition, AccessExclusiveLock);
        }
        _ => {}
    }
}

/// SET TABLESPACE, SET LOGGED / UNLOGGED and SET ACCESS METHOD: the table gets new storage.
fn storage_action(e: &mut Effect, cx: &Context, table: &QualName, a: &AlterAction) {
    match a {
        AlterAction::SetTablespace { tablespace } if tablespace == "pg_default" => {
            // Moving to the tablespace a table is already in copies nothing (observed, PG 15);
            // tables live in pg_default unless created elsewhere.
            e.lock(cx, table, AccessExclusiveLock);
            e.assume(format!(
                "{table} is taken to be in pg_default already (no copy)"
            ));
        }
        AlterAction::SetLogged
        | AlterAction::SetUnlogged
        | AlterAction::SetTablespace { .. }
        | AlterAction::SetAccessMethod => {
            e.lock(cx, table, AccessExclusiveLock);
            e.rewrite(cx, table);
        }
        _ => {}
    }
}

fn add_constraint(
    e: &mut Effect,
    cx: &Context,
    table: &QualName,
    kind: &ConstraintKind,
    not_valid: bool,
    rewritten: bool,
) {
    let cat = cx.catalog;
    match kind {
        ConstraintKind::ForeignKey { ref_table, .. } => {
            // SHARE ROW EXCLUSIVE on both tables, with or without NOT VALID (observed, PG 15).
            e.lock(cx, table, ShareRowExclusiveLock);
            e.lock(cx, ref_table, ShareRowExclusiveLock);
            // Validation joins the referencing rows to the referenced table: nothing to read
            // when the referencing table is new (observed with pg-oracle: no scan of the
            // referenced table).
            if !not_valid && cat.pre_existing(table) {
                e.scan(cx, table);
                e.scan(cx, ref_table);
            }
        }
        ConstraintKind::Check { .. } => {
            e.lock(cx, table, AccessExclusiveLock);
            if !not_valid && !rewritten {
                e.scan(cx, table);
            }
        }
        ConstraintKind::PrimaryKey {
            using_index: None, ..
        }
        | ConstraintKind::Unique {
            using_index: None, ..
        }
        | ConstraintKind::Exclude { .. } => {
            e.lock(cx, table, AccessExclusiveLock);
            e.scan(cx, table);
        }
        ConstraintKind::Unique {
            using_index: Some(_),
            ..
        } => e.lock(cx, table, AccessExclusiveLock),
        ConstraintKind::PrimaryKey {
            using_index: Some(ix),
            ..
        } => {
            e.lock(cx, table, AccessExclusiveLock);
            // The implicit SET NOT NULL scans unless every column already is NOT NULL.
            let ixname = QualName::new(table.schema.as_deref(), ix);
            match cat.index(&ixname) {
                Some(i) => {
                    // As for SET NOT NULL, a valid CHECK (col IS NOT NULL) spares the scan on
                    // PG ≥ 12.
                    let nullable = i.columns.iter().any(|c| {
                        cat.column(table, c).is_none_or(|col| !col.not_null)
                            && !(cx.pg_version >= 12 && cat.has_not_null_check(table, c))
                    });
                    if nullable {
                        e.scan(cx, table);
                    }
                }
                None => {
                    if cat.pre_existing(table) {
                        e.assume(format!(
                            "the columns of index {ix} are unknown: assuming they are nullable (a scan)"
                        ));
                        e.scan(cx, table);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::Catalog;
    use crate::pg::LockMode::{self, *};
    use crate::report::StatementReport;
    use crate::{Analyzer, Settings, Source};

    const SCHEMA: &str = "CREATE TABLE runs (id bigint PRIMARY KEY, status varchar(20), \
        started timestamp, note text);\n\
        ALTER TABLE runs ADD CONSTRAINT status_nn CHECK (status IS NOT NULL);\n\
        CREATE TABLE events (id bigint PRIMARY KEY, at date) PARTITION BY RANGE (at);\n\
        CREATE TABLE events_2020 (id bigint, at date);\n";

    fn run(pg: u32, sql: &str) -> Vec<StatementReport> {
        let schema = Catalog::from_sql(SCHEMA).expect("schema");
        Analyzer::new(Settings::default().pg_version(pg))
            .schema(schema)
            .analyze(Source::new("t.sql", sql))
            .expect("analyze")
            .statements
    }

    fn one(pg: u32, sql: &str) -> StatementReport {
        run(pg, sql).remove(0)
    }

    fn facts(s: &StatementReport) -> (Option<LockMode>, bool, bool, bool) {
        (s.lock, s.rewrites_table, s.full_scan, s.destroys_data)
    }

    #[test]
    fn attach_partition_lock_was_reduced_in_12() {
        let sql = "ALTER TABLE events ATTACH PARTITION events_2020 FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');";
        let s11 = one(11, sql);
        let s12 = one(12, sql);
        // The partition is ACCESS EXCLUSIVE either way; the parent's lock differs.
        assert_eq!(s11.locks[0].mode, AccessExclusiveLock);
        assert_eq!(s12.locks[0].mode, ShareUpdateExclusiveLock);
        assert!(
            s12.full_scan,
            "no CHECK on the partition: its rows are checked"
        );
    }

    #[test]
    fn set_not_null_uses_a_valid_check_from_12() {
        let sql = "ALTER TABLE runs ALTER COLUMN status SET NOT NULL;";
        assert_eq!(
            facts(&one(11, sql)),
            (Some(AccessExclusiveLock), false, true, false)
        );
        assert_eq!(
            facts(&one(12, sql)),
            (Some(AccessExclusiveLock), false, false, false)
        );
        let note = "ALTER TABLE runs ALTER COLUMN note SET NOT NULL;";
        assert!(one(15, note).full_scan);
    }

    #[test]
    fn detach_concurrently_exists_from_14() {
        let sql = "ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;";
        assert_eq!(one(13, sql).locks[0].mode, AccessExclusiveLock);
        assert_eq!(one(14, sql).locks[0].mode, ShareUpdateExclusiveLock);
    }

    #[test]
    fn timestamp_to_timestamptz_depends_on_zone_and_version() {
        let utc = "SET timezone = 'UTC';\nALTER TABLE runs ALTER COLUMN started TYPE timestamptz;";
        assert!(!run(15, utc)[1].rewrites_table);
        assert!(run(11, utc)[1].rewrites_table);
        let unknown = one(
            15,
            "ALTER TABLE runs ALTER COLUMN started TYPE timestamptz;",
        );
        assert!(unknown.rewrites_table);
        let ny = "SET timezone = 'America/New_York';\nALTER TABLE runs ALTER COLUMN started TYPE timestamptz;";
        let s = &run(15, ny)[1];
        assert!(s.rewrites_table && s.destroys_data);
    }

    #[test]
    fn defaults_rewrite_only_when_volatile() {
        let now = one(
            15,
            "ALTER TABLE runs ADD COLUMN seen timestamptz DEFAULT now() NOT NULL;",
        );
        assert_eq!(
            facts(&now),
            (Some(AccessExclusiveLock), false, false, false)
        );
        let random = one(15, "ALTER TABLE runs ADD COLUMN r float8 DEFAULT random();");
        assert!(random.rewrites_table && random.full_scan && random.lock_heavy);
        let serial = one(15, "ALTER TABLE runs ADD COLUMN n bigserial;");
        assert!(serial.rewrites_table);
    }

    #[test]
    fn unknown_schema_is_said_not_guessed() {
        let s = crate::analyze("DROP INDEX ix_unknown;\nUPDATE things SET a = 1 WHERE id = 5;");
        assert_eq!(s.statements[0].lock, None);
        assert!(!s.statements[1].full_scan);
        let typed = crate::analyze("ALTER TABLE things ALTER COLUMN a TYPE bigint;");
        let st = &typed.statements[0];
        assert!(st.rewrites_table);
        assert!(
            st.findings
                .iter()
                .any(|f| f.message.contains("type of a unknown: assuming a rewrite")),
            "{:?}",
            st.findings
        );
    }

    #[test]
    fn do_blocks_are_read() {
        let s = one(
            15,
            "DO $$ BEGIN UPDATE runs SET note = 'x'; RAISE NOTICE 'done'; END $$;",
        );
        assert_eq!(s.lock, Some(RowExclusiveLock));
        assert!(s.full_scan);
    }

    #[test]
    fn concurrently_in_a_block_takes_nothing_because_it_fails() {
        let s = run(
            15,
            "BEGIN;\nCREATE INDEX CONCURRENTLY ix ON runs (note);\nCOMMIT;",
        );
        assert_eq!(s[1].lock, None);
        let outside = one(15, "CREATE INDEX CONCURRENTLY ix ON runs (note);");
        assert_eq!(outside.lock, Some(ShareUpdateExclusiveLock));
        assert!(outside.full_scan && !outside.lock_heavy);
    }

    #[test]
    fn foreign_key_from_a_new_table_reads_nothing() {
        let s = run(
            15,
            "CREATE TABLE run_notes (id bigint PRIMARY KEY, run_id bigint);\n\
             ALTER TABLE run_notes ADD CONSTRAINT fk FOREIGN KEY (run_id) REFERENCES runs (id);",
        );
        assert_eq!(s[1].lock, Some(ShareRowExclusiveLock));
        assert!(!s[1].full_scan);
        let existing = one(
            15,
            "ALTER TABLE events_2020 ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES runs (id);",
        );
        assert!(existing.full_scan && existing.lock_heavy);
    }

    #[test]
    fn backfill_after_ddl_holds_the_lock() {
        let s = run(
            15,
            "BEGIN;\nALTER TABLE runs ADD COLUMN flag boolean;\nUPDATE runs SET flag = true;\nCOMMIT;",
        );
        assert_eq!(s[2].lock, Some(RowExclusiveLock));
        assert_eq!(s[2].held, Some(AccessExclusiveLock));
        assert!(s[2].lock_heavy);
    }
}
