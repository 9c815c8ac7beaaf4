//! Alembic's offline (`--sql`) structure: revision markers and the `alembic_version` bookkeeping.
//!
//! Alembic writes `-- Running upgrade <from> -> <to>` (or `downgrade`) before each revision's
//! statements (`alembic/runtime/migration.py`); the base side is empty, merges list several revisions
//! separated by `, `.

use serde::Serialize;

/// Which way a revision runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Upgrade,
    Downgrade,
}

/// A revision marker read from a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The revision this step applies (upgrade: the `to` side; downgrade: the `from` side).
    pub id: String,
    /// Its parents (down revisions): upgrade: the `from` side; downgrade: the `to` side.
    /// Empty at base.
    pub parents: Vec<String>,
    pub direction: Direction,
}

/// Reads `-- Running upgrade a, b -> c` / `-- Running downgrade c -> a, b`.
pub fn marker(comment: &str) -> Option<Marker> {
    let rest = comment.trim_start_matches('-').trim_start();
    let (direction, rest) = if let Some(r) = rest.strip_prefix("Running upgrade ") {
        (Direction::Upgrade, r)
    } else if let Some(r) = rest.strip_prefix("Running downgrade ") {
        (Direction::Downgrade, r)
    } else {
        return None;
    };
    let rest = rest.trim_end_matches(['\r', '\n']);
    let (from, to) = rest.split_once("->")?;
    let list = |s: &str| -> Vec<String> {
        s.split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (from, to) = (list(from), list(to));
    let (ids, parents) = match direction {
        Direction::Upgrade => (to, from),
        Direction::Downgrade => (from, to),
    };
    // A step applies one revision; several on the applied side is not Alembic output, keep them joined.
    let id = ids.join(", ");
    if id.is_empty() {
        return None;
    }
    Some(Marker {
        id,
        parents,
        direction,
    })
}

/// Tables that hold migration bookkeeping, not application data.
pub fn is_bookkeeping_table(name: &str) -> bool {
    matches!(name, "alembic_version" | "django_migrations")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        assert_eq!(
            marker("-- Running upgrade  -> 451aebb31d03"),
            Some(Marker {
                id: "451aebb31d03".into(),
                parents: vec![],
                direction: Direction::Upgrade
            })
        );
        assert_eq!(
            marker("-- Running upgrade a2d606a761d9, 836c0bf75904 -> d2424a248d63"),
            Some(Marker {
                id: "d2424a248d63".into(),
                parents: vec!["a2d606a761d9".into(), "836c0bf75904".into()],
                direction: Direction::Upgrade
            })
        );
        assert_eq!(
            marker("-- Running downgrade 979c03af3341 -> db527d8c4c78, ea033256294a"),
            Some(Marker {
                id: "979c03af3341".into(),
                parents: vec!["db527d8c4c78".into(), "ea033256294a".into()],
                direction: Direction::Downgrade
            })
        );
        assert_eq!(
            marker("-- Running downgrade 451aebb31d03 -> "),
            Some(Marker {
                id: "451aebb31d03".into(),
                parents: vec![],
                direction: Direction::Downgrade
            })
        );
        assert_eq!(marker("-- Create model Permission"), None);
    }
}
