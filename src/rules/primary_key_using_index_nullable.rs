//! # primary-key-using-index-nullable
//! TODO

use super::{Ctx, Hit, Rule};
use crate::report::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "primary-key-using-index-nullable",
    severity: Severity::Warning,
    summary: "TODO",
    check,
};

fn check(_ctx: &Ctx) -> Vec<Hit> {
    Vec::new()
}
