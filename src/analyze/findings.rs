//! From rules to findings: each rule's hits on a statement, less what its `-- migsafe: ignore`
//! directives silence, with the severity the settings give, and the statement's risk.

use super::Settings;
use crate::pg::LockMode;
use crate::pg::duration::{self, Estimate};
use crate::report::{Finding, Note, StatementReport};
use crate::rules::{self, Ctx, Hit, Rule};
use crate::source::{SourceStatement, Span};
use crate::vocab::{Risk, Severity};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The help texts of the findings so far, one copy each: a rule usually gives the same help on
/// every statement it flags, and a long migration has hundreds of thousands of findings.
#[derive(Default)]
pub(super) struct Helps(HashSet<Arc<str>>);

impl Helps {
    fn shared(&mut self, help: String) -> Arc<str> {
        if let Some(shared) = self.0.get(help.as_str()) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(help);
        self.0.insert(shared.clone());
        shared
    }
}

/// A statement's findings, those its directives acknowledged, its risk, and the directives that
/// silenced something.
pub(super) struct Judged {
    pub findings: Vec<Finding>,
    pub acknowledged: Vec<Finding>,
    pub risk: Risk,
    pub silenced: Vec<String>,
}

/// What the statement's effect says, whatever the rules say (see [`effect_risk`]).
pub(super) struct EffectFacts {
    pub lock: Option<LockMode>,
    /// The strongest lock the transaction holds from earlier statements.
    pub held: Option<LockMode>,
    pub lock_heavy: bool,
    pub destroys_data: bool,
}

/// Runs the selected rules' per-statement checks on `ctx`'s statement. A finding an ignore
/// directive names is acknowledged: kept aside, and neither counted nor part of the risk.
pub(super) fn judge(
    ctx: &Ctx,
    st: &SourceStatement,
    settings: &Settings,
    facts: &EffectFacts,
    helps: &mut Helps,
) -> Judged {
    // What a verification run measured replaces what the sizes let us estimate.
    let measured = ctx
        .observed
        .and_then(|o| o.measured_risk(facts.held, &settings.sizes));
    let size_risk = measured.or(ctx.estimate.map(|e| settings.sizes.risk(e.seconds)));
    let effect = effect_risk(facts, size_risk, measured);
    let mut judged = Judged {
        findings: Vec::new(),
        acknowledged: Vec::new(),
        risk: effect,
        silenced: Vec::new(),
    };
    for (rule, hit) in rules::check(ctx, |id| settings.selected(id)) {
        let directive = st
            .ignore
            .iter()
            .find(|d| d.as_str() == rule.id || d.as_str() == "all");
        let severity = settings.severity_of(rule.id, rule.severity);
        let mut message = hit.message;
        let own = match size_risk {
            // The table's size (or the measured run) decides how much the work matters.
            Some(sr) if rule.scales_with_size => {
                if let Some(e) = ctx.estimate.filter(|_| measured.is_none()) {
                    message.push_str(&format!(" [{}]", describe_estimate(e)));
                }
                hit.risk.unwrap_or(Risk::None).max(sr)
            }
            _ => hit.risk.unwrap_or(severity_risk(severity)),
        };
        for a in &ctx.effect.assumptions {
            if !message.contains(a.as_str()) {
                message.push_str(&format!(" (assumption: {a})"));
            }
        }
        // A warning or an error is about what the statement does: it carries the effect's risk.
        // Advice (info) carries only its own.
        let risk = match severity {
            Severity::Info => own,
            Severity::Warning | Severity::Error => own.max(effect),
        };
        let finding = Finding {
            rule: Cow::Borrowed(rule.id),
            severity,
            message,
            help: helps.shared(hit.help),
            span: st.span,
            risk,
            cause: hit.cause,
        };
        match directive {
            Some(d) => {
                judged.silenced.push(d.clone());
                judged.acknowledged.push(finding);
            }
            None => {
                judged.risk = judged.risk.max(own);
                judged.findings.push(finding);
            }
        }
    }
    // Kept until the report is written: no room to spare per statement.
    judged.findings.shrink_to_fit();
    judged
}

/// A finding of a migration-level check, with the severity the settings give.
pub(super) fn migration_finding(
    rule: &Rule,
    hit: Hit,
    span: Span,
    settings: &Settings,
    helps: &mut Helps,
) -> (Finding, Risk) {
    let severity = settings.severity_of(rule.id, rule.severity);
    let risk = hit.risk.unwrap_or(severity_risk(severity));
    let finding = Finding {
        rule: Cow::Borrowed(rule.id),
        severity,
        message: hit.message,
        help: helps.shared(hit.help),
        span,
        risk,
        cause: hit.cause,
    };
    (finding, risk)
}

/// One finding per cause: of the findings (acknowledged or not) that share a [`Finding::cause`],
/// the first stays, says which later statements share it and takes the highest risk among them;
/// the later ones become notes on their statements. Acknowledging the first acknowledges the cause.
pub(super) fn one_per_cause(statements: &mut [StatementReport]) {
    // Each cause, in the order first found: the statement of its first finding, and the later
    // statements that share it.
    let mut causes: Vec<(String, usize, Vec<usize>)> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for (i, s) in statements.iter().enumerate() {
        for f in s.findings.iter().chain(&s.acknowledged) {
            let Some(cause) = &f.cause else { continue };
            let Some(&p) = position.get(cause) else {
                position.insert(cause.clone(), causes.len());
                causes.push((cause.clone(), i, Vec::new()));
                continue;
            };
            if let Some((_, at, later)) = causes.get_mut(p) {
                if *at != i && later.last() != Some(&i) {
                    later.push(i);
                }
            }
        }
    }
    for (cause, at, later) in causes.iter().filter(|(_, _, later)| !later.is_empty()) {
        let mut risk = Risk::None;
        for &i in later {
            let Some(s) = statements.get_mut(i) else {
                continue;
            };
            for list in [&mut s.findings, &mut s.acknowledged] {
                let (same, other) = std::mem::take(list)
                    .into_iter()
                    .partition::<Vec<Finding>, _>(|f| f.cause.as_ref() == Some(cause));
                *list = other;
                for f in same {
                    risk = risk.max(f.risk);
                    s.notes.push(Note {
                        rule: f.rule,
                        severity: f.severity,
                        message: f.message,
                        finding_at: *at,
                    });
                }
            }
        }
        let lines: Vec<u32> = later
            .iter()
            .filter_map(|&i| statements.get(i).map(|s| s.span.start_line))
            .collect();
        let Some(s) = statements.get_mut(*at) else {
            continue;
        };
        let (findings, acknowledged) = (&mut s.findings, &mut s.acknowledged);
        let Some(f) = findings
            .iter_mut()
            .chain(acknowledged.iter_mut())
            .find(|f| f.cause.as_ref() == Some(cause))
        else {
            continue;
        };
        f.message.push_str(&format!(
            "; the same holds for {} later statement{} ({}), noted there",
            lines.len(),
            if lines.len() == 1 { "" } else { "s" },
            line_list(&lines),
        ));
        f.risk = f.risk.max(risk);
        let counted = s.findings.iter().any(|f| f.cause.as_ref() == Some(cause));
        if counted {
            s.risk = s.risk.max(risk);
        }
    }
}

/// "line 12", "lines 12, 18 and 30" (at most eight, then "and N more").
fn line_list(lines: &[u32]) -> String {
    const SHOWN: usize = 8;
    let mut words: Vec<String> = lines.iter().take(SHOWN).map(u32::to_string).collect();
    if lines.len() > SHOWN {
        words.push(format!("{} more", lines.len() - SHOWN));
    }
    match words.as_slice() {
        [one] => format!("line {one}"),
        [rest @ .., last] => format!("lines {} and {last}", rest.join(", ")),
        [] => String::new(),
    }
}

fn severity_risk(s: Severity) -> Risk {
    match s {
        Severity::Error => Risk::High,
        Severity::Warning => Risk::Medium,
        Severity::Info => Risk::Low,
    }
}

/// The risk of what the statement does, whatever the rules say: work that grows with the table
/// under a lock that blocks writes (its own or one its transaction holds), or lost data, is high;
/// both together are critical; taking a brief lock that blocks reads or writes is low (it still
/// queues behind long transactions). When the table's size is known (`size_risk`), the work under
/// the lock is as risky as its estimated duration; when a verification run measured it (`measured`),
/// as its real one, whatever was predicted.
fn effect_risk(facts: &EffectFacts, size_risk: Option<Risk>, measured: Option<Risk>) -> Risk {
    let heavy = match measured {
        Some(m) => m,
        None if facts.lock_heavy => size_risk.unwrap_or(Risk::High),
        None => Risk::None,
    };
    let blocking = if facts.lock.is_some_and(LockMode::blocks_writes) {
        Risk::Low
    } else {
        Risk::None
    };
    if facts.destroys_data && heavy >= Risk::High {
        Risk::Critical
    } else if facts.destroys_data {
        Risk::High.max(heavy)
    } else {
        heavy.max(blocking)
    }
}

/// "public.events: 2.3 M rows, 350 MB; about 12 s of work at the calibrated rates"
fn describe_estimate(e: &Estimate) -> String {
    let tables: Vec<String> = e
        .tables
        .iter()
        .map(|(t, s)| format!("{}: {}", t.display_qualified(), duration::describe_size(s)))
        .collect();
    format!(
        "{}; {} of work at the calibrated rates",
        tables.join(", "),
        duration::describe_seconds(e.seconds)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(lock_heavy: bool) -> EffectFacts {
        EffectFacts {
            lock: Some(LockMode::RowExclusiveLock),
            held: Some(LockMode::AccessExclusiveLock),
            lock_heavy,
            destroys_data: false,
        }
    }

    /// A measured run outweighs the prediction both ways: long work under a held lock is high
    /// risk even when nothing predicted a scan, and work that was predicted heavy but ran in a
    /// blink is low.
    #[test]
    fn a_measured_run_replaces_the_estimate() {
        assert_eq!(
            effect_risk(&facts(false), None, Some(Risk::High)),
            Risk::High
        );
        assert_eq!(effect_risk(&facts(true), None, Some(Risk::Low)), Risk::Low);
        assert_eq!(effect_risk(&facts(true), None, None), Risk::High);
        assert_eq!(
            effect_risk(&facts(true), Some(Risk::Medium), None),
            Risk::Medium
        );
    }
}
