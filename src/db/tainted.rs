//! The copy's own code that acts outside a transaction when a statement of the migration sets it
//! off: functions whose source calls one of the functions [`outside`](super::outside) refuses (or
//! runs COPY, or is written in an untrusted language), the functions that call those (by name, a
//! few levels deep), and the tables and views whose triggers, rules, defaults, constraints,
//! policies or index expressions use any of them. A statement that names one is not run. Event
//! triggers fire on every DDL statement, whatever it names: one that uses such a function makes
//! the verification refuse to run.

use super::db_error;
use super::outside::{Tainted, server_pattern};
use crate::error::Error;
use postgres::Client;
use std::collections::BTreeMap;

/// How many times callers of callers are looked for.
const ROUNDS: usize = 5;

/// A function or relation of the copy that acts outside a transaction, and why.
struct Suspect {
    name: String,
    why: String,
}

/// The copy's code that acts outside a transaction, as names a statement may mention.
pub(crate) fn of_the_copy(client: &mut Client) -> Result<Vec<Tainted>, Error> {
    let mut functions = direct(client)?;
    let mut relations: BTreeMap<u32, Suspect> = BTreeMap::new();
    for _ in 0..ROUNDS {
        let known = functions.len() + relations.len();
        let names: Vec<&str> = functions
            .values()
            .chain(relations.values())
            .map(|s| s.name.as_str())
            .collect();
        let callers = callers(client, &names, &functions)?;
        functions.extend(callers);
        let users = users(client, &functions, &relations)?;
        relations.extend(users);
        if functions.len() + relations.len() == known {
            break;
        }
    }
    Ok(functions
        .into_values()
        .chain(relations.into_values())
        .map(|s| Tainted {
            name: s.name.to_lowercase(),
            why: s.why,
        })
        .collect())
}

/// Event triggers of the copy that call one of `tainted`: the verification would set them off with
/// any DDL statement. Each as "name (calls function())".
pub(crate) fn event_triggers(
    client: &mut Client,
    tainted: &[Tainted],
) -> Result<Vec<String>, Error> {
    let names: Vec<String> = tainted.iter().map(|t| t.name.clone()).collect();
    let rows = client
        .query(
            "SELECT e.evtname::text, p.proname::text FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid
             WHERE e.evtenabled <> 'D' AND lower(p.proname::text) = ANY($1)",
            &[&names],
        )
        .map_err(|e| db_error("reading the copy's event triggers", &e))?;
    let mut out = Vec::new();
    for r in rows {
        let name: String = r.try_get(0).map_err(|e| db_error("event triggers", &e))?;
        let function: String = r.try_get(1).map_err(|e| db_error("event triggers", &e))?;
        out.push(format!("{name} (calls {function}())"));
    }
    Ok(out)
}

/// Functions whose source calls what acts outside a transaction, or that are written in an
/// untrusted language.
fn direct(client: &mut Client) -> Result<BTreeMap<u32, Suspect>, Error> {
    let rows = client
        .query(
            "SELECT p.oid, p.proname::text, lower((regexp_match(p.prosrc, $1, 'i'))[1])
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.prosrc ~* $1
             UNION ALL
             SELECT p.oid, p.proname::text, 'the untrusted language ' || l.lanname::text
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND NOT l.lanpltrusted
               AND l.lanname NOT IN ('c', 'internal')",
            &[&server_pattern()],
        )
        .map_err(|e| db_error("reading the copy's functions", &e))?;
    let mut out = BTreeMap::new();
    for r in rows {
        let oid: u32 = r.try_get(0).map_err(|e| db_error("functions", &e))?;
        let name: String = r.try_get(1).map_err(|e| db_error("functions", &e))?;
        let what: Option<String> = r.try_get(2).map_err(|e| db_error("functions", &e))?;
        let what = what.unwrap_or_else(|| "code that acts outside a transaction".to_string());
        let why = format!("it uses {name}(), which uses {what} (the copy's own code)");
        out.entry(oid).or_insert(Suspect { name, why });
    }
    Ok(out)
}

/// Functions not yet known whose source names a known function or relation.
fn callers(
    client: &mut Client,
    names: &[&str],
    known: &BTreeMap<u32, Suspect>,
) -> Result<BTreeMap<u32, Suspect>, Error> {
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let pattern = format!(
        "\\m({})\\M",
        names
            .iter()
            .map(|n| escape(n))
            .collect::<Vec<_>>()
            .join("|")
    );
    let rows = client
        .query(
            "SELECT p.oid, p.proname::text, lower((regexp_match(p.prosrc, $1, 'i'))[1])
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.prosrc ~* $1",
            &[&pattern],
        )
        .map_err(|e| db_error("reading the copy's functions", &e))?;
    let mut out = BTreeMap::new();
    for r in rows {
        let oid: u32 = r.try_get(0).map_err(|e| db_error("functions", &e))?;
        if known.contains_key(&oid) {
            continue;
        }
        let name: String = r.try_get(1).map_err(|e| db_error("functions", &e))?;
        let callee: Option<String> = r.try_get(2).map_err(|e| db_error("functions", &e))?;
        let callee = callee.unwrap_or_default();
        let why = known
            .values()
            .find(|s| s.name.eq_ignore_ascii_case(&callee))
            .map_or_else(
                || format!("it uses {name}(), which uses {callee} (the copy's own code)"),
                |s| format!("it uses {name}(), which calls {callee}(): {}", s.why),
            );
        out.insert(oid, Suspect { name, why });
    }
    Ok(out)
}

/// Tables and views whose triggers, rules, defaults, constraints, policies or index expressions
/// use a known function, and views that read a known relation.
fn users(
    client: &mut Client,
    functions: &BTreeMap<u32, Suspect>,
    relations: &BTreeMap<u32, Suspect>,
) -> Result<BTreeMap<u32, Suspect>, Error> {
    let oids: Vec<u32> = functions.keys().chain(relations.keys()).copied().collect();
    if oids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = client
        .query(
            "SELECT DISTINCT c.oid, c.relname::text, d.refobjid,
                    CASE d.classid WHEN 'pg_rewrite'::regclass THEN 'rule or view' WHEN 'pg_attrdef'::regclass THEN 'default'
                         WHEN 'pg_constraint'::regclass THEN 'constraint' WHEN 'pg_trigger'::regclass THEN 'trigger'
                         WHEN 'pg_policy'::regclass THEN 'policy' ELSE 'index' END
             FROM pg_depend d
             JOIN pg_class c ON c.oid = CASE d.classid
                 WHEN 'pg_rewrite'::regclass THEN (SELECT ev_class FROM pg_rewrite WHERE oid = d.objid)
                 WHEN 'pg_attrdef'::regclass THEN (SELECT adrelid FROM pg_attrdef WHERE oid = d.objid)
                 WHEN 'pg_constraint'::regclass THEN (SELECT conrelid FROM pg_constraint WHERE oid = d.objid)
                 WHEN 'pg_trigger'::regclass THEN (SELECT tgrelid FROM pg_trigger WHERE oid = d.objid)
                 WHEN 'pg_policy'::regclass THEN (SELECT polrelid FROM pg_policy WHERE oid = d.objid)
                 WHEN 'pg_class'::regclass THEN (SELECT indrelid FROM pg_index WHERE indexrelid = d.objid)
             END
             WHERE d.refobjid = ANY($1) AND c.oid <> d.refobjid
               AND (d.refclassid = 'pg_proc'::regclass
                    OR (d.refclassid = 'pg_class'::regclass AND d.classid = 'pg_rewrite'::regclass))",
            &[&oids],
        )
        .map_err(|e| db_error("reading what uses the copy's functions", &e))?;
    let mut out = BTreeMap::new();
    for r in rows {
        let oid: u32 = r.try_get(0).map_err(|e| db_error("dependencies", &e))?;
        if relations.contains_key(&oid) || out.contains_key(&oid) {
            continue;
        }
        let name: String = r.try_get(1).map_err(|e| db_error("dependencies", &e))?;
        let used: u32 = r.try_get(2).map_err(|e| db_error("dependencies", &e))?;
        let how: String = r.try_get(3).map_err(|e| db_error("dependencies", &e))?;
        let Some(s) = functions.get(&used).or_else(|| relations.get(&used)) else {
            continue;
        };
        let why = format!("{name} has a {how} that uses {}: {}", s.name, s.why);
        out.insert(oid, Suspect { name, why });
    }
    Ok(out)
}

/// A name as a literal part of a server regular expression.
fn escape(name: &str) -> String {
    name.chars()
        .flat_map(|c| {
            let special = !(c.is_alphanumeric() || c == '_');
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_for_the_server_regex() {
        assert_eq!(escape("kill_all"), "kill_all");
        assert_eq!(escape("we$ird.name"), "we\\$ird\\.name");
    }
}
