//! `migsafe::assert_migration_snapshot!` (feature `insta`): the Markdown report of a migration as an
//! insta snapshot, the same text `migsafe snapshot` writes.

use migsafe::{Analyzer, Settings};

#[test]
fn snapshots_a_fixture_with_default_settings() {
    migsafe::assert_migration_snapshot!("fixtures/django/0002_add_field.sql");
}

#[test]
fn snapshots_with_an_analyzer() {
    let analyzer = Analyzer::new(Settings::default().pg_version(14));
    migsafe::assert_migration_snapshot!(
        "fixtures/safe/alembic_ticketing_index_concurrently.sql",
        &analyzer
    );
}

#[test]
fn glob_paths_are_made_relative() {
    // insta's glob! passes absolute paths; the snapshot must not contain this machine's checkout.
    insta::glob!("../fixtures/alembic", "merge.sql", |path| {
        assert!(path.is_absolute());
        migsafe::assert_migration_snapshot!(path);
    });
}

#[test]
fn the_snapshot_is_the_cli_snapshot_text() {
    let report = migsafe::testing::analyze_file(&Analyzer::default(), "fixtures/alembic/merge.sql")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.source, "fixtures/alembic/merge.sql");
    assert_eq!(
        migsafe::testing::snapshot(&report),
        report.render(migsafe::Format::Markdown)
    );
}

#[test]
fn a_missing_file_panics_with_its_name() {
    let err = std::panic::catch_unwind(|| {
        migsafe::assert_migration_snapshot!("no/such/migration.sql");
    })
    .err()
    .and_then(|e| e.downcast_ref::<String>().cloned())
    .unwrap_or_default();
    assert!(err.contains("no/such/migration.sql"), "{err}");
}
