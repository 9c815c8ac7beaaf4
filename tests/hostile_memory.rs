//! Large inputs stream through the reader: the peak of heap memory while analysing stays within a
//! small multiple of the input, not a multiple of sqlparser's tokens for the whole file. For one
//! huge statement the multiple is about three: the reader's one token of it while splitting (a
//! string grown by doubling), and the report's copy of the statement's text with what analysis
//! builds around it.
//!
//! One test in its own binary: the counting allocator sees every allocation of the process, so no
//! other test may run beside it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result and the peak of heap memory it added.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = f();
    (r, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

const MB: usize = 1 << 20;

#[test]
fn large_inputs_stay_within_a_few_copies_of_the_input() {
    // 100 MB in one dollar-quoted function body: the report holds the statement once.
    let sql = format!(
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ {} $$;\nALTER TABLE t ADD COLUMN c int;\n",
        "x".repeat(100 * MB)
    );
    let (report, peak) = peak_during(|| migsafe::analyze(&sql));
    assert_eq!(report.statements.len(), 2);
    assert!(report.statements[1].parsed);
    assert!(peak < 4 * sql.len(), "peak {} MB", peak / MB);
    drop(report);
    drop(sql);

    // 100 MB of COPY data.
    let mut sql = String::from("COPY t (a, b) FROM stdin;\n");
    while sql.len() < 100 * MB {
        sql.push_str("12345\tsome text; with 'quotes' and $$ signs\n");
    }
    sql.push_str("\\.\nALTER TABLE t ADD COLUMN c int;\n");
    let (report, peak) = peak_during(|| migsafe::analyze(&sql));
    assert_eq!(report.statements.len(), 2);
    assert!(report.statements[1].parsed);
    assert!(peak < 4 * sql.len(), "peak {} MB", peak / MB);
    drop(report);
    drop(sql);

    // 100 MB of comments: nothing of them stays but their positions.
    let line = format!("-- {}\n", "c".repeat(200));
    let mut sql = line.repeat(100 * MB / line.len());
    sql.push_str("ALTER TABLE t ADD COLUMN c int;\n");
    let (report, peak) = peak_during(|| migsafe::analyze(&sql));
    assert_eq!(report.statements.len(), 1);
    assert!(peak < sql.len() / 2, "peak {} MB", peak / MB);
    drop(report);
    drop(sql);

    // 20 MB on one line in one statement, ten million small tokens: the splitter reads them a
    // chunk at a time, and the statement is too long to be handed to sqlparser.
    let sql = format!("SELECT {}1;\n", "1,".repeat(10 * MB));
    let (report, peak) = peak_during(|| migsafe::analyze(&sql));
    assert_eq!(report.statements.len(), 1);
    assert!(!report.statements[0].parsed);
    assert!(peak < 4 * sql.len(), "peak {} MB", peak / MB);
    drop(report);

    // A long history over a large schema, with the author's downgrade: the comparison keeps the
    // catalog of one revision at a time, and of it only the tables the revision changes. Keeping two
    // whole catalogs per revision, the CLI took 3.1 GB of RSS on these inputs (24 GB for 2,000
    // revisions over 2,000 tables); now the peak is about 9 MB, most of it the report.
    let tables = 500;
    let revisions = 1000;
    let schema: String = (0..tables)
        .map(|i| format!("CREATE TABLE public.t{i} (id integer NOT NULL, name text);\nCREATE INDEX ix_t{i} ON public.t{i} (name);\n"))
        .collect();
    let (mut up, mut down) = (String::new(), String::new());
    for i in 0..revisions {
        let t = i % tables;
        up.push_str(&format!("BEGIN;\n-- Running upgrade {i:012x} -> {:012x}\nALTER TABLE t{t} ADD COLUMN c{i} int;\nCOMMIT;\n", i + 1));
        // Every other downgrade forgets its column.
        let drop = if i % 2 == 0 {
            format!("ALTER TABLE t{t} DROP COLUMN c{i};\n")
        } else {
            String::new()
        };
        down.insert_str(
            0,
            &format!(
                "BEGIN;\n-- Running downgrade {:012x} -> {i:012x}\n{drop}COMMIT;\n",
                i + 1
            ),
        );
    }
    let input = schema.len() + up.len() + down.len();
    let catalog = migsafe::Catalog::from_sql(&schema).expect("the schema loads");
    let (report, peak) = peak_during(|| {
        migsafe::Analyzer::default()
            .schema(catalog)
            .downgrade(migsafe::Source::new("down.sql", &down))
            .analyze(migsafe::Source::new("up.sql", &up))
    });
    let report = report.expect("analysed");
    let mismatches = report
        .statements
        .iter()
        .flat_map(|s| &s.findings)
        .filter(|f| f.rule == "downgrade-mismatch")
        .count();
    assert_eq!(mismatches, revisions / 2);
    assert!(
        peak < 64 * MB,
        "peak {} MB for {} KB of input",
        peak / MB,
        input >> 10
    );
    drop(report);

    // 100 MB of NUL bytes: rejected before any reading.
    let bytes = vec![0u8; 100 * MB];
    let (result, peak) = peak_during(|| migsafe::check_text("nul.sql", &bytes).map(|_| ()));
    assert!(result.is_err());
    assert!(peak < MB, "peak {} bytes", peak);
}
