//! The migsafe command line: a thin shell over the library.
//!
//! ```text
//! migsafe check FILE... [--schema DUMP.sql] [--format text|json] [--fail-on low|medium|high|critical]
//!                       [--pg-version N] [--only RULE]... [--disable RULE]...
//! ```
//! Exit codes: 0 nothing at or above `--fail-on` (default `high`); 1 something is; 2 usage or I/O
//! error (one line on stderr). `-` reads standard input.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use migsafe::{Analyzer, Catalog, Format, Risk, Settings, Source};
use std::io::{Read, Write};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "migsafe",
    version,
    about = "What a PostgreSQL migration really does, before production finds out"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse migration files (Alembic `--sql` exports, Django `sqlmigrate` output, plain SQL).
    Check {
        /// Files to read; `-` is standard input.
        #[arg(required = true)]
        files: Vec<String>,
        /// Output format.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
        /// Exit with 1 when a statement's risk reaches this level.
        #[arg(long, default_value = "high", value_parser = ["low", "medium", "high", "critical"])]
        fail_on: String,
        /// PostgreSQL major version the migration runs on.
        #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(11..=17))]
        pg_version: u32,
        /// The schema before the migration: `pg_dump --schema-only` output or any DDL file.
        #[arg(long, value_name = "DUMP.sql")]
        schema: Option<String>,
        /// Run only this rule (repeatable).
        #[arg(long = "only", value_name = "RULE")]
        only: Vec<String>,
        /// Do not run this rule (repeatable).
        #[arg(long = "disable", value_name = "RULE")]
        disable: Vec<String>,
    },
}

/// What `check` was asked to do.
struct CheckArgs<'a> {
    files: &'a [String],
    format: &'a str,
    fail_on: &'a str,
    pg_version: u32,
    schema: Option<&'a str>,
    only: &'a [String],
    disable: &'a [String],
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version print and succeed; real usage errors exit 2.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Check {
            files,
            format,
            fail_on,
            pg_version,
            schema,
            only,
            disable,
        } => check(&CheckArgs {
            files: &files,
            format: &format,
            fail_on: &fail_on,
            pg_version,
            schema: schema.as_deref(),
            only: &only,
            disable: &disable,
        }),
    }
}

/// Loads `--schema`, warning on stderr about statements it could not read.
fn load_schema(path: &str) -> Result<Catalog> {
    let (name, text) = read_input(path)?;
    let catalog =
        Catalog::from_sql(&text).with_context(|| format!("{name}: reading the schema"))?;
    for s in catalog.skipped() {
        eprintln!(
            "migsafe: {name}:{}: schema statement skipped: {}",
            s.line, s.reason
        );
    }
    Ok(catalog)
}

fn check(args: &CheckArgs) -> ExitCode {
    let (Some(format), Some(fail_on)) = (Format::parse(args.format), Risk::parse(args.fail_on))
    else {
        eprintln!("migsafe: bad --format or --fail-on");
        return ExitCode::from(2);
    };
    for id in args.only.iter().chain(args.disable) {
        if migsafe::rules::rule(id).is_none() {
            eprintln!("migsafe: unknown rule {id} (`migsafe rules` lists them)");
            return ExitCode::from(2);
        }
    }
    let mut settings = Settings::default().pg_version(args.pg_version);
    if !args.only.is_empty() {
        settings = settings.only_rules(args.only.iter().cloned());
    }
    for d in args.disable {
        settings = settings.disable_rule(d.clone());
    }
    let mut analyzer = Analyzer::new(settings);
    if let Some(path) = args.schema {
        match load_schema(path) {
            Ok(c) => analyzer = analyzer.schema(c),
            Err(e) => {
                eprintln!("migsafe: {e:#}");
                return ExitCode::from(2);
            }
        }
    }
    let files = args.files;
    let mut failed = false;
    let mut io_error = false;
    let mut json_docs = Vec::new();
    let mut stdout = std::io::stdout().lock();
    for file in files {
        let report = match read_input(file).and_then(|(name, text)| {
            analyzer
                .analyze(Source::new(name, &text))
                .map_err(anyhow::Error::from)
        }) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("migsafe: {e:#}");
                io_error = true;
                continue;
            }
        };
        failed |= report.fails_at(fail_on);
        match format {
            Format::Json if files.len() > 1 => json_docs.push(report.render(format)),
            _ => {
                if stdout.write_all(report.render(format).as_bytes()).is_err() {
                    return ExitCode::from(2);
                }
            }
        }
    }
    if !json_docs.is_empty() {
        // Several files: one JSON array of reports.
        let body = json_docs
            .iter()
            .map(|d| d.trim_end())
            .collect::<Vec<_>>()
            .join(",\n");
        if writeln!(stdout, "[\n{body}\n]").is_err() {
            return ExitCode::from(2);
        }
    }
    if io_error {
        ExitCode::from(2)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reads a file (or stdin for `-`) as UTF-8 text; binary or non-UTF-8 input is an error naming the
/// byte offset.
fn read_input(file: &str) -> Result<(String, String)> {
    let bytes = if file == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .context("cannot read standard input")?;
        b
    } else {
        let meta = std::fs::metadata(file).with_context(|| format!("cannot read {file}"))?;
        if meta.is_dir() {
            bail!("cannot read {file}: it is a directory");
        }
        std::fs::read(file).with_context(|| format!("cannot read {file}"))?
    };
    let name = if file == "-" { "<stdin>" } else { file };
    let text = migsafe::check_text(name, &bytes)?;
    Ok((name.to_string(), text.to_string()))
}
