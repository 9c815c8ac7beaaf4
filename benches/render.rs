//! Rendering speed: every format for a 20,000-statement migration with thousands of findings, and the
//! text report at 5,000 / 10,000 / 20,000 statements to show that the cost grows linearly (squawk's
//! terminal output takes 70 s at 20,000 statements; its cost grows quadratically).
//!
//! `cargo bench --bench render`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use migsafe::{Format, RenderOptions};
use std::hint::black_box;

/// An Alembic-style migration of about `n` statements, one transaction per revision (Alembic's
/// `transaction_per_migration`), on existing tables, so every revision carries findings (an index
/// built without CONCURRENTLY, a type change, a backfill, a dropped column).
fn migration(n: usize) -> String {
    let mut sql = String::new();
    let mut count = 0;
    let mut rev = 0;
    while count < n {
        sql.push_str(&format!(
            "BEGIN;\n\n-- Running upgrade {:012x} -> {:012x}\n\n",
            rev,
            rev + 1
        ));
        rev += 1;
        let t = format!("table_{}", rev % 50);
        for stmt in [
            format!(
                "CREATE TABLE new_{rev} (\n    id INTEGER NOT NULL, \n    name VARCHAR(250), \n    PRIMARY KEY (id)\n);"
            ),
            format!("CREATE INDEX ix_{t}_{rev} ON {t} (name);"),
            format!("ALTER TABLE {t} ALTER COLUMN code TYPE VARCHAR(20);"),
            format!("UPDATE {t} SET status='old' WHERE created < now() - interval '1 day';"),
            format!("ALTER TABLE {t} DROP COLUMN legacy_{rev};"),
            format!(
                "UPDATE alembic_version SET version_num='{:012x}' WHERE alembic_version.version_num = '{:012x}';",
                rev + 1,
                rev
            ),
        ] {
            sql.push_str(&stmt);
            sql.push_str("\n\n");
        }
        sql.push_str("COMMIT;\n\n");
        count += 8;
    }
    sql
}

fn render(c: &mut Criterion) {
    let report = migsafe::analyze(&migration(20_000));
    let findings: usize = report.statements.iter().map(|s| s.findings.len()).sum();
    assert!(report.summary.statements >= 20_000);
    assert!(findings >= 10_000, "only {findings} findings");

    let mut g = c.benchmark_group("render_20000_statements");
    g.sample_size(10);
    for format in Format::ALL {
        g.bench_function(format.name(), |b| {
            b.iter(|| black_box(&report).render(format))
        });
    }
    g.bench_function("text_color", |b| {
        b.iter(|| {
            black_box(&report).render_with(Format::Text, RenderOptions::default().color(true))
        })
    });
    g.finish();

    // Linear growth: time per statement stays flat as the file grows.
    let mut g = c.benchmark_group("render_text_scaling");
    g.sample_size(10);
    for n in [5_000, 10_000, 20_000] {
        let r = migsafe::analyze(&migration(n));
        g.throughput(Throughput::Elements(r.summary.statements as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &r, |b, r| {
            b.iter(|| r.render(Format::Text))
        });
    }
    g.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
