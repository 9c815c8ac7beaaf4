#!/usr/bin/env bash
# Writes migsafe's reports of every SQL file under the given folders, in every format, into one
# folder per run, so that two builds can be compared with `diff -r`.
#
# usage: scripts/report-outputs.sh OUT_DIR [FOLDER...]
#        FOLDER: where to look for *.sql files (default: fixtures, and ../shared/corpus and
#        ../shared/squawk-fixtures when present). $MIGSAFE names the binary (default: build the
#        release CLI).
#
# Per file: `check --format {text,json,markdown,sarif,github}` and `rollback`, each output with
# its exit code on the last line. A fixture's `*.downgrade.sql` companion is passed as --downgrade.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="${1:?usage: scripts/report-outputs.sh OUT_DIR [FOLDER...]}"
shift
if [ "$#" -eq 0 ]; then
  set -- fixtures
  for extra in ../shared/corpus ../shared/squawk-fixtures; do
    [ -d "$extra" ] && set -- "$@" "$extra"
  done
fi

if [ -z "${MIGSAFE:-}" ]; then
  cargo build --quiet --release --bin migsafe
  MIGSAFE="${CARGO_TARGET_DIR:-target}/release/migsafe"
fi

mkdir -p "$OUT"
count=0
while IFS= read -r -d '' file; do
  case "$file" in *.downgrade.sql) continue ;; esac
  name=$(printf '%s' "$file" | sed 's|^\.\./||; s|/|__|g')
  extra=()
  down="${file%.sql}.downgrade.sql"
  [ -f "$down" ] && extra=(--downgrade "$down")
  for format in text json markdown sarif github; do
    {
      NO_COLOR=1 "$MIGSAFE" check "$file" --format "$format" "${extra[@]}" 2>&1 && rc=0 || rc=$?
      echo "exit $rc"
    } >"$OUT/$name.$format"
  done
  {
    "$MIGSAFE" rollback "$file" 2>&1 && rc=0 || rc=$?
    echo "exit $rc"
  } >"$OUT/$name.rollback"
  count=$((count + 1))
done < <(find "$@" -name '*.sql' -type f -print0 | sort -z)
echo "$count files, $((count * 6)) reports in $OUT"
