//! # ban-char-type
//! A column of type char(n): values are padded with spaces, and it is no faster than text or varchar.
//!
//! ## What it does
//! Flags columns declared `char(n)`, `character(n)` or `char` (that is `char(1)`) in `CREATE TABLE`,
//! `ALTER TABLE … ADD COLUMN` and `ALTER COLUMN … TYPE`. The one-byte internal type `"char"` (with
//! the quotes) and `varchar` / `text` are not flagged.
//!
//! ## Why is this bad?
//! `char(n)` pads every value with spaces up to `n` characters: `'ab'` stored in a `char(5)` comes
//! back to the application as `'ab   '`. Comparisons between `char` values ignore the trailing
//! spaces, but `LIKE`, regular expressions and conversions to `text` (which strip them) do not
//! agree with that, which surprises application code and ORMs. PostgreSQL gains nothing from the
//! fixed length: its documentation states that there is no performance difference between the
//! three character types, apart from the extra storage the padding takes.
//!
//! ## Example
//! ```sql
//! CREATE TABLE currencies (code char(3) PRIMARY KEY, name text NOT NULL);
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE TABLE currencies (
//!   code text PRIMARY KEY CHECK (char_length(code) = 3),
//!   name text NOT NULL
//! );
//! ```
//! or `varchar(3)`. In SQLAlchemy use `sa.String(3)` rather than `sa.CHAR(3)`; Django's `CharField`
//! is already `varchar`.
//!
//! ## References
//! - https://www.postgresql.org/docs/current/datatype-character.html
//! - https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_char.28n.29

use super::{Ctx, Hit, Rule};
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "ban-char-type",
    severity: Severity::Info,
    summary: "A column of type char(n): values are padded with spaces, and it is no faster than text or varchar.",
    scales_with_size: false,
    check: Some(check),
    check_migration: None,
};


fn check(ctx: &Ctx) -> Vec<Hit> {
    super::declared_columns(ctx.op)
        .into_iter()
        .filter(|(_, _, ty)| ty.base == "bpchar")
        .map(|(table, column, ty)| {
            let n = ty.modifiers.first().copied().unwrap_or(1);
            Hit::new(
                format!(
                    "column {column} of {} is {}: values are padded with spaces to {n} character{}, trailing spaces are ignored in some comparisons but not in others, and it is no faster than text or varchar",
                    table.display_qualified(),
                    ty.sql,
                    if n == 1 { "" } else { "s" }
                ),
                format!(
                    "Declare {column} as text with CHECK (char_length({column}) = {n}) if the length is fixed, or as varchar({n}) (SQLAlchemy: sa.String({n}) instead of sa.CHAR)."
                ),
            )
        })
        .collect()
}
