//! Reading speed: split + parse + lower + report for a 20,000-statement Alembic-style migration.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

/// A migration of `n` statements in Alembic's offline format, varied like real exports.
fn migration(n: usize) -> String {
    let mut sql = String::from("BEGIN;\n\n");
    let mut count = 1;
    let mut rev = 0;
    while count < n - 1 {
        sql.push_str(&format!(
            "-- Running upgrade {:012x} -> {:012x}\n\n",
            rev,
            rev + 1
        ));
        rev += 1;
        let t = format!("table_{rev}");
        for stmt in [
            format!(
                "CREATE TABLE {t} (\n    id INTEGER NOT NULL, \n    name VARCHAR(250), \n    created TIMESTAMP WITHOUT TIME ZONE DEFAULT now(), \n    PRIMARY KEY (id)\n);"
            ),
            format!("CREATE INDEX ix_{t}_name ON {t} (name);"),
            format!("ALTER TABLE {t} ADD COLUMN status VARCHAR(20) DEFAULT 'new' NOT NULL;"),
            format!("UPDATE {t} SET status='old' WHERE created < now() - interval '1 day';"),
            format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 't{rev}') THEN CREATE TYPE t{rev} AS ENUM ('a', 'b'); END IF; END $$;;"
            ),
            format!(
                "UPDATE alembic_version SET version_num='{:012x}' WHERE alembic_version.version_num = '{:012x}';",
                rev + 1,
                rev
            ),
        ] {
            sql.push_str(&stmt);
            sql.push_str("\n\n");
            count += 1;
        }
    }
    sql.push_str("COMMIT;\n\n");
    sql
}

fn read(c: &mut Criterion) {
    let sql = migration(20_000);
    let mut g = c.benchmark_group("read");
    g.sample_size(10);
    g.bench_function("analyze_20000_statements", |b| {
        b.iter(|| {
            let r = migsafe::analyze(black_box(&sql));
            assert!(r.summary.statements >= 20_000);
            r
        })
    });
    g.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
