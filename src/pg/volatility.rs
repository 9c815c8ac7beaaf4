//! Volatility of the functions a default expression calls (`pg_proc.provolatile`).
//!
//! `ADD COLUMN … DEFAULT expr` is catalog-only on PostgreSQL ≥ 11 when `expr` is not volatile: it is
//! evaluated once and stored as the column's missing value
//! (<https://www.postgresql.org/docs/current/sql-altertable.html>, Notes; `ATExecAddColumn` in
//! `src/backend/commands/tablecmds.c`). A volatile default is evaluated per row: a rewrite.

/// How a default expression is evaluated for existing rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Volatility {
    /// Immutable or stable: evaluated once (`now()` is STABLE).
    Fixed,
    /// Volatile: one value per row, so the table is rewritten. The function named.
    Volatile(String),
    /// A function migsafe does not know: treated as volatile, and the finding says so.
    Unknown(String),
}

/// Built-in functions whose `provolatile` is 'v' (checked on PostgreSQL 15 with
/// `SELECT proname FROM pg_proc WHERE provolatile = 'v'`).
const VOLATILE: &[&str] = &[
    "clock_timestamp",
    "currval",
    "gen_random_bytes",
    "gen_random_uuid",
    "lastval",
    "nextval",
    "random",
    "random_normal",
    "setseed",
    "setval",
    "timeofday",
    "txid_current",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
];

/// Built-in immutable and stable functions and SQL value functions that defaults commonly use.
const FIXED: &[&str] = &[
    "abs",
    "array",
    "btrim",
    "cast",
    "coalesce",
    "concat",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "date_trunc",
    "greatest",
    "json_build_array",
    "json_build_object",
    "jsonb_build_array",
    "jsonb_build_object",
    "least",
    "length",
    "localtime",
    "localtimestamp",
    "lower",
    "make_date",
    "make_interval",
    "now",
    "nullif",
    "replace",
    "round",
    "session_user",
    "statement_timestamp",
    "to_char",
    "to_json",
    "to_jsonb",
    "to_timestamp",
    "timezone",
    "transaction_timestamp",
    "trim",
    "upper",
    "user",
];

/// The volatility of an expression calling `calls`, given the volatility of functions the schema or
/// migration declared (`declared(name) = Some(true)` for VOLATILE).
pub fn volatility(calls: &[String], declared: impl Fn(&str) -> Option<bool>) -> Volatility {
    let mut unknown = None;
    for c in calls {
        let name = c.rsplit('.').next().unwrap_or(c);
        match declared(name) {
            Some(true) => return Volatility::Volatile(name.to_string()),
            Some(false) => continue,
            None => {}
        }
        if VOLATILE.contains(&name) {
            return Volatility::Volatile(name.to_string());
        }
        if !FIXED.contains(&name) && unknown.is_none() {
            unknown = Some(name.to_string());
        }
    }
    match unknown {
        Some(n) => Volatility::Unknown(n),
        None => Volatility::Fixed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(calls: &[&str]) -> Volatility {
        let calls: Vec<String> = calls.iter().map(|s| s.to_string()).collect();
        volatility(&calls, |_| None)
    }

    #[test]
    fn classifies() {
        assert!(VOLATILE.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(v(&["now"]), Volatility::Fixed);
        assert_eq!(v(&["current_timestamp"]), Volatility::Fixed);
        assert_eq!(v(&[]), Volatility::Fixed);
        assert_eq!(
            v(&["gen_random_uuid"]),
            Volatility::Volatile("gen_random_uuid".into())
        );
        assert_eq!(
            v(&["lower", "random"]),
            Volatility::Volatile("random".into())
        );
        assert_eq!(v(&["my_fn"]), Volatility::Unknown("my_fn".into()));
        let declared = volatility(&["my_fn".to_string()], |n| (n == "my_fn").then_some(false));
        assert_eq!(declared, Volatility::Fixed);
    }
}
