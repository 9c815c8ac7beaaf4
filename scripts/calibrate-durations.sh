#!/usr/bin/env bash
# Measures how fast this machine's PostgreSQL scans, rewrites and indexes a table, updates a few of
# its rows and validates a foreign key, in MB/s of heap (or of total relation size for a rewrite): the rates behind migsafe's duration
# estimates (src/pg/duration.rs). Every operation runs in a transaction that is rolled back, in a
# scratch database that is dropped at the end.
#
#   scripts/calibrate-durations.sh [ROWS]        (default 2,000,000 rows, about 300 MB)
set -euo pipefail
ROWS=${1:-2000000}
URL=${MIGSAFE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=migsafe_calibrate_$$
psql -X -q "$URL" -c "CREATE DATABASE $DB" >/dev/null
trap 'psql -X -q "$URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null' EXIT
DBURL="${URL%/*}/$DB"
psql -X -q "$DBURL" >/dev/null <<SQL
CREATE TABLE events (id bigint PRIMARY KEY, account integer NOT NULL, kind text NOT NULL,
                     payload text, created timestamptz NOT NULL DEFAULT now());
INSERT INTO events SELECT g, g % 5000, 'kind-' || (g % 17), repeat(md5(g::text), 2), now()
FROM generate_series(1, $ROWS) g;
CREATE TABLE accounts (id integer PRIMARY KEY);
INSERT INTO accounts SELECT g FROM generate_series(0, 4999) g;
VACUUM ANALYZE events;
VACUUM ANALYZE accounts;
SQL
heap=$(psql -X -At "$DBURL" -c "SELECT pg_relation_size('events')")
total=$(psql -X -At "$DBURL" -c "SELECT pg_total_relation_size('events')")
# Seconds a statement takes inside a rolled-back transaction (best of 3, warm cache).
time_of() {
  local best=""
  for _ in 1 2 3; do
    local ms
    ms=$(psql -X -At "$DBURL" <<SQL | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
BEGIN;
\timing on
$1;
\timing off
ROLLBACK;
SQL
)
    if [ -z "$best" ] || awk "BEGIN{exit !($ms < $best)}"; then best=$ms; fi
  done
  echo "$best"
}
scan=$(time_of "ALTER TABLE events ADD CONSTRAINT account_positive CHECK (account >= 0)")
rewrite=$(time_of "ALTER TABLE events ALTER COLUMN account TYPE bigint")
index=$(time_of "CREATE INDEX ix_events_kind ON events (kind)")
dml=$(time_of "UPDATE events SET payload = payload WHERE kind = 'kind-3'")
fk=$(time_of "ALTER TABLE events ADD CONSTRAINT fk_events_account FOREIGN KEY (account) REFERENCES accounts (id)")
mb() { awk "BEGIN{printf \"%.0f\", $1 / 1048576 / ($2 / 1000)}"; }
printf 'rows %s, heap %s MB, with indexes %s MB\n' "$ROWS" "$((heap / 1048576))" "$((total / 1048576))"
printf 'validation scan: %8.1f ms  %5s MB/s of heap\n' "$scan" "$(mb "$heap" "$scan")"
printf 'table rewrite:   %8.1f ms  %5s MB/s of heap+indexes\n' "$rewrite" "$(mb "$total" "$rewrite")"
printf 'index build:     %8.1f ms  %5s MB/s of heap\n' "$index" "$(mb "$heap" "$index")"
printf 'filtered UPDATE: %8.1f ms  %5s MB/s of heap (6%% of rows written)\n' "$dml" "$(mb "$heap" "$dml")"
printf 'FK validation:   %8.1f ms  %5s MB/s of heap\n' "$fk" "$(mb "$heap" "$fk")"
