//! How long a statement's table-sized work takes, estimated from the sizes of the tables it scans or
//! rewrites. The rates are this project's CI machine (2 cores, PostgreSQL 15, table in the page
//! cache), measured by `scripts/calibrate-durations.sh` on a 2,000,000-row, 240 MB table:
//!
//! | work                                   | measured         | rate used            |
//! |----------------------------------------|------------------|----------------------|
//! | validation scan (`ADD CHECK`)          | 222 ms           | 1,000 MB/s of heap   |
//! | table rewrite (`ALTER COLUMN … TYPE`)  | 8,640 ms, 283 MB | 33 MB/s of heap+indexes |
//! | btree build on a text column           | 3,512 ms         | 68 MB/s of heap      |
//!
//! A production server with cold caches and concurrent load is slower, rarely faster: the estimate is
//! an order of magnitude for the reviewer ("seconds" or "an hour"), and a lower bound.

use crate::catalog::{Catalog, TableSize};
use crate::ir::{AlterAction, ConstraintKind, Op, QualName};
use crate::pg::effect::Effect;

/// Bytes per second of each kind of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    /// Reading the heap sequentially (validation of CHECK, NOT NULL, foreign keys; unindexed DML).
    pub scan: u64,
    /// Writing heap and indexes again (ALTER COLUMN TYPE, VACUUM FULL, volatile defaults).
    pub rewrite: u64,
    /// Reading and sorting the heap into a new btree (CREATE INDEX, ADD PRIMARY KEY/UNIQUE).
    pub index: u64,
}

impl Default for Rates {
    fn default() -> Self {
        const MB: u64 = 1024 * 1024;
        Rates {
            scan: 1000 * MB,
            rewrite: 33 * MB,
            index: 68 * MB,
        }
    }
}

/// The table-sized work of one statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
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
    let builds_index = builds_index(op);
    let mut seconds = 0.0;
    let mut tables = Vec::new();
    for t in effect.rewrites.iter().chain(&effect.scans) {
        if tables.iter().any(|(n, _)| n == t) {
            continue;
        }
        let size = catalog.size(t)?;
        seconds += if effect.rewrites.contains(t) {
            size.total_bytes as f64 / rates.rewrite.max(1) as f64
        } else if builds_index {
            size.heap_bytes as f64 / rates.index.max(1) as f64
        } else {
            size.heap_bytes as f64 / rates.scan.max(1) as f64
        };
        tables.push((t.clone(), size));
    }
    Some(Estimate { seconds, tables })
}

fn builds_index(op: &Op) -> bool {
    match op {
        Op::CreateIndex(_) | Op::Reindex { .. } => true,
        Op::AlterTable { actions, .. } => actions.iter().any(|a| match a {
            AlterAction::AddConstraint { constraint } => matches!(
                constraint.kind,
                ConstraintKind::PrimaryKey { .. }
                    | ConstraintKind::Unique { .. }
                    | ConstraintKind::Exclude { .. }
            ),
            _ => false,
        }),
        _ => false,
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

fn bytes(n: u64) -> String {
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
