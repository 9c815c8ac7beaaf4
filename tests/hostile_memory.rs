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

    // 100 MB of NUL bytes: rejected before any reading.
    let bytes = vec![0u8; 100 * MB];
    let (result, peak) = peak_during(|| migsafe::check_text("nul.sql", &bytes).map(|_| ()));
    assert!(result.is_err());
    assert!(peak < MB, "peak {} bytes", peak);
}
