//! Alembic's `versions` folder: which Python file holds which revision, so annotations point at
//! the file a pull request changes rather than at the exported SQL.

use crate::Error;
use crate::report::Report;
use crate::source::Direction;
use std::collections::BTreeMap;
use std::path::Path;

/// One revision's Python file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevisionFile {
    /// The file's path: the folder as given joined with the file name.
    pub path: String,
    /// The line of `def upgrade(`, if the file has one.
    pub upgrade_line: Option<u32>,
    /// The line of `def downgrade(`, if the file has one.
    pub downgrade_line: Option<u32>,
}

/// The revisions of an Alembic `versions` folder, by revision id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisionFiles(BTreeMap<String, RevisionFile>);

impl RevisionFiles {
    /// Reads every `*.py` file of `dir` and its subfolders (Alembic's `recursive_version_locations`)
    /// for its `revision = "…"` (or `revision: str = "…"`) line. Files without one are skipped.
    pub fn read(dir: &Path) -> Result<RevisionFiles, Error> {
        let mut out = BTreeMap::new();
        let mut folders = vec![dir.to_path_buf()];
        while let Some(folder) = folders.pop() {
            let entries = std::fs::read_dir(&folder).map_err(|e| io_error(&folder, &e))?;
            let mut paths = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| io_error(&folder, &e))?;
                // Not followed through symbolic links: a link to a parent would never end.
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                paths.push((entry.path(), is_dir));
            }
            paths.sort();
            for (path, is_dir) in paths {
                if is_dir {
                    if path.file_name().is_some_and(|n| n != "__pycache__") {
                        folders.push(path);
                    }
                    continue;
                }
                if path.extension().is_none_or(|e| e != "py") {
                    continue;
                }
                let bytes = std::fs::read(&path).map_err(|e| io_error(&path, &e))?;
                let text = String::from_utf8_lossy(&bytes);
                if let Some((id, file)) = revision_file(&path.display().to_string(), &text) {
                    out.insert(id, file);
                }
            }
        }
        Ok(RevisionFiles(out))
    }

    /// The file of revision `id`.
    pub fn get(&self, id: &str) -> Option<&RevisionFile> {
        self.0.get(id)
    }

    /// How many revisions were found.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no revision was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sets `file` and `file_line` of every revision of `report` found here.
    pub fn annotate(&self, report: &mut Report) {
        for r in &mut report.revisions {
            if let Some(f) = self.0.get(&r.id) {
                r.file = Some(f.path.clone());
                r.file_line = match r.direction {
                    Direction::Upgrade => f.upgrade_line,
                    Direction::Downgrade => f.downgrade_line,
                };
            }
        }
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> Error {
    Error::Config {
        file: path.display().to_string(),
        message: format!("cannot read the Alembic versions: {e}"),
    }
}

/// The revision id a Python file declares, with where its functions are.
fn revision_file(path: &str, text: &str) -> Option<(String, RevisionFile)> {
    let mut id = None;
    let mut file = RevisionFile {
        path: path.to_string(),
        upgrade_line: None,
        downgrade_line: None,
    };
    for (n, line) in text.lines().enumerate() {
        let number = u32::try_from(n + 1).ok();
        if id.is_none() {
            id = declared_revision(line);
        }
        if line.starts_with("def upgrade(") && file.upgrade_line.is_none() {
            file.upgrade_line = number;
        } else if line.starts_with("def downgrade(") && file.downgrade_line.is_none() {
            file.downgrade_line = number;
        }
    }
    Some((id?, file))
}

/// `revision = "ae10"`, `revision: str = 'ae10'` at the start of a line.
fn declared_revision(line: &str) -> Option<String> {
    let rest = line.strip_prefix("revision")?.trim_start();
    let rest = match rest.strip_prefix(':') {
        Some(annotated) => annotated.trim_start().strip_prefix("str")?.trim_start(),
        None => rest,
    };
    let rest = rest.strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    let end = value.find(quote)?;
    let id = &value[..end];
    (!id.is_empty()).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_link_back_to_a_parent_folder_is_not_followed() {
        let dir = std::env::temp_dir().join(format!("migsafe-versions-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sub = dir.join("sub");
        std::fs::create_dir_all(&sub).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            sub.join("a.py"),
            "revision = 'a1'\ndef upgrade():\n    pass\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(&dir, sub.join("loop")).unwrap_or_else(|e| panic!("{e}"));
        let files = RevisionFiles::read(&dir).unwrap_or_default();
        assert_eq!(files.len(), 1);
        assert_eq!(files.get("a1").and_then(|f| f.upgrade_line), Some(2));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reads_the_revision_line_as_alembic_templates_write_it() {
        assert_eq!(
            declared_revision("revision = 'ae1027a6acf'"),
            Some("ae1027a6acf".into())
        );
        assert_eq!(
            declared_revision("revision: str = \"1975ea83b712\""),
            Some("1975ea83b712".into())
        );
        assert_eq!(declared_revision("down_revision = 'x'"), None);
        assert_eq!(declared_revision("revision_x = 'x'"), None);
        assert_eq!(declared_revision("revision = None"), None);
        let text = "\"\"\"add tags\n\nRevision ID: 1975ea83b712\n\"\"\"\n\
                    revision: str = \"1975ea83b712\"\n\ndef upgrade() -> None:\n    pass\n\n\
                    def downgrade() -> None:\n    pass\n";
        let (id, f) = revision_file("v/1975_add_tags.py", text).unwrap_or_default();
        assert_eq!(id, "1975ea83b712");
        assert_eq!((f.upgrade_line, f.downgrade_line), (Some(7), Some(10)));
    }
}
