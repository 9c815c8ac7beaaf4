//! Table sizes without a database: the output of one `pg_class` query, saved as CSV or JSON, so a
//! CI job without access to production grades findings as `--database` does.
//!
//! ```sql
//! SELECT n.nspname || '.' || c.relname AS table,
//!        GREATEST(c.reltuples, 0)::bigint AS rows,
//!        pg_total_relation_size(c.oid) AS bytes,
//!        pg_relation_size(c.oid) AS heap_bytes
//! FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
//! WHERE c.relkind IN ('r', 'p', 'm')
//!   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
//! ```
//! `psql --csv -c '<query>' > sizes.csv` writes the CSV form (a header line, then one table per
//! line); a JSON array of objects with the same keys works too. `heap_bytes` may be left out: the
//! table's `bytes` then stand for its heap as well.

use crate::Error;
use crate::catalog::{Catalog, TableSize};
use serde::Deserialize;
use std::path::Path;

/// One table's size, as the query names the columns.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    table: String,
    rows: u64,
    bytes: u64,
    #[serde(default)]
    heap_bytes: Option<u64>,
}

/// Reads a sizes file (CSV or JSON, by its first character) and sets every table's size in
/// `catalog`. Returns how many tables it read.
pub fn read_sizes(path: &Path, catalog: &mut Catalog) -> Result<usize, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| error(path, e.to_string()))?;
    let rows = parse(&text).map_err(|m| error(path, m))?;
    for r in &rows {
        let size = TableSize {
            rows: r.rows,
            heap_bytes: r.heap_bytes.unwrap_or(r.bytes),
            total_bytes: r.bytes,
        };
        catalog.set_table_size(&r.table, size);
    }
    Ok(rows.len())
}

fn error(path: &Path, message: String) -> Error {
    Error::Config {
        file: path.display().to_string(),
        message,
    }
}

fn parse(text: &str) -> Result<Vec<Row>, String> {
    if text.trim_start().starts_with('[') {
        return serde_json::from_str(text).map_err(|e| format!("line {}: {e}", e.line()));
    }
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let at = |name: &str| names.iter().position(|n| *n == name);
    let (Some(table), Some(rows), Some(bytes)) = (at("table"), at("rows"), at("bytes")) else {
        return Err(format!(
            "line 1: the header must name table, rows and bytes (it reads {header:?})"
        ));
    };
    let heap = at("heap_bytes");
    let mut out = Vec::new();
    for (n, line) in lines {
        let cells: Vec<&str> = line
            .split(',')
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        let cell = |i: usize| cells.get(i).copied().unwrap_or("");
        let number = |i: usize, what: &str| {
            cell(i)
                .parse::<u64>()
                .map_err(|_| format!("line {}: {what} {:?} is not a whole number", n + 1, cell(i)))
        };
        out.push(Row {
            table: cell(table).to_string(),
            rows: number(rows, "rows")?,
            bytes: number(bytes, "bytes")?,
            heap_bytes: heap.map(|h| number(h, "heap_bytes")).transpose()?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_as_psql_writes_it_and_json() {
        let csv = parse("table,rows,bytes,heap_bytes\npublic.events,2300000,350000000,300000000\n")
            .unwrap_or_default();
        assert_eq!(csv.len(), 1);
        assert_eq!(csv[0].table, "public.events");
        assert_eq!(
            (csv[0].rows, csv[0].heap_bytes),
            (2_300_000, Some(300_000_000))
        );
        let json = parse(r#"[{"table": "tags", "rows": 5, "bytes": 8192}]"#).unwrap_or_default();
        assert_eq!(json[0].heap_bytes, None);
        let bad = parse("table,rows,bytes\nt,many,1\n")
            .err()
            .unwrap_or_default();
        assert_eq!(bad, "line 2: rows \"many\" is not a whole number");
        assert!(parse("name,rows\n").is_err());
    }
}
