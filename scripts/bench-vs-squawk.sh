#!/usr/bin/env bash
# migsafe vs squawk on the same generated Alembic-style migrations, in one run.
#
# usage: scripts/bench-vs-squawk.sh [SIZES] [RUNS]
#        SIZES: statement counts, default "5000 10000 20000 40000"; RUNS: runs per cell, default 5
#
# Installs squawk-cli 2.70.0 from PyPI into a virtualenv ($SQUAWK_VENV, default /tmp/squawk-venv) when
# it is missing, builds migsafe's CLI with the release-lto profile (or uses $MIGSAFE), writes each input with
# scripts/gen-migration.py, and runs every tool RUNS times under `/usr/bin/time -v`. It prints a
# Markdown table: the median wall time, migsafe/squawk ratio, and the median peak RSS (maximum
# resident set size as /usr/bin/time -v reports it) of
#   - migsafe's full JSON report (`check --format json`: locks, rewrites, findings, rollback script)
#     against `squawk --reporter json`, and
#   - migsafe's text report (`check --format text`, no colour).
# squawk's own text reporter is left out by default because it grows quadratically (minutes at 40,000
# statements); SQUAWK_TEXT=1 adds it.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES="${1:-5000 10000 20000 40000}"
RUNS="${2:-5}"
VENV="${SQUAWK_VENV:-/tmp/squawk-venv}"
SQUAWK_VERSION=2.70.0

if ! "$VENV/bin/squawk" --version 2>/dev/null | grep -q "$SQUAWK_VERSION"; then
  echo "installing squawk-cli $SQUAWK_VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "squawk-cli==$SQUAWK_VERSION"
fi
SQUAWK="$VENV/bin/squawk"

if [ -z "${MIGSAFE:-}" ]; then
  cargo build --quiet --profile release-lto --bin migsafe
  MIGSAFE="${CARGO_TARGET_DIR:-target}/release-lto/migsafe"
fi

WORK=$(mktemp -d /tmp/bench-vs-squawk.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# Runs "$@" once; prints "SECONDS PEAK_RSS_KB". Output goes to /dev/null; both tools exit 1 when
# they report problems, which is expected here.
measure() {
  local start end
  start=$(date +%s%N)
  /usr/bin/time -v -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || true
  end=$(date +%s%N)
  local rss
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time")
  if grep -q 'Command terminated by signal' "$WORK/time"; then
    echo "error: $* was killed: $(cat "$WORK/time" | head -n 1)" >&2
    exit 1
  fi
  echo "$(( (end - start) / 1000000 )) $rss"
}

# Median over RUNS runs: prints "MILLISECONDS PEAK_RSS_KB" (each the median of its column).
median_of() {
  local i
  for i in $(seq 1 "$RUNS"); do measure "$@"; done >"$WORK/runs"
  local ms rss
  ms=$(cut -d' ' -f1 "$WORK/runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  rss=$(cut -d' ' -f2 "$WORK/runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$ms $rss"
}

fmt_s() { awk -v ms="$1" 'BEGIN {printf "%.3f s", ms / 1000}'; }
fmt_mb() { awk -v kb="$1" 'BEGIN {printf "%.1f MB", kb / 1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }

echo "migsafe: $MIGSAFE ($("$MIGSAFE" --version)); squawk: $("$SQUAWK" --version); runs per cell: $RUNS; $(nproc) CPUs"
echo
header="| statements | input | migsafe JSON | squawk JSON | ratio | migsafe RSS | squawk RSS | migsafe text | text RSS |"
rule="|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
if [ "${SQUAWK_TEXT:-0}" = 1 ]; then
  header="$header squawk text |"
  rule="$rule---:|"
fi
echo "$header"
echo "$rule"
for n in $SIZES; do
  file="$WORK/migration_$n.sql"
  python3 scripts/gen-migration.py "$n" >"$file"
  statements=$("$MIGSAFE" check "$file" --format json --fail-on critical | python3 -c 'import json, sys; print(json.load(sys.stdin)["summary"]["statements"])')
  size=$(du -k "$file" | cut -f1)
  read -r mj mjr <<<"$(median_of "$MIGSAFE" check "$file" --format json)"
  read -r sj sjr <<<"$(median_of "$SQUAWK" --reporter json "$file")"
  read -r mt mtr <<<"$(median_of env NO_COLOR=1 "$MIGSAFE" check "$file" --format text)"
  line="| $statements | $(awk -v k="$size" 'BEGIN {printf "%.1f MB", k / 1024}') | $(fmt_s "$mj") | $(fmt_s "$sj") | $(ratio "$mj" "$sj") | $(fmt_mb "$mjr") | $(fmt_mb "$sjr") | $(fmt_s "$mt") | $(fmt_mb "$mtr") |"
  if [ "${SQUAWK_TEXT:-0}" = 1 ]; then
    read -r st _ <<<"$(median_of "$SQUAWK" "$file")"
    line="$line $(fmt_s "$st") |"
  fi
  echo "$line"
done
