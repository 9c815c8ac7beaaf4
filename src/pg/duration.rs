//! How long a statement's table-sized work takes, estimated from the sizes of the tables it scans or
//! rewrites. The rates are this project's CI machine (2 cores, PostgreSQL 15, table in the page
//! cache), measured by `scripts/calibrate-durations.sh` on a 2,000,000-row table (240 MB of heap,
//! 283 MB with its primary key), best of three, rounded down:
//!
//! | work                                          | measured  | rate used                 |
//! |-----------------------------------------------|-----------|---------------------------|
//! | validation scan (`ADD CHECK`)                 | 143 ms    | 1,600 MB/s of heap        |
//! | table rewrite (`ALTER COLUMN … TYPE bigint`)  | 3,115 ms  | 90 MB/s of heap+indexes   |
//! | btree build on a text column                  | 2,608 ms  | 90 MB/s of heap           |
//! | UPDATE writing 6% of the rows                 | 1,198 ms  | 200 MB/s of heap          |
//! | foreign key validation (`ADD FOREIGN KEY`)    | 475 ms    | 500 MB/s of heap          |
//!
//! A production server with cold caches and concurrent load is slower, rarely faster: the estimate is
//! an order of magnitude for the reviewer ("seconds" or "an hour"), and a lower bound.

use crate::catalog::{Catalog, TableSize};
use crate::ir::{AlterAction, ConstraintKind, Op, QualName};
use crate::pg::LockMode;
use crate::pg::effect::Effect;
use crate::vocab::Risk;

/// How table sizes (from a database) turn into risk. The risk of work that grows with a table — a
/// scan or rewrite, which the rules with `Rule::scales_with_size` describe
/// — follows its estimated duration (this module):
///
/// | estimated work              | risk     |
/// |-----------------------------|----------|
/// | under `brief_ms` (1 s)      | low      |
/// | under `long_ms` (5 s)       | medium   |
/// | under `outage_ms` (60 s)    | high     |
/// | from `outage_ms`            | critical |
///
/// Without sizes, such work is high risk, as if the table were large.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SizeSettings {
    /// Work estimated under this many milliseconds is low risk.
    pub brief_ms: u64,
    /// Under this, medium.
    pub long_ms: u64,
    /// Under this, high; from it on, critical.
    pub outage_ms: u64,
    /// A sequential scan with a filter (EXPLAIN) or an unindexed foreign key matters from this
    /// many rows on (default 100,000).
    pub large_rows: u64,
    /// Bytes per second of scans, rewrites and index builds, for the duration estimates.
    pub rates: Rates,
}

impl Default for SizeSettings {
    fn default() -> Self {
        SizeSettings {
            brief_ms: 1_000,
            long_ms: 5_000,
            outage_ms: 60_000,
            large_rows: 100_000,
            rates: Rates::default(),
        }
    }
}

impl SizeSettings {
    /// The risk of table-sized work estimated at `seconds`.
    pub fn risk(&self, seconds: f64) -> Risk {
        let ms = seconds * 1000.0;
        if ms < self.brief_ms as f64 {
            Risk::Low
        } else if ms < self.long_ms as f64 {
            Risk::Medium
        } else if ms < self.outage_ms as f64 {
            Risk::High
        } else {
            Risk::Critical
        }
    }

    /// Sets the row count from which a filtered sequential scan or an unindexed foreign key
    /// matters.
    pub fn large_rows(mut self, rows: u64) -> Self {
        self.large_rows = rows;
        self
    }

    /// Sets the risk thresholds (milliseconds of estimated work).
    pub fn thresholds(mut self, brief_ms: u64, long_ms: u64, outage_ms: u64) -> Self {
        self.brief_ms = brief_ms;
        self.long_ms = long_ms;
        self.outage_ms = outage_ms;
        self
    }

    /// Sets the rates the duration estimates use (`scripts/calibrate-durations.sh` measures them).
    pub fn rates(mut self, rates: Rates) -> Self {
        self.rates = rates;
        self
    }
}

/// Bytes per second of each kind of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    /// Reading the heap sequentially (validation of CHECK, NOT NULL, foreign keys; unindexed DML).
    pub scan: u64,
    /// Writing heap and indexes again (ALTER COLUMN TYPE, VACUUM FULL, volatile defaults).
    pub rewrite: u64,
    /// Reading and sorting the heap into a new btree (CREATE INDEX, ADD PRIMARY KEY/UNIQUE).
    pub index: u64,
    /// UPDATE / DELETE / INSERT … SELECT reading the heap and writing some rows.
    pub dml: u64,
    /// Checking every row of a foreign key (ADD FOREIGN KEY, VALIDATE CONSTRAINT): a join of the
    /// referencing and the referenced table.
    pub foreign_key: u64,
}

impl Default for Rates {
    fn default() -> Self {
        const MB: u64 = 1024 * 1024;
        Rates {
            scan: 1600 * MB,
            rewrite: 90 * MB,
            index: 90 * MB,
            dml: 200 * MB,
            foreign_key: 500 * MB,
        }
    }
}

/// The table-sized work of one statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The estimated duration.
    pub seconds: f64,
    /// The pre-existing tables the work is on, with their sizes.
    pub tables: Vec<(QualName, TableSize)>,
}

/// The estimate for a statement, when the size of every table it scans or rewrites is known;
/// `None` when it does no table-sized work or some size is unknown.
pub fn estimate(op: &Op, effect: &Effect, catalog: &Catalog, rates: &Rates) -> Option<Estimate> {
    if effect.scans.is_empty() && effect.rewrites.is_empty() {
        return None;
    }
    let work = work_of(op, catalog);
    let mut seconds = 0.0;
    let mut tables = Vec::new();
    for t in effect.rewrites.iter().chain(&effect.scans) {
        if tables.iter().any(|(n, _)| n == t) {
            continue;
        }
        let size = catalog.size(t)?;
        let rate = |r: u64| r.max(1) as f64;
        seconds += if effect.rewrites.contains(t) {
            size.total_bytes as f64 / rate(rates.rewrite)
        } else {
            size.heap_bytes as f64
                / rate(match work {
                    Work::Index => rates.index,
                    Work::Dml => rates.dml,
                    Work::ForeignKey => rates.foreign_key,
                    Work::Scan => rates.scan,
                })
        };
        tables.push((t.clone(), size));
    }
    Some(Estimate { seconds, tables })
}

/// What kind of table-sized work a statement does (besides rewrites).
#[derive(Clone, Copy)]
enum Work {
    Scan,
    Index,
    Dml,
    ForeignKey,
}

fn work_of(op: &Op, catalog: &Catalog) -> Work {
    let constraint_work = |c: &crate::ir::Constraint| match c.kind {
        ConstraintKind::PrimaryKey { .. }
        | ConstraintKind::Unique { .. }
        | ConstraintKind::Exclude { .. } => Some(Work::Index),
        ConstraintKind::ForeignKey { .. } if !c.not_valid => Some(Work::ForeignKey),
        _ => None,
    };
    match op {
        Op::CreateIndex(_) | Op::Reindex { .. } => Work::Index,
        Op::Update { .. } | Op::Delete { .. } | Op::Insert { .. } | Op::Merge { .. } => Work::Dml,
        Op::AlterTable { name, actions, .. } => actions
            .iter()
            .find_map(|a| match a {
                AlterAction::AddConstraint { constraint } => constraint_work(constraint),
                AlterAction::AddColumn { column, .. } => {
                    column.constraints.iter().find_map(constraint_work)
                }
                AlterAction::ValidateConstraint { name: c, .. } => catalog
                    .table(name)
                    .and_then(|t| t.constraints.iter().find(|k| k.name == *c))
                    .and_then(|k| {
                        matches!(k.kind, ConstraintKind::ForeignKey { .. })
                            .then_some(Work::ForeignKey)
                    }),
                _ => None,
            })
            .unwrap_or(Work::Scan),
        _ => Work::Scan,
    }
}

/// The risk of a statement as its verification run (`--verify`) measured it, which replaces the
/// estimate from table sizes: `seconds` under `strongest`, the strongest lock it held (one it took,
/// or one its transaction held already), on the scale of `sizes`; `Risk::None` when that lock
/// blocks no writes. [`Observed::measured_risk`](crate::report::Observed::measured_risk) says when
/// a run measured a statement.
pub fn observed_risk(seconds: f64, strongest: Option<LockMode>, sizes: &SizeSettings) -> Risk {
    if strongest.is_some_and(LockMode::blocks_writes) {
        sizes.risk(seconds)
    } else {
        Risk::None
    }
}

/// "2.3 M rows, 350 MB"
pub fn describe_size(size: &TableSize) -> String {
    format!("{} rows, {}", count(size.rows), bytes(size.total_bytes))
}

/// "about 40 ms", "about 12 s", "about 3 min", "about 2.1 h"
pub fn describe_seconds(s: f64) -> String {
    if s < 1.0 {
        format!("about {} ms", (s * 1000.0).round().max(1.0))
    } else if s < 90.0 {
        format!("about {} s", s.round())
    } else if s < 5400.0 {
        format!("about {} min", (s / 60.0).round())
    } else {
        format!("about {:.1} h", s / 3600.0)
    }
}

fn count(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{} k", n / 1000),
        1_000_000..=999_999_999 => format!("{:.1} M", n as f64 / 1e6),
        _ => format!("{:.1} G", n as f64 / 1e9),
    }
}

/// "8 kB", "350 MB", "3.0 GB"
pub(crate) fn bytes(n: u64) -> String {
    const K: f64 = 1024.0;
    let f = n as f64;
    if f < K * K {
        format!("{} kB", (f / K).ceil())
    } else if f < K * K * K {
        format!("{} MB", (f / K / K).round())
    } else {
        format!("{:.1} GB", f / K / K / K)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(sql: &str) -> Op {
        let read = crate::source::read(sql);
        crate::ir::lower_statement(sql, &read.statements[0])
    }

    #[test]
    fn each_kind_of_work_has_its_rate() {
        let mut catalog = Catalog::new();
        let t = QualName::new(Some("public"), "t");
        const MB: u64 = 1 << 20;
        catalog.set_size(
            &t,
            TableSize {
                rows: 1000,
                heap_bytes: 100 * MB,
                total_bytes: 180 * MB,
            },
        );
        let scan = Effect {
            scans: vec![t.clone()],
            ..Effect::default()
        };
        let rewrite = Effect {
            rewrites: vec![t.clone()],
            scans: vec![t.clone()],
            ..Effect::default()
        };
        let rates = Rates {
            scan: 100 * MB,
            rewrite: 10 * MB,
            index: 20 * MB,
            dml: 50 * MB,
            foreign_key: 25 * MB,
        };
        let secs = |sql: &str, e: &Effect| {
            estimate(&op(sql), e, &catalog, &rates).map(|x| (x.seconds * 10.0).round() / 10.0)
        };
        assert_eq!(secs("ALTER TABLE t ADD CHECK (a > 0);", &scan), Some(1.0));
        assert_eq!(
            secs("ALTER TABLE t ALTER COLUMN a TYPE bigint;", &rewrite),
            Some(18.0)
        );
        assert_eq!(secs("CREATE INDEX ix ON t (a);", &scan), Some(5.0));
        assert_eq!(secs("UPDATE t SET a = 1;", &scan), Some(2.0));
        assert_eq!(
            secs(
                "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u (id);",
                &scan
            ),
            Some(4.0)
        );
        // Nothing table-sized, or a size unknown: no estimate.
        assert_eq!(
            secs("ALTER TABLE t ADD COLUMN b int;", &Effect::default()),
            None
        );
        let other = Effect {
            scans: vec![QualName::new(Some("public"), "u")],
            ..Effect::default()
        };
        assert_eq!(secs("UPDATE u SET a = 1;", &other), None);
    }

    #[test]
    fn observed_durations_under_a_blocking_lock_decide_the_risk() {
        // Low under 1 s, high under 60 s, critical from there.
        let scale = &SizeSettings::default().thresholds(1_000, 1_000, 60_000);
        let exclusive = Some(LockMode::AccessExclusiveLock);
        // An UPDATE after an ADD COLUMN in its transaction holds ACCESS EXCLUSIVE for 16.5 s.
        assert_eq!(observed_risk(16.5, exclusive, scale), Risk::High);
        assert_eq!(observed_risk(0.003, exclusive, scale), Risk::Low);
        assert_eq!(observed_risk(600.0, exclusive, scale), Risk::Critical);
        // Alone it holds ROW EXCLUSIVE, which blocks no writes.
        assert_eq!(
            observed_risk(16.5, Some(LockMode::RowExclusiveLock), scale),
            Risk::None
        );
    }

    #[test]
    fn only_a_statement_measured_as_written_has_a_measured_risk() {
        use crate::report::Observed;
        let sizes = SizeSettings::default();
        let exclusive = Some(LockMode::AccessExclusiveLock);
        let ran = Observed {
            duration_ms: 16_500.0,
            ..Observed::default()
        };
        assert_eq!(ran.measured_risk(exclusive, &sizes), Some(Risk::High));
        assert_eq!(ran.measured_risk(None, &sizes), Some(Risk::None));
        let failed = Observed {
            error: Some("ERROR: … (23502)".to_string()),
            ..ran.clone()
        };
        assert_eq!(failed.measured_risk(exclusive, &sizes), None);
        let cancelled = Observed {
            cancelled: Some("statement timeout".to_string()),
            duration_ms: 600_000.0,
            ..failed
        };
        assert_eq!(
            cancelled.measured_risk(exclusive, &sizes),
            Some(Risk::Critical)
        );
        let plain_form = Observed {
            ran_as: Some("CREATE INDEX i ON t (a)".to_string()),
            ..ran
        };
        assert_eq!(plain_form.measured_risk(exclusive, &sizes), None);
    }

    #[test]
    fn wording() {
        assert_eq!(describe_seconds(0.0004), "about 1 ms");
        assert_eq!(describe_seconds(0.25), "about 250 ms");
        assert_eq!(describe_seconds(12.4), "about 12 s");
        assert_eq!(describe_seconds(600.0), "about 10 min");
        assert_eq!(describe_seconds(7560.0), "about 2.1 h");
        let size = TableSize {
            rows: 2_300_000,
            heap_bytes: 300 << 20,
            total_bytes: 350 << 20,
        };
        assert_eq!(describe_size(&size), "2.3 M rows, 350 MB");
        assert_eq!(count(1200), "1200");
        assert_eq!(count(45_000), "45 k");
        assert_eq!(bytes(8192), "8 kB");
        assert_eq!(bytes(3 << 30), "3.0 GB");
    }
}
