//! The pipeline through the public API, on a generated 20,000-statement Alembic migration
//! (`scripts/gen-migration.py`'s shape) and on a realistic Alembic history (fixtures/history): the
//! analysis (read, lower, the pass, the rollback, as `migsafe::analyze`) and each renderer; then
//! the whole analysis at 5,000 / 10,000 / 20,000 / 40,000 statements, whose time per statement must
//! stay flat.
//!
//! `cargo bench --bench pipeline`; with `RAYON_NUM_THREADS=1` the statements are lowered on one
//! thread, which shows what lowering them in parallel is worth.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use migsafe::Format;
use std::hint::black_box;

/// The same text as scripts/gen-migration.py: about `n` statements, one transaction per revision,
/// each revision on a table the migration did not create.
fn migration(n: usize) -> String {
    let mut sql = String::new();
    let mut count = 0;
    let mut rev = 0;
    while count < n {
        sql.push_str(&format!(
            "BEGIN;\n\n-- Running upgrade {rev:012x} -> {:012x}\n\n",
            rev + 1
        ));
        count += 1;
        let t = format!("table_{rev}");
        for stmt in [
            format!(
                "CREATE TABLE new_{rev} (\n    id INTEGER NOT NULL, \n    name VARCHAR(250), \n    created TIMESTAMP WITHOUT TIME ZONE DEFAULT now(), \n    PRIMARY KEY (id)\n);"
            ),
            format!("CREATE INDEX ix_{t}_{rev} ON {t} (name);"),
            format!("ALTER TABLE {t} ALTER COLUMN code TYPE VARCHAR(20);"),
            format!("UPDATE {t} SET status='old' WHERE created < now() - interval '1 day';"),
            format!("ALTER TABLE {t} ADD COLUMN flag_{rev} BOOLEAN DEFAULT false NOT NULL;"),
            format!(
                "ALTER TABLE new_{rev} ADD CONSTRAINT fk_{rev} FOREIGN KEY (id) REFERENCES {t} (id);"
            ),
            format!("ALTER TABLE {t} DROP COLUMN legacy_{rev};"),
            format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 't{rev}') THEN CREATE TYPE t{rev} AS ENUM ('a', 'b'); END IF; END $$;"
            ),
            format!(
                "UPDATE alembic_version SET version_num='{:012x}' WHERE alembic_version.version_num = '{rev:012x}';",
                rev + 1
            ),
        ] {
            sql.push_str(&stmt);
            sql.push_str("\n\n");
            count += 1;
        }
        sql.push_str("COMMIT;\n\n");
        count += 1;
        rev += 1;
    }
    sql
}

fn stages(c: &mut Criterion, name: &str, sql: &str, samples: usize) {
    let mut g = c.benchmark_group(name);
    g.sample_size(samples);
    g.throughput(Throughput::Bytes(sql.len() as u64));
    g.bench_function("analyze", |b| b.iter(|| migsafe::analyze(black_box(sql))));
    let report = migsafe::analyze(sql);
    for format in Format::ALL {
        g.bench_function(format!("render_{}", format.name()), |b| {
            b.iter(|| black_box(&report).render(format))
        });
    }
    g.finish();
}

fn pipeline(c: &mut Criterion) {
    let generated = migration(20_000);
    stages(c, "generated_20000", &generated, 10);
    let history = include_str!("../fixtures/history/upgrade.sql");
    stages(c, "alembic_history", history, 50);

    // Linear growth: the throughput (statements per second) stays flat as the file grows.
    let mut g = c.benchmark_group("analyze_json_scaling");
    g.sample_size(10);
    for n in [5_000, 10_000, 20_000, 40_000] {
        let sql = migration(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &sql, |b, sql| {
            b.iter(|| migsafe::analyze(sql).render(Format::Json))
        });
    }
    g.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
