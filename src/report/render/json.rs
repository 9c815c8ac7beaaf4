//! The JSON report (DESIGN.md's contract, schema_version 1; schema in `schema/report.schema.json`).

use crate::report::{Report, StatementReport, Tool};

/// Pretty-printed JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    collect(|w| write(w, report))
}

/// One report: its object; several: an array of them (the CLI's output for several files).
pub fn render_many(reports: &[Report]) -> String {
    collect(|w| write_many(w, reports))
}

/// Always an array, even of one report (for callers that promised an array, e.g. several inputs
/// of which only one could be read).
pub fn render_array(reports: &[Report]) -> String {
    collect(|w| write_array(w, reports))
}

/// What a writer produced, as text: the string and streamed forms are one code path.
fn collect(f: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    // Serialising plain data with string keys into memory cannot fail; keep a valid document if
    // it ever did.
    if let Err(e) = f(&mut out) {
        return format!("{{\"error\": {:?}}}\n", e.to_string());
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`render_many`] written straight to `w`: the document is never held in memory as a whole (tens
/// of megabytes for a migration of tens of thousands of statements).
pub fn write_many(w: &mut impl std::io::Write, reports: &[Report]) -> std::io::Result<()> {
    match reports {
        [one] => write(w, one),
        _ => write(w, reports),
    }
}

/// [`render_array`] written straight to `w`.
pub fn write_array(w: &mut impl std::io::Write, reports: &[Report]) -> std::io::Result<()> {
    write(w, reports)
}

fn write<T: Document + ?Sized>(w: &mut impl std::io::Write, value: &T) -> std::io::Result<()> {
    value.write_at(w, 0)?;
    w.write_all(b"\n")
}

/// What can be the whole document: one report, or an array of them.
trait Document {
    fn write_at(&self, w: &mut dyn std::io::Write, depth: usize) -> std::io::Result<()>;
}

impl Document for Report {
    fn write_at(&self, w: &mut dyn std::io::Write, depth: usize) -> std::io::Result<()> {
        let head = Head {
            schema_version: self.schema_version,
            tool: &self.tool,
            pg_version: self.pg_version,
            source: &self.source,
        };
        let mut stream = Stream::open(w, depth, &head)?;
        for s in &self.statements {
            stream.statement(s)?;
        }
        stream.close(self)?;
        Ok(())
    }
}

impl Document for [Report] {
    fn write_at(&self, w: &mut dyn std::io::Write, depth: usize) -> std::io::Result<()> {
        w.write_all(b"[")?;
        for (i, r) in self.iter().enumerate() {
            member(w, i == 0, depth + 1)?;
            r.write_at(w, depth + 1)?;
        }
        close(w, !self.is_empty(), depth, b']')
    }
}

/// The fields of a report known before its analysis.
struct Head<'a> {
    schema_version: u32,
    tool: &'a Tool,
    pg_version: u32,
    source: &'a str,
}

/// A report written while the analysis runs: the head, then each statement as
/// [`Analyzer::analyze_each`](crate::Analyzer::analyze_each) hands it over, then the rest. The
/// bytes are those of [`render`] for the same report, so memory holds one statement's report at a
/// time and not the whole document.
///
/// ```
/// use migsafe::report::render::json::Stream;
/// use migsafe::{Analyzer, Source};
///
/// let analyzer = Analyzer::default();
/// let sql = "ALTER TABLE t ADD COLUMN c int;";
/// let mut out = Vec::new();
/// let mut stream = Stream::begin(&mut out, "m.sql", analyzer.settings().pg_version).unwrap();
/// let mut failed = None;
/// let report = analyzer
///     .analyze_each(Source::new("m.sql", sql), &mut |s| {
///         if let Err(e) = stream.statement(&s) {
///             failed.get_or_insert(e);
///         }
///     })
///     .unwrap();
/// assert!(failed.is_none());
/// stream.finish(&report).unwrap();
/// let whole = migsafe::report::render::json::render(&Analyzer::default().analyze(Source::new("m.sql", sql)).unwrap());
/// assert_eq!(String::from_utf8(out).unwrap(), whole);
/// ```
pub struct Stream<W: std::io::Write> {
    w: W,
    depth: usize,
    statements: usize,
}

impl<W: std::io::Write> Stream<W> {
    /// Starts the document of the report on `source`, analysed for PostgreSQL `pg_version`.
    pub fn begin(w: W, source: &str, pg_version: u32) -> std::io::Result<Self> {
        let tool = Tool {
            name: "migsafe".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        };
        let head = Head {
            schema_version: crate::report::SCHEMA_VERSION,
            tool: &tool,
            pg_version,
            source,
        };
        Stream::open(w, 0, &head)
    }

    fn open(mut w: W, depth: usize, head: &Head<'_>) -> std::io::Result<Self> {
        w.write_all(b"{")?;
        field(&mut w, depth, true, "schema_version", &head.schema_version)?;
        field(&mut w, depth, false, "tool", head.tool)?;
        field(&mut w, depth, false, "pg_version", &head.pg_version)?;
        field(&mut w, depth, false, "source", head.source)?;
        member(&mut w, false, depth + 1)?;
        w.write_all(b"\"statements\": [")?;
        Ok(Stream {
            w,
            depth,
            statements: 0,
        })
    }

    /// Writes the next statement's report.
    pub fn statement(&mut self, s: &StatementReport) -> std::io::Result<()> {
        member(&mut self.w, self.statements == 0, self.depth + 2)?;
        value(&mut self.w, self.depth + 2, s)?;
        self.statements += 1;
        Ok(())
    }

    /// Ends the document with the rest of `report` (whose `statements` are not read: they were
    /// written one by one) and a newline, and hands the writer back.
    pub fn finish(self, report: &Report) -> std::io::Result<W> {
        let mut w = self.close(report)?;
        w.write_all(b"\n")?;
        Ok(w)
    }

    /// [`finish`](Self::finish) without the newline: a report inside an array.
    fn close(mut self, report: &Report) -> std::io::Result<W> {
        let (w, depth) = (&mut self.w, self.depth);
        close(w, self.statements > 0, depth + 1, b']')?;
        field(w, depth, false, "revisions", &report.revisions)?;
        field(w, depth, false, "failure_modes", &report.failure_modes)?;
        field(w, depth, false, "rollback", &report.rollback)?;
        field(w, depth, false, "summary", &report.summary)?;
        if let Some(db) = &report.database {
            field(w, depth, false, "database", db)?;
        }
        close(w, true, depth, b'}')?;
        Ok(self.w)
    }
}

/// `"key": value` as a member of an object at `depth` (the key one level deeper).
fn field<T: serde::Serialize + ?Sized>(
    w: &mut (impl std::io::Write + ?Sized),
    depth: usize,
    first: bool,
    key: &str,
    v: &T,
) -> std::io::Result<()> {
    member(w, first, depth + 1)?;
    let mut quoted = Vec::with_capacity(key.len() + 4);
    super::pretty::write_str(&mut quoted, key);
    quoted.extend_from_slice(b": ");
    w.write_all(&quoted)?;
    value(w, depth + 1, v)
}

fn value<T: serde::Serialize + ?Sized>(
    w: &mut (impl std::io::Write + ?Sized),
    depth: usize,
    v: &T,
) -> std::io::Result<()> {
    let mut ser = super::pretty::Serializer::new(w, depth);
    v.serialize(&mut ser)?;
    Ok(ser.finish()?)
}

// serde_json's pretty layout, which everything here writes (the streamed document around the values
// as `pretty::Serializer` inside them), laid out by `pretty`'s `member` and `close`.

/// Before a member at `depth`.
fn member(
    w: &mut (impl std::io::Write + ?Sized),
    first: bool,
    depth: usize,
) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(2 + depth * 2);
    super::pretty::member(&mut out, first, depth);
    w.write_all(&out)
}

/// The end of a container whose members are one level deeper than `depth`.
fn close(
    w: &mut (impl std::io::Write + ?Sized),
    has_members: bool,
    depth: usize,
    bracket: u8,
) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(2 + depth * 2);
    super::pretty::close(&mut out, has_members, depth, bracket);
    w.write_all(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written layout is serde_json's: the derive (whose field order is the document's)
    /// and the streamed writer give the same bytes, for one report and for an array of them.
    #[test]
    fn streamed_layout_is_serde_json_pretty() {
        let sql = "BEGIN;\n-- Running upgrade  -> a1\nALTER TABLE t ADD COLUMN c int NOT NULL;\n\
                   CREATE INDEX i ON t (c);\nDROP TABLE old;\nCOMMIT;\n";
        let one = crate::analyze(sql);
        let empty = crate::analyze("");
        assert!(!one.statements.is_empty() && !one.revisions.is_empty());
        for r in [&one, &empty] {
            let serde = serde_json::to_string_pretty(r).unwrap() + "\n";
            assert_eq!(render(r), serde);
        }
        let mut checked = one.clone();
        checked.database = Some(crate::report::DatabaseReport {
            server_version: "15.19".to_string(),
            tables: 3,
            explained: 1,
            verified: true,
            rollback_verified: Some(true),
            rollback_differences: Vec::new(),
            notes: vec!["a note".to_string()],
        });
        assert_eq!(
            render(&checked),
            serde_json::to_string_pretty(&checked).unwrap() + "\n"
        );
        let many = vec![one.clone(), empty, checked];
        let serde = serde_json::to_string_pretty(&many).unwrap() + "\n";
        assert_eq!(render_many(&many), serde);
        assert_eq!(render_array(&[]), "[]\n");
        assert_eq!(
            render_array(std::slice::from_ref(&one)),
            serde_json::to_string_pretty(&[one]).unwrap() + "\n"
        );
    }
}
