//! # vacuum-full-or-cluster
//! TODO

use super::{Ctx, Hit, Rule};
use crate::report::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "vacuum-full-or-cluster",
    severity: Severity::Warning,
    summary: "TODO",
    check,
};

fn check(_ctx: &Ctx) -> Vec<Hit> {
    Vec::new()
}
