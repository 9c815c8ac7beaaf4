//! What a run in a rolled-back transaction can still leave behind, recorded before the run and
//! put back (or reported) after it: sequence values (`nextval` and `setval` are not undone by a
//! rollback), replication slots, prepared transactions, session-level advisory locks and prepared
//! statements; and the dead rows that the rolled-back writes leave in the tables.
//! <https://www.postgresql.org/docs/15/functions-sequence.html>

use super::db_error;
use super::session::{Access, Budget, Limits, Tx};
use crate::error::Error;
use postgres::Client;
use std::collections::{BTreeMap, BTreeSet};

/// A sequence's state: `last_value` and `is_called`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeqValue {
    pub last: i64,
    pub called: bool,
}

/// Everything recorded before the run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Before {
    /// Sequences by oid: their quoted name and value.
    pub sequences: BTreeMap<i64, (String, SeqValue)>,
    pub slots: BTreeSet<String>,
    pub prepared_xacts: BTreeSet<String>,
    pub prepared_statements: BTreeSet<String>,
    /// Rows each table got as counted before the run: the session's statistics not yet sent
    /// count earlier transactions too, so what the run wrote is the difference.
    pub written: BTreeMap<i64, i64>,
}

/// Records what the run could change outside its transaction, in a transaction of its own (reading
/// a sequence locks it; those locks go with this transaction, not into the run). Every sequence
/// must be readable and settable by the connecting user, or the run could not put it back: then
/// this is an error naming them.
pub(crate) fn record(client: &mut Client, limits: Limits, budget: Budget) -> Result<Before, Error> {
    let mut tx = Tx::begin(client, Access::ReadOnly, limits, budget)?;
    let before = read_before(&mut tx)?;
    tx.rollback()?;
    Ok(before)
}

fn read_before(client: &mut Client) -> Result<Before, Error> {
    let rows = client
        .query(
            "SELECT c.oid::int8, quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                    has_sequence_privilege(c.oid, 'SELECT') AND has_sequence_privilege(c.oid, 'UPDATE')
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'S' AND n.nspname NOT LIKE 'pg\\_temp%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp%'
             ORDER BY 2",
            &[],
        )
        .map_err(|e| db_error("listing sequences", &e))?;
    let mut names = Vec::new();
    let mut denied = Vec::new();
    for r in rows {
        let oid: i64 = r
            .try_get(0)
            .map_err(|e| db_error("listing sequences", &e))?;
        let name: String = r
            .try_get(1)
            .map_err(|e| db_error("listing sequences", &e))?;
        let allowed: bool = r
            .try_get(2)
            .map_err(|e| db_error("listing sequences", &e))?;
        if !allowed {
            denied.push(name.clone());
        }
        names.push((oid, name));
    }
    if !denied.is_empty() {
        let more = if denied.len() > 3 {
            format!(" and {} more", denied.len() - 3)
        } else {
            String::new()
        };
        return Err(Error::Database {
            message: format!(
                "--verify needs SELECT and UPDATE on every sequence, to put their values back after the run; the connecting user lacks them on {}{more} (insufficient privilege)",
                denied
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let values = sequence_values(client, &names)?;
    let sequences = names
        .into_iter()
        .filter_map(|(oid, name)| values.get(&oid).map(|v| (oid, (name, *v))))
        .collect();
    Ok(Before {
        sequences,
        slots: strings(
            client,
            "SELECT slot_name::text FROM pg_replication_slots WHERE NOT temporary",
        )?,
        prepared_xacts: strings(
            client,
            "SELECT gid FROM pg_prepared_xacts WHERE database = current_database()",
        )?,
        prepared_statements: strings(
            client,
            "SELECT name FROM pg_prepared_statements WHERE from_sql",
        )?,
        written: written(client)?,
    })
}

fn strings(client: &mut Client, sql: &str) -> Result<BTreeSet<String>, Error> {
    client
        .query(sql, &[])
        .map_err(|e| db_error("recording the session's state", &e))?
        .iter()
        .map(|r| {
            r.try_get::<_, String>(0)
                .map_err(|e| db_error("recording the session's state", &e))
        })
        .collect()
}

/// The values of the given sequences, in one query: `pg_sequence_last_value` for the sequences
/// that were called, and the stored `last_value` (read through `query_to_xml`, which runs one
/// small query per sequence) for those that were not.
pub(crate) fn sequence_values(
    client: &mut Client,
    sequences: &[(i64, String)],
) -> Result<BTreeMap<i64, SeqValue>, Error> {
    let oids: Vec<i64> = sequences.iter().map(|(oid, _)| *oid).collect();
    let rows = client
        .query(
            "SELECT c.oid::int8, v.called IS NOT NULL,
                    coalesce(v.called, (xpath('/row/last_value/text()',
                        query_to_xml(format('SELECT last_value FROM %s', c.oid::regclass), false, true, '')))[1]::text::int8)
             FROM pg_class c, LATERAL (SELECT pg_sequence_last_value(c.oid) AS called) v
             WHERE c.oid::int8 = ANY($1)",
            &[&oids],
        )
        .map_err(|e| db_error("reading sequence values", &e))?;
    let mut out = BTreeMap::new();
    for r in rows {
        let oid: i64 = r.try_get(0).map_err(|e| db_error("sequence values", &e))?;
        let called: bool = r.try_get(1).map_err(|e| db_error("sequence values", &e))?;
        let last: i64 = r.try_get(2).map_err(|e| db_error("sequence values", &e))?;
        out.insert(oid, SeqValue { last, called });
    }
    Ok(out)
}

/// The rows each pre-existing table got from the run (inserted, or new versions of updated rows),
/// which the rollback turns into dead rows: read inside the run's transaction just before the
/// rollback, less what was counted when it started (`before.written`).
#[derive(Debug, Clone, Default)]
pub(crate) struct AtEnd {
    /// Table oid → rows written by the run.
    pub written: BTreeMap<i64, i64>,
}

pub(crate) fn at_end(client: &mut Client, before: &Before) -> Result<AtEnd, Error> {
    let mut written = written(client)?;
    for (oid, n) in written.iter_mut() {
        *n -= before.written.get(oid).copied().unwrap_or(0);
    }
    written.retain(|_, n| *n > 0);
    Ok(AtEnd { written })
}

/// Rows inserted or updated per table, as the session's statistics count them.
pub(crate) fn written(client: &mut Client) -> Result<BTreeMap<i64, i64>, Error> {
    let mut out = BTreeMap::new();
    for r in client
        .query(
            "SELECT relid::int8, n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables WHERE n_tup_ins + n_tup_upd > 0",
            &[],
        )
        .map_err(|e| db_error("reading pg_stat_xact_user_tables", &e))?
    {
        let oid: i64 = r.try_get(0).map_err(|e| db_error("pg_stat_xact_user_tables", &e))?;
        let n: i64 = r.try_get(1).map_err(|e| db_error("pg_stat_xact_user_tables", &e))?;
        out.insert(oid, n);
    }
    Ok(out)
}

/// After the rollback: puts back the sequences whose values changed during the run, drops the
/// replication slots it created, releases session-level advisory locks and deallocates the
/// statements it prepared. Returns the report's notes. With `allow_live` other sessions may have
/// used the sequences and made the slots meanwhile: then nothing is put back or dropped, and the
/// changes are named.
pub(crate) fn restore(
    client: &mut Client,
    before: &Before,
    allow_live: bool,
    limits: Limits,
    budget: Budget,
) -> Result<Vec<String>, Error> {
    let mut notes = Vec::new();
    let names: Vec<(i64, String)> = before
        .sequences
        .iter()
        .map(|(oid, (name, _))| (*oid, name.clone()))
        .collect();
    let mut changed = Vec::new();
    {
        // setval is not undone by a rollback: it takes effect in a transaction that is rolled back.
        let mut tx = Tx::begin(client, Access::ReadWrite, limits, budget)?;
        let now = sequence_values(&mut tx, &names)?;
        for (oid, (name, was)) in &before.sequences {
            let Some(is) = now.get(oid).filter(|is| *is != was) else {
                continue;
            };
            if allow_live {
                changed.push(format!("{name} ({} → {})", was.last, is.last));
                continue;
            }
            changed.push(format!(
                "{name} ({} → {}, back to {})",
                was.last, is.last, was.last
            ));
            tx.execute(
                "SELECT setval($1::int8::oid::regclass, $2, $3)",
                &[oid, &was.last, &was.called],
            )
            .map_err(|e| db_error(&format!("putting back the value of sequence {name}"), &e))?;
        }
        notes.extend(session_state(&mut tx, before)?);
        tx.rollback()?;
    }
    notes.insert(0, match (changed.is_empty(), allow_live) {
        (true, _) => format!(
            "sequence values were recorded before the run ({} sequence{}) and compared after it: none had changed",
            before.sequences.len(),
            if before.sequences.len() == 1 { "" } else { "s" }
        ),
        (false, false) => format!(
            "sequence values were recorded before the run and put back after it (nextval/setval are not undone by a rollback): {}",
            changed.join(", ")
        ),
        (false, true) => format!(
            "sequence values changed during the run and were NOT put back, because with --allow-live other sessions may have used them: {}",
            changed.join(", ")
        ),
    });
    notes.extend(slots_and_transactions(client, before, allow_live)?);
    Ok(notes)
}

/// Replication slots and prepared transactions that appeared during the run.
fn slots_and_transactions(
    client: &mut Client,
    before: &Before,
    allow_live: bool,
) -> Result<Vec<String>, Error> {
    let mut notes = Vec::new();
    let slots = strings(
        client,
        "SELECT slot_name::text FROM pg_replication_slots WHERE NOT temporary",
    )?;
    for slot in slots.difference(&before.slots) {
        if allow_live {
            notes.push(format!("replication slot {slot} appeared during the run (another session may have made it): left in place"));
            continue;
        }
        match client.execute("SELECT pg_drop_replication_slot($1)", &[slot]) {
            Ok(_) => notes.push(format!(
                "replication slot {slot} appeared during the run: dropped"
            )),
            Err(e) => notes.push(format!(
                "replication slot {slot} appeared during the run and could not be dropped: {}",
                super::error_text(&e)
            )),
        }
    }
    let xacts = strings(
        client,
        "SELECT gid FROM pg_prepared_xacts WHERE database = current_database()",
    )?;
    for gid in xacts.difference(&before.prepared_xacts) {
        notes.push(format!(
            "prepared transaction {gid} appeared during the run: end it with ROLLBACK PREPARED"
        ));
    }
    Ok(notes)
}

/// Session-level advisory locks and prepared statements the run left in the session.
fn session_state(client: &mut Client, before: &Before) -> Result<Vec<String>, Error> {
    let mut notes = Vec::new();
    let advisory: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
            &[],
        )
        .and_then(|r| r.try_get(0))
        .map_err(|e| db_error("reading pg_locks", &e))?;
    if advisory > 0 {
        client
            .execute("SELECT pg_advisory_unlock_all()", &[])
            .map_err(|e| db_error("releasing advisory locks", &e))?;
        notes.push(format!(
            "{advisory} session-level advisory lock(s) taken during the run were released"
        ));
    }
    let prepared = strings(
        client,
        "SELECT name FROM pg_prepared_statements WHERE from_sql",
    )?;
    for name in prepared.difference(&before.prepared_statements) {
        client
            .execute_typed(&format!("DEALLOCATE {}", crate::ir::quote_ident(name)), &[])
            .map_err(|e| db_error("deallocating a prepared statement", &e))?;
    }
    Ok(notes)
}

/// One note per pre-existing table the run wrote to: the dead rows it left, the heap before the
/// run (`heap_before`, from the catalog read) and now, and the VACUUM that reclaims them.
pub(crate) fn dead_rows(
    client: &mut Client,
    end: &AtEnd,
    tables: &BTreeMap<i64, String>,
    heap_before: &dyn Fn(&str) -> Option<u64>,
) -> Result<Vec<String>, Error> {
    let mut notes = Vec::new();
    for (oid, rows) in &end.written {
        let Some(name) = tables.get(oid) else {
            continue;
        };
        let now: Option<i64> = client
            .query_one("SELECT pg_relation_size($1::int8::oid::regclass)", &[oid])
            .and_then(|r| r.try_get(0))
            .ok();
        let sizes = match (heap_before(name), now) {
            (Some(b), Some(n)) => format!(
                " (heap {} before the run, {} after)",
                crate::pg::duration::bytes(b),
                crate::pg::duration::bytes(n.max(0) as u64)
            ),
            _ => String::new(),
        };
        notes.push(format!(
            "{name}: the run left {rows} dead row(s){sizes}; `VACUUM {name};` reclaims them (until then they take space and raise the planner's row estimates)"
        ));
    }
    Ok(notes)
}
