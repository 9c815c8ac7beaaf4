//! The configuration file: `migsafe.toml`, or the `[tool.migsafe]` table of `pyproject.toml`, in a
//! folder or the nearest parent that has one. Keys are the command line's long flag names.
//!
//! ```toml
//! [tool.migsafe]
//! fail-on = "high"
//! disable = ["prefer-timestamptz"]
//! pg-version = 15
//! schema = "schema.sql"
//! alembic-versions = "migrations/versions"
//!
//! [tool.migsafe.severity]
//! prefer-jsonb = "info"
//! ```

use crate::Error;
use crate::analyze::Settings;
use crate::vocab::{Risk, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The PostgreSQL major versions migsafe knows.
pub const PG_VERSIONS: std::ops::RangeInclusive<u32> = 11..=17;

/// The keys a configuration file may set, as written there.
pub const KEYS: [&str; 8] = [
    "fail-on",
    "disable",
    "only",
    "pg-version",
    "schema",
    "sizes",
    "alembic-versions",
    "severity",
];

/// A configuration file, read and checked. Paths are relative to the file's folder and come out
/// joined to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The file it was read from, and the table (`[tool.migsafe]` in `pyproject.toml`).
    pub file: PathBuf,
    /// The level from which findings fail the check.
    pub fail_on: Option<Risk>,
    /// Rules that do not run.
    pub disable: Option<Vec<String>>,
    /// The only rules that run.
    pub only: Option<Vec<String>>,
    /// The PostgreSQL major version the migrations run on.
    pub pg_version: Option<u32>,
    /// The schema before the migration (a `pg_dump --schema-only` file).
    pub schema: Option<PathBuf>,
    /// Table sizes (the output of the documented `pg_class` query, CSV or JSON).
    pub sizes: Option<PathBuf>,
    /// The Alembic `versions` folder, whose Python files annotations point at.
    pub alembic_versions: Option<PathBuf>,
    /// Severity overrides per rule.
    pub severity: BTreeMap<String, Severity>,
}

/// The file as written: kebab-case keys, nothing else allowed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    fail_on: Option<String>,
    disable: Option<Vec<String>>,
    only: Option<Vec<String>>,
    pg_version: Option<u32>,
    schema: Option<PathBuf>,
    sizes: Option<PathBuf>,
    alembic_versions: Option<PathBuf>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
}

impl Config {
    /// The configuration of `dir` or its nearest parent: `migsafe.toml` first, then a
    /// `pyproject.toml` with a `[tool.migsafe]` table (a `pyproject.toml` without one does not
    /// stop the search). `None` when no folder up to the root has one.
    pub fn find(dir: &Path) -> Result<Option<Config>, Error> {
        for folder in dir.ancestors() {
            let own = folder.join("migsafe.toml");
            if own.is_file() {
                return Config::from_file(&own).map(Some);
            }
            let pyproject = folder.join("pyproject.toml");
            if pyproject.is_file() {
                let text = read(&pyproject)?;
                if let Some(config) = Config::from_pyproject(&pyproject, &text)? {
                    return Ok(Some(config));
                }
            }
        }
        Ok(None)
    }

    /// Reads `migsafe.toml`, or the `[tool.migsafe]` table when the file is a `pyproject.toml`
    /// (an error when it has none).
    pub fn from_file(path: &Path) -> Result<Config, Error> {
        let text = read(path)?;
        if path.file_name().is_some_and(|n| n == "pyproject.toml") {
            return Config::from_pyproject(path, &text)?.ok_or_else(|| Error::Config {
                file: path.display().to_string(),
                message: "it has no [tool.migsafe] table".to_string(),
            });
        }
        let raw: Raw = toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))?;
        Config::checked(path, raw)
    }

    /// The `[tool.migsafe]` table of a `pyproject.toml`'s text, if it has one.
    pub fn from_pyproject(path: &Path, text: &str) -> Result<Option<Config>, Error> {
        let doc: toml::Table = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
        let Some(table) = doc
            .get("tool")
            .and_then(|t| t.as_table())
            .and_then(|t| t.get("migsafe"))
        else {
            return Ok(None);
        };
        let raw: Raw = table.clone().try_into().map_err(|e: toml::de::Error| {
            config_error(path, format!("[tool.migsafe]: {}", e.message()))
        })?;
        Config::checked(path, raw).map(Some)
    }

    /// Checks values (rule ids, levels, versions) and joins paths to the file's folder.
    fn checked(path: &Path, raw: Raw) -> Result<Config, Error> {
        let known = crate::rules();
        let rule = |id: &String, key: &str| {
            if known.iter().any(|r| r.id == id) {
                Ok(())
            } else {
                Err(config_error(
                    path,
                    format!("{key}: unknown rule {id} (`migsafe rules` lists them)"),
                ))
            }
        };
        for id in raw.disable.iter().flatten() {
            rule(id, "disable")?;
        }
        for id in raw.only.iter().flatten() {
            rule(id, "only")?;
        }
        let mut severity = BTreeMap::new();
        for (id, level) in &raw.severity {
            rule(id, "severity")?;
            let s = match level.as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                "info" => Severity::Info,
                other => {
                    return Err(config_error(
                        path,
                        format!("severity.{id}: {other:?} is not error, warning or info"),
                    ));
                }
            };
            severity.insert(id.clone(), s);
        }
        let fail_on = match raw.fail_on.as_deref() {
            None => None,
            Some(l) => match Risk::parse(l).filter(|r| *r != Risk::None) {
                Some(r) => Some(r),
                None => {
                    return Err(config_error(
                        path,
                        format!("fail-on: {l:?} is not low, medium, high or critical"),
                    ));
                }
            },
        };
        if let Some(v) = raw.pg_version.filter(|v| !PG_VERSIONS.contains(v)) {
            return Err(config_error(
                path,
                format!(
                    "pg-version: {v} is not in {}..={}",
                    PG_VERSIONS.start(),
                    PG_VERSIONS.end()
                ),
            ));
        }
        let folder = path.parent().unwrap_or(Path::new(""));
        let join = |p: Option<PathBuf>| p.map(|p| folder.join(p));
        Ok(Config {
            file: path.to_path_buf(),
            fail_on,
            disable: raw.disable,
            only: raw.only,
            pg_version: raw.pg_version,
            schema: join(raw.schema),
            sizes: join(raw.sizes),
            alembic_versions: join(raw.alembic_versions),
            severity,
        })
    }

    /// `settings` with what this file sets: rules, severities, version and gate.
    pub fn apply(&self, mut settings: Settings) -> Settings {
        if let Some(v) = self.pg_version {
            settings = settings.pg_version(v);
        }
        if let Some(level) = self.fail_on {
            settings = settings.fail_on(level);
        }
        if let Some(only) = &self.only {
            settings = settings.only_rules(only.iter().cloned());
        }
        for id in self.disable.iter().flatten() {
            settings = settings.disable_rule(id.clone());
        }
        for (id, level) in &self.severity {
            settings = settings.rule_severity(id.clone(), *level);
        }
        settings
    }

    /// Default settings with what this file sets.
    pub fn settings(&self) -> Settings {
        self.apply(Settings::default())
    }
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| config_error(path, e.to_string()))
}

fn config_error(path: &Path, message: String) -> Error {
    Error::Config {
        file: path.display().to_string(),
        message,
    }
}

/// A TOML error with the line it is on.
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let message = match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {}", e.message())
        }
        None => e.message().to_string(),
    };
    config_error(path, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Error> {
        let raw: Raw =
            toml::from_str(text).map_err(|e| toml_error(Path::new("m.toml"), text, &e))?;
        Config::checked(Path::new("/p/migsafe.toml"), raw)
    }

    #[test]
    fn keys_are_the_flag_names_and_paths_join_the_folder() {
        let c = parse(
            "fail-on = \"critical\"\ndisable = [\"prefer-jsonb\"]\npg-version = 14\n\
             schema = \"db/schema.sql\"\nalembic-versions = \"alembic/versions\"\n\
             [severity]\ndrop-column = \"warning\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.fail_on, Some(Risk::Critical));
        assert_eq!(c.pg_version, Some(14));
        assert_eq!(c.schema, Some(PathBuf::from("/p/db/schema.sql")));
        assert_eq!(
            c.alembic_versions,
            Some(PathBuf::from("/p/alembic/versions"))
        );
        let s = c.settings();
        assert_eq!(s.fail_on, Risk::Critical);
        assert!(!s.selected("prefer-jsonb"));
        assert_eq!(
            s.severity_of("drop-column", Severity::Error),
            Severity::Warning
        );
    }

    #[test]
    fn unknown_keys_and_values_name_the_key_and_the_file() {
        let e = |t: &str| parse(t).err().map(|e| e.to_string()).unwrap_or_default();
        let unknown = e("fail_on = \"high\"\n");
        assert!(
            unknown.contains("m.toml") && unknown.contains("fail_on"),
            "{unknown}"
        );
        assert!(unknown.contains("line 1"), "{unknown}");
        assert!(e("disable = [\"no-such-rule\"]").contains("disable: unknown rule no-such-rule"));
        assert!(e("fail-on = \"none\"").contains("fail-on"));
        assert!(e("pg-version = 9").contains("pg-version: 9 is not in 11..=17"));
        assert!(e("[severity]\ndrop-column = \"fatal\"").contains("severity.drop-column"));
    }

    #[test]
    fn pyproject_needs_the_tool_table() {
        let p = Path::new("/p/pyproject.toml");
        assert_eq!(
            Config::from_pyproject(p, "[tool.ruff]\nline-length = 100\n").ok(),
            Some(None)
        );
        let c = Config::from_pyproject(p, "[tool.migsafe]\nonly = [\"drop-column\"]\n")
            .ok()
            .flatten();
        assert_eq!(
            c.and_then(|c| c.only),
            Some(vec!["drop-column".to_string()])
        );
        let bad = Config::from_pyproject(p, "[tool.migsafe]\nverbose = true\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            bad.contains("pyproject.toml")
                && bad.contains("[tool.migsafe]")
                && bad.contains("verbose"),
            "{bad}"
        );
    }
}
