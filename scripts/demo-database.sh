#!/usr/bin/env bash
# The restored-copy demo: builds a scratch "production copy" with a few hundred thousand rows,
# then runs `migsafe check --database … --verify` on a migration with an unindexed backfill, a
# foreign key without an index and a type narrowing, and prints the report. The scratch database is
# dropped at the end; the copy is never changed (everything runs in transactions that roll back).
#
#   scripts/demo-database.sh [--format text|markdown|json]
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${MIGSAFE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=migsafe_demo_$$
psql -X -q "$URL" -c "CREATE DATABASE $DB" >/dev/null
trap 'psql -X -q "$URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null' EXIT
COPY_URL="${URL%/*}/$DB"
psql -X -q -v ON_ERROR_STOP=1 "$COPY_URL" >/dev/null <<'SQL'
CREATE TABLE experiments (experiment_id serial PRIMARY KEY, name varchar(256) NOT NULL);
CREATE TABLE runs (
    run_uuid varchar(32) PRIMARY KEY,
    experiment_id integer REFERENCES experiments (experiment_id),
    name varchar(250),
    status varchar(20),
    start_time bigint,
    lifecycle_stage varchar(20)
);
CREATE INDEX ix_runs_experiment_id ON runs (experiment_id);
CREATE TABLE params (key varchar(250) NOT NULL, value varchar(8000), run_uuid varchar(32) NOT NULL,
                     PRIMARY KEY (key, run_uuid));
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
INSERT INTO alembic_version VALUES ('a1b2c3d4e5f6');
INSERT INTO experiments (name) SELECT 'experiment ' || g FROM generate_series(1, 500) g;
INSERT INTO runs SELECT md5(g::text), 1 + g % 500,
    CASE WHEN g % 1000 = 0 THEN repeat('long run name ', 5) ELSE 'run ' || g END,
    CASE WHEN g % 50 = 0 THEN 'KILLED' ELSE 'FINISHED' END, g, 'active'
FROM generate_series(1, 300000) g;
INSERT INTO params SELECT 'p' || (g / 300000), 'v' || g, md5((1 + g % 300000)::text) FROM generate_series(0, 599999) g;
VACUUM ANALYZE;
SQL
cat > /tmp/migsafe-demo-migration.sql <<'SQL'
-- Running upgrade a1b2c3d4e5f6 -> b7c8d9e0f1a2

BEGIN;

ALTER TABLE runs ADD COLUMN deleted_time bigint;

UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = start_time WHERE status = 'KILLED';

ALTER TABLE params ADD CONSTRAINT fk_params_run_uuid FOREIGN KEY (run_uuid) REFERENCES runs (run_uuid);

ALTER TABLE runs ALTER COLUMN name TYPE varchar(50);

UPDATE alembic_version SET version_num='b7c8d9e0f1a2' WHERE alembic_version.version_num = 'a1b2c3d4e5f6';

COMMIT;
SQL
cargo build -q --release --bin migsafe
set +e
"${CARGO_TARGET_DIR:-target}/release/migsafe" check /tmp/migsafe-demo-migration.sql --database "$COPY_URL" --verify "$@"
code=$?
set -e
echo "(exit code $code)"
