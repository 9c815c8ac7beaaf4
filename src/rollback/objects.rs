//! Inverses of what the catalog's extras track: sequences, privileges and owners, storage
//! parameters, clustering, inheritance, column storage and compression, statistics objects,
//! triggers and domain constraints; and the steps that give a re-created table or column those
//! things back.

use super::inverse::{Inverse, Step, guarded, has_column, has_rel, id, lit, q};
use crate::catalog::{Catalog, Column, Grant, clause_kind, default_clause, sequence_clauses};
use crate::ir::{DomainAction, ObjectKind, Privileges, QualName};

/// Whether a relation's privileges are known: a schema that lists privileges lists every grant,
/// and a relation the migration created has only those the migration gave.
fn acl_known(cat: &Catalog, rel: &QualName) -> bool {
    cat.privileges_known() || cat.table(rel).is_some_and(|t| t.created_in_migration)
}

fn grantee(g: &str) -> String {
    if g == "PUBLIC" { g.to_string() } else { id(g) }
}

fn grant_sql(g: &Grant, on: &str, rel: &QualName) -> String {
    format!(
        "GRANT {} ON {on} {} TO {}{};",
        g.privileges,
        q(rel),
        grantee(&g.grantee),
        if g.grant_option {
            " WITH GRANT OPTION"
        } else {
            ""
        }
    )
}

/// The owner and privileges of a re-created relation (`on`: `TABLE` or `SEQUENCE`).
pub(super) fn acl_steps(cat: &Catalog, rel: &QualName, on: &str) -> Vec<Step> {
    let Some(acl) = cat.acl(rel) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(owner) = &acl.owner {
        out.push(Step::tx(format!(
            "ALTER TABLE IF EXISTS {} OWNER TO {owner};",
            q(rel)
        )));
    }
    out.extend(acl.grants.iter().map(|g| Step::tx(grant_sql(g, on, rel))));
    out
}

/// Sequences owned by `table` (by `column` only, when given) that dropping it dropped, and that the
/// re-created column does not make itself (a `serial` column does): created again before it.
pub(super) fn sequences_before(cat: &Catalog, table: &QualName, column: Option<&str>) -> Vec<Step> {
    owned(cat, table, column)
        .map(|s| {
            Step::tx(format!(
                "CREATE SEQUENCE IF NOT EXISTS {} {};",
                q(&s.name),
                s.options.join(" ")
            ))
        })
        .collect()
}

/// After the column is back: the sequences owned by it again, with their privileges.
pub(super) fn sequences_after(cat: &Catalog, table: &QualName, column: Option<&str>) -> Vec<Step> {
    let mut out = Vec::new();
    for s in owned(cat, table, column) {
        if let Some((_, c)) = &s.owned_by {
            out.push(Step::tx(format!(
                "ALTER SEQUENCE IF EXISTS {} OWNED BY {}.{};",
                q(&s.name),
                q(table),
                id(c)
            )));
        }
        out.extend(acl_steps(cat, &s.name, "SEQUENCE"));
    }
    out
}

/// What re-creating the owned and identity sequences cannot give back: their positions.
pub(super) fn sequence_losses(
    cat: &Catalog,
    table: &QualName,
    column: Option<&str>,
) -> Vec<String> {
    let mut out: Vec<String> = cat
        .owned_sequences(table, column)
        .map(|s| {
            format!(
                "the position of sequence {} (it starts again: setval it past the largest value)",
                s.name
            )
        })
        .collect();
    let identity = cat
        .table(table)
        .into_iter()
        .flat_map(|t| t.columns.iter())
        .filter(|c| c.identity.is_some() && column.is_none_or(|x| x == c.name));
    out.extend(identity.map(|c| {
        format!(
            "the position of {table}.{}'s identity sequence (it starts again: restart it past the largest value)",
            c.name
        )
    }));
    out
}

fn owned<'a>(
    cat: &'a Catalog,
    table: &QualName,
    column: Option<&'a str>,
) -> impl Iterator<Item = &'a crate::catalog::Sequence> + 'a {
    let t = table.clone();
    cat.owned_sequences(table, column).filter(move |s| {
        let serial = s
            .owned_by
            .as_ref()
            .and_then(|(_, c)| cat.column(&t, c))
            .is_some_and(|c| c.ty.base.ends_with("(serial)"));
        !(s.implicit && serial)
    })
}

/// Column settings a re-added column needs besides its definition: storage and compression.
pub(super) fn column_setting_steps(t: &QualName, c: &Column) -> Vec<Step> {
    let x = c.settings();
    let mut out = Vec::new();
    if let Some(s) = &x.storage {
        out.push(Step::tx(format!(
            "ALTER TABLE IF EXISTS {} ALTER COLUMN {} SET STORAGE {s};",
            q(t),
            id(&c.name)
        )));
    }
    if let Some(m) = &x.compression {
        out.push(Step::tx(format!(
            "ALTER TABLE IF EXISTS {} ALTER COLUMN {} SET COMPRESSION {m};",
            q(t),
            id(&c.name)
        )));
    }
    out
}

/// What a re-created table gets after its columns, constraints and indexes: column settings,
/// clustering, statistics objects, triggers, owner and privileges.
pub(super) fn table_steps(cat: &Catalog, table: &QualName) -> Vec<Step> {
    let mut out = Vec::new();
    if let Some(t) = cat.table(table) {
        for c in &t.columns {
            out.extend(column_setting_steps(table, c));
        }
    }
    if let Some(ix) = cat.clustered_on(table) {
        out.push(Step::tx(format!(
            "ALTER TABLE IF EXISTS {} CLUSTER ON {};",
            q(table),
            id(ix)
        )));
    }
    out.extend(
        cat.statistics_of(table)
            .map(|sql| Step::tx(statistics_sql(sql))),
    );
    for tg in cat.triggers(table) {
        out.extend(trigger_steps(table, tg));
    }
    out.extend(acl_steps(cat, table, "TABLE"));
    out
}

/// `s` without `prefix`, compared case-insensitively (statements are kept as PostgreSQL folds them
/// or as `pg_dump` prints them).
fn after_words<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// `CREATE STATISTICS IF NOT EXISTS …` from the statement as written.
fn statistics_sql(sql: &str) -> String {
    let body = sql.trim_end_matches(';');
    let rest = after_words(body, "CREATE STATISTICS IF NOT EXISTS ")
        .or_else(|| after_words(body, "CREATE STATISTICS "))
        .unwrap_or(body);
    format!("CREATE STATISTICS IF NOT EXISTS {rest};")
}

/// A trigger created again when it is not there, disabled again when it was.
fn trigger_steps(table: &QualName, tg: &crate::catalog::Trigger) -> Vec<Step> {
    let cond = format!(
        "NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass({}) AND tgname = {}) AND {}",
        lit(&q(table)),
        lit(&tg.name),
        has_rel(table)
    );
    let mut out = vec![guarded(
        &cond,
        &format!("{};", tg.sql.trim_end_matches(';')),
    )];
    if !tg.enabled {
        out.push(Step::tx(format!(
            "ALTER TABLE IF EXISTS {} DISABLE TRIGGER {};",
            q(table),
            id(&tg.name)
        )));
    }
    out
}

/// DROP SEQUENCE: created again with its options, owner column and privileges; its position is lost.
pub(super) fn drop_sequence_inverse(n: &QualName, if_exists: bool, cat: &Catalog) -> Inverse {
    let Some(s) = cat.sequence(n) else {
        return if if_exists && cat.schema_loaded() {
            Inverse::none()
        } else {
            Inverse::impossible(format!(
                "DROP SEQUENCE {n}: its definition is not known (give --schema)"
            ))
        };
    };
    let mut steps = vec![Step::tx(format!(
        "CREATE SEQUENCE IF NOT EXISTS {} {};",
        q(&s.name),
        s.options.join(" ")
    ))];
    if let Some((t, c)) = &s.owned_by {
        steps.push(guarded(
            &has_column(t, c),
            &format!("ALTER SEQUENCE {} OWNED BY {}.{};", q(&s.name), q(t), id(c)),
        ));
    }
    steps.extend(acl_steps(cat, &s.name, "SEQUENCE"));
    Inverse::Lossy {
        steps,
        loses: format!(
            "the position of sequence {n} (it starts again: setval it past the largest value)"
        ),
    }
}

/// ALTER SEQUENCE: the clauses it changed set back (to PostgreSQL's defaults where the sequence
/// had none), the owner column back; RESTART's old position is lost.
pub(super) fn alter_sequence_inverse(
    name: &QualName,
    tail: &str,
    owner_changes: bool,
    cat: &Catalog,
) -> Inverse {
    let clauses = sequence_clauses(tail);
    let kinds: Vec<String> = clauses.iter().map(|c| clause_kind(c)).collect();
    let restarts = kinds.iter().any(|k| k == "RESTART");
    let changes: Vec<&String> = kinds
        .iter()
        .filter(|k| !matches!(k.as_str(), "RESTART" | "OWNED"))
        .collect();
    if changes.is_empty() && !owner_changes {
        return if restarts {
            Inverse::Lossy {
                steps: Vec::new(),
                loses: format!("the position of sequence {name} before RESTART"),
            }
        } else {
            Inverse::none()
        };
    }
    let Some(s) = cat.sequence(name) else {
        return Inverse::impossible(format!(
            "ALTER SEQUENCE {name}: its previous settings are not known (give --schema)"
        ));
    };
    let mut back: Vec<String> = Vec::new();
    for k in changes {
        match s.options.iter().find(|c| &clause_kind(c) == k) {
            Some(c) => back.push(c.clone()),
            None => match default_clause(k) {
                Some(d) => back.push(d.to_string()),
                None => {
                    return Inverse::impossible(format!(
                        "ALTER SEQUENCE {name}: the previous {k} is not known"
                    ));
                }
            },
        }
    }
    if owner_changes {
        back.push(match &s.owned_by {
            Some((t, c)) => format!("OWNED BY {}.{}", q(t), id(c)),
            None => "OWNED BY NONE".to_string(),
        });
    }
    let steps = vec![Step::tx(format!(
        "ALTER SEQUENCE IF EXISTS {} {};",
        q(name),
        back.join(" ")
    ))];
    if restarts {
        Inverse::Lossy {
            steps,
            loses: format!("the position of sequence {name} before RESTART"),
        }
    } else {
        Inverse::Exact(steps)
    }
}

/// GRANT is undone by revoking what the grantee did not hold before; REVOKE by granting again the
/// lines it took away. Both need the privileges before (a schema, or a relation the migration
/// created).
pub(super) fn privileges_inverse(p: Option<&Privileges>, grant: bool, cat: &Catalog) -> Inverse {
    let what = if grant { "GRANT" } else { "REVOKE" };
    let Some(p) = p else {
        return Inverse::impossible(format!(
            "{what}: migsafe undoes privileges on tables and sequences only"
        ));
    };
    let on = if p.on == ObjectKind::Sequence {
        "SEQUENCE"
    } else {
        "TABLE"
    };
    let mut steps = Vec::new();
    for o in &p.objects {
        if !acl_known(cat, o) {
            return Inverse::impossible(format!(
                "{what} on {o}: the privileges before are not known (give --schema)"
            ));
        }
        let lines: &[Grant] = cat.acl(o).map_or(&[], |a| a.grants.as_slice());
        for g in &p.grantees {
            if grant {
                let held = lines
                    .iter()
                    .any(|l| &l.grantee == g && l.privileges == p.privileges);
                if !held {
                    steps.push(guarded(
                        &has_rel(o),
                        &format!(
                            "REVOKE {} ON {on} {} FROM {};",
                            p.privileges,
                            q(o),
                            grantee(g)
                        ),
                    ));
                }
            } else {
                let all = p.privileges.starts_with("ALL");
                for l in lines
                    .iter()
                    .filter(|l| &l.grantee == g && (all || l.privileges == p.privileges))
                {
                    steps.push(guarded(&has_rel(o), &grant_sql(l, on, o)));
                }
            }
        }
    }
    Inverse::Exact(steps)
}

/// CREATE STATISTICS: dropped (unless IF NOT EXISTS found it); DROP STATISTICS: created again.
pub(super) fn create_statistics_inverse(
    name: &QualName,
    if_not_exists: bool,
    cat: &Catalog,
) -> Inverse {
    if if_not_exists && cat.statistics(name).is_some() {
        return Inverse::none();
    }
    Inverse::Exact(vec![Step::tx(format!(
        "DROP STATISTICS IF EXISTS {};",
        q(name)
    ))])
}

pub(super) fn drop_statistics_inverse(n: &QualName, if_exists: bool, cat: &Catalog) -> Inverse {
    match cat.statistics(n) {
        Some((_, sql)) => Inverse::Exact(vec![Step::tx(statistics_sql(sql))]),
        None if if_exists && cat.schema_loaded() => Inverse::none(),
        None => Inverse::impossible(format!(
            "DROP STATISTICS {n}: its definition is not known (give --schema)"
        )),
    }
}

/// DROP TRIGGER: created again from its definition.
pub(super) fn drop_trigger_inverse(
    name: &str,
    table: Option<&QualName>,
    if_exists: bool,
    cat: &Catalog,
) -> Inverse {
    let found = table.and_then(|t| {
        cat.triggers(t)
            .iter()
            .find(|tg| tg.name == name)
            .map(|tg| (t, tg))
    });
    match found {
        Some((t, tg)) => Inverse::Exact(trigger_steps(t, tg)),
        None if if_exists && cat.schema_loaded() => Inverse::none(),
        None => Inverse::impossible(format!(
            "DROP TRIGGER {name}: its definition is not known (give --schema)"
        )),
    }
}

/// CREATE OR REPLACE TRIGGER over an existing trigger: its old definition put back.
pub(super) fn replaced_trigger(name: &str, table: &QualName, cat: &Catalog) -> Option<Step> {
    let tg = cat.triggers(table).iter().find(|tg| tg.name == name)?;
    let body = tg.sql.trim_end_matches(';');
    let rest = after_words(body, "CREATE OR REPLACE TRIGGER ")
        .or_else(|| after_words(body, "CREATE TRIGGER "))?;
    Some(Step::tx(format!("CREATE OR REPLACE TRIGGER {rest};")))
}

/// ALTER DOMAIN: an added constraint dropped, a validated one re-added NOT VALID, a dropped one
/// added again.
pub(super) fn alter_domain_inverse(
    name: &QualName,
    action: &DomainAction,
    cat: &Catalog,
) -> Inverse {
    let has = |c: &str| {
        format!(
            "EXISTS (SELECT 1 FROM pg_constraint WHERE contypid = to_regtype({}) AND conname = {})",
            lit(&q(name)),
            lit(c)
        )
    };
    let known = |c: &str| cat.domain_constraints(name).iter().find(|k| k.name == c);
    let re_add = |c: &crate::catalog::DomainConstraint, not_valid: bool| {
        guarded(
            &format!("NOT {}", has(&c.name)),
            &format!(
                "ALTER DOMAIN {} ADD CONSTRAINT {} {}{};",
                q(name),
                id(&c.name),
                c.body,
                if not_valid { " NOT VALID" } else { "" }
            ),
        )
    };
    match action {
        DomainAction::AddConstraint { name: c, .. } => {
            let c = c.clone().unwrap_or_else(|| format!("{}_check", name.name));
            Inverse::Exact(vec![guarded(
                &has(&c),
                &format!("ALTER DOMAIN {} DROP CONSTRAINT {};", q(name), id(&c)),
            )])
        }
        DomainAction::ValidateConstraint { name: c } => match known(c) {
            Some(k) if k.validated => Inverse::none(),
            Some(k) => Inverse::Exact(vec![
                guarded(
                    &has(c),
                    &format!("ALTER DOMAIN {} DROP CONSTRAINT {};", q(name), id(c)),
                ),
                re_add(k, true),
            ]),
            // A schema prints an unvalidated domain constraint by itself (ALTER DOMAIN … NOT
            // VALID): one it does not print was valid, and validating it changes nothing.
            None if cat.schema_loaded() => Inverse::none(),
            None => Inverse::impossible(format!(
                "VALIDATE CONSTRAINT {c} of domain {name}: the constraint is not known (give --schema)"
            )),
        },
        DomainAction::DropConstraint { name: c, .. } => match known(c) {
            Some(k) => Inverse::Exact(vec![re_add(k, !k.validated)]),
            None => Inverse::impossible(format!(
                "DROP CONSTRAINT {c} of domain {name}: its definition is not known"
            )),
        },
        DomainAction::Other { sql } => Inverse::impossible(format!(
            "ALTER DOMAIN {name} {sql}: migsafe does not model this action"
        )),
    }
}

/// Whether the table's settings before the statement are known: from a schema, or because the
/// migration created the table.
fn settings_known(cat: &Catalog, t: &QualName) -> bool {
    cat.schema_loaded() || cat.table(t).is_some_and(|t| t.created_in_migration)
}

/// CLUSTER ON / SET WITHOUT CLUSTER: the clustering index before it, marked again.
pub(super) fn cluster_on_inverse(before: &QualName, t: &QualName, cat: &Catalog) -> Inverse {
    if !settings_known(cat, before) {
        return Inverse::impossible(
            "CLUSTER ON / SET WITHOUT CLUSTER: the previous clustering index is not known (give --schema)",
        );
    }
    Inverse::Exact(vec![mark_cluster(t, cat.clustered_on(before))])
}

fn mark_cluster(t: &QualName, index: Option<&str>) -> Step {
    Step::tx(match index {
        Some(ix) => format!("ALTER TABLE IF EXISTS {} CLUSTER ON {};", q(t), id(ix)),
        None => format!("ALTER TABLE IF EXISTS {} SET WITHOUT CLUSTER;", q(t)),
    })
}

/// CLUSTER: the table's row order before it is gone; a USING index that changed the table's
/// clustering index is marked back.
pub(super) fn cluster_inverse(
    table: Option<&QualName>,
    index: Option<&str>,
    cat: &Catalog,
) -> Inverse {
    let Some(t) = table else {
        return Inverse::Lossy {
            steps: Vec::new(),
            loses: "the row order of every clustered table before CLUSTER".to_string(),
        };
    };
    let created = cat.table(t).is_some_and(|x| x.created_in_migration);
    let mut steps = Vec::new();
    if let Some(ix) = index {
        let before = cat.clustered_on(t);
        if before != Some(ix) {
            if !settings_known(cat, t) {
                return Inverse::impossible(format!(
                    "CLUSTER {t} USING {ix}: the previous clustering index is not known (give --schema)"
                ));
            }
            steps.push(mark_cluster(t, before));
        }
    }
    if created {
        Inverse::Exact(steps)
    } else {
        Inverse::Lossy {
            steps,
            loses: format!("the physical row order of {t} before CLUSTER"),
        }
    }
}

/// SET (…) / RESET (…): each parameter named set back to its value before, or reset.
pub(super) fn storage_params_inverse(
    params: &[(String, Option<String>)],
    before: &QualName,
    t: &QualName,
    cat: &Catalog,
) -> Inverse {
    if params.is_empty() || !settings_known(cat, before) {
        return Inverse::impossible(
            "SET/RESET storage parameters: their previous values are not known (give --schema)",
        );
    }
    let old = cat.reloptions(before);
    let mut set = Vec::new();
    let mut reset = Vec::new();
    for (k, _) in params {
        match old.iter().find(|(n, _)| n == k) {
            Some((_, v)) => set.push(format!("{k} = {}", lit(v))),
            None => reset.push(k.clone()),
        }
    }
    let mut steps = Vec::new();
    if !set.is_empty() {
        steps.push(Step::tx(format!(
            "ALTER TABLE IF EXISTS {} SET ({});",
            q(t),
            set.join(", ")
        )));
    }
    if !reset.is_empty() {
        steps.push(Step::tx(format!(
            "ALTER TABLE IF EXISTS {} RESET ({});",
            q(t),
            reset.join(", ")
        )));
    }
    Inverse::Exact(steps)
}

/// ALTER COLUMN … SET STORAGE / SET COMPRESSION: the column's setting before, or its type's
/// default (looked up when the rollback runs: the type decides).
pub(super) fn column_setting_inverse(
    column: &str,
    storage: bool,
    before: &QualName,
    t: &QualName,
    cat: &Catalog,
) -> Inverse {
    let Some(c) = cat.column(before, column) else {
        return Inverse::impossible(format!(
            "ALTER COLUMN {column}: its previous setting is not known (give --schema)"
        ));
    };
    let x = c.settings();
    let sql = match (storage, x.storage, x.compression) {
        (true, Some(s), _) => format!(
            "ALTER TABLE {} ALTER COLUMN {} SET STORAGE {s};",
            q(t),
            id(column)
        ),
        (true, None, _) => format!(
            "EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STORAGE %s', {}, {}, (SELECT CASE typstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END FROM pg_type WHERE oid = (SELECT atttypid FROM pg_attribute WHERE attrelid = to_regclass({}) AND attname = {})));",
            lit(&q(t)),
            lit(column),
            lit(&q(t)),
            lit(column)
        ),
        (false, _, Some(m)) => format!(
            "ALTER TABLE {} ALTER COLUMN {} SET COMPRESSION {m};",
            q(t),
            id(column)
        ),
        (false, _, None) => format!(
            "ALTER TABLE {} ALTER COLUMN {} SET COMPRESSION default;",
            q(t),
            id(column)
        ),
    };
    Inverse::Exact(vec![guarded(&has_column(t, column), &sql)])
}

/// INHERIT / NO INHERIT: the opposite, when the link is (not) there.
pub(super) fn inherit_inverse(parent: &QualName, inherit: bool, t: &QualName) -> Inverse {
    let linked = format!(
        "EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass({}) AND inhparent = to_regclass({}))",
        lit(&q(t)),
        lit(&q(parent))
    );
    Inverse::Exact(vec![if inherit {
        guarded(
            &linked,
            &format!("ALTER TABLE {} NO INHERIT {};", q(t), q(parent)),
        )
    } else {
        guarded(
            &format!("NOT {linked} AND {} AND {}", has_rel(t), has_rel(parent)),
            &format!("ALTER TABLE {} INHERIT {};", q(t), q(parent)),
        )
    }])
}

/// OWNER TO: the owner before, when the schema said it.
pub(super) fn owner_inverse(before: &QualName, t: &QualName, cat: &Catalog) -> Inverse {
    let created = cat.table(before).is_some_and(|x| x.created_in_migration);
    match cat.acl(before).and_then(|a| a.owner.as_deref()) {
        Some(o) => Inverse::Exact(vec![Step::tx(format!(
            "ALTER TABLE IF EXISTS {} OWNER TO {o};",
            q(t)
        ))]),
        // The table is dropped again, whoever owns it.
        None if created => Inverse::none(),
        None => Inverse::impossible(format!(
            "OWNER TO: the previous owner of {t} is not known (give --schema)"
        )),
    }
}
