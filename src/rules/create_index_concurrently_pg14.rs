//! # create-index-concurrently-pg14
//! TODO

use super::{Ctx, Hit, Rule};
use crate::report::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "create-index-concurrently-pg14",
    severity: Severity::Warning,
    summary: "TODO",
    check,
};

fn check(_ctx: &Ctx) -> Vec<Hit> {
    Vec::new()
}
