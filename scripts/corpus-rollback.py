#!/usr/bin/env python3
"""Round trips of migsafe's generated rollback over real Alembic histories, revision by revision.

For each project of the corpus (default ../shared/corpus/{mlflow,prefect}), walks the revisions in
topological order (file order NNNN of upgrade/NNNN_<rev>.sql) as one chain on a scratch "state"
database. For revision k, with the state holding everything before k:

  1. pg_dump --schema-only of the state -> migsafe check --format json --schema dump upgrade/NNNN.sql;
     the claimed reversibility is the worst `reversible` of its non-bookkeeping statements.
  2. clone the state (CREATE DATABASE ... TEMPLATE), snapshot, run the revision statement by
     statement in autocommit (BEGIN/COMMIT skipped), run the generated rollback (every statement's
     `rollback` list, last statement first), snapshot: the round trip passes when the snapshots agree.
     The same rollback then runs a second time: it must run, and leave the schema as it was.
  3. on another clone: the revision, then the project's own downgrade/NNNN.sql; its snapshot is
     compared with the one after migsafe's rollback.
  4. the revision is applied to the state (a statement that fails is recorded and skipped).

Revisions that meta.json says cannot render offline have no SQL: they are skipped and counted (the
chain goes on without their effect, so later revisions may fail forward because of them).

The snapshot queries are those of tests/postgres.rs (keep the two in step).

Needs: python3 with psycopg2 (e.g. `python3 -m venv /tmp/corpus-venv &&
/tmp/corpus-venv/bin/pip install psycopg2-binary`), pg_dump, a PostgreSQL server (default
postgresql://postgres@127.0.0.1:5432/postgres, or MIGSAFE_TEST_DATABASE_URL / --dsn) and the migsafe
binary (built with cargo unless --migsafe is given).

Usage: corpus-rollback.py [--corpus DIR] [--project mlflow --project prefect] [--migsafe BIN]
                          [--json OUT.json] [--details] [--limit N]
"""
import argparse
import atexit
import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

try:
    import psycopg2
    import psycopg2.extensions
except ImportError:
    print("corpus-rollback: needs psycopg2 (pip install psycopg2-binary)", file=sys.stderr)
    sys.exit(2)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RANK = {"exact": 0, "lossy": 1, "impossible": 2}
TXN = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION|END)\s*;*\s*$", re.I)
ALEMBIC_VERSION_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+alembic_version\b", re.I)

# The alembic bookkeeping table exactly as a whole-history export creates it.
ALEMBIC_VERSION_DDL = """CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
)"""

# MLflow does not start from an empty database: mlflow.store.db.utils._initialize_tables runs
# InitialBase.metadata.create_all (mlflow/store/tracking/dbmodels/initial_models.py, the 0.9.1
# schema) before `alembic upgrade`. This is that metadata's DDL for PostgreSQL (its defaults are
# Python-side, so none reach the server).
BASE_SCHEMA = {
    "mlflow": [
        """CREATE TABLE experiments (
    experiment_id SERIAL NOT NULL,
    name VARCHAR(256) NOT NULL,
    artifact_location VARCHAR(256),
    lifecycle_stage VARCHAR(32),
    CONSTRAINT experiment_pk PRIMARY KEY (experiment_id),
    UNIQUE (name),
    CONSTRAINT experiments_lifecycle_stage CHECK (lifecycle_stage IN ('active', 'deleted'))
)""",
        """CREATE TABLE runs (
    run_uuid VARCHAR(32) NOT NULL,
    name VARCHAR(250),
    source_type VARCHAR(20),
    source_name VARCHAR(500),
    entry_point_name VARCHAR(50),
    user_id VARCHAR(256),
    status VARCHAR(20),
    start_time BIGINT,
    end_time BIGINT,
    source_version VARCHAR(50),
    lifecycle_stage VARCHAR(20),
    artifact_uri VARCHAR(200),
    experiment_id INTEGER,
    CONSTRAINT run_pk PRIMARY KEY (run_uuid),
    FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id),
    CONSTRAINT source_type CHECK (source_type IN ('NOTEBOOK', 'JOB', 'LOCAL', 'UNKNOWN', 'PROJECT')),
    CONSTRAINT status CHECK (status IN ('SCHEDULED', 'FAILED', 'FINISHED', 'RUNNING')),
    CONSTRAINT runs_lifecycle_stage CHECK (lifecycle_stage IN ('active', 'deleted'))
)""",
        """CREATE TABLE tags (
    key VARCHAR(250) NOT NULL,
    value VARCHAR(250),
    run_uuid VARCHAR(32) NOT NULL,
    CONSTRAINT tag_pk PRIMARY KEY (key, run_uuid),
    FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
)""",
        """CREATE TABLE metrics (
    key VARCHAR(250) NOT NULL,
    value FLOAT NOT NULL,
    timestamp BIGINT NOT NULL,
    run_uuid VARCHAR(32) NOT NULL,
    CONSTRAINT metric_pk PRIMARY KEY (key, timestamp, run_uuid),
    FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
)""",
        """CREATE TABLE params (
    key VARCHAR(250) NOT NULL,
    value VARCHAR(250) NOT NULL,
    run_uuid VARCHAR(32) NOT NULL,
    CONSTRAINT param_pk PRIMARY KEY (key, run_uuid),
    FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
)""",
    ],
}

# --- snapshot: the queries of tests/postgres.rs ----------------------------------------------

USER = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
# The privileges a relation's owner has while its ACL is NULL (never granted or revoked).
ACLDEFAULT = "acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner)"
SNAPSHOT_QUERIES = [
    f"SELECT 'rel ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || c.relpersistence::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND c.relkind IN ('r','p','v','m','S','f')",
    f"SELECT 'col ' || n.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END || CASE WHEN a.attgenerated <> '' THEN ' generated' ELSE '' END FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE {USER} AND c.relkind IN ('r','p','v','m','f') AND a.attnum > 0 AND NOT a.attisdropped",
    f"SELECT 'idx ' || indexdef FROM pg_indexes i JOIN pg_namespace n ON n.nspname = i.schemaname WHERE {USER}",
    f"SELECT 'con ' || n.nspname || '.' || c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) || CASE WHEN k.convalidated THEN '' ELSE ' (not validated)' END FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER}",
    f"SELECT 'enum ' || n.nspname || '.' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER} GROUP BY n.nspname, t.typname",
    f"SELECT 'type ' || n.nspname || '.' || t.typname || ' ' || t.typtype::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER} AND t.typtype IN ('d','e','c') AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)",
    f"SELECT 'view ' || n.nspname || '.' || c.relname || ' ' || pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND c.relkind IN ('v','m')",
    "SELECT 'trigger ' || tgrelid::regclass::text || ' ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text FROM pg_trigger t WHERE NOT t.tgisinternal",
    f"SELECT 'fn ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')",
    "SELECT 'ext ' || extname FROM pg_extension",
    f"SELECT 'schema ' || n.nspname FROM pg_namespace n WHERE {USER} AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'",
    "SELECT 'comment ' || classoid::regclass::text || ' ' || objoid::regclass::text || ' ' || objsubid || ' ' || description FROM pg_description WHERE classoid = 'pg_class'::regclass AND objoid >= 16384",
    f"SELECT 'owner ' || n.nspname || '.' || c.relname || ' ' || pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND c.relkind IN ('r','p','v','m','S','f')",
    f"SELECT 'grant ' || n.nspname || '.' || c.relname || ' ' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ' ' || a.privilege_type || CASE WHEN a.is_grantable THEN ' with grant option' ELSE '' END FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, {ACLDEFAULT})) a WHERE {USER} AND c.relkind IN ('r','p','v','m','S','f') AND (a.grantee, a.privilege_type, a.is_grantable) NOT IN (SELECT d.grantee, d.privilege_type, d.is_grantable FROM aclexplode({ACLDEFAULT}) d)",
    f"SELECT 'revoke ' || n.nspname || '.' || c.relname || ' ' || pg_get_userbyid(d.grantee) || ' ' || d.privilege_type FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode({ACLDEFAULT}) d WHERE {USER} AND c.relkind IN ('r','p','v','m','S','f') AND c.relacl IS NOT NULL AND (d.grantee, d.privilege_type, d.is_grantable) NOT IN (SELECT a.grantee, a.privilege_type, a.is_grantable FROM aclexplode(c.relacl) a)",
    f"SELECT 'seq ' || n.nspname || '.' || c.relname || ' as ' || format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache || CASE WHEN s.seqcycle THEN ' cycle' ELSE ' no cycle' END FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER}",
    f"SELECT 'owned ' || n.nspname || '.' || c.relname || ' by ' || tn.nspname || '.' || t.relname || '.' || a.attname FROM pg_depend d JOIN pg_class c ON c.oid = d.objid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid WHERE {USER} AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' AND c.relkind = 'S'",
    f"SELECT 'cluster ' || n.nspname || '.' || t.relname || ' on ' || i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE {USER} AND x.indisclustered",
    f"SELECT 'relopt ' || n.nspname || '.' || c.relname || ' ' || array_to_string(ARRAY(SELECT o FROM unnest(c.reloptions) o ORDER BY o), ',') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND c.relkind IN ('r','p','v','m','f') AND c.reloptions IS NOT NULL",
    f"SELECT 'colopt ' || n.nspname || '.' || c.relname || '.' || a.attname || CASE WHEN a.attstorage <> t.typstorage THEN ' storage ' || a.attstorage::text ELSE '' END || CASE WHEN a.attcompression <> '' THEN ' compression ' || a.attcompression::text ELSE '' END || CASE WHEN a.attcollation <> t.typcollation THEN ' collate ' || a.attcollation::regcollation::text ELSE '' END FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid WHERE {USER} AND c.relkind IN ('r','p','v','m','f') AND a.attnum > 0 AND NOT a.attisdropped AND (a.attstorage <> t.typstorage OR a.attcompression <> '' OR a.attcollation <> t.typcollation)",
    f"SELECT 'stats ' || pg_get_statisticsobjdef(s.oid) || CASE WHEN s.stxstattarget >= 0 THEN ' target ' || s.stxstattarget ELSE '' END FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE {USER}",
    f"SELECT 'inherit ' || n.nspname || '.' || c.relname || ' from ' || pn.nspname || '.' || p.relname || coalesce(' ' || pg_get_expr(c.relpartbound, c.oid), '') FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE {USER} AND c.relkind IN ('r','p','f')",
    f"SELECT 'domcon ' || n.nspname || '.' || t.typname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) || CASE WHEN k.convalidated THEN '' ELSE ' (not validated)' END FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER} AND k.contypid <> 0",
]


def snapshot(conn):
    out = []
    with conn.cursor() as cur:
        for q in SNAPSHOT_QUERIES:
            cur.execute(q)
            out.extend(r[0] or "" for r in cur.fetchall())
    return sorted(out)


def object_key(line):
    """The object a snapshot line describes (so that a changed column is one change, not two)."""
    kind, _, rest = line.partition(" ")
    if kind == "idx":
        m = re.match(r"CREATE (?:UNIQUE )?INDEX (\S+) ON (?:ONLY )?(\S+)", rest)
        return f"index {m.group(1)}" if m else line
    if kind == "con":
        parts = rest.split(" ", 2)
        return f"constraint {parts[0]}.{parts[1]}" if len(parts) > 1 else line
    if kind in ("col", "rel", "enum", "type", "view"):
        name = {"col": "column", "rel": "relation"}.get(kind, kind)
        return f"{name} {rest.split(' ', 1)[0]}"
    if kind == "trigger":
        m = re.search(r"CREATE (?:CONSTRAINT )?TRIGGER (\S+)", rest)
        return f"trigger {rest.split(' ', 1)[0]}.{m.group(1) if m else '?'}"
    if kind == "comment":
        parts = rest.split(" ", 3)
        return f"comment {' '.join(parts[:3])}"
    if kind in ("grant", "revoke"):
        parts = rest.split(" ", 3)
        return f"{kind} {' '.join(parts[:3])}"
    if kind == "domcon":
        parts = rest.split(" ", 2)
        return f"domain constraint {parts[0]}.{parts[1]}" if len(parts) > 1 else line
    if kind == "stats":
        m = re.match(r"CREATE STATISTICS (\S+)", rest)
        return f"statistics {m.group(1)}" if m else line
    if kind == "inherit":
        parts = rest.split(" ", 3)
        return f"inheritance {' '.join(parts[:3])}"
    if kind in ("owner", "seq", "owned", "cluster", "relopt", "colopt"):
        name = {"owner": "owner of", "seq": "sequence", "owned": "owner column of sequence",
                "cluster": "clustering of", "relopt": "storage parameters of",
                "colopt": "column options of"}[kind]
        return f"{name} {rest.split(' ', 1)[0]}"
    return line


def describe(line):
    kind, _, rest = line.partition(" ")
    name = {"idx": "", "con": "constraint ", "col": "column ", "rel": "relation ", "fn": "function ",
            "ext": "extension ", "enum": "enum ", "type": "type ", "view": "view ",
            "trigger": "trigger ", "schema": "schema ", "comment": "comment ", "owner": "owner of ",
            "grant": "privilege on ", "revoke": "owner's privilege revoked on ", "seq": "sequence ",
            "owned": "ownership of sequence ", "cluster": "clustered table ", "relopt": "storage parameters of ",
            "colopt": "column options ", "stats": "", "inherit": "inheritance ",
            "domcon": "domain constraint "}.get(kind, kind + " ")
    return name + rest


def changes(expected, actual):
    """Object-level differences: [(kind, key, expected line or None, actual line or None)]."""
    exp = collections.defaultdict(list)
    act = collections.defaultdict(list)
    for l in set(expected) - set(actual):
        exp[object_key(l)].append(l)
    for l in set(actual) - set(expected):
        act[object_key(l)].append(l)
    out = []
    for key in sorted(set(exp) | set(act)):
        e, a = exp.get(key, []), act.get(key, [])
        if e and a:
            out.append(("changed", key, "; ".join(sorted(e)), "; ".join(sorted(a))))
        elif e:
            for l in sorted(e):
                out.append(("missing", key, l, None))
        else:
            for l in sorted(a):
                out.append(("extra", key, None, l))
    return out


def diff_text(expected, actual, indent="      "):
    lines = []
    for what, key, e, a in changes(expected, actual):
        if what == "changed":
            note = ("  [same expression modulo casts/parentheses: PostgreSQL deparses it differently once re-created]"
                    if normalised(e) == normalised(a) else "")
            lines.append(f"{indent}changed {key}:{note}\n{indent}    before: {e}\n{indent}    after:  {a}")
        elif what == "missing":
            lines.append(f"{indent}missing after rollback: {describe(e)}")
        else:
            lines.append(f"{indent}left over by rollback:  {describe(a)}")
    return "\n".join(lines)


# --- databases ------------------------------------------------------------------------------

class Server:
    def __init__(self, dsn):
        self.dsn = dsn
        self.admin = psycopg2.connect(dsn)
        self.admin.autocommit = True
        self.created = []
        self.seq = 0

    def dsn_for(self, db):
        if "://" in self.dsn:
            base, _, tail = self.dsn.rpartition("/")
            q = ""
            if "?" in tail:
                q = "?" + tail.split("?", 1)[1]
            return f"{base}/{db}{q}"
        return f"{self.dsn} dbname={db}"

    def create(self, template=None):
        self.seq += 1
        name = f"migsafe_corpus_{os.getpid()}_{self.seq}"
        with self.admin.cursor() as cur:
            if template:
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (template,),
                )
                cur.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
            else:
                cur.execute(f"CREATE DATABASE {name}")
        self.created.append(name)
        return name

    def connect(self, db):
        c = psycopg2.connect(self.dsn_for(db))
        c.autocommit = True
        return c

    def drop(self, name):
        try:
            with self.admin.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except psycopg2.Error as e:
            print(f"corpus-rollback: could not drop {name}: {e}", file=sys.stderr)
            return
        if name in self.created:
            self.created.remove(name)

    def drop_all(self):
        for name in list(self.created):
            self.drop(name)


def run_all(conn, sqls):
    """Runs statements one by one in autocommit. Returns None, or (statement, error)."""
    with conn.cursor() as cur:
        for sql in sqls:
            if TXN.match(sql):
                continue
            try:
                cur.execute(sql)
            except psycopg2.Error as e:
                return sql, (e.pgerror or str(e)).strip().splitlines()[0]
    return None


def run_each(conn, sqls):
    """Runs every statement, going on past failures. Returns [(statement, error)]."""
    failed = []
    with conn.cursor() as cur:
        for sql in sqls:
            if TXN.match(sql):
                continue
            try:
                cur.execute(sql)
            except psycopg2.Error as e:
                failed.append((sql, (e.pgerror or str(e)).strip().splitlines()[0]))
    return failed


# --- migsafe --------------------------------------------------------------------------------

def find_migsafe(arg):
    if arg:
        return arg
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    subprocess.run(["cargo", "build", "--quiet", "--release", "--bin", "migsafe"], cwd=ROOT, check=True)
    return os.path.join(target, "release", "migsafe")


def migsafe_report(exe, path, schema=None):
    cmd = [exe, "check", "--format", "json", "--fail-on", "critical"]
    if schema:
        cmd += ["--schema", schema]
    cmd.append(path)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"migsafe exited {p.returncode} on {path}: {p.stderr.strip()[:500]}")
    return json.loads(p.stdout)


def runnable(report):
    """The statements to execute, in order (blank/prose chunks and the alembic_version creation,
    which the state already has, left out)."""
    return [
        s for s in report["statements"]
        if s["kind"] not in ("empty", "text") and not ALEMBIC_VERSION_TABLE.match(s["sql"])
    ]


def claimed(stmts):
    worst = "exact"
    for s in stmts:
        if s["transaction"] == "bookkeeping" or s["kind"] in ("begin", "commit"):
            continue
        r = s.get("reversible") or "exact"
        if RANK.get(r, 2) > RANK[worst]:
            worst = r
    return worst


def short(sql, n=160):
    one = " ".join(sql.split())
    return one if len(one) <= n else one[: n - 1] + "…"


def reason_key(reason):
    """Groups migsafe's irreversibility reasons: names and literals taken out."""
    head, sep, why = reason.partition(": ")
    if not sep:
        why, head = reason, ""
    words = head.split()
    verb = " ".join(w for w in words if w.isupper() and w.isalpha())
    why = re.sub(r"'[^']*'", "'…'", why)
    why = re.sub(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", "…", why)
    return f"{verb}: {why}" if verb else why


# --- one project ----------------------------------------------------------------------------

def run_project(server, exe, corpus, project, work, limit, details):
    pdir = os.path.join(corpus, project)
    meta = json.load(open(os.path.join(pdir, "meta.json")))
    revs = sorted(meta["revisions"], key=lambda r: r["n"])
    if limit:
        revs = revs[:limit]
    res = {
        "project": project, "revisions": len(revs), "skipped": [], "results": [],
        "irreversible": collections.Counter(), "irreversible_example": {},
    }
    state = server.create()
    conn = server.connect(state)
    init = BASE_SCHEMA.get(project, []) + [ALEMBIC_VERSION_DDL]
    err = run_all(conn, init)
    conn.close()
    if err:
        raise RuntimeError(f"{project}: base schema: {err}")
    pwork = os.path.join(work, project)
    os.makedirs(pwork, exist_ok=True)
    schema_path = os.path.join(pwork, "schema.sql")
    for rev in revs:
        rid, n = rev["revision"], rev["n"]
        up = rev.get("upgrade") or {}
        if not up.get("ok"):
            res["skipped"].append((n, rid, up.get("error", "?")))
            print(f"  {n:04} {rid} skipped: cannot render offline ({up.get('error', '?')})", flush=True)
            continue
        r = {"n": n, "revision": rid, "message": rev.get("message", "")}
        res["results"].append(r)
        # 1. the schema before, migsafe's report
        subprocess.run(
            ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "-f", schema_path,
             server.dsn_for(state)],
            check=True, capture_output=True,
        )
        report = migsafe_report(exe, os.path.join(pdir, up["file"]), schema_path)
        stmts = runnable(report)
        forward = [s["sql"] for s in stmts]
        rollback = [sql for s in reversed(stmts) for sql in s.get("rollback") or []]
        r["claimed"] = claimed(stmts)
        r["rollback_complete"] = report["rollback"].get("complete")
        r["irreversible"] = [x["reason"] for x in report["rollback"].get("irreversible") or []]
        for reason in r["irreversible"]:
            k = reason_key(reason)
            res["irreversible"][k] += 1
            res["irreversible_example"].setdefault(k, f"{rid}: {reason}")
        r["stmts"] = stmts
        # 2. round trip on a clone
        clone = server.create(state)
        c = server.connect(clone)
        before = snapshot(c)
        r["before"] = before
        fail = run_all(c, forward)
        if fail:
            r["forward_failed"] = fail
        else:
            fail = run_all(c, rollback)
            if fail:
                r["rollback_failed"] = fail
            else:
                r["after_rollback"] = snapshot(c)
                r["round_trip"] = r["after_rollback"] == before
                # the same rollback a second time (re-run after a stop half-way, or by mistake):
                # it must run and leave the schema as it was before the revision
                fail = run_all(c, rollback)
                if fail:
                    r["second_run_failed"] = fail
                else:
                    again = snapshot(c)
                    if again != before and again != r["after_rollback"]:
                        r["after_second_run"] = again
        c.close()
        server.drop(clone)
        # 3. the project's own downgrade on another clone
        down = rev.get("downgrade") or {}
        if "forward_failed" in r:
            pass
        elif not down.get("ok"):
            r["downgrade_missing"] = down.get("error", "no downgrade file")
        else:
            dreport = migsafe_report(exe, os.path.join(pdir, down["file"]))
            clone = server.create(state)
            c = server.connect(clone)
            run_all(c, forward)
            fail = run_all(c, [s["sql"] for s in runnable(dreport)])
            if fail:
                r["downgrade_failed"] = fail
            else:
                r["after_downgrade"] = snapshot(c)
            c.close()
            server.drop(clone)
        # 4. advance the state
        c = server.connect(state)
        failed = run_each(c, forward)
        c.close()
        if failed:
            r["state_failed"] = failed
        status = ("FORWARD FAILED" if "forward_failed" in r else
                  "rollback failed" if "rollback_failed" in r else
                  "pass" if r.get("round_trip") else "FAIL")
        if "second_run_failed" in r:
            status += ", second run failed"
        elif "after_second_run" in r:
            status += ", second run differs"
        dstat = ("" if "after_downgrade" not in r or "after_rollback" not in r else
                 " downgrade=generated" if r["after_downgrade"] == r["after_rollback"] else " downgrade differs")
        if "downgrade_failed" in r:
            dstat = " downgrade failed"
        print(f"  {n:04} {rid} {r['claimed']:<10} {status}{dstat}", flush=True)
        if details and status != "pass":
            explain(r, "    ")
    server.drop(state)
    return res


def explain(r, ind):
    if "forward_failed" in r:
        sql, e = r["forward_failed"]
        print(f"{ind}forward: {short(sql)}\n{ind}  -> {e}")
    if "rollback_failed" in r:
        sql, e = r["rollback_failed"]
        print(f"{ind}rollback statement: {short(sql)}\n{ind}  -> {e}")
    if r.get("round_trip") is False:
        print(diff_text(r["before"], r["after_rollback"], ind + "  "))
    if "second_run_failed" in r:
        sql, e = r["second_run_failed"]
        print(f"{ind}rollback statement, second run: {short(sql)}\n{ind}  -> {e}")
    if "after_second_run" in r:
        print(f"{ind}after the rollback's second run:")
        print(diff_text(r["before"], r["after_second_run"], ind + "  "))


# --- downgrade vs generated -----------------------------------------------------------------

KIND_NAMES = {"rel": "table", "col": "column", "idx": "index", "con": "constraint", "enum": "enum type",
              "type": "enum type", "view": "view", "trigger": "trigger", "fn": "function",
              "ext": "extension", "schema": "schema", "comment": "comment", "owner": "owner of",
              "grant": "privilege", "revoke": "revoked owner privilege", "seq": "sequence",
              "owned": "owner column of sequence", "cluster": "clustering of", "relopt": "storage parameters of",
              "colopt": "column options of", "stats": "statistics", "inherit": "inheritance of",
              "domcon": "domain constraint"}


def table_of(line):
    kind, _, rest = line.partition(" ")
    if kind in ("rel", "owner", "grant", "revoke", "seq", "owned", "cluster", "relopt", "inherit"):
        return rest.split(" ", 1)[0]
    if kind in ("col", "colopt"):
        return rest.split(" ", 1)[0].rsplit(".", 1)[0]
    if kind == "con":
        return rest.split(" ", 1)[0]
    if kind == "idx":
        m = re.search(r" ON (?:ONLY )?(\S+) USING", rest)
        return m.group(1) if m else None
    return None


def name_of(line):
    kind, _, rest = line.partition(" ")
    if kind == "idx":
        m = re.match(r"CREATE (?:UNIQUE )?INDEX (\S+)", rest)
        name = m.group(1) if m else rest
    elif kind in ("con", "domcon"):
        parts = rest.split(" ", 2)
        name = f"{parts[1]} on {parts[0]}" if len(parts) > 1 else rest
    elif kind in ("grant", "revoke"):
        parts = rest.split(" ", 3)
        name = f"{parts[2]} on {parts[0]} for {parts[1]}" if len(parts) > 2 else rest
    elif kind == "stats":
        m = re.match(r"CREATE STATISTICS (\S+)", rest)
        name = m.group(1) if m else rest
    else:
        name = rest.split(" ", 1)[0]
    return name.replace("public.", "")


def definition(line):
    """The part of a snapshot line after the object's name."""
    kind, _, rest = line.partition(" ")
    if kind in ("con", "domcon"):
        return rest.split(" ", 2)[2] if rest.count(" ") >= 2 else rest
    if kind == "stats":
        return rest.split(" ", 3)[3] if rest.count(" ") >= 3 else rest
    if kind == "idx":
        m = re.search(r" USING (.*)$", rest)
        return ("UNIQUE " if " UNIQUE " in f" {rest}" else "") + (m.group(1) if m else rest)
    return rest.split(" ", 1)[1] if " " in rest else ""


def normalised(text):
    """A snapshot line with casts, parentheses and spaces taken out: PostgreSQL deparses some
    expressions differently after a dump and restore (`IN (...)` on varchar becomes `= ANY
    ((ARRAY[...])::text[])`, then `= ANY (ARRAY[(...)::text, ...])`)."""
    text = re.sub(r"::[a-z][a-z ]*(\(\d+(,\d+)?\))?(\[\])?", "", text)
    return re.sub(r"[()\s]", "", text)


def downgrade_reasons(r):
    """Why the author's downgrade and migsafe's rollback end in different schemas: a list of
    (category, phrase), one per object, a table's columns/indexes/constraints folded into it."""
    before = set(r["before"])
    items = []
    for what, key, g, d in changes(r["after_rollback"], r["after_downgrade"]):
        # g: line(s) only after the generated rollback; d: line(s) only after the downgrade
        if what == "changed":
            g_before = all(x in before for x in g.split("; "))
            d_before = all(x in before for x in d.split("; "))
            side = "downgrade" if g_before else "generated rollback" if d_before else "both"
            now, was = (d, g) if g_before else (g, d)
            line = now.split("; ")[0]
            detail = f"{definition(line)[:90]}, was {definition(was.split('; ')[0])[:90]}"
            if normalised(now) == normalised(was):
                detail = "same expression deparsed differently by PostgreSQL"
            items.append((side, "does not revert", line, detail))
        elif what == "missing":
            items.append(("downgrade", "does not restore", g, "") if g in before
                         else ("generated rollback", "leaves", g, ""))
        else:
            items.append(("generated rollback", "does not restore", d, "") if d in before
                         else ("downgrade", "leaves", d, ""))
    tables = {(side, verb, table_of(l)) for side, verb, l, _ in items if l.startswith("rel ")}
    enums = {(side, verb, name_of(l)) for side, verb, l, _ in items if l.startswith("enum ")}
    out = []
    for side, verb, line, detail in items:
        kind = line.split(" ", 1)[0]
        if kind != "rel" and (side, verb, table_of(line)) in tables:
            continue
        if kind == "type" and (side, verb, name_of(line)) in enums:
            continue
        what = KIND_NAMES.get(kind, kind)
        phrase = f"{side} {verb} {what} {name_of(line)}" + (f" ({detail})" if detail else "")
        out.append((f"{side} {verb} {what}", phrase))
    return out


# --- report ---------------------------------------------------------------------------------

def summarise(res, details):
    results = res["results"]
    p = res["project"]
    print()
    print(f"== {p}: {res['revisions']} revisions ==")
    by = collections.defaultdict(list)
    for r in results:
        by[r["claimed"]].append(r)
    ran = [r for r in results if "round_trip" in r]
    passed = [r for r in ran if r["round_trip"]]
    fwd = [r for r in results if "forward_failed" in r]
    rbf = [r for r in results if "rollback_failed" in r]
    srf = [r for r in results if "second_run_failed" in r]
    srd = [r for r in results if "after_second_run" in r]
    rows = [
        ("revisions", res["revisions"]),
        ("skipped (cannot render offline)", len(res["skipped"])),
        ("run", len(results)),
        ("claimed exact / lossy / impossible",
         f"{len(by['exact'])} / {len(by['lossy'])} / {len(by['impossible'])}"),
        ("forward failed on the clone (no round trip)", len(fwd)),
        ("generated rollback failed to run", len(rbf)),
        ("generated rollback failed on its second run", len(srf)),
        ("  second run ran but left another schema", len(srd)),
        ("round trips passing, all run", f"{len(passed)} / {len(results)}"),
    ]
    for cl in ("exact", "lossy", "impossible"):
        group = by[cl]
        ok = sum(1 for r in group if r.get("round_trip"))
        nrun = sum(1 for r in group if "forward_failed" not in r)
        rows.append((f"  claimed {cl}: pass / forward ran / claimed", f"{ok} / {nrun} / {len(group)}"))
    rows.append(("reversed exactly (claimed exact, round trip passes)",
                 sum(1 for r in by["exact"] if r.get("round_trip"))))
    el = [r for r in results if r["claimed"] in ("exact", "lossy") and "forward_failed" not in r]
    rows.append(("  exact+lossy: pass / forward ran", f"{sum(1 for r in el if r.get('round_trip'))} / {len(el)}"))
    both = [r for r in results if "after_downgrade" in r and "after_rollback" in r]
    differ = [r for r in both if r["after_downgrade"] != r["after_rollback"]]
    dfail = [r for r in results if "downgrade_failed" in r]
    dmiss = [r for r in results if "downgrade_missing" in r]
    rows += [
        ("own downgrade vs generated rollback: compared", len(both)),
        ("  same schema", len(both) - len(differ)),
        ("  different", len(differ)),
        ("  downgrade == schema before", sum(1 for r in both if r["after_downgrade"] == r["before"])),
        ("own downgrade failed to run", len(dfail)),
        ("own downgrade not rendered (meta.json)", len(dmiss)),
        ("state: revisions with statements failing forward", sum(1 for r in results if "state_failed" in r)),
    ]
    w = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"  {k:<{w}}  {v}")

    if res["skipped"]:
        print("\n  skipped revisions:")
        for n, rid, e in res["skipped"]:
            print(f"    {n:04} {rid}: {e}")
    if fwd:
        print("\n  forward failures (on the clone; the chain lacks the skipped revisions' effects):")
        for r in fwd:
            sql, e = r["forward_failed"]
            print(f"    {r['n']:04} {r['revision']} ({r['claimed']}): {short(sql, 110)}\n         -> {e}")
    if rbf:
        print("\n  generated rollback failed to run:")
        for r in rbf:
            sql, e = r["rollback_failed"]
            print(f"    {r['n']:04} {r['revision']} ({r['claimed']}): {short(sql, 110)}\n         -> {e}")
    if srf:
        print("\n  generated rollback failed on its second run (after a first run that ran):")
        for r in srf:
            sql, e = r["second_run_failed"]
            print(f"    {r['n']:04} {r['revision']} ({r['claimed']}): {short(sql, 110)}\n         -> {e}")
    if srd:
        print("\n  generated rollback's second run left another schema:")
        for r in srd:
            print(f"    {r['n']:04} {r['revision']} ({r['claimed']}):")
            print(diff_text(r["before"], r["after_second_run"], "         "))
    bad = [r for r in ran if not r["round_trip"]]
    if bad:
        print("\n  failing round trips:")
        for r in bad:
            ch = changes(r["before"], r["after_rollback"])
            print(f"    {r['n']:04} {r['revision']} ({r['claimed']}): {len(ch)} object(s) differ")
            if details or r["claimed"] != "impossible":
                print(diff_text(r["before"], r["after_rollback"], "         "))
            else:
                for what, key, e, a in ch[:3]:
                    print(f"         {what} {key}")
                if len(ch) > 3:
                    print(f"         … {len(ch) - 3} more")
    if differ:
        cats = collections.Counter()
        examples = {}
        print("\n  own downgrade vs generated rollback, differences:")
        for r in differ:
            reasons = downgrade_reasons(r)
            print(f"    {r['n']:04} {r['revision']} ({r['claimed']}, round trip "
                  f"{'pass' if r['round_trip'] else 'fail'}, downgrade "
                  f"{'restores' if r['after_downgrade'] == r['before'] else 'does not restore'} the schema):")
            seen = set()
            for cat, phrase in reasons:
                print(f"         {short(phrase, 180)}")
                if cat not in seen:
                    cats[cat] += 1
                    seen.add(cat)
                examples.setdefault(cat, f"{r['revision']}: {short(phrase, 110)}")
        print("\n  difference reasons (number of revisions):")
        for k, v in cats.most_common():
            print(f"    {v:4}  {k}   e.g. {examples[k]}")
    if dfail:
        print("\n  own downgrade failed to run:")
        for r in dfail:
            sql, e = r["downgrade_failed"]
            print(f"    {r['n']:04} {r['revision']}: {short(sql, 110)}\n         -> {e}")
    if res["irreversible"]:
        print("\n  top reasons for \"impossible\" (rollback.irreversible):")
        for k, v in res["irreversible"].most_common(12):
            print(f"    {v:4}  {k}\n          e.g. {res['irreversible_example'][k]}")
    return {
        "project": p,
        "revisions": res["revisions"],
        "skipped": len(res["skipped"]),
        "claimed": {k: len(v) for k, v in by.items()},
        "passed": len(passed),
        "forward_failed": len(fwd),
        "rollback_failed": len(rbf),
        "second_run_failed": len(srf),
        "second_run_differs": len(srd),
        "downgrade_compared": len(both),
        "downgrade_differs": len(differ),
        "downgrade_failed": len(dfail),
        "failing_exact_or_lossy": sorted({r["revision"] for r in bad + rbf + srf + srd
                                          if r["claimed"] != "impossible"}),
    }


def print_bugs(all_results):
    bugs = [(p, r) for p, res in all_results for r in res["results"]
            if r["claimed"] in ("exact", "lossy")
            and (r.get("round_trip") is False or "rollback_failed" in r
                 or "second_run_failed" in r or "after_second_run" in r)]
    print()
    print(f"== revisions claimed exact or lossy whose round trip fails: {len(bugs)} ==")
    for p, r in bugs:
        print(f"\n-- {p} {r['n']:04} {r['revision']} ({r['claimed']}) {r['message']}")
        print("   statements (reversible → rollback):")
        for s in r["stmts"]:
            if TXN.match(s["sql"]) or s["transaction"] == "bookkeeping":
                continue
            print(f"     [{s['reversible']}] {' '.join(s['sql'].split())}")
            for rb in s.get("rollback") or []:
                print(f"         ↩ {' '.join(rb.split())}")
        if "rollback_failed" in r:
            sql, e = r["rollback_failed"]
            print(f"   rollback failed at: {short(sql, 200)}\n     -> {e}")
        elif r.get("round_trip") is False:
            print("   schema diff (before → after forward + rollback):")
            print(diff_text(r["before"], r["after_rollback"], "     "))
        if "second_run_failed" in r:
            sql, e = r["second_run_failed"]
            print(f"   rollback failed on its second run at: {short(sql, 200)}\n     -> {e}")
        if "after_second_run" in r:
            print("   schema diff (before → after forward + rollback + rollback again):")
            print(diff_text(r["before"], r["after_second_run"], "     "))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=os.path.join(ROOT, "..", "shared", "corpus"))
    ap.add_argument("--project", action="append", help="mlflow, prefect (repeatable; default both)")
    ap.add_argument("--migsafe", help="migsafe binary (default: cargo build --release --bin migsafe)")
    ap.add_argument("--dsn", default=os.environ.get("MIGSAFE_TEST_DATABASE_URL",
                                                    "postgresql://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--json", help="write the figures as JSON here")
    ap.add_argument("--details", action="store_true", help="print every diff")
    ap.add_argument("--limit", type=int, help="only the first N revisions of each project")
    args = ap.parse_args()
    projects = args.project or ["mlflow", "prefect"]
    exe = find_migsafe(args.migsafe)
    server = Server(args.dsn)
    atexit.register(server.drop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = tempfile.mkdtemp(prefix="corpus-rollback-")
    all_results, figures = [], []
    try:
        for p in projects:
            print(f"{p}:", flush=True)
            res = run_project(server, exe, args.corpus, p, work, args.limit, args.details)
            all_results.append((p, res))
        for p, res in all_results:
            figures.append(summarise(res, args.details))
        print_bugs(all_results)
    finally:
        server.drop_all()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    bad = sum(len(f["failing_exact_or_lossy"]) for f in figures)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
