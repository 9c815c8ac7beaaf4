#!/usr/bin/env bash
# Runs the README's CI recipe ("In CI") end to end on throwaway projects and prints the real output
# the README shows (checking that it does):
#
# - Alembic: a project with three revisions (create a table; add a column; create an index on the
#   existing table), the first one on the base branch and the other two in a pull request; the
#   schema before the PR and the PR's revisions are exported with `alembic upgrade … --sql` (no
#   database) and checked with `migsafe check`.
# - Django: a project with an app whose first migration is on the base branch and whose second
#   (a column and an index on the existing table) is in the pull request; `manage.py migrate` builds
#   the base schema in a scratch database, `pg_dump --schema-only` exports it and `manage.py
#   sqlmigrate` exports each new migration. sqlmigrate connects to PostgreSQL even though it only
#   prints SQL, so this part needs a server (PGHOST/PGPORT/PGUSER/PGPASSWORD, or
#   MIGSAFE_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres).
#
# The recipe's commands are the lines of ALEMBIC_EXPORT, ALEMBIC_CHECK, … below, run as GitHub
# Actions runs a `run:` block; every one of them must appear verbatim in README.md (the PR comment
# step in docs/install.md).
#
# usage: scripts/ci-recipe.sh [--install]
#   --install  install migsafe with the README's `cargo install --locked --path …` into a temporary
#              root (a release build) instead of using $MIGSAFE or the debug build `cargo test`
#              makes.
#
# Exit status: 0 when every part ran and passed; 1 when a check failed; 3 when a part was skipped
# because something it needs is missing (python3, pip or the network, Django, a PostgreSQL server);
# the parts that could run still ran. The Python packages (from PyPI on the first run) live in a
# virtual environment kept between runs, $CARGO_TARGET_DIR/ci-recipe-venv (default target/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

install=0
for a in "$@"; do
  case "$a" in
    --install) install=1 ;;
    *) echo "usage: scripts/ci-recipe.sh [--install]" >&2; exit 2 ;;
  esac
done

target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac

skipped=()
failed=()
skip() { echo "!!! SKIPPED: $*" >&2; skipped+=("$*"); }
fail() { echo "!!! FAILED: $*" >&2; failed+=("$*"); }

finish() {
  echo
  for s in "${skipped[@]+"${skipped[@]}"}"; do echo "ci-recipe: skipped: $s" >&2; done
  for f in "${failed[@]+"${failed[@]}"}"; do echo "ci-recipe: failed: $f" >&2; done
  if [ ${#failed[@]} -gt 0 ]; then exit 1; fi
  if [ ${#skipped[@]} -gt 0 ]; then exit 3; fi
  echo "ci-recipe: every part of the README's CI recipe ran and passed"
  exit 0
}

# ---------------------------------------------------------------------------------------------
# The recipe: exactly what the README's GitHub Actions jobs run.

# shellcheck disable=SC2016 # expanded by the `bash -c` that runs them
ALEMBIC_EXPORT='git worktree add ../base "origin/$GITHUB_BASE_REF"
BASE=$(cd ../base && alembic heads | awk '\''{print $1; exit}'\'')
alembic upgrade "base:$BASE" --sql > schema.sql
alembic upgrade "$BASE:head" --sql > migration.sql'
ALEMBIC_CHECK='migsafe check migration.sql --schema schema.sql --alembic-versions alembic/versions --format github'
ALEMBIC_SARIF='migsafe check migration.sql --schema schema.sql --alembic-versions alembic/versions --format sarif --fail-on critical > migsafe.sarif'
ALEMBIC_TEXT='migsafe check migration.sql --schema schema.sql --alembic-versions alembic/versions'
# docs/install.md's PR comment step.
ALEMBIC_MARKDOWN='migsafe check migration.sql --schema schema.sql --alembic-versions alembic/versions --format markdown --fail-on critical > migsafe.md'

# shellcheck disable=SC2016
DJANGO_EXPORT='git worktree add ../base "origin/$GITHUB_BASE_REF"
(cd ../base && python manage.py migrate --verbosity 0)
pg_dump --schema-only > schema.sql
git diff --name-only --diff-filter=A "origin/$GITHUB_BASE_REF...HEAD" -- '\''*/migrations/0*.py'\'' |
  while read -r f; do python manage.py sqlmigrate "$(basename "$(dirname "$(dirname "$f")")")" "$(basename "$f" .py)"; done > migration.sql'
DJANGO_CHECK='migsafe check migration.sql --schema schema.sql --format github'
DJANGO_TEXT='migsafe check migration.sql --schema schema.sql'

INSTALL='cargo install --locked --path .'

# Every line of these blocks is in FILE (indentation aside).
doc_shows() { # FILE BLOCK...
  local file=$1 block line
  shift
  for block in "$@"; do
    while IFS= read -r line; do
      line="${line#"${line%%[![:space:]]*}"}"
      [ -z "$line" ] && continue
      grep -qF -- "$line" "$file" || fail "$file does not show this line of the recipe: $line"
    done <<<"$block"
  done
}

# Runs a block of the recipe as GitHub Actions runs `run:` (bash -e, pipefail), echoing it first.
# Its exit status is left in $rc, its standard output in $out and $work/out (both printed, standard
# error after standard output).
run_block() {
  echo
  sed 's/^/$ /' <<<"$1"
  rc=0
  bash --noprofile --norc -eo pipefail -c "$1" >"$work/out" 2>"$work/err" || rc=$?
  out=$(cat "$work/out")
  cat "$work/out" "$work/err"
  echo "[exit $rc]"
}

# The README's console block that runs COMMAND shows what the last block printed: line for line,
# a shown line that ends in "…" being the start of the printed one.
readme_shows_output() { # COMMAND
  if ! python3 - "$root/README.md" "$1" "$work/out" <<'PY'
import sys
readme, command, printed = sys.argv[1:]
lines = open(readme, encoding="utf-8").read().split("\n")
try:
    start = lines.index("$ " + command) + 1
except ValueError:
    sys.exit(f"README.md has no console line `$ {command}`")
shown = []
for line in lines[start:]:
    if line.startswith("$ ") or line == "```":
        break
    shown.append(line)
actual = open(printed, encoding="utf-8").read().split("\n")
if actual and actual[-1] == "":
    actual.pop()
ok = len(shown) == len(actual) and all(
    a.startswith(s[:-1]) if s.endswith("…") else a == s for s, a in zip(shown, actual)
)
if not ok:
    sys.exit("README.md line %d: `%s` shows\n%s\nbut printed\n%s"
             % (start, command, "\n".join(shown), "\n".join(actual)))
PY
  then
    fail "README.md does not show what \`$1\` printed"
  fi
}

# ---------------------------------------------------------------------------------------------

doc_shows README.md "$INSTALL" "$ALEMBIC_EXPORT" "$ALEMBIC_CHECK" "$ALEMBIC_SARIF" "$DJANGO_EXPORT" "$DJANGO_CHECK"
doc_shows docs/install.md "$ALEMBIC_MARKDOWN"

if ! command -v python3 >/dev/null 2>&1; then
  skip "python3 is not installed: the Alembic and Django recipes need it"
  finish
fi

work=$(mktemp -d /tmp/migsafe-ci-recipe.XXXXXX)
scratch_db=""
cleanup() {
  if [ -n "$scratch_db" ]; then
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $scratch_db" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# migsafe on PATH, as `cargo install` leaves it.
mkdir -p "$work/bin"
if [ "$install" = 1 ]; then
  echo "\$ $INSTALL   # from $root, into $work/cargo"
  start=$(date +%s)
  if cargo install --locked --path . --root "$work/cargo" --quiet; then
    echo "[installed in $(($(date +%s) - start)) s]"
    ln -s "$work/cargo/bin/migsafe" "$work/bin/migsafe"
  else
    fail "$INSTALL"
    finish
  fi
elif [ -n "${MIGSAFE:-}" ]; then
  ln -s "$(cd "$(dirname "$MIGSAFE")" && pwd)/$(basename "$MIGSAFE")" "$work/bin/migsafe"
else
  cargo build --quiet --bin migsafe
  ln -s "$target_dir/debug/migsafe" "$work/bin/migsafe"
fi
export PATH="$work/bin:$PATH"

# The Python side in a virtual environment beside the build.
venv="$target_dir/ci-recipe-venv"
pip_install() {
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
}
if ! "$venv/bin/python" -c 'import alembic, sqlalchemy' >/dev/null 2>&1; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    skip "python3 cannot create a virtual environment (python3-venv missing?)"
    finish
  fi
  if ! pip_install 'alembic>=1.13' 'sqlalchemy>=2'; then
    rm -rf "$venv"
    skip "pip cannot install alembic and sqlalchemy (no network?)"
    finish
  fi
fi
export PATH="$venv/bin:$PATH"
export GITHUB_BASE_REF=main
export GIT_AUTHOR_NAME=ci-recipe GIT_AUTHOR_EMAIL=ci-recipe@example.com
export GIT_COMMITTER_NAME=ci-recipe GIT_COMMITTER_EMAIL=ci-recipe@example.com
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

# A repository on a "server" with the base branch, and a clone checked out at the pull request,
# as actions/checkout leaves it with fetch-depth 0.
# $work/NAME/app is the checkout; the recipe adds $work/NAME/base beside it.
new_repo() {
  mkdir "$work/$1"
  git init -q --bare -b main "$work/$1/origin.git"
  git clone -q "$work/$1/origin.git" "$work/$1/app" 2>/dev/null
  git -C "$work/$1/app" checkout -q -b main
}
push_base_and_branch() {
  git add -A && git commit -q -m "base" && git push -q origin main
  git checkout -q -b pr
}

# Looks for a line in the output of the last block.
expect() {
  if ! grep -qE -- "$1" <<<"$out"; then fail "$2: the output has no line matching /$1/"; fi
}
expect_exit() {
  if [ "$rc" != "$1" ]; then fail "$2: exit status $rc, expected $1"; fi
}

# ---------------------------------------------------------------------------------------------
echo
echo "=== Alembic ($(alembic --version 2>&1 | tail -n 1), SQLAlchemy $(python -c 'import sqlalchemy; print(sqlalchemy.__version__)'), $(migsafe --version))"
new_repo alembic
cd "$work/alembic/app"
printf 'alembic>=1.13\nsqlalchemy>=2\n' >requirements.txt
alembic init -q alembic >/dev/null 2>&1 || alembic init alembic >/dev/null
# Offline (--sql) mode needs only the dialect: no driver, no server.
sed -i 's#^sqlalchemy.url = .*#sqlalchemy.url = postgresql://localhost/app#' alembic.ini

revision() { # REV DOWN_REV SLUG MESSAGE UPGRADE DOWNGRADE
  cat >"alembic/versions/$1_$3.py" <<EOF
"""$4

Revision ID: $1
Revises: ${2:-}
"""
from alembic import op
import sqlalchemy as sa

revision = "$1"
down_revision = $([ -n "$2" ] && echo "\"$2\"" || echo None)
branch_labels = None
depends_on = None


def upgrade():
$5


def downgrade():
$6
EOF
}
revision 1a7e3c9b2d40 "" create_orders "create orders" \
  '    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("total", sa.Numeric(10, 2), nullable=False),
    )' \
  '    op.drop_table("orders")'
push_base_and_branch
revision 5b2f8e1d9c63 1a7e3c9b2d40 add_status "add orders.status" \
  '    op.add_column("orders", sa.Column("status", sa.Text(), nullable=True))' \
  '    op.drop_column("orders", "status")'
revision 9d4a6c0e7f18 5b2f8e1d9c63 index_status "index orders.status" \
  '    op.create_index("ix_orders_status", "orders", ["status"])' \
  '    op.drop_index("ix_orders_status", table_name="orders")'
git add -A && git commit -q -m "pr"

run_block 'pip install -r requirements.txt --quiet --disable-pip-version-check'
run_block "$ALEMBIC_EXPORT"
if [ "$rc" != 0 ]; then
  fail "Alembic export"
else
  echo "--- schema.sql: $(grep -c . schema.sql) lines, migration.sql: $(grep -c . migration.sql) lines"
  if ! grep -q 'CREATE TABLE orders' schema.sql || grep -q 'CREATE TABLE orders' migration.sql; then
    fail "Alembic export: schema.sql should create orders, migration.sql should not"
  fi
  run_block "$ALEMBIC_CHECK"
  expect_exit 1 "Alembic check --format github (risk high)"
  expect '^::error .*file=alembic/versions/9d4a6c0e7f18_index_status\.py' "Alembic check --format github"
  expect 'create-index-non-concurrently' "Alembic check --format github"
  readme_shows_output "$ALEMBIC_CHECK"
  run_block "$ALEMBIC_SARIF"
  expect_exit 0 "Alembic check --format sarif --fail-on critical"
  if ! python -c 'import json,sys; d=json.load(open("migsafe.sarif")); sys.exit(0 if any(r.get("ruleId")=="create-index-non-concurrently" for run in d["runs"] for r in run["results"]) else 1)'; then
    fail "Alembic check --format sarif: migsafe.sarif has no create-index-non-concurrently result"
  fi
  echo "--- migsafe.sarif: $(wc -c <migsafe.sarif) bytes"
  run_block "$ALEMBIC_MARKDOWN"
  expect_exit 0 "Alembic check --format markdown --fail-on critical"
  if ! grep -q 'create-index-non-concurrently' migsafe.md; then
    fail "Alembic check --format markdown: migsafe.md does not name create-index-non-concurrently"
  fi
  echo "--- migsafe.md: $(grep -c . migsafe.md) lines"
  run_block "$ALEMBIC_TEXT"
  expect_exit 1 "Alembic check (text)"
  expect '^(warning|error)\[create-index-non-concurrently\]' "Alembic check (text)"
fi

# ---------------------------------------------------------------------------------------------
echo
echo "=== Django"
django_ready() {
  "$venv/bin/python" -c 'import django, psycopg' >/dev/null 2>&1 ||
    pip_install 'django>=4.2' 'psycopg[binary]>=3.1'
}
# The server: libpq's variables, else MIGSAFE_TEST_DATABASE_URL's parts.
if [ -z "${PGHOST:-}" ]; then
  eval "$(python3 - "${MIGSAFE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" <<'EOF'
import shlex, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
for k, v in (("PGHOST", u.hostname), ("PGPORT", u.port), ("PGUSER", u.username), ("PGPASSWORD", u.password)):
    if v:
        print(f"export {k}={shlex.quote(urllib.parse.unquote(str(v)))}")
EOF
)"
fi
if ! django_ready; then
  skip "Django recipe: pip cannot install django and psycopg (no network?)"
elif ! command -v pg_dump >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
  skip "Django recipe: pg_dump and psql are not installed"
elif ! psql -X -q -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
  skip "Django recipe: no PostgreSQL server answers at ${PGHOST:-localhost}:${PGPORT:-5432} (manage.py sqlmigrate connects to one)"
else
  scratch_db="migsafe_ci_recipe_$$"
  psql -X -q -d postgres -c "CREATE DATABASE $scratch_db" >/dev/null
  export PGDATABASE="$scratch_db"
  echo "(django $(python -c 'import django; print(django.get_version())'), psycopg $(python -c 'import psycopg; print(psycopg.__version__)'), PostgreSQL $(psql -X -qAt -c 'SHOW server_version'), database $scratch_db)"

  new_repo django
  cd "$work/django/app"
  printf 'django>=4.2\npsycopg[binary]>=3.1\n' >requirements.txt
  django-admin startproject mysite .
  python manage.py startapp shop
  python - <<'EOF'
import re
p = "mysite/settings.py"
s = open(p).read()
s = s.replace("'django.contrib.staticfiles',", "'django.contrib.staticfiles',\n    'shop',")
# The server comes from libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE).
s = re.sub(r"DATABASES = \{.*?\n\}\n", """DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("PGDATABASE", "postgres"),
    }
}
""", s, flags=re.S)
s = "import os\n" + s
open(p, "w").write(s)
EOF
  cat >shop/models.py <<'EOF'
from django.db import models


class Order(models.Model):
    total = models.DecimalField(max_digits=10, decimal_places=2)
EOF
  python manage.py makemigrations shop --name orders --verbosity 0
  push_base_and_branch
  cat >shop/models.py <<'EOF'
from django.db import models


class Order(models.Model):
    total = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.TextField(null=True)

    class Meta:
        indexes = [models.Index(fields=["status"], name="shop_order_status_idx")]
EOF
  python manage.py makemigrations shop --name order_status --verbosity 0
  git add -A && git commit -q -m "pr"

  run_block 'pip install -r requirements.txt --quiet --disable-pip-version-check'
  run_block "$DJANGO_EXPORT"
  if [ "$rc" != 0 ]; then
    fail "Django export"
  else
    echo "--- schema.sql: $(grep -c . schema.sql) lines, migration.sql: $(grep -c . migration.sql) lines"
    if ! grep -q 'CREATE TABLE public.shop_order' schema.sql || ! grep -q 'CREATE INDEX "shop_order_status_idx"' migration.sql; then
      fail "Django export: schema.sql should create shop_order, migration.sql should index it"
    fi
    run_block "$DJANGO_CHECK"
    expect_exit 1 "Django check --format github (risk high)"
    expect '^::(error|warning) .*file=migration\.sql' "Django check --format github"
    expect 'create-index-non-concurrently' "Django check --format github"
    run_block "$DJANGO_TEXT"
    expect_exit 1 "Django check (text)"
    expect '^(warning|error)\[create-index-non-concurrently\]' "Django check (text)"
  fi
fi

finish
