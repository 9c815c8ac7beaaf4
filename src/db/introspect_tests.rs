//! Introspection against a real PostgreSQL: what a restored copy's catalog holds once read (it
//! needs the catalog's inner view, so it lives beside the code).

use super::test_server as pg;

use crate::ir::{ConstraintKind, QualName};
use pg::Scratch;

#[test]
fn introspection_reads_the_catalog_and_sizes() {
    let Some(mut admin) = pg::admin() else {
        return;
    };
    let scratch = Scratch::new(&mut admin, "intro", None);
    let mut c = scratch.connect();
    pg::restored_copy(&mut c);
    let catalog = super::read_catalog(&mut c, &super::DbOptions::default()).expect("catalog");
    let runs = QualName::new(Some("public"), "runs");
    let status = catalog.column(&runs, "status").expect("runs.status");
    assert_eq!(
        (status.ty.base.as_str(), status.ty.modifiers.as_slice()),
        ("varchar", &[20][..])
    );
    assert!(!status.not_null);
    let id = catalog.column(&runs, "id").expect("runs.id");
    assert!(id.identity.is_some() && id.not_null);
    assert!(
        catalog
            .column(&runs, "doubled")
            .expect("doubled")
            .generated
            .is_some()
    );
    assert!(
        catalog
            .column(&runs, "created")
            .expect("created")
            .default
            .is_some()
    );
    assert!(catalog.has_index_leading(&runs, "created"));
    assert!(!catalog.has_index_leading(&runs, "status"));
    let state = catalog
        .type_def(&QualName::new(Some("public"), "run_state"))
        .expect("enum");
    assert_eq!(
        state.enum_values.as_deref(),
        Some(
            &[
                "queued".to_string(),
                "running".to_string(),
                "done".to_string()
            ][..]
        )
    );
    assert!(
        catalog
            .type_def(&QualName::new(Some("public"), "positive"))
            .is_some_and(|d| d.domain_constrained)
    );
    assert_eq!(
        catalog
            .function_volatile("public.touch")
            .or(catalog.function_volatile("touch")),
        Some(false)
    );
    let tags = catalog
        .table(&QualName::new(Some("public"), "tags"))
        .expect("tags");
    let nn = tags
        .constraints
        .iter()
        .find(|k| k.name == "tags_key_nn")
        .expect("check");
    assert!(!nn.validated, "NOT VALID stays unvalidated");
    let invalid = catalog
        .index(&QualName::new(Some("public"), "ix_tags_dup"))
        .expect("the invalid index is in the catalog");
    assert!(!invalid.valid);
    assert!(!catalog.has_index_leading(&QualName::new(Some("public"), "tags"), "dup"));
    let metrics = catalog
        .table(&QualName::new(Some("public"), "metrics"))
        .expect("metrics");
    assert!(metrics.constraints.iter().any(|k| matches!(&k.kind, ConstraintKind::ForeignKey { ref_table, .. } if ref_table.name == "runs")));
    assert!(
        catalog
            .table(&QualName::new(Some("public"), "finished"))
            .is_some()
    );
    // Sizes: planner statistics after ANALYZE, and the files.
    let size = catalog.size(&runs).expect("runs size");
    assert_eq!(size.rows, 20_000);
    let heap: i64 = c
        .query_one("SELECT pg_relation_size('runs')", &[])
        .expect("size")
        .get(0);
    let total: i64 = c
        .query_one("SELECT pg_total_relation_size('runs')", &[])
        .expect("size")
        .get(0);
    assert_eq!(
        (size.heap_bytes, size.total_bytes),
        (heap as u64, total as u64)
    );
    assert_eq!(
        catalog.size(&QualName::new(None, "tags")).map(|s| s.rows),
        Some(100)
    );
    assert!(catalog.skipped().is_empty(), "{:?}", catalog.skipped());
}
