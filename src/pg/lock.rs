//! PostgreSQL's eight table lock modes and their conflict matrix
//! (<https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES>, table 13.2;
//! `src/backend/storage/lmgr/lock.c`, `LockConflicts`).

use serde::Serialize;

/// A table lock mode, weakest first, named as in `pg_locks.mode`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
pub enum LockMode {
    /// ACCESS SHARE: reads (`SELECT`); conflicts only with ACCESS EXCLUSIVE.
    AccessShareLock,
    /// ROW SHARE: `SELECT … FOR UPDATE/SHARE`.
    RowShareLock,
    /// ROW EXCLUSIVE: writes (`INSERT`, `UPDATE`, `DELETE`).
    RowExclusiveLock,
    /// SHARE UPDATE EXCLUSIVE: `VACUUM`, `CREATE INDEX CONCURRENTLY`, `VALIDATE CONSTRAINT`.
    ShareUpdateExclusiveLock,
    /// SHARE: `CREATE INDEX`; blocks writes.
    ShareLock,
    /// SHARE ROW EXCLUSIVE: `CREATE TRIGGER`, adding a foreign key; blocks writes.
    ShareRowExclusiveLock,
    /// EXCLUSIVE: `REFRESH MATERIALIZED VIEW CONCURRENTLY`; blocks writes.
    ExclusiveLock,
    /// ACCESS EXCLUSIVE: most `ALTER TABLE`, `DROP`, `TRUNCATE`; blocks reads and writes.
    AccessExclusiveLock,
}

impl LockMode {
    /// Every mode, weakest first.
    pub const ALL: [LockMode; 8] = [
        LockMode::AccessShareLock,
        LockMode::RowShareLock,
        LockMode::RowExclusiveLock,
        LockMode::ShareUpdateExclusiveLock,
        LockMode::ShareLock,
        LockMode::ShareRowExclusiveLock,
        LockMode::ExclusiveLock,
        LockMode::AccessExclusiveLock,
    ];

    /// Whether a lock in this mode and one in `other` cannot be held at once by two transactions.
    pub fn conflicts_with(self, other: LockMode) -> bool {
        use LockMode::*;
        let conflicts: &[LockMode] = match self {
            AccessShareLock => &[AccessExclusiveLock],
            RowShareLock => &[ExclusiveLock, AccessExclusiveLock],
            RowExclusiveLock => &[
                ShareLock,
                ShareRowExclusiveLock,
                ExclusiveLock,
                AccessExclusiveLock,
            ],
            ShareUpdateExclusiveLock => &[
                ShareUpdateExclusiveLock,
                ShareLock,
                ShareRowExclusiveLock,
                ExclusiveLock,
                AccessExclusiveLock,
            ],
            ShareLock => &[
                RowExclusiveLock,
                ShareUpdateExclusiveLock,
                ShareRowExclusiveLock,
                ExclusiveLock,
                AccessExclusiveLock,
            ],
            ShareRowExclusiveLock => &[
                RowExclusiveLock,
                ShareUpdateExclusiveLock,
                ShareLock,
                ShareRowExclusiveLock,
                ExclusiveLock,
                AccessExclusiveLock,
            ],
            ExclusiveLock => &[
                RowShareLock,
                RowExclusiveLock,
                ShareUpdateExclusiveLock,
                ShareLock,
                ShareRowExclusiveLock,
                ExclusiveLock,
                AccessExclusiveLock,
            ],
            AccessExclusiveLock => &LockMode::ALL,
        };
        conflicts.contains(&other)
    }

    /// Plain `SELECT`s (ACCESS SHARE) wait behind this lock.
    pub fn blocks_reads(self) -> bool {
        self.conflicts_with(LockMode::AccessShareLock)
    }

    /// `INSERT`/`UPDATE`/`DELETE` (ROW EXCLUSIVE) wait behind this lock.
    pub fn blocks_writes(self) -> bool {
        self.conflicts_with(LockMode::RowExclusiveLock)
    }

    /// The SQL spelling (`ACCESS EXCLUSIVE`), as in `LOCK TABLE … IN … MODE`.
    pub fn sql_name(self) -> &'static str {
        match self {
            LockMode::AccessShareLock => "ACCESS SHARE",
            LockMode::RowShareLock => "ROW SHARE",
            LockMode::RowExclusiveLock => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusiveLock => "SHARE UPDATE EXCLUSIVE",
            LockMode::ShareLock => "SHARE",
            LockMode::ShareRowExclusiveLock => "SHARE ROW EXCLUSIVE",
            LockMode::ExclusiveLock => "EXCLUSIVE",
            LockMode::AccessExclusiveLock => "ACCESS EXCLUSIVE",
        }
    }

    /// The `pg_locks.mode` name (`AccessExclusiveLock`).
    pub fn pg_name(self) -> &'static str {
        match self {
            LockMode::AccessShareLock => "AccessShareLock",
            LockMode::RowShareLock => "RowShareLock",
            LockMode::RowExclusiveLock => "RowExclusiveLock",
            LockMode::ShareUpdateExclusiveLock => "ShareUpdateExclusiveLock",
            LockMode::ShareLock => "ShareLock",
            LockMode::ShareRowExclusiveLock => "ShareRowExclusiveLock",
            LockMode::ExclusiveLock => "ExclusiveLock",
            LockMode::AccessExclusiveLock => "AccessExclusiveLock",
        }
    }

    /// Reads either spelling: `AccessExclusiveLock` or `ACCESS EXCLUSIVE` (any case).
    pub fn parse(s: &str) -> Option<LockMode> {
        let s = s.trim();
        LockMode::ALL
            .into_iter()
            .find(|m| m.pg_name().eq_ignore_ascii_case(s) || m.sql_name().eq_ignore_ascii_case(s))
    }

    /// What this mode blocks, in words for findings.
    pub fn blocks_what(self) -> &'static str {
        if self.blocks_reads() {
            "blocks reads and writes"
        } else if self.blocks_writes() {
            "blocks writes"
        } else {
            "blocks neither reads nor writes"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LockMode::{self, *};

    #[test]
    fn matrix_is_symmetric() {
        for a in LockMode::ALL {
            for b in LockMode::ALL {
                assert_eq!(a.conflicts_with(b), b.conflicts_with(a), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn documented_rows() {
        // Table 13.2: SHARE UPDATE EXCLUSIVE conflicts with itself, ROW EXCLUSIVE with SHARE.
        assert!(ShareUpdateExclusiveLock.conflicts_with(ShareUpdateExclusiveLock));
        assert!(!ShareLock.conflicts_with(ShareLock));
        assert!(!RowExclusiveLock.conflicts_with(RowExclusiveLock));
        assert!(ShareLock.blocks_writes() && !ShareLock.blocks_reads());
        assert!(AccessExclusiveLock.blocks_reads());
        assert!(!ShareUpdateExclusiveLock.blocks_writes());
        assert!(ExclusiveLock.blocks_writes() && !ExclusiveLock.blocks_reads());
        let conflicts = LockMode::ALL
            .iter()
            .filter(|m| AccessShareLock.conflicts_with(**m))
            .count();
        assert_eq!(conflicts, 1);
    }

    #[test]
    fn names_round_trip() {
        for m in LockMode::ALL {
            assert_eq!(LockMode::parse(m.pg_name()), Some(m));
            assert_eq!(LockMode::parse(m.sql_name()), Some(m));
        }
        assert_eq!(LockMode::parse("none"), None);
    }
}
