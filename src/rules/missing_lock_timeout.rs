//! # missing-lock-timeout
//! TODO

use super::{Ctx, Hit, Rule};
use crate::report::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "missing-lock-timeout",
    severity: Severity::Warning,
    summary: "TODO",
    check,
};

fn check(_ctx: &Ctx) -> Vec<Hit> {
    Vec::new()
}
