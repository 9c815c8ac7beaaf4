#!/usr/bin/env bash
# What `--database` and `--verify` cost on a large catalog: a scratch database with TABLES tables
# (each with a serial key and an index, so as many sequences and twice as many indexes) and a
# migration of ALTERS `ALTER TABLE … ADD COLUMN` statements on them.
#
# usage: scripts/bench-catalog-reads.sh [TABLES] [ALTERS] [RUNS]   (default 5000 300 3)
#
# Prints the median wall time of `check --database` and of `check --database --verify`, and what
# `--verify` adds per statement. The server is $MIGSAFE_TEST_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/postgres); the scratch database is dropped at the end.
# $MIGSAFE names the binary (default: build the CLI with the release-lto profile).
set -euo pipefail
cd "$(dirname "$0")/.."

TABLES="${1:-5000}"
ALTERS="${2:-300}"
RUNS="${3:-3}"
BASE="${MIGSAFE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

if [ -z "${MIGSAFE:-}" ]; then
  cargo build --quiet --profile release-lto --bin migsafe
  MIGSAFE="${CARGO_TARGET_DIR:-target}/release-lto/migsafe"
fi

DB="migsafe_bench_catalog_$$"
URL="${BASE%/*}/$DB"
WORK=$(mktemp -d /tmp/bench-catalog.XXXXXX)
cleanup() {
  psql -q -d "$BASE" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

psql -q -d "$BASE" -c "CREATE DATABASE $DB" >/dev/null
for ((start = 1; start <= TABLES; start += 500)); do
  end=$((start + 499 < TABLES ? start + 499 : TABLES))
  psql -q -d "$URL" -c "DO \$\$ BEGIN FOR i IN $start..$end LOOP
      EXECUTE format('CREATE TABLE t%s (id serial PRIMARY KEY, a int, b text, c timestamptz DEFAULT now())', i);
      EXECUTE format('CREATE INDEX ON t%s (a)', i);
    END LOOP; END \$\$;" >/dev/null
done
for ((i = 1; i <= ALTERS; i++)); do
  echo "ALTER TABLE t$i ADD COLUMN x int;"
done >"$WORK/migration.sql"

# Median wall time in milliseconds of RUNS runs of "$@" (exit 1, findings, is expected).
median_ms() {
  local times=() start end
  for ((r = 0; r < RUNS; r++)); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>"$WORK/stderr" || [ $? -eq 1 ] || { cat "$WORK/stderr" >&2; exit 2; }
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p"
}

plain=$(median_ms "$MIGSAFE" check "$WORK/migration.sql" --database "$URL" --format json)
verify=$(median_ms "$MIGSAFE" check "$WORK/migration.sql" --database "$URL" --verify --format json)
echo "| catalog | statements | --database | --database --verify | --verify adds per statement |"
echo "|---|---|---|---|---|"
printf '| %s tables, %s sequences, %s indexes | %s | %s ms | %s ms | %s ms |\n' \
  "$TABLES" "$TABLES" "$((TABLES * 2))" "$ALTERS" "$plain" "$verify" \
  "$(awk -v a="$plain" -v b="$verify" -v n="$ALTERS" 'BEGIN { printf "%.1f", (b - a) / n }')"
