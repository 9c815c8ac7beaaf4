#!/usr/bin/env bash
# migsafe on migrations of hostile shapes (scripts/gen-shapes.py): the cases in which a cost that
# grows with the square of the input once hid (one transaction block of 20,000 statements,
# thousands of autocommit units in one revision or in a plain file, a long history compared with
# its downgrade over a large schema).
#
# usage: scripts/bench-shapes.sh [N] [RUNS]
#        N: statements of the generated files (default 20000); RUNS: runs per cell (default 5)
#
# Prints a Markdown table: median wall time, median peak RSS (/usr/bin/time -v) and the size of the
# report, for `check --format json` (the text report for the 50 MB and 100 MB files). $MIGSAFE
# names the binary (default: build the CLI with the release-lto profile).
set -euo pipefail
cd "$(dirname "$0")/.."

N="${1:-20000}"
RUNS="${2:-5}"

if [ -z "${MIGSAFE:-}" ]; then
  cargo build --quiet --profile release-lto --bin migsafe
  MIGSAFE="${CARGO_TARGET_DIR:-target}/release-lto/migsafe"
fi

WORK=$(mktemp -d /tmp/bench-shapes.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 scripts/gen-shapes.py "$WORK" "$N"

# One run of "$@"; prints "MILLISECONDS PEAK_RSS_KB JSON_BYTES". Exit 1 (findings) is expected.
measure() {
  local start end rss
  start=$(date +%s%N)
  /usr/bin/time -v -o "$WORK/time" "$@" >"$WORK/out.json" 2>/dev/null || true
  end=$(date +%s%N)
  if grep -q 'Command terminated by signal' "$WORK/time"; then
    echo "error: $* was killed" >&2
    exit 1
  fi
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time")
  echo "$(( (end - start) / 1000000 )) $rss $(stat -c %s "$WORK/out.json")"
}

median_of() {
  local i
  for i in $(seq 1 "$RUNS"); do measure "$@"; done >"$WORK/runs"
  local col out=""
  for col in 1 2 3; do
    out="$out $(cut -d' ' -f$col "$WORK/runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
  done
  echo "$out"
}

row() {
  local name="$1"
  shift
  read -r ms rss bytes < <(median_of "$@")
  awk -v n="$name" -v ms="$ms" -v rss="$rss" -v b="$bytes" \
    'BEGIN {printf "| %s | %.3f s | %.1f MB | %.1f MB |\n", n, ms / 1000, rss / 1024, b / 1048576}'
}

echo "migsafe: $MIGSAFE ($("$MIGSAFE" --version)); runs per cell: $RUNS; $(nproc) CPUs"
echo
echo "| shape | time | peak RSS | report |"
echo "|---|---:|---:|---:|"
row "$N statements, a transaction per revision" "$MIGSAFE" check --format json "$WORK/per_revision.sql"
row "the same in one transaction block" "$MIGSAFE" check --format json "$WORK/one_transaction.sql"
row "the same without BEGIN/COMMIT (autocommit units)" "$MIGSAFE" check --format json "$WORK/autocommit.sql"
row "the same without revision markers (plain SQL)" "$MIGSAFE" check --format json "$WORK/plain.sql"
row "2,000 revisions, --downgrade, --schema of 2,000 tables" "$MIGSAFE" check --format json \
  --schema "$WORK/schema.sql" --downgrade "$WORK/history_down.sql" "$WORK/history.sql"
row "$((4 * N)) ADD COLUMN on one table" "$MIGSAFE" check --format json "$WORK/add_columns.sql"
row "the same in one transaction block" "$MIGSAFE" check --format json "$WORK/add_columns_block.sql"
row "50 MB of mixed plain SQL (text report)" env NO_COLOR=1 "$MIGSAFE" check --format text "$WORK/mixed_50mb.sql"
row "one 100 MB string literal (text report)" env NO_COLOR=1 "$MIGSAFE" check --format text "$WORK/literal_100mb.sql"
