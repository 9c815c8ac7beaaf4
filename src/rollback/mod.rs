//! Rollback generation: the inverse of every statement, computed from the catalog *before* it
//! (`inverse.rs`), and a script per revision in reverse order (`script.rs`).
//!
//! The script never pretends: a statement that cannot be undone is a comment block that stops the
//! reader, and the report's `rollback.complete` is false.

mod compare;
mod inverse;
mod objects;
mod script;

pub(crate) use compare::{downgrade_differences, statement_diff};
pub use inverse::{Context, Inverse, bookkeeping_inverse, inverse};
pub(crate) use script::{RevisionInfo, Unit, script};
