#!/usr/bin/env bash
# Runs the whole test suite: formatting, lints, and `cargo test` (unit, snapshot, CLI and
# PostgreSQL-backed tests). PostgreSQL-backed tests use MIGSAFE_TEST_DATABASE_URL
# (default postgres://postgres@127.0.0.1:5432/postgres); when no server answers there, this script
# starts the machine's cluster, or a throwaway one with initdb/pg_ctl when PostgreSQL is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

export MIGSAFE_TEST_DATABASE_URL="${MIGSAFE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

pg_answers() {
  command -v pg_isready >/dev/null 2>&1 && pg_isready -q -d "$MIGSAFE_TEST_DATABASE_URL" -t 3
}

start_postgres() {
  if pg_answers; then return 0; fi
  if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
    for v in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$v" main start >/dev/null 2>&1 || true
    done
    for _ in $(seq 1 30); do pg_answers && return 0; sleep 1; done
  fi
  # A throwaway cluster on port 5432 when the machine has PostgreSQL binaries but no running cluster.
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$bin" ] && [ -x "$bin/initdb" ]; then
    local dir
    dir=$(mktemp -d /tmp/migsafe-pg.XXXXXX)
    local run_as=()
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir" 2>/dev/null && run_as=(runuser -u postgres --); fi
    "${run_as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust >/dev/null
    "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -o "-p 5432 -k $dir -c listen_addresses=127.0.0.1" -l "$dir/log" -w start >/dev/null
    for _ in $(seq 1 30); do pg_answers && return 0; sleep 1; done
  fi
  echo "scripts/test.sh: no PostgreSQL answers at $MIGSAFE_TEST_DATABASE_URL" >&2
  return 1
}

if ! start_postgres && [ "${CI:-}" = "true" ]; then
  echo "scripts/test.sh: PostgreSQL is required under CI" >&2
  exit 1
fi

# The lexer's judge (tests/lexer_judge.rs): PostgreSQL's own scanner, libpg_query through Python's
# pglast, installed into a virtual environment beside the build.
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
judge_venv="$target_dir/lexer-judge-venv"
if ! "$judge_venv/bin/python" -c 'import pglast' >/dev/null 2>&1; then
  python3 -m venv "$judge_venv"
  "$judge_venv/bin/pip" install --quiet --disable-pip-version-check 'pglast==8.8'
fi
export MIGSAFE_LEXER_JUDGE_PYTHON="$judge_venv/bin/python"

# One build per run: incremental state would only add gigabytes on a fresh clone.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

cargo fmt --all -- --check
cargo clippy --all-targets --all-features -- -D warnings
# Plain `cargo test` builds the CLI (the `migsafe` binary of the default `cli` feature, which
# tests/cli.rs runs) and runs the doc tests.
cargo test
# The `insta` feature's snapshot macro and its doc examples.
cargo test --features insta --test snapshot_macro
cargo test --features insta --doc

# The README's CI recipe on throwaway Alembic and Django projects, with the CLI `cargo test` built.
# Without python3, pip's network or a PostgreSQL server it says what it skipped; under CI=true a
# skip fails the suite as a failure does.
recipe_log="$target_dir/ci-recipe.log"
if ! command -v python3 >/dev/null 2>&1; then
  echo "scripts/test.sh: SKIPPED scripts/ci-recipe.sh: python3 is not installed" >&2
else
  recipe_rc=0
  MIGSAFE="$target_dir/debug/migsafe" bash scripts/ci-recipe.sh >"$recipe_log" 2>&1 || recipe_rc=$?
  case "$recipe_rc" in
    0) echo "scripts/ci-recipe.sh: the README's CI recipe passed (output: $recipe_log)" ;;
    3)
      grep '^ci-recipe: skipped' "$recipe_log" >&2 || true
      echo "scripts/test.sh: SKIPPED part of scripts/ci-recipe.sh (output: $recipe_log)" >&2
      if [ "${CI:-}" = "true" ]; then exit 1; fi
      ;;
    *)
      cat "$recipe_log" >&2
      echo "scripts/test.sh: scripts/ci-recipe.sh failed" >&2
      exit 1
      ;;
  esac
fi
