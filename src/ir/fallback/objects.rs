//! Statements and clauses read from the tokens whatever sqlparser makes of them: privileges,
//! sequence options, statistics objects, domain constraints, the text of a trigger, and the ALTER
//! TABLE actions sqlparser keeps only as text.

use super::*;

/// `GRANT … ON [TABLE|SEQUENCE] … TO …` and `REVOKE [GRANT OPTION FOR] … ON … FROM …`; other
/// forms (roles, schemas, functions, `ALL TABLES IN SCHEMA`) keep no details.
pub(super) fn privileges(t: &[Tok]) -> Option<Op> {
    let grant = t.first()?.is_kw("GRANT");
    let mut c = Cursor { t, i: 1 };
    let grant_option_for = !grant && c.eat_seq(&["GRANT", "OPTION", "FOR"]);
    let start = c.i;
    let mut depth = 0i32;
    while let Some(tok) = c.t.get(c.i) {
        match tok {
            Tok::Punct(p) if p == "(" => depth += 1,
            Tok::Punct(p) if p == ")" => depth -= 1,
            _ if depth == 0 && tok.is_kw("ON") => break,
            _ => {}
        }
        c.i += 1;
    }
    let privileges = sql_words(&t[start..c.i.min(t.len())]);
    let details = (|| {
        if !c.eat("ON") {
            return None;
        }
        let on = if c.eat("SEQUENCE") {
            ObjectKind::Sequence
        } else {
            c.eat("TABLE");
            ObjectKind::Table
        };
        // `ALL TABLES IN SCHEMA`, `FUNCTION f()`, `SCHEMA s`, `FOREIGN SERVER`: not tables or
        // sequences.
        if [
            "ALL",
            "FUNCTION",
            "PROCEDURE",
            "ROUTINE",
            "SCHEMA",
            "DATABASE",
            "TYPE",
            "DOMAIN",
            "LANGUAGE",
            "FOREIGN",
            "LARGE",
            "SERVER",
            "TABLESPACE",
            "PARAMETER",
        ]
        .iter()
        .any(|k| c.t.get(c.i).is_some_and(|t| t.is_kw(k)))
        {
            return None;
        }
        let objects = c.names();
        if objects.is_empty() || !(c.eat("TO") || c.eat("FROM")) {
            return None;
        }
        let mut grantees = Vec::new();
        loop {
            c.eat("GROUP");
            match c.t.get(c.i) {
                Some(Tok::Word { upper, .. }) if upper == "PUBLIC" => grantees.push(upper.clone()),
                Some(Tok::Word { ident, .. }) => grantees.push(ident.clone()),
                _ => return None,
            }
            c.i += 1;
            if !c.eat_punct(",") {
                break;
            }
        }
        let grant_option = grant_option_for || c.eat_seq(&["WITH", "GRANT", "OPTION"]);
        Some(Box::new(Privileges {
            on,
            objects,
            privileges,
            grantees,
            grant_option,
        }))
    })();
    Some(if grant {
        Op::Grant(details)
    } else {
        Op::Revoke(details)
    })
}

/// Tokens as SQL with unquoted words in upper case (key words, mostly) and identifiers quoted
/// where needed.
fn sql_words(t: &[Tok]) -> String {
    render(t, Words::Upper, true)
}

/// Tokens as SQL with unquoted words as PostgreSQL folds them (lower case): a statement kept to be
/// said again, names and all.
fn sql_folded(t: &[Tok]) -> String {
    render(t, Words::Folded, true)
}

/// `CREATE [TEMP|UNLOGGED] SEQUENCE [IF NOT EXISTS] name options`: the options as written, with
/// `OWNED BY` taken out.
pub(super) fn create_sequence(t: &[Tok]) -> Option<Op> {
    let mut c = Cursor { t, i: 1 };
    let _ = c.eat("TEMP") || c.eat("TEMPORARY") || c.eat("UNLOGGED");
    if !c.eat("SEQUENCE") {
        return None;
    }
    let if_not_exists = c.eat_seq(&["IF", "NOT", "EXISTS"]);
    let name = c.name()?;
    let rest = &t[c.i..];
    let (options, owned_by) = match rest
        .windows(2)
        .position(|w| w[0].is_kw("OWNED") && w[1].is_kw("BY"))
    {
        Some(k) => {
            let mut o = Cursor { t: rest, i: k + 2 };
            let owner = owned_column(&mut o);
            let mut kept = rest[..k].to_vec();
            kept.extend_from_slice(&rest[o.i.min(rest.len())..]);
            (sql_words(&kept), owner)
        }
        None => (sql_words(rest), None),
    };
    Some(Op::CreateSequence {
        name,
        if_not_exists,
        options,
        owned_by: owned_by.map(Box::new),
    })
}

/// After `OWNED BY`: `[schema.]table.column`, or `NONE` (`None`).
pub(crate) fn owned_column(c: &mut Cursor) -> Option<(QualName, String)> {
    if c.eat("NONE") {
        return None;
    }
    match c.dotted().as_slice() {
        [table, column] => Some((QualName::new(None, table), column.clone())),
        [.., schema, table, column] => Some((QualName::new(Some(schema), table), column.clone())),
        _ => None,
    }
}

/// `CREATE STATISTICS [IF NOT EXISTS] name … FROM table` (an unnamed one is left unread).
pub(super) fn create_statistics(mut c: Cursor) -> Option<Op> {
    let if_not_exists = c.eat_seq(&["IF", "NOT", "EXISTS"]);
    let name = c.name()?;
    if name.name.eq_ignore_ascii_case("on") {
        return None;
    }
    let from = c.t.iter().rposition(|t| t.is_kw("FROM"))?;
    let mut f = Cursor {
        t: c.t,
        i: from + 1,
    };
    let table = f.name()?;
    Some(Op::CreateStatistics {
        name,
        table,
        if_not_exists,
        sql: sql_folded(c.t),
    })
}

/// `DROP STATISTICS [IF EXISTS] name, … [CASCADE]`.
pub(super) fn drop_statistics(mut c: Cursor) -> Option<Op> {
    let if_exists = c.eat_seq(&["IF", "EXISTS"]);
    let names = c.names();
    if names.is_empty() {
        return None;
    }
    let cascade = c.eat("CASCADE");
    Some(Op::Drop {
        kind: ObjectKind::Statistics,
        names,
        if_exists,
        cascade,
        concurrently: false,
    })
}

/// `ALTER DOMAIN name ADD [CONSTRAINT c] … [NOT VALID] | DROP CONSTRAINT | VALIDATE CONSTRAINT | …`.
pub(super) fn alter_domain(mut c: Cursor) -> Option<Op> {
    let name = c.name()?;
    let rest = c.i;
    let action = if c.eat("ADD") {
        let constraint = if c.eat("CONSTRAINT") {
            Some(c.name()?.name)
        } else {
            None
        };
        let mut end = c.t.len();
        let not_valid = end >= 2 && c.t[end - 2].is_kw("NOT") && c.t[end - 1].is_kw("VALID");
        if not_valid {
            end -= 2;
        }
        DomainAction::AddConstraint {
            name: constraint,
            body: sql_words(c.t.get(c.i..end)?),
            not_valid,
        }
    } else if c.eat_seq(&["DROP", "CONSTRAINT"]) {
        let if_exists = c.eat_seq(&["IF", "EXISTS"]);
        DomainAction::DropConstraint {
            name: c.name()?.name,
            if_exists,
        }
    } else if c.eat_seq(&["VALIDATE", "CONSTRAINT"]) {
        DomainAction::ValidateConstraint {
            name: c.name()?.name,
        }
    } else {
        DomainAction::Other {
            sql: words_after(c.t, rest),
        }
    };
    Some(Op::AlterDomain { name, action })
}

/// ALTER TABLE actions that tell more than the fallback's `table_action` did before sqlparser
/// read them: clustering, storage parameters, column storage and compression, inheritance,
/// owner, identity restart, and a type change with `COLLATE`. `None` when `c` is at none of
/// these.
pub(super) fn detailed_table_action(c: &mut Cursor) -> Option<AlterAction> {
    let start = c.i;
    if c.eat_seq(&["SET", "WITHOUT", "CLUSTER"]) {
        return Some(AlterAction::ClusterOn { index: None });
    }
    if c.eat_seq(&["CLUSTER", "ON"]) {
        return Some(AlterAction::ClusterOn {
            index: Some(c.name()?.name),
        });
    }
    let reset = c.eat("RESET");
    if (reset || c.eat("SET")) && c.peek_punct("(") {
        return Some(storage_params(c, start, reset));
    }
    c.i = start;
    let no = c.eat("NO");
    if c.eat("INHERIT") {
        return Some(AlterAction::Inherit {
            parent: c.name()?,
            inherit: !no,
        });
    }
    c.i = start;
    if c.eat_seq(&["OWNER", "TO"]) {
        let role = match c.t.get(c.i)? {
            Tok::Word { upper, .. }
                if ["CURRENT_USER", "SESSION_USER", "CURRENT_ROLE"].contains(&upper.as_str()) =>
            {
                upper.clone()
            }
            Tok::Word { ident, .. } => quote_ident(ident),
            _ => return None,
        };
        return Some(AlterAction::OwnerTo { role });
    }
    c.i = start;
    if !c.eat("ALTER") {
        return None;
    }
    c.eat("COLUMN");
    let column = c.name()?.name;
    if c.eat_seq(&["SET", "STORAGE"]) {
        return Some(AlterAction::SetStorage {
            column,
            storage: c.word()?,
        });
    }
    if c.eat_seq(&["SET", "COMPRESSION"]) {
        return Some(AlterAction::SetCompression {
            column,
            method: sql_words(c.t.get(c.i..c.next_comma())?),
        });
    }
    if c.eat("RESTART") {
        return Some(AlterAction::RestartIdentity { column });
    }
    if c.eat_seq(&["SET", "DATA", "TYPE"]) || c.eat("TYPE") {
        return type_with_collation(c, column);
    }
    None
}

/// `ALTER TABLE` whose type changes name a `COLLATE`, which sqlparser rejects: read again without
/// the COLLATE clauses, each then the [`AlterAction::SetCollation`] after its type change.
pub(super) fn alter_table_with_collations(t: &[Tok]) -> Option<Op> {
    if !(t.first()?.is_kw("ALTER") && t.get(1)?.is_kw("TABLE")) {
        return None;
    }
    let mut kept = Vec::with_capacity(t.len());
    let mut k = 0;
    let mut found = false;
    while k < t.len() {
        if t[k].is_kw("COLLATE") {
            found = true;
            let mut n = Cursor { t, i: k + 1 };
            n.name()?;
            k = n.i;
        } else {
            kept.push(t[k].clone());
            k += 1;
        }
    }
    if !found {
        return None;
    }
    let parsed = crate::parse::parse(&sql_words(&kept), 1, 1);
    let Op::AlterTable {
        name,
        if_exists,
        only,
        actions,
    } = crate::ir::lower::lower(&parsed)
    else {
        return None;
    };
    let mut collations: Vec<AlterAction> = segment_starts(t)
        .into_iter()
        .filter_map(|s| type_collation(t, s))
        .collect();
    let mut out = Vec::with_capacity(actions.len() + collations.len());
    for a in actions {
        let column = match &a {
            AlterAction::AlterColumnType { column, .. } => Some(column.clone()),
            _ => None,
        };
        out.push(a);
        if let Some(column) = column {
            if let Some(at) = collations.iter().position(
                |c| matches!(c, AlterAction::SetCollation { column: x, .. } if *x == column),
            ) {
                out.push(collations.remove(at));
            }
        }
    }
    Some(Op::AlterTable {
        name,
        if_exists,
        only,
        actions: out,
    })
}

/// Where each action of an `ALTER TABLE` starts.
fn segment_starts(t: &[Tok]) -> Vec<usize> {
    let mut c = Cursor { t, i: 0 };
    if !c.eat_seq(&["ALTER", "TABLE"]) {
        return Vec::new();
    }
    c.eat_seq(&["IF", "EXISTS"]);
    c.eat("ONLY");
    if c.name().is_none() {
        return Vec::new();
    }
    c.eat_punct("*");
    let mut out = vec![c.i];
    while c.skip_to_comma() {
        out.push(c.i);
    }
    out
}

/// The `COLLATE` of a type change whose action starts at `start`, as the action that follows it.
pub(super) fn type_collation(t: &[Tok], start: usize) -> Option<AlterAction> {
    let mut c = Cursor { t, i: start };
    if !c.eat("ALTER") {
        return None;
    }
    c.eat("COLUMN");
    let column = c.name()?.name;
    if !(c.eat_seq(&["SET", "DATA", "TYPE"]) || c.eat("TYPE")) {
        return None;
    }
    let end = c.next_comma();
    let collate = (c.i..end).find(|&k| t[k].is_kw("COLLATE"))?;
    let mut n = Cursor { t, i: collate + 1 };
    let name = n.name()?;
    let collation = match &name.schema {
        Some(s) => format!("{}.{}", quote_ident(s), quote_ident(&name.name)),
        None => quote_ident(&name.name),
    };
    Some(AlterAction::SetCollation { column, collation })
}

/// `SET (a = 1, b)` / `RESET (a, b)` from the `(`.
fn storage_params(c: &mut Cursor, start: usize, reset: bool) -> AlterAction {
    let end = c.next_comma();
    let mut params = Vec::new();
    let inner = c.t.get(c.i + 1..end.saturating_sub(1)).unwrap_or(&[]);
    for part in inner.split(|t| matches!(t, Tok::Punct(p) if p == ",")) {
        let eq = part
            .iter()
            .position(|t| matches!(t, Tok::Punct(p) if p == "="));
        let (key, value) = match eq {
            Some(k) => (&part[..k], Some(&part[k + 1..])),
            None => (part, None),
        };
        let key: String = key
            .iter()
            .map(|t| match t {
                Tok::Word { ident, .. } => ident.clone(),
                Tok::Punct(p) => p.clone(),
                _ => String::new(),
            })
            .collect();
        let value = match value {
            Some([Tok::Str(s)]) => Some(s.clone()),
            Some(v) => Some(sql_words(v).to_lowercase()),
            None if reset => None,
            None => Some("true".to_string()),
        };
        if !key.is_empty() {
            params.push((key, value));
        }
    }
    c.i = end;
    AlterAction::SetStorageParams {
        sql: words_between(c.t, start, end),
        params,
    }
}

/// `TYPE t COLLATE c [USING e]` (sqlparser does not read COLLATE there) without its COLLATE;
/// `None` without COLLATE.
fn type_with_collation(c: &mut Cursor, column: String) -> Option<AlterAction> {
    let end = c.next_comma();
    let at = |kw: &str| (c.i..end).find(|&k| c.t[k].is_kw(kw));
    let collate = at("COLLATE")?;
    let using = at("USING");
    let ty = type_from_sql(&sql_words(c.t.get(c.i..collate)?));
    let using = using.map(|u| Box::new(expr_from_sql(sql_words(&c.t[u + 1..end]), false)));
    c.i = end;
    // The COLLATE itself is the next action (`type_collation`).
    Some(AlterAction::AlterColumnType { column, ty, using })
}

/// Fills in what sqlparser's reading leaves out: a trigger's text, and the details of ALTER TABLE
/// actions it keeps as text.
pub(crate) fn complete(op: Op, t: &[Tok]) -> Op {
    match op {
        Op::CreateTrigger {
            name,
            table,
            or_replace,
            sql,
        } if sql.is_empty() => Op::CreateTrigger {
            name,
            table,
            or_replace,
            sql: sql_folded(t),
        },
        Op::AlterTable {
            name,
            if_exists,
            only,
            mut actions,
        } if actions.iter().any(|a| {
            matches!(
                a,
                AlterAction::Other { .. } | AlterAction::SetStorageParams { .. }
            )
        }) =>
        {
            let detailed = detailed_actions(t);
            if detailed.len() == actions.len() {
                for (a, d) in actions.iter_mut().zip(detailed) {
                    match (&mut *a, d) {
                        // sqlparser's text of the action is kept; the parameters are ours.
                        (
                            AlterAction::SetStorageParams { params, .. },
                            Some(AlterAction::SetStorageParams { params: read, .. }),
                        ) => *params = read,
                        (AlterAction::Other { .. }, Some(d)) => *a = d,
                        _ => {}
                    }
                }
            }
            Op::AlterTable {
                name,
                if_exists,
                only,
                actions,
            }
        }
        op => op,
    }
}

/// Each action of an `ALTER TABLE`, read by [`detailed_table_action`] where it can.
fn detailed_actions(t: &[Tok]) -> Vec<Option<AlterAction>> {
    segment_starts(t)
        .into_iter()
        .map(|i| detailed_table_action(&mut Cursor { t, i }))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::ir::*;

    fn op(sql: &str) -> Op {
        read_ops(sql).into_iter().next().expect("one statement")
    }

    fn actions(sql: &str) -> Vec<AlterAction> {
        match op(sql) {
            Op::AlterTable { actions, .. } => actions,
            other => panic!("not ALTER TABLE: {other:?}"),
        }
    }

    #[test]
    fn privileges_on_tables_and_sequences() {
        let Op::Grant(Some(p)) =
            op("GRANT SELECT, INSERT ON TABLE public.t, u TO app, \"Ops\" WITH GRANT OPTION;")
        else {
            panic!("grant not read")
        };
        assert_eq!(p.on, ObjectKind::Table);
        assert_eq!(
            p.objects,
            [QualName::new(Some("public"), "t"), QualName::new(None, "u")]
        );
        assert_eq!(p.privileges, "SELECT, INSERT");
        assert_eq!(p.grantees, ["app", "Ops"]);
        assert!(p.grant_option);
        let Op::Revoke(Some(p)) = op("REVOKE ALL ON SEQUENCE s FROM PUBLIC") else {
            panic!("revoke not read")
        };
        assert_eq!((p.on, p.privileges.as_str()), (ObjectKind::Sequence, "ALL"));
        assert_eq!(p.grantees, ["PUBLIC"]);
        // Other objects keep no details, but are still privileges.
        assert_eq!(op("GRANT USAGE ON SCHEMA app TO u"), Op::Grant(None));
        assert_eq!(op("GRANT USAGE ON FOREIGN SERVER s TO u"), Op::Grant(None));
        assert_eq!(
            op("REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC"),
            Op::Revoke(None)
        );
        assert_eq!(
            op("GRANT SELECT ON ALL TABLES IN SCHEMA app TO u"),
            Op::Grant(None)
        );
        assert_eq!(op("GRANT admin TO alice"), Op::Grant(None));
    }

    #[test]
    fn sequence_options_as_written_without_owned_by() {
        let Op::CreateSequence {
            name,
            options,
            owned_by,
            ..
        } = op(
            "CREATE SEQUENCE public.s AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE OWNED BY public.t.id CACHE 5",
        )
        else {
            panic!("not a sequence")
        };
        assert_eq!(name, QualName::new(Some("public"), "s"));
        assert_eq!(
            options,
            "AS INTEGER START WITH 1 INCREMENT BY 1 NO MINVALUE CACHE 5"
        );
        assert_eq!(
            owned_by.as_deref(),
            Some(&(QualName::new(Some("public"), "t"), "id".to_string()))
        );
    }

    #[test]
    fn table_actions_sqlparser_keeps_as_text() {
        assert_eq!(
            actions(
                "ALTER TABLE t SET (fillfactor = 70, autovacuum_enabled = false), RESET (toast.autovacuum_enabled)"
            ),
            [
                AlterAction::SetStorageParams {
                    sql: "SET (fillfactor = 70, autovacuum_enabled = false)".into(),
                    params: vec![
                        ("fillfactor".into(), Some("70".into())),
                        ("autovacuum_enabled".into(), Some("false".into()))
                    ],
                },
                AlterAction::SetStorageParams {
                    sql: "RESET (toast.autovacuum_enabled)".into(),
                    params: vec![("toast.autovacuum_enabled".into(), None)],
                },
            ]
        );
        assert_eq!(
            actions("ALTER TABLE t OWNER TO app_owner, CLUSTER ON t_ix, NO INHERIT p"),
            [
                AlterAction::OwnerTo {
                    role: "app_owner".into()
                },
                AlterAction::ClusterOn {
                    index: Some("t_ix".into())
                },
                AlterAction::Inherit {
                    parent: QualName::new(None, "p"),
                    inherit: false
                },
            ]
        );
        assert_eq!(
            actions(
                "ALTER TABLE t ALTER COLUMN b SET STORAGE external, ALTER COLUMN b SET COMPRESSION lz4, ALTER COLUMN id RESTART WITH 5"
            ),
            [
                AlterAction::SetStorage {
                    column: "b".into(),
                    storage: "EXTERNAL".into()
                },
                AlterAction::SetCompression {
                    column: "b".into(),
                    method: "LZ4".into()
                },
                AlterAction::RestartIdentity {
                    column: "id".into()
                },
            ]
        );
    }

    #[test]
    fn type_change_with_collation_is_two_actions() {
        let a = actions(
            "ALTER TABLE t ALTER COLUMN name TYPE varchar(20) COLLATE \"C\" USING name::varchar(20), ALTER COLUMN x SET NOT NULL",
        );
        assert!(
            matches!(&a[0], AlterAction::AlterColumnType { column, ty, using: Some(_) } if column == "name" && ty.base == "varchar" && ty.modifiers == [20])
        );
        assert_eq!(
            a[1],
            AlterAction::SetCollation {
                column: "name".into(),
                collation: "\"C\"".into()
            }
        );
        assert_eq!(a[2], AlterAction::SetNotNull { column: "x".into() });
    }

    #[test]
    fn statistics_domains_and_triggers() {
        let Op::CreateStatistics {
            name,
            table,
            if_not_exists,
            sql,
        } = op("CREATE STATISTICS IF NOT EXISTS s1 (ndistinct) ON a, b FROM app.t")
        else {
            panic!("statistics not read")
        };
        assert_eq!(
            (name.name.as_str(), table, if_not_exists),
            ("s1", QualName::new(Some("app"), "t"), true)
        );
        assert_eq!(
            sql,
            "create statistics if not exists s1 (ndistinct) on a, b from app.t"
        );
        assert!(matches!(
            op("DROP STATISTICS IF EXISTS s1, s2"),
            Op::Drop { kind: ObjectKind::Statistics, names, if_exists: true, .. } if names.len() == 2
        ));
        assert_eq!(
            op("ALTER DOMAIN d ADD CONSTRAINT d_pos CHECK (VALUE > 0) NOT VALID"),
            Op::AlterDomain {
                name: QualName::new(None, "d"),
                action: DomainAction::AddConstraint {
                    name: Some("d_pos".into()),
                    body: "CHECK (VALUE > 0)".into(),
                    not_valid: true
                }
            }
        );
        assert!(matches!(
            op("ALTER DOMAIN d VALIDATE CONSTRAINT d_pos"),
            Op::AlterDomain { action: DomainAction::ValidateConstraint { name }, .. } if name == "d_pos"
        ));
        let Op::CreateTrigger { sql, .. } =
            op("CREATE TRIGGER tg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f()")
        else {
            panic!("not a trigger")
        };
        assert_eq!(
            sql,
            "create trigger tg before update on t for each row execute function f ()"
        );
    }
}
