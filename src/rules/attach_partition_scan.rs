//! # attach-partition-scan
//! ATTACH PARTITION scans the new partition under ACCESS EXCLUSIVE to prove its rows fit the bound.
//!
//! ## What it does
//! Flags `ALTER TABLE parent ATTACH PARTITION t FOR VALUES …` when `t` existed before the migration and
//! has no validated CHECK constraint that could imply the partition bound.
//!
//! ## Why is this bad?
//! PostgreSQL must prove that every row of the attached table belongs in the partition. Unless a valid
//! CHECK constraint already implies the bound, it reads the whole table while holding an ACCESS
//! EXCLUSIVE lock on it (the parent only gets SHARE UPDATE EXCLUSIVE since PostgreSQL 12). When a
//! default partition exists it is scanned too, under the same lock.
//!
//! ## Example
//! ```sql
//! ALTER TABLE measurements ATTACH PARTITION measurements_2021
//!     FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
//! ```
//!
//! ## Use instead
//! Prove the bound first with a constraint that is validated without blocking, then attach (no scan),
//! then drop the helper constraint:
//! ```sql
//! ALTER TABLE measurements_2021 ADD CONSTRAINT m2021_bound
//!     CHECK (at >= '2021-01-01' AND at < '2022-01-01') NOT VALID;
//! ALTER TABLE measurements_2021 VALIDATE CONSTRAINT m2021_bound;
//! ALTER TABLE measurements ATTACH PARTITION measurements_2021
//!     FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
//! ALTER TABLE measurements_2021 DROP CONSTRAINT m2021_bound;
//! ```
//!
//! ## References
//! - https://www.postgresql.org/docs/current/ddl-partitioning.html#DDL-PARTITIONING-DECLARATIVE-MAINTENANCE
//! - https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-ATTACH-PARTITION

use super::{Ctx, Hit, Rule, say};
use crate::catalog::normal;
use crate::ir::{AlterAction, Op};
use crate::pg::LockMode;
use crate::vocab::Severity;

pub(crate) const RULE: Rule = Rule {
    id: "attach-partition-scan",
    severity: Severity::Warning,
    summary: "ATTACH PARTITION scans the new partition under ACCESS EXCLUSIVE to prove its rows fit the bound.",
    scales_with_size: true,
    check: Some(check),
    check_migration: None,
};

fn check(ctx: &Ctx) -> Vec<Hit> {
    let Op::AlterTable { actions, .. } = ctx.op else {
        return Vec::new();
    };
    actions
        .iter()
        .filter_map(|a| match a {
            // The effect lists the scan only when the partition existed before the migration and
            // no validated CHECK on it can imply the bound.
            AlterAction::AttachPartition { partition }
                if ctx.effect.scans.contains(&normal(partition)) =>
            {
                Some(Hit::new(
                    format!(
                        "attaching {partition} reads all of it to check the partition bound, under an {}",
                        say::lock_on(LockMode::AccessExclusiveLock, partition)
                    ),
                    format!(
                        "First add a CHECK constraint on {partition} matching the bound with NOT VALID, VALIDATE it in a separate transaction, then attach (no scan) and drop the CHECK."
                    ),
                ))
            }
            _ => None,
        })
        .collect()
}
