//! What `ALTER COLUMN … TYPE` does to a table's storage, from the old and new types.
//!
//! PostgreSQL skips the table rewrite when the old type is binary-coercible to the new one and the
//! conversion cannot change a value (`ATColumnChangeRequiresRewrite` in
//! `src/backend/commands/tablecmds.c`; <https://www.postgresql.org/docs/current/sql-altertable.html>,
//! Notes). Observed on PostgreSQL 15 with tools/pg-oracle: `varchar(n)` → `varchar(m ≥ n)` / `text` and
//! `numeric(p, s)` → `numeric(q ≥ p, s)` keep storage and indexes; `text` → `varchar(n)` rewrites
//! the table and every index; `timestamp` → `timestamptz` under `TimeZone = 'UTC'` keeps the table
//! but rebuilds the indexes on the column (PG ≥ 12), and rewrites in any other zone.

use crate::ir::{Expr, TypeName};

/// What a type change does to the table's storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Storage {
    /// Catalog-only: no rewrite, indexes kept.
    Kept,
    /// The table keeps its storage but indexes on the column are rebuilt (a scan of the table).
    IndexesRebuilt,
    /// The table and all its indexes are rewritten.
    Rewritten,
}

/// The effect of one column type change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeChange {
    pub storage: Storage,
    /// Why the values may not come back when the change is undone (`None`: they do).
    pub lossy: Option<String>,
    /// The change fails when a value does not fit (narrowing), rather than changing it.
    pub may_fail: bool,
    /// An assumption the verdict rests on, for the finding's text.
    pub assumption: Option<String>,
}

/// The session's `TimeZone` as far as the migration tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeZone {
    /// Not set in the migration: the server default, unknown here.
    Unknown,
    Utc,
    Other(String),
}

impl TimeZone {
    pub fn from_setting(value: &str) -> TimeZone {
        let v = value.trim().trim_matches('\'').trim_matches('"');
        match v.to_ascii_lowercase().as_str() {
            "utc" | "etc/utc" | "gmt" | "etc/gmt" | "z" | "zulu" | "uct" | "universal" | "+0"
            | "0" | "00:00" => TimeZone::Utc,
            "default" | "local" => TimeZone::Unknown,
            _ => TimeZone::Other(v.to_string()),
        }
    }
}

fn integer_rank(base: &str) -> Option<u8> {
    match base {
        "int2" => Some(1),
        "int4" => Some(2),
        "int8" => Some(3),
        _ => None,
    }
}

/// The base name as the default search_path resolves it: `public.state` is `state`,
/// `pg_catalog.int4` is `int4`; the `(serial)` mark of serial columns dropped.
fn strip_serial(base: &str) -> &str {
    let base = base.strip_suffix(" (serial)").unwrap_or(base);
    ["public.", "pg_catalog."]
        .iter()
        .find_map(|schema| base.strip_prefix(schema))
        .unwrap_or(base)
}

/// Whether `using` only restates the column (`col`, `col::newtype`, `CAST(col AS newtype)`): such a
/// USING does not force a rewrite by itself.
pub fn trivial_using(using: Option<&Expr>, column: &str) -> bool {
    match using {
        None => true,
        Some(e) => e.calls.iter().all(|c| c == "cast") && e.columns.iter().all(|c| c == column),
    }
}

/// Classifies `ALTER COLUMN column TYPE new [USING using]` for a column of type `old`.
pub fn type_change(
    old: &TypeName,
    new: &TypeName,
    using: Option<&Expr>,
    column: &str,
    tz: &TimeZone,
    pg_version: u32,
) -> TypeChange {
    let rewrite = |lossy: Option<String>, may_fail: bool| TypeChange {
        storage: Storage::Rewritten,
        lossy,
        may_fail,
        assumption: None,
    };
    let kept = TypeChange {
        storage: Storage::Kept,
        lossy: None,
        may_fail: false,
        assumption: None,
    };
    // Without USING the assignment cast fails on a value that is too long; an explicit cast in
    // USING (`col::varchar(20)`) truncates it silently
    // (https://www.postgresql.org/docs/current/datatype-character.html).
    let shorten = || match using {
        Some(_) => rewrite(
            Some(format!(
                "the explicit cast in USING silently truncates values of {column} longer than the new length"
            )),
            false,
        ),
        None => rewrite(None, true),
    };
    if !trivial_using(using, column) {
        return TypeChange {
            assumption: Some("the USING expression computes new values".to_string()),
            ..rewrite(
                Some(format!(
                    "the USING expression rewrites the values of {column}"
                )),
                true,
            )
        };
    }
    let (ob, nb) = (strip_serial(&old.base), strip_serial(&new.base));
    if old.array != new.array {
        return rewrite(None, true);
    }
    if ob == nb && old.modifiers == new.modifiers {
        return kept;
    }
    match (ob, nb) {
        // Length limits: widening or removing the limit is binary-coercible; shrinking it checks
        // every value (a rewrite, failing on a longer value).
        ("varchar", "varchar") => match (old.modifiers.first(), new.modifiers.first()) {
            (_, None) => kept,
            (Some(o), Some(n)) if n >= o => kept,
            _ => shorten(),
        },
        ("varchar", "text") | ("text", "varchar") if new.modifiers.is_empty() => kept,
        ("text", "varchar") => shorten(),
        ("bpchar", "text") | ("bpchar", "varchar") => rewrite(
            Some("char(n) pads values with spaces; the padding is lost".to_string()),
            false,
        ),
        ("varbit", "varbit") | ("bit", "varbit") => {
            match (old.modifiers.first(), new.modifiers.first()) {
                (_, None) => kept,
                (Some(o), Some(n)) if n >= o => kept,
                _ => rewrite(None, true),
            }
        }
        ("cidr", "inet") => kept,
        ("numeric", "numeric") => {
            let (op, os) = (
                old.modifiers.first(),
                old.modifiers.get(1).copied().unwrap_or(0),
            );
            let (np, ns) = (
                new.modifiers.first(),
                new.modifiers.get(1).copied().unwrap_or(0),
            );
            match (op, np) {
                (_, None) => kept,
                (None, Some(_)) => rewrite(
                    Some("unconstrained numeric values are rounded to the new scale".to_string()),
                    true,
                ),
                (Some(op), Some(np)) => {
                    if ns == os && np >= op {
                        kept
                    } else if ns < os {
                        rewrite(
                            Some(format!(
                                "numeric scale {os} → {ns} rounds the values of {column}"
                            )),
                            np < op,
                        )
                    } else {
                        rewrite(None, np - ns < op - os)
                    }
                }
            }
        }
        ("timestamp", "timestamptz") | ("timestamptz", "timestamp") => {
            let same_precision = old.modifiers == new.modifiers;
            match tz {
                TimeZone::Utc if pg_version >= 12 && same_precision => TypeChange {
                    storage: Storage::IndexesRebuilt,
                    lossy: None,
                    may_fail: false,
                    assumption: Some("the session TimeZone is UTC".to_string()),
                },
                TimeZone::Utc => rewrite(None, false),
                TimeZone::Other(zone) => rewrite(
                    Some(format!(
                        "in TimeZone {zone} local times in a daylight-saving gap or overlap do not convert back"
                    )),
                    false,
                ),
                TimeZone::Unknown => TypeChange {
                    assumption: Some(
                        "the session TimeZone is not set in the migration: assuming a rewrite (SET timezone = 'UTC' makes it catalog-only on PG ≥ 12)"
                            .to_string(),
                    ),
                    ..rewrite(None, false)
                },
            }
        }
        ("timestamp" | "timestamptz", "date") => rewrite(
            Some(format!("converting {column} to date drops the time of day")),
            false,
        ),
        ("float8", "float4") => rewrite(
            Some(format!(
                "double precision → real rounds the values of {column}"
            )),
            true,
        ),
        ("float4" | "float8" | "numeric", "int2" | "int4" | "int8") => rewrite(
            Some(format!(
                "fractional values of {column} are rounded to integers"
            )),
            true,
        ),
        ("json", "jsonb") => rewrite(
            Some("jsonb drops whitespace, key order and duplicate keys of json values".to_string()),
            false,
        ),
        (o, n) => match (integer_rank(o), integer_rank(n)) {
            (Some(a), Some(b)) => rewrite(None, b < a),
            _ => rewrite(None, true),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(base: &str, mods: &[u32]) -> TypeName {
        TypeName {
            sql: base.to_string(),
            base: base.to_string(),
            modifiers: mods.to_vec(),
            array: false,
        }
    }

    fn storage(old: TypeName, new: TypeName, tz: TimeZone) -> Storage {
        type_change(&old, &new, None, "c", &tz, 15).storage
    }

    #[test]
    fn a_name_qualified_with_the_default_schema_is_the_same_type() {
        for (old, new) in [
            ("public.l3_states", "l3_states"),
            ("pg_catalog.int4", "int4"),
        ] {
            let kept = storage(t(old, &[]), t(new, &[]), TimeZone::Unknown);
            assert_eq!(kept, Storage::Kept, "{old} -> {new}");
        }
    }

    #[test]
    fn binary_coercible_changes_keep_storage() {
        let u = TimeZone::Unknown;
        assert_eq!(
            storage(t("varchar", &[50]), t("varchar", &[100]), u.clone()),
            Storage::Kept
        );
        assert_eq!(
            storage(t("varchar", &[50]), t("text", &[]), u.clone()),
            Storage::Kept
        );
        assert_eq!(
            storage(t("text", &[]), t("varchar", &[]), u.clone()),
            Storage::Kept
        );
        assert_eq!(
            storage(t("numeric", &[10, 2]), t("numeric", &[12, 2]), u.clone()),
            Storage::Kept
        );
        assert_eq!(storage(t("cidr", &[]), t("inet", &[]), u), Storage::Kept);
    }

    #[test]
    fn rewrites() {
        let u = TimeZone::Unknown;
        assert_eq!(
            storage(t("text", &[]), t("varchar", &[20]), u.clone()),
            Storage::Rewritten
        );
        assert_eq!(
            storage(t("int4", &[]), t("int8", &[]), u.clone()),
            Storage::Rewritten
        );
        assert_eq!(
            storage(t("varchar", &[100]), t("varchar", &[50]), u),
            Storage::Rewritten
        );
    }

    #[test]
    fn timestamps_depend_on_the_zone_and_version() {
        let (a, b) = (t("timestamp", &[]), t("timestamptz", &[]));
        assert_eq!(
            storage(a.clone(), b.clone(), TimeZone::Utc),
            Storage::IndexesRebuilt
        );
        let old = type_change(&a, &b, None, "c", &TimeZone::Utc, 11);
        assert_eq!(old.storage, Storage::Rewritten);
        let ny = type_change(
            &a,
            &b,
            None,
            "c",
            &TimeZone::from_setting("'America/New_York'"),
            15,
        );
        assert_eq!(ny.storage, Storage::Rewritten);
        assert!(ny.lossy.is_some());
        let unknown = type_change(&a, &b, None, "c", &TimeZone::Unknown, 15);
        assert!(unknown.assumption.is_some());
    }

    #[test]
    fn lossy_changes() {
        let u = TimeZone::Unknown;
        let scale = type_change(
            &t("numeric", &[10, 2]),
            &t("numeric", &[10, 1]),
            None,
            "c",
            &u,
            15,
        );
        assert!(scale.lossy.is_some());
        let narrow = type_change(&t("int8", &[]), &t("int4", &[]), None, "c", &u, 15);
        assert!(narrow.lossy.is_none() && narrow.may_fail);
        let precision = type_change(
            &t("numeric", &[10, 2]),
            &t("numeric", &[8, 2]),
            None,
            "c",
            &u,
            15,
        );
        assert!(precision.lossy.is_none() && precision.may_fail);
    }
}
