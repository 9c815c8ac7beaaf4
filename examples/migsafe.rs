//! The migsafe command line: a thin shell over the library.
//!
//! ```text
//! migsafe check FILE... [--format text|markdown|json|sarif|github] [--verbose]
//!                       [--fail-on low|medium|high|critical] [--rollback-out FILE]
//!                       [--schema DUMP.sql] [--sizes FILE] [--pg-version N]
//!                       [--only RULE]... [--disable RULE]... [--alembic-versions DIR]
//!                       [--stdin-filename NAME] [--config FILE | --no-config]
//!                       [--database URL [--verify [--role NAME] [--allow-live]] [--explain-analyze]
//!                        [--statement-timeout MS] [--lock-timeout MS] [--verify-timeout MS]
//!                        [--time-budget MS] [--large-rows N]]
//! migsafe rollback FILE [--schema DUMP.sql | --database URL] [--pg-version N]
//! migsafe config [flags as for check]
//! migsafe rules [RULE]
//! migsafe snapshot [--check] FILE... [--schema DUMP.sql] [--pg-version N]
//! ```
//! Settings come from the flags, then `migsafe.toml` or `[tool.migsafe]` in `pyproject.toml` (the
//! current folder or the nearest parent with one; keys are the long flag names), then defaults;
//! `migsafe config` prints them with where each comes from.
//!
//! Exit codes: 0 no remaining finding (after `-- migsafe: ignore`, `--disable` and the
//! configuration) reaches `--fail-on` (default `high`); 1 one does (for `snapshot --check`: a
//! stored report differs or is missing); 2 usage, configuration, I/O or database error (one line
//! on stderr; a database URL's password is never printed). `-` reads standard input (named by
//! `--stdin-filename`; not for `snapshot`, which writes next to each file).
//!
//! Several files in one `check`: one report each, one exit code (the worst). JSON prints an array;
//! SARIF one log with one run holding every file's results; `--rollback-out` writes one script that
//! undoes the files in reverse order (the last migration is undone first).
//!
//! Colour (text format only) when stdout is a terminal and `NO_COLOR` is unset (`anstream`'s
//! detection, which also honours `CLICOLOR=0` and `CLICOLOR_FORCE`).

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use migsafe::db::{self, DbOptions};
use migsafe::project::{Config, RevisionFiles};
use migsafe::{
    Analyzer, Catalog, Format, RenderOptions, Report, Risk, Settings, SizeSettings, Source,
};
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;

// A migration's report is hundreds of thousands of small strings and vectors: mimalloc allocates
// and frees them faster than the system allocator (docs/performance.md). The library leaves the
// choice of allocator to the program that embeds it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    /// rustc-style diagnostics and a summary, for a terminal.
    Text,
    /// A PR comment: summary table, findings, collapsed rollback.
    Markdown,
    /// The JSON report (schema/report.schema.json); an array for several files.
    Json,
    /// SARIF 2.1.0 for code scanning (one run for all files).
    Sarif,
    /// GitHub Actions annotations (`::error file=…::…`).
    Github,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Github => Format::Github,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Low,
    Medium,
    High,
    Critical,
}

impl From<FailOn> for Risk {
    fn from(f: FailOn) -> Risk {
        match f {
            FailOn::Low => Risk::Low,
            FailOn::Medium => Risk::Medium,
            FailOn::High => Risk::High,
            FailOn::Critical => Risk::Critical,
        }
    }
}

/// What the analysis knows and which rules run (shared by check, rollback, snapshot and config).
/// Each flag replaces the configuration file's key of the same name.
#[derive(Args)]
struct AnalyzeArgs {
    /// The configuration file (default: migsafe.toml, or pyproject.toml with [tool.migsafe], in
    /// the current folder or the nearest parent).
    #[arg(long, value_name = "FILE")]
    config: Option<String>,
    /// Read no configuration file.
    #[arg(long, conflicts_with = "config")]
    no_config: bool,
    /// Fail (exit 1) when a remaining finding reaches this risk [default: high].
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// PostgreSQL major version the migration runs on (default: the --database server's, else 15).
    #[arg(long, value_parser = clap::value_parser!(u32).range(11..=17))]
    pg_version: Option<u32>,
    /// The schema before the migration: `pg_dump --schema-only` output or any DDL file.
    #[arg(long, value_name = "DUMP.sql")]
    schema: Option<String>,
    /// Table sizes without a database: the CSV or JSON output of the pg_class query in
    /// docs/configuration.md.
    #[arg(long, value_name = "FILE")]
    sizes: Option<String>,
    /// Alembic's versions folder: findings point at each revision's Python file.
    #[arg(long, value_name = "DIR")]
    alembic_versions: Option<String>,
    /// The name reports give standard input (`-`), e.g. the file it was exported from.
    #[arg(long, value_name = "NAME")]
    stdin_filename: Option<String>,
    /// Run only this rule (repeatable).
    #[arg(long = "only", value_name = "RULE")]
    only: Vec<String>,
    /// Do not run this rule (repeatable).
    #[arg(long = "disable", value_name = "RULE")]
    disable: Vec<String>,
    /// The author's own downgrade export (`alembic downgrade B:A --sql`): what it fails to restore
    /// becomes `downgrade-mismatch` findings.
    #[arg(long, value_name = "DOWNGRADE.sql")]
    downgrade: Option<String>,
    /// A restored copy of production (`postgres://…` or `key=value …`, as libpq reads them; PGHOST,
    /// PGUSER, PGPASSWORD, … and ~/.pgpass fill the rest, so `''` takes it all from them): its
    /// catalog and table sizes replace --schema, DML is EXPLAINed. Nothing is ever committed there
    /// (docs/database.md).
    #[arg(
        long,
        value_name = "URL",
        env = "MIGSAFE_DATABASE_URL",
        hide_env_values = true
    )]
    database: Option<String>,
    /// Run the migration and its rollback on the --database copy, in a transaction that is rolled
    /// back, and report what the server did.
    #[arg(long, requires = "database")]
    verify: bool,
    /// Run the --verify run as this role (SET SESSION AUTHORIZATION): what the deploy role may not
    /// do is a finding.
    #[arg(long, value_name = "NAME", requires = "verify")]
    role: Option<String>,
    /// Verify even when other sessions are running queries on the database (its locks stop them).
    #[arg(long, requires = "verify")]
    allow_live: bool,
    /// EXPLAIN ANALYZE (runs the DML, in a transaction that is rolled back).
    #[arg(long, requires = "database")]
    explain_analyze: bool,
    /// statement_timeout of introspection and EXPLAIN, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    statement_timeout: u64,
    /// lock_timeout of every database transaction, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5_000)]
    lock_timeout: u64,
    /// statement_timeout of each migration statement in the --verify run, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 600_000)]
    verify_timeout: u64,
    /// The time all the database work of one file may take, in milliseconds: no statement runs
    /// past it.
    #[arg(long, value_name = "MS", default_value_t = 1_800_000)]
    time_budget: u64,
    /// Tables from this many rows on are large (EXPLAIN and foreign-key index findings).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    large_rows: u64,
}

/// The analyzer, with --database the connection to the copy, and with --alembic-versions the
/// revisions' Python files.
struct Ctx {
    analyzer: Analyzer,
    db: Option<migsafe::db::Client>,
    revision_files: Option<RevisionFiles>,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse migration files (Alembic `--sql` exports, Django `sqlmigrate` output, plain SQL).
    Check {
        /// Files to read; `-` is standard input.
        #[arg(required = true)]
        files: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
        /// Text: also the statement table, failure modes, acknowledged findings and rollback.
        #[arg(long, short)]
        verbose: bool,
        /// Also write the rollback script here (several files: one script undoing them in reverse
        /// order).
        #[arg(long, value_name = "FILE")]
        rollback_out: Option<String>,
        #[command(flatten)]
        analyze: AnalyzeArgs,
    },
    /// Print the rollback script of a migration.
    Rollback {
        /// The migration; `-` is standard input.
        file: String,
        #[command(flatten)]
        analyze: AnalyzeArgs,
    },
    /// Print the effective settings (configuration file, flags, defaults) and where each comes
    /// from.
    Config {
        #[command(flatten)]
        analyze: AnalyzeArgs,
    },
    /// List the rules, or print one rule's documentation.
    Rules {
        /// A rule id, e.g. `create-index-non-concurrently`.
        rule: Option<String>,
    },
    /// Write FILE.migsafe.md (Markdown report and rollback) next to each migration, or with
    /// `--check` compare them and print a unified diff.
    Snapshot {
        /// Compare instead of writing: exit 1 when a stored report differs or is missing.
        #[arg(long)]
        check: bool,
        /// Migration files.
        #[arg(required = true)]
        files: Vec<String>,
        #[command(flatten)]
        analyze: AnalyzeArgs,
    },
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
    let result = match cli.command {
        Command::Check {
            files,
            format,
            verbose,
            rollback_out,
            analyze,
        } => check(
            &files,
            format.into(),
            verbose,
            rollback_out.as_deref(),
            &analyze,
        ),
        Command::Config { analyze } => show_config(&analyze),
        Command::Rollback { file, analyze } => rollback(&file, &analyze),
        Command::Rules { rule } => rules(rule.as_deref()),
        Command::Snapshot {
            check,
            files,
            analyze,
        } => snapshot(&files, check, &analyze),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("migsafe: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Where a setting comes from.
#[derive(Clone, Copy)]
enum Origin {
    Flag(&'static str),
    File,
    Default,
}

/// One setting's value and where it comes from: the flag when given, else the file's key, else
/// the default.
fn pick<T>(flag: (&'static str, Option<T>), file: Option<T>, default: T) -> (T, Origin) {
    match (flag.1, file) {
        (Some(v), _) => (v, Origin::Flag(flag.0)),
        (None, Some(v)) => (v, Origin::File),
        (None, None) => (default, Origin::Default),
    }
}

/// The settings in effect: flags over the configuration file over defaults.
struct Effective {
    config: Option<Config>,
    fail_on: (Risk, Origin),
    disable: (Vec<String>, Origin),
    only: (Vec<String>, Origin),
    pg_version: (Option<u32>, Origin),
    schema: (Option<String>, Origin),
    sizes: (Option<String>, Origin),
    alembic_versions: (Option<String>, Origin),
}

fn path_string(p: &Option<std::path::PathBuf>) -> Option<Option<String>> {
    p.as_ref().map(|p| Some(p.display().to_string()))
}

impl Effective {
    fn new(args: &AnalyzeArgs) -> Result<Effective> {
        let config = if args.no_config {
            None
        } else if let Some(path) = &args.config {
            Some(Config::from_file(Path::new(path))?)
        } else {
            let here = std::env::current_dir().context("cannot read the current folder")?;
            Config::find(&here)?
        };
        let c = config.clone().unwrap_or_default();
        let flag_list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        Ok(Effective {
            fail_on: pick(
                ("--fail-on", args.fail_on.map(Risk::from)),
                c.fail_on,
                Risk::High,
            ),
            disable: pick(
                ("--disable", flag_list(&args.disable)),
                c.disable,
                Vec::new(),
            ),
            only: pick(("--only", flag_list(&args.only)), c.only, Vec::new()),
            pg_version: pick(
                ("--pg-version", args.pg_version.map(Some)),
                c.pg_version.map(Some),
                None,
            ),
            schema: pick(
                ("--schema", args.schema.clone().map(Some)),
                path_string(&c.schema),
                None,
            ),
            sizes: pick(
                ("--sizes", args.sizes.clone().map(Some)),
                path_string(&c.sizes),
                None,
            ),
            alembic_versions: pick(
                (
                    "--alembic-versions",
                    args.alembic_versions.clone().map(Some),
                ),
                path_string(&c.alembic_versions),
                None,
            ),
            config,
        })
    }

    /// The rules, severities and gate (the version is settled once the database answers).
    fn settings(&self, pg_version: u32, large_rows: u64) -> Settings {
        let mut settings = Settings::default();
        if let Some(c) = &self.config {
            // Severity overrides live only in the file.
            for (id, level) in &c.severity {
                settings = settings.rule_severity(id.clone(), *level);
            }
        }
        settings = settings
            .pg_version(pg_version)
            .fail_on(self.fail_on.0)
            .sizes(SizeSettings::default().large_rows(large_rows));
        if !self.only.0.is_empty() {
            settings = settings.only_rules(self.only.0.iter().cloned());
        }
        for d in &self.disable.0 {
            settings = settings.disable_rule(d.clone());
        }
        settings
    }
}

/// Builds the analyzer from the shared options and the configuration file, and connects to
/// --database; unknown rules, unreadable files and unreachable databases are usage, I/O or
/// connection errors.
fn analyzer(args: &AnalyzeArgs) -> Result<Ctx> {
    let effective = Effective::new(args)?;
    let known = migsafe::rules();
    for id in args.only.iter().chain(&args.disable) {
        if !known.iter().any(|r| r.id == id) {
            bail!("unknown rule {id} (`migsafe rules` lists them)");
        }
    }
    let mut client = match &args.database {
        Some(url) => Some(db::connect(url)?),
        None => None,
    };
    let pg_version = match (effective.pg_version.0, client.as_mut()) {
        (Some(v), _) => v,
        (None, Some(c)) => db::server_major(c)?,
        (None, None) => 15,
    };
    let mut analyzer = Analyzer::new(effective.settings(pg_version, args.large_rows));
    let mut catalog = match &effective.schema.0 {
        Some(path) => Some(load_schema(path)?),
        None => None,
    };
    if let Some(path) = &effective.sizes.0 {
        let c = catalog.get_or_insert_with(Catalog::default);
        migsafe::project::read_sizes(Path::new(path), c)?;
    }
    if let Some(c) = catalog {
        analyzer = analyzer.schema(c);
    }
    if let Some(path) = &args.downgrade {
        let (name, text) = read_input(path, None)?;
        analyzer = analyzer.downgrade(Source::new(name, &text));
    }
    let revision_files = match &effective.alembic_versions.0 {
        Some(dir) => {
            let files = RevisionFiles::read(Path::new(dir))?;
            if files.is_empty() {
                bail!("{dir}: no Alembic revision files (`revision = \"…\"`) in it");
            }
            Some(files)
        }
        None => None,
    };
    Ok(Ctx {
        analyzer,
        db: client,
        revision_files,
    })
}

/// `migsafe config`: the effective settings as TOML, each with where it comes from.
fn show_config(args: &AnalyzeArgs) -> Result<ExitCode> {
    let e = Effective::new(args)?;
    let mut out = String::new();
    match &e.config {
        Some(c) => out.push_str(&format!("# configuration file: {}\n", c.file.display())),
        None => out
            .push_str("# no configuration file (migsafe.toml or pyproject.toml [tool.migsafe])\n"),
    }
    let origin = |o: Origin| match (o, &e.config) {
        (Origin::Flag(f), _) => f.to_string(),
        (Origin::File, Some(c)) => c.file.display().to_string(),
        _ => "default".to_string(),
    };
    let quoted = |v: &str| format!("{v:?}");
    let list = |v: &[String]| {
        format!(
            "[{}]",
            v.iter().map(|s| quoted(s)).collect::<Vec<_>>().join(", ")
        )
    };
    let mut line = |key: &str, value: Option<String>, o: Origin| {
        let value = value.map_or_else(|| format!("# {key} is not set"), |v| format!("{key} = {v}"));
        out.push_str(&format!("{value:<40} # {}\n", origin(o)));
    };
    line("fail-on", Some(quoted(e.fail_on.0.as_str())), e.fail_on.1);
    line("disable", Some(list(&e.disable.0)), e.disable.1);
    let only = (!e.only.0.is_empty()).then(|| list(&e.only.0));
    line("only", only, e.only.1);
    // Without the key or flag: the --database server's version, else 15.
    let pg = e.pg_version.0.unwrap_or(15).to_string();
    line("pg-version", Some(pg), e.pg_version.1);
    line("schema", e.schema.0.as_deref().map(quoted), e.schema.1);
    line("sizes", e.sizes.0.as_deref().map(quoted), e.sizes.1);
    line(
        "alembic-versions",
        e.alembic_versions.0.as_deref().map(quoted),
        e.alembic_versions.1,
    );
    if let Some(c) = e.config.as_ref().filter(|c| !c.severity.is_empty()) {
        out.push_str(&format!("\n[severity]{:<30} # {}\n", "", c.file.display()));
        for (id, level) in &c.severity {
            let level = level.as_str();
            out.push_str(&format!("{id} = {level:?}\n"));
        }
    }
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .context(STDOUT)?;
    Ok(ExitCode::SUCCESS)
}

fn db_options(args: &AnalyzeArgs) -> DbOptions {
    let mut options = DbOptions::default()
        .verify(args.verify)
        .explain_analyze(args.explain_analyze)
        .timeouts(args.statement_timeout, args.lock_timeout)
        .verify_timeout(args.verify_timeout)
        .time_budget(args.time_budget)
        .allow_live(args.allow_live);
    if let Some(role) = &args.role {
        options = options.role(role.clone());
    }
    // Long database work shows where it is, when someone watches.
    if std::io::stderr().is_terminal() {
        options = options.progress(|line| eprint!("\r\x1b[2Kmigsafe: {line}"));
    }
    options
}

/// Loads `--schema`, warning on stderr about statements it could not read.
fn load_schema(path: &str) -> Result<Catalog> {
    let (name, text) = read_input(path, None)?;
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

fn analyze_file(ctx: &mut Ctx, file: &str, args: &AnalyzeArgs) -> Result<Report> {
    let (name, text) = read_input(file, args.stdin_filename.as_deref())?;
    let source = Source::new(name, &text);
    let mut report = match ctx.db.as_mut() {
        Some(client) => {
            let r = ctx
                .analyzer
                .clone()
                .database(client)
                .options(db_options(args))
                .analyze(source);
            if std::io::stderr().is_terminal() {
                eprint!("\r\x1b[2K");
            }
            r?
        }
        None => ctx.analyzer.analyze(source)?,
    };
    if let Some(files) = &ctx.revision_files {
        files.annotate(&mut report);
    }
    Ok(report)
}

fn check(
    files: &[String],
    format: Format,
    verbose: bool,
    rollback_out: Option<&str>,
    args: &AnalyzeArgs,
) -> Result<ExitCode> {
    let mut ctx = analyzer(args)?;
    let mut reports = Vec::new();
    let mut io_error = false;
    for file in files {
        match analyze_file(&mut ctx, file, args) {
            Ok(r) => reports.push(r),
            Err(e) => {
                // Report the other files anyway; the exit code says something went wrong.
                eprintln!("migsafe: {e:#}");
                io_error = true;
            }
        }
    }
    let color = format == Format::Text
        && anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
    let rules = migsafe::rules();
    let options = RenderOptions::default()
        .color(color)
        .rules(&rules)
        .verbose(verbose);
    // Several files as JSON are an array even when only one could be read, so tools see one shape.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = if format == Format::Json && files.len() > 1 {
        migsafe::report::render::json::write_array(&mut out, &reports)
    } else {
        migsafe::report::render::write_many(&mut out, &reports, format, options)
    };
    written.and_then(|()| out.flush()).context(STDOUT)?;
    if let Some(path) = rollback_out {
        write_rollback(path, &reports)?;
    }
    let failed = reports.iter().any(Report::fails);
    Ok(if io_error {
        ExitCode::from(2)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

const STDOUT: &str = "cannot write to standard output";

/// Warns on stderr about what a rollback cannot undo; `line` gives a statement's first line.
fn warn_incomplete(r: &Report, line: impl Fn(usize) -> Option<u32>) {
    if r.rollback.complete {
        return;
    }
    if r.rollback.irreversible.is_empty() {
        eprintln!("migsafe: {}: rollback incomplete", r.source);
    }
    for i in &r.rollback.irreversible {
        let line = line(i.statement).unwrap_or(0);
        eprintln!(
            "migsafe: {}:{line}: rollback incomplete: {}",
            r.source, i.reason
        );
    }
}

/// `--rollback-out`: one file's script as is; several files' scripts in reverse order (the last
/// migration runs first when going back), each under a comment naming its file.
fn write_rollback(path: &str, reports: &[Report]) -> Result<()> {
    let mut script = String::new();
    if let [one] = reports {
        script.push_str(one.rollback_script());
    } else {
        for r in reports.iter().rev() {
            if !script.is_empty() && !script.ends_with("\n\n") {
                script.push('\n');
            }
            script.push_str(&format!("-- migsafe: rollback of {}\n", r.source));
            if r.rollback_script().trim().is_empty() {
                script.push_str("-- (no rollback generated)\n");
            } else {
                script.push_str(r.rollback_script());
                if !script.ends_with('\n') {
                    script.push('\n');
                }
            }
        }
    }
    for r in reports {
        warn_incomplete(r, |i| r.statements.get(i).map(|s| s.span.start_line));
    }
    std::fs::write(path, script).with_context(|| format!("cannot write {path}"))
}

fn rollback(file: &str, args: &AnalyzeArgs) -> Result<ExitCode> {
    let mut ctx = analyzer(args)?;
    // The rollback needs the catalog, not EXPLAIN or a verification run.
    if let Some(client) = ctx.db.as_mut() {
        let catalog = db::read_catalog(client, &db_options(args))?;
        ctx.analyzer = ctx.analyzer.clone().schema(catalog);
        ctx.db = None;
    }
    let report = analyze_file(&mut ctx, file, args)?;
    warn_incomplete(&report, |i| {
        report.statements.get(i).map(|s| s.span.start_line)
    });
    std::io::stdout()
        .lock()
        .write_all(report.rollback_script().as_bytes())
        .context(STDOUT)?;
    Ok(ExitCode::SUCCESS)
}

fn rules(id: Option<&str>) -> Result<ExitCode> {
    let rules = migsafe::rules();
    let mut out = String::new();
    match id {
        None => {
            let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
            for r in &rules {
                let severity = r.severity.as_str();
                out.push_str(&format!("{:<width$}  {severity:<7}  {}\n", r.id, r.summary));
            }
        }
        Some(id) => match rules.iter().find(|r| r.id == id) {
            Some(r) => out.push_str(&r.docs),
            None => {
                let near: Vec<&str> = rules
                    .iter()
                    .map(|r| r.id)
                    .filter(|r| r.contains(id) || id.contains(r))
                    .collect();
                if near.is_empty() {
                    bail!("unknown rule {id} (`migsafe rules` lists them)");
                }
                bail!(
                    "unknown rule {id}; did you mean {}? (`migsafe rules` lists them)",
                    near.join(", ")
                );
            }
        },
    }
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .context(STDOUT)?;
    Ok(ExitCode::SUCCESS)
}

/// `snapshot`: FILE.migsafe.md holds the Markdown report (with the rollback) of FILE, named as given
/// on the command line, so the text is the same on every machine.
fn snapshot(files: &[String], check: bool, args: &AnalyzeArgs) -> Result<ExitCode> {
    if files.iter().any(|f| f == "-") {
        bail!("snapshot needs files (it writes FILE.migsafe.md next to each), not `-`");
    }
    let mut ctx = analyzer(args)?;
    let mut stale = Vec::new();
    let mut stdout = std::io::stdout().lock();
    for file in files {
        let report = analyze_file(&mut ctx, file, args)?;
        let new = report.render(Format::Markdown);
        let path = format!("{file}.migsafe.md");
        let old = match std::fs::read_to_string(&path) {
            Ok(s) => Some(s),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot read {path}")),
        };
        if old.as_deref() == Some(new.as_str()) {
            continue;
        }
        if check {
            // git-style a/ b/ prefixes only for relative paths, where they read as in `git diff`.
            let (a, b) = if Path::new(&path).is_absolute() {
                (path.clone(), path.clone())
            } else {
                (format!("a/{path}"), format!("b/{path}"))
            };
            let a = if old.is_some() {
                a
            } else {
                "/dev/null".to_string()
            };
            let diff = similar::TextDiff::from_lines(old.as_deref().unwrap_or(""), new.as_str());
            let text = diff
                .unified_diff()
                .context_radius(3)
                .header(&a, &b)
                .to_string();
            stdout.write_all(text.as_bytes()).context(STDOUT)?;
            stale.push((path, old.is_none()));
        } else {
            std::fs::write(&path, &new).with_context(|| format!("cannot write {path}"))?;
            eprintln!("migsafe: wrote {path}");
        }
    }
    // The command that writes them again: this one, with the same options, without --check.
    let again: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--check")
        .map(|a| shell_word(&a))
        .collect();
    for (path, missing) in &stale {
        eprintln!(
            "migsafe: {path} {}: run `migsafe {}` and commit it",
            if *missing { "is missing" } else { "differs" },
            again.join(" ")
        );
    }
    Ok(if stale.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `word` as a POSIX shell reads it back: bare when it holds only safe characters, else quoted.
fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Reads a file (or stdin for `-`) as UTF-8 text; binary or non-UTF-8 input is an error naming the
/// byte offset.
fn read_input(file: &str, stdin_name: Option<&str>) -> Result<(String, String)> {
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
    let name = if file == "-" {
        stdin_name.unwrap_or("<stdin>")
    } else {
        file
    };
    let text = migsafe::check_text(name, &bytes)?;
    Ok((name.to_string(), text.to_string()))
}
