//! What a rollback must put back beyond columns, constraints and indexes: sequences and the columns
//! that own them, owners and privileges, storage parameters, the clustered index, inheritance,
//! statistics objects, triggers and domain constraints. Read from the statements `pg_dump` prints
//! (and `--database` writes the same way) and evolved by the migration like the rest.

use super::{Catalog, normal};
use crate::ir::{AlterAction, DomainAction, ObjectKind, Op, Privileges, QualName};
use std::collections::BTreeMap;

/// A sequence as `CREATE SEQUENCE` made it.
#[derive(Debug, Clone)]
pub struct Sequence {
    pub name: QualName,
    /// Its options as SQL (`AS integer START WITH 1 INCREMENT BY 1 …`), one clause each.
    pub options: Vec<String>,
    /// `OWNED BY table.column`: dropped with the column or table.
    pub owned_by: Option<(QualName, String)>,
    /// Made by a `serial` column of a CREATE TABLE: it comes back with the column.
    pub implicit: bool,
}

/// One privilege line of a relation: `GRANT privileges ON … TO grantee`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub privileges: String,
    pub grantee: String,
    pub grant_option: bool,
}

/// A relation's owner and privileges, when the schema said them.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    pub owner: Option<String>,
    pub grants: Vec<Grant>,
}

/// A trigger as `CREATE TRIGGER` said it.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub name: String,
    pub sql: String,
    pub enabled: bool,
}

/// A constraint added to a domain by `ALTER DOMAIN … ADD CONSTRAINT`.
#[derive(Debug, Clone)]
pub struct DomainConstraint {
    pub name: String,
    pub body: String,
    pub validated: bool,
}

/// The facts above, by relation (normalised names).
#[derive(Debug, Clone, Default)]
pub(crate) struct Extras {
    sequences: BTreeMap<QualName, Sequence>,
    acls: BTreeMap<QualName, Acl>,
    reloptions: BTreeMap<QualName, Vec<(String, String)>>,
    clustered: BTreeMap<QualName, String>,
    inherits: BTreeMap<QualName, Vec<QualName>>,
    /// Statistics objects by name: (table, statement).
    statistics: BTreeMap<QualName, (QualName, String)>,
    triggers: BTreeMap<QualName, Vec<Trigger>>,
    domain_constraints: BTreeMap<QualName, Vec<DomainConstraint>>,
    /// Alembic versions: each with the version the migration upgraded to it.
    versions: BTreeMap<String, String>,
    /// The schema said who owns what and who may do what (`pg_dump -O -x` prints neither: then a
    /// relation without grants may still have some).
    privileges_in_schema: bool,
}

/// The clauses of sequence options, each from its key word: `AS integer`, `START WITH 1`,
/// `NO MINVALUE`, `CACHE 1`, `RESTART WITH 5`, `OWNED BY t.c`.
pub(crate) fn sequence_clauses(options: &str) -> Vec<String> {
    const STARTS: [&str; 11] = [
        "AS",
        "INCREMENT",
        "MINVALUE",
        "MAXVALUE",
        "START",
        "RESTART",
        "CACHE",
        "CYCLE",
        "NO",
        "OWNED",
        "SEQUENCE",
    ];
    let mut out: Vec<String> = Vec::new();
    let mut after_no = false;
    for w in options.split_whitespace() {
        let upper = w.to_uppercase();
        if STARTS.contains(&upper.as_str()) && !after_no {
            out.push(w.to_string());
        } else if let Some(last) = out.last_mut() {
            last.push(' ');
            last.push_str(w);
        }
        after_no = upper == "NO";
    }
    out
}

/// What a sequence clause sets: `MINVALUE` for both `MINVALUE 5` and `NO MINVALUE`.
pub(crate) fn clause_kind(clause: &str) -> String {
    let mut words = clause.split_whitespace().map(str::to_uppercase);
    match words.next() {
        Some(w) if w == "NO" => words.next().unwrap_or_default(),
        Some(w) => w,
        None => String::new(),
    }
}

/// The clause that puts an option back to what PostgreSQL gives a new sequence.
pub(crate) fn default_clause(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "AS" => "AS bigint",
        "INCREMENT" => "INCREMENT BY 1",
        "MINVALUE" => "NO MINVALUE",
        "MAXVALUE" => "NO MAXVALUE",
        "START" => "START WITH 1",
        "CACHE" => "CACHE 1",
        "CYCLE" => "NO CYCLE",
        _ => return None,
    })
}

impl Catalog {
    /// The sequence named `name`.
    pub(crate) fn sequence(&self, name: &QualName) -> Option<&Sequence> {
        self.extras.sequences.get(&normal(name))
    }

    /// The sequences owned by a column of `table` (by `column` only, when given).
    pub(crate) fn owned_sequences<'a>(
        &'a self,
        table: &QualName,
        column: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Sequence> + 'a {
        let t = normal(table);
        self.extras.sequences.values().filter(move |s| {
            s.owned_by
                .as_ref()
                .is_some_and(|(o, c)| normal(o) == t && column.is_none_or(|x| x == c))
        })
    }

    /// Whether the schema listed owners or privileges, so that a relation without grants has none.
    pub(crate) fn privileges_known(&self) -> bool {
        self.extras.privileges_in_schema
    }

    /// Called once the schema is loaded: whether it listed owners or privileges.
    pub(crate) fn note_schema_privileges(&mut self) {
        self.extras.privileges_in_schema = !self.extras.acls.is_empty();
    }

    /// A relation's owner and privileges, when known.
    pub(crate) fn acl(&self, name: &QualName) -> Option<&Acl> {
        self.extras.acls.get(&normal(name))
    }

    /// A table's storage parameters (empty when none are set).
    pub(crate) fn reloptions(&self, table: &QualName) -> &[(String, String)] {
        self.extras
            .reloptions
            .get(&normal(table))
            .map_or(&[], Vec::as_slice)
    }

    /// The index a table is clustered on.
    pub(crate) fn clustered_on(&self, table: &QualName) -> Option<&str> {
        self.extras
            .clustered
            .get(&normal(table))
            .map(String::as_str)
    }

    /// The tables `table` inherits from.
    pub(crate) fn parents(&self, table: &QualName) -> &[QualName] {
        self.extras
            .inherits
            .get(&normal(table))
            .map_or(&[], Vec::as_slice)
    }

    /// Statistics objects: by name, (table, statement).
    pub(crate) fn statistics(&self, name: &QualName) -> Option<&(QualName, String)> {
        self.extras.statistics.get(&normal(name))
    }

    /// The statistics objects on `table`, as statements.
    pub(crate) fn statistics_of<'a>(&'a self, table: &QualName) -> impl Iterator<Item = &'a str> {
        let t = normal(table);
        self.extras
            .statistics
            .values()
            .filter(move |(on, _)| normal(on) == t)
            .map(|(_, sql)| sql.as_str())
    }

    /// The triggers of `table`.
    pub(crate) fn triggers(&self, table: &QualName) -> &[Trigger] {
        self.extras
            .triggers
            .get(&normal(table))
            .map_or(&[], Vec::as_slice)
    }

    /// The constraints `ALTER DOMAIN` added to `domain`.
    pub(crate) fn domain_constraints(&self, domain: &QualName) -> &[DomainConstraint] {
        self.extras
            .domain_constraints
            .get(&normal(domain))
            .map_or(&[], Vec::as_slice)
    }

    /// The Alembic versions the migration turned into `version` so far (`UPDATE alembic_version`),
    /// nearest first.
    pub(crate) fn versions_before(&self, version: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let mut at = version;
        while let Some(prev) = self.extras.versions.get(at) {
            // A history that comes back to a version (a downgrade, then an upgrade) ends here.
            if prev == version || out.contains(&prev.as_str()) {
                break;
            }
            out.push(prev);
            at = prev;
        }
        out
    }

    /// Evolves the facts above by one statement (before the tables and columns are).
    pub(crate) fn apply_extras(&mut self, op: &Op) {
        let x = &mut self.extras;
        match op {
            Op::CreateTable {
                name,
                columns,
                extras,
                ..
            } => {
                let t = normal(name);
                for c in columns.iter().filter(|c| c.ty.base.ends_with("(serial)")) {
                    let seq =
                        QualName::new(t.schema.as_deref(), &format!("{}_{}_seq", t.name, c.name));
                    let ty = match c.ty.base.as_str() {
                        "int8 (serial)" => "bigint",
                        "int2 (serial)" => "smallint",
                        _ => "integer",
                    };
                    x.sequences.insert(
                        normal(&seq),
                        Sequence {
                            name: normal(&seq),
                            options: vec![format!("AS {ty}")],
                            owned_by: Some((t.clone(), c.name.clone())),
                            implicit: true,
                        },
                    );
                }
                if let Some(e) = extras {
                    if !e.with.is_empty() {
                        x.reloptions.insert(t.clone(), e.with.clone());
                    }
                    if !e.inherits.is_empty() {
                        x.inherits
                            .insert(t, e.inherits.iter().map(normal).collect());
                    }
                }
            }
            Op::AlterTable { name, actions, .. } => {
                let mut key = normal(name);
                for a in actions {
                    self.alter_extras(&mut key, a);
                }
            }
            Op::Drop { kind, names, .. } => {
                for n in names {
                    self.drop_extras(kind, n);
                }
            }
            Op::CreateSequence {
                name,
                options,
                owned_by,
                ..
            } => {
                let n = normal(name);
                if !x.sequences.contains_key(&n) {
                    x.sequences.insert(
                        n.clone(),
                        Sequence {
                            name: n,
                            options: sequence_clauses(options),
                            owned_by: owned_by.as_deref().cloned(),
                            implicit: false,
                        },
                    );
                }
            }
            Op::AlterSequence {
                name,
                sql_tail,
                owned_by,
            } => {
                if let Some(s) = x.sequences.get_mut(&normal(name)) {
                    alter_sequence(s, sql_tail);
                    if let Some(owner) = owned_by {
                        s.owned_by = owner.as_ref().clone();
                    }
                }
            }
            Op::Grant(Some(p)) => grant(x, p, true),
            Op::Revoke(Some(p)) => grant(x, p, false),
            Op::CreateStatistics {
                name, table, sql, ..
            } => {
                x.statistics
                    .entry(normal(name))
                    .or_insert_with(|| (normal(table), sql.clone()));
            }
            Op::CreateTrigger {
                name, table, sql, ..
            } => {
                let list = x.triggers.entry(normal(table)).or_default();
                list.retain(|t| &t.name != name);
                list.push(Trigger {
                    name: name.clone(),
                    sql: sql.clone(),
                    enabled: true,
                });
            }
            Op::DropTrigger {
                name,
                table: Some(table),
                ..
            } => {
                if let Some(list) = x.triggers.get_mut(&normal(table)) {
                    list.retain(|t| &t.name != name);
                }
            }
            Op::AlterDomain { name, action } => domain(x, name, action),
            Op::Update {
                table,
                assignments,
                filter: Some(f),
                ..
            } if table.name == "alembic_version" => {
                let new = assignments
                    .first()
                    .and_then(|(_, e)| e.literals().into_iter().next());
                if let (Some(new), Some(old)) = (new, f.literals().into_iter().next()) {
                    x.versions.insert(new, old);
                }
            }
            Op::AlterTypeRename { name, to } => {
                let from = normal(name);
                if let Some(list) = x.domain_constraints.remove(&from) {
                    x.domain_constraints
                        .insert(QualName::new(from.schema.as_deref(), to), list);
                }
            }
            _ => {}
        }
    }

    fn alter_extras(&mut self, key: &mut QualName, a: &AlterAction) {
        let x = &mut self.extras;
        match a {
            AlterAction::RenameTable { to } => {
                let new = normal(&QualName::new(key.schema.as_deref(), to));
                x.move_table(key, &new);
                *key = new;
            }
            AlterAction::SetSchema { schema } => {
                let new = normal(&QualName::new(Some(schema), &key.name));
                x.move_table(key, &new);
                *key = new;
            }
            AlterAction::SetStorageParams { params, .. } => {
                let list = x.reloptions.entry(key.clone()).or_default();
                for (k, v) in params {
                    list.retain(|(name, _)| name != k);
                    if let Some(v) = v {
                        list.push((k.clone(), v.clone()));
                    }
                }
            }
            AlterAction::ClusterOn { index } => match index {
                Some(i) => {
                    x.clustered.insert(key.clone(), i.clone());
                }
                None => {
                    x.clustered.remove(key);
                }
            },
            AlterAction::Inherit { parent, inherit } => {
                let list = x.inherits.entry(key.clone()).or_default();
                list.retain(|p| p != &normal(parent));
                if *inherit {
                    list.push(normal(parent));
                }
            }
            AlterAction::OwnerTo { role } => {
                x.acls.entry(key.clone()).or_default().owner = Some(role.clone());
            }
            AlterAction::DropColumn { name, .. } => {
                x.sequences.retain(|_, s| {
                    !s.owned_by
                        .as_ref()
                        .is_some_and(|(t, c)| normal(t) == *key && c == name)
                });
            }
            AlterAction::RenameColumn { from, to } => {
                for s in x.sequences.values_mut() {
                    if let Some((t, c)) = &mut s.owned_by {
                        if normal(t) == *key && c == from {
                            *c = to.clone();
                        }
                    }
                }
            }
            AlterAction::EnableTrigger { name } | AlterAction::DisableTrigger { name } => {
                let enabled = matches!(a, AlterAction::EnableTrigger { .. });
                for t in x.triggers.get_mut(key).into_iter().flatten() {
                    if &t.name == name {
                        t.enabled = enabled;
                    }
                }
            }
            _ => {}
        }
    }

    fn drop_extras(&mut self, kind: &ObjectKind, n: &QualName) {
        let key = normal(n);
        let x = &mut self.extras;
        match kind {
            ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView => {
                let owned: Vec<QualName> = x
                    .sequences
                    .values()
                    .filter(|s| s.owned_by.as_ref().is_some_and(|(t, _)| normal(t) == key))
                    .map(|s| s.name.clone())
                    .collect();
                for s in owned {
                    x.sequences.remove(&s);
                    x.acls.remove(&s);
                }
                x.acls.remove(&key);
                x.reloptions.remove(&key);
                x.clustered.remove(&key);
                x.inherits.remove(&key);
                x.triggers.remove(&key);
                x.statistics.retain(|_, (t, _)| normal(t) != key);
            }
            ObjectKind::Sequence => {
                x.sequences.remove(&key);
                x.acls.remove(&key);
            }
            ObjectKind::Index => {
                x.clustered
                    .retain(|t, i| !(i == &key.name && t.schema == key.schema));
            }
            ObjectKind::Statistics => {
                x.statistics.remove(&key);
            }
            ObjectKind::Type | ObjectKind::Domain => {
                x.domain_constraints.remove(&key);
            }
            _ => {}
        }
    }
}

impl Extras {
    /// A renamed or moved table takes its facts along.
    fn move_table(&mut self, from: &QualName, to: &QualName) {
        fn re_key<V>(map: &mut BTreeMap<QualName, V>, from: &QualName, to: &QualName) {
            if let Some(v) = map.remove(from) {
                map.insert(to.clone(), v);
            }
        }
        re_key(&mut self.acls, from, to);
        re_key(&mut self.reloptions, from, to);
        re_key(&mut self.clustered, from, to);
        re_key(&mut self.inherits, from, to);
        re_key(&mut self.triggers, from, to);
        for s in self.sequences.values_mut() {
            if let Some((t, _)) = &mut s.owned_by {
                if normal(t) == *from {
                    *t = to.clone();
                }
            }
        }
        for (t, _) in self.statistics.values_mut() {
            if normal(t) == *from {
                *t = to.clone();
            }
        }
    }
}

/// ALTER SEQUENCE's option clauses replace those of the same kind (the owner is the statement's
/// `owned_by`).
fn alter_sequence(s: &mut Sequence, tail: &str) {
    for clause in sequence_clauses(tail) {
        let kind = clause_kind(&clause);
        match kind.as_str() {
            "OWNED" | "RESTART" | "SEQUENCE" => {}
            _ => {
                s.options.retain(|c| clause_kind(c) != kind);
                s.options.push(clause);
            }
        }
    }
}

/// GRANT adds a line per grantee; REVOKE takes away the lines it names (all of a grantee's for
/// `ALL`).
fn grant(x: &mut Extras, p: &Privileges, add: bool) {
    for o in &p.objects {
        let acl = x.acls.entry(normal(o)).or_default();
        for g in &p.grantees {
            let line = Grant {
                privileges: p.privileges.clone(),
                grantee: g.clone(),
                grant_option: p.grant_option,
            };
            if add {
                if !acl.grants.contains(&line) {
                    acl.grants.push(line);
                }
            } else {
                let all = p.privileges.starts_with("ALL");
                acl.grants
                    .retain(|l| !(&l.grantee == g && (all || l.privileges == p.privileges)));
            }
        }
    }
}

/// ALTER DOMAIN: constraints added (PostgreSQL names an unnamed one `<domain>_check`), dropped,
/// validated.
fn domain(x: &mut Extras, name: &QualName, action: &DomainAction) {
    let list = x.domain_constraints.entry(normal(name)).or_default();
    match action {
        DomainAction::AddConstraint {
            name: c,
            body,
            not_valid,
        } => {
            let c = c.clone().unwrap_or_else(|| format!("{}_check", name.name));
            list.retain(|k| k.name != c);
            list.push(DomainConstraint {
                name: c,
                body: body.clone(),
                validated: !not_valid,
            });
        }
        DomainAction::DropConstraint { name: c, .. } => list.retain(|k| &k.name != c),
        DomainAction::ValidateConstraint { name: c } => {
            for k in list.iter_mut().filter(|k| &k.name == c) {
                k.validated = true;
            }
        }
        DomainAction::Other { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_options_split_into_clauses() {
        assert_eq!(
            sequence_clauses(
                "AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1"
            ),
            [
                "AS integer",
                "START WITH 1",
                "INCREMENT BY 1",
                "NO MINVALUE",
                "NO MAXVALUE",
                "CACHE 1"
            ]
        );
        assert_eq!(clause_kind("NO MINVALUE"), "MINVALUE");
        assert_eq!(clause_kind("MINVALUE 5"), "MINVALUE");
        let seq = |sql: &str| {
            Catalog::from_sql(sql)
                .expect("schema")
                .sequence(&QualName::new(None, "s"))
                .cloned()
                .expect("the sequence")
        };
        let schema = "CREATE TABLE t (id int);\n\
            CREATE SEQUENCE s START WITH 1 INCREMENT BY 1;\n\
            ALTER SEQUENCE s INCREMENT BY 5 RESTART WITH 10 OWNED BY public.t.id;\n";
        let s = seq(schema);
        assert_eq!(s.options, ["START WITH 1", "INCREMENT BY 5"]);
        assert_eq!(
            s.owned_by,
            Some((QualName::new(Some("public"), "t"), "id".to_string()))
        );
        let s = seq(&format!("{schema}ALTER SEQUENCE s OWNED BY NONE;\n"));
        assert_eq!(s.owned_by, None);
    }
}
