#!/usr/bin/env python3
"""Record ground-truth fixtures with the PostgreSQL oracle (tools/pg-oracle).

For every case directory under fixtures/oracle/ (or only the cases named on
the command line) this runs

    <venv python> oracle.py --setup setup.sql --migration migration.sql --rows N --out <tmp>.json

and writes <case>/expected.json: a deterministic digest of the oracle's
per-statement labels (no timings, oids or pids), keys sorted, 2-space indent,
trailing newline.

    scripts/oracle-record.py                      # all cases, --rows 20000
    scripts/oracle-record.py index_create tx_lock_table
    scripts/oracle-record.py --repeat 2           # run each case twice, fail if the digests differ
    scripts/oracle-record.py --check              # do not write; fail if expected.json would change

Only the Python standard library is needed here; the oracle itself runs as a
subprocess under --python (default: /tmp/oracle-venv/bin/python, which needs
psycopg2-binary and pglast installed).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES_DIR = os.path.join(REPO, "fixtures", "oracle")
DEFAULT_ORACLE = os.path.normpath(os.path.join(REPO, "..", "shared", "tools", "pg-oracle", "oracle.py"))

# oracle label words -> pg_locks mode names
LOCK_NAMES = {
    "ACCESS SHARE": "AccessShareLock",
    "ROW SHARE": "RowShareLock",
    "ROW EXCLUSIVE": "RowExclusiveLock",
    "SHARE UPDATE EXCLUSIVE": "ShareUpdateExclusiveLock",
    "SHARE": "ShareLock",
    "SHARE ROW EXCLUSIVE": "ShareRowExclusiveLock",
    "EXCLUSIVE": "ExclusiveLock",
    "ACCESS EXCLUSIVE": "AccessExclusiveLock",
}


def lock_name(label):
    if label in (None, "none", ""):
        return None
    if label in LOCK_NAMES.values():
        return label
    try:
        return LOCK_NAMES[label]
    except KeyError:
        raise SystemExit(f"unknown lock label from the oracle: {label!r}")


# parts of reason strings that could differ between runs
_OID = re.compile(r"\boid:\d+\b")
_PID = re.compile(r"\bpid[ =:]\d+\b", re.I)
_MS = re.compile(r"\b\d+(\.\d+)?\s*ms\b")
_SCRATCH = re.compile(r"\boracle_\d+_\d+(_r)?\b")


def clean_reason(s):
    s = _OID.sub("oid:?", s)
    s = _PID.sub("pid ?", s)
    s = _MS.sub("? ms", s)
    s = _SCRATCH.sub("oracle_db", s)
    return s


def clean_reasons(obj):
    """labels.reasons with run-dependent parts masked and lists sorted (the
    oracle builds some of them in catalog-query order, which has no ORDER BY)."""
    if isinstance(obj, dict):
        return {k: clean_reasons(v) for k, v in obj.items()}
    if isinstance(obj, list):
        items = [clean_reasons(v) for v in obj]
        if all(isinstance(v, str) for v in items):
            return sorted(items)
        return items
    if isinstance(obj, str):
        return clean_reason(obj)
    return obj


def error_text(err):
    """'SQLSTATE: first line of the message' (without the 'ERROR:' prefix)."""
    if not err:
        return None
    if isinstance(err, str):
        return err
    msg = (err.get("message") or "").strip()
    first = msg.splitlines()[0] if msg else ""
    first = re.sub(r"^(ERROR|FATAL):\s*", "", first)
    return f"{err.get('sqlstate')}: {clean_reason(first)}"


def status_of(st):
    if st.get("error"):
        return "error"
    if st.get("commit_error"):
        return "commit-error"
    if st.get("rolled_back"):
        return "rolled-back"
    return "ok"


def digest(result, rows):
    out = {
        "oracle_rows": rows,
        "server_version": result["server"]["server_version"],
        "statements": [],
    }
    for st in result["statements"]:
        lab = st["labels"]
        out["statements"].append({
            "index": st["index"],
            "sql": st["sql"],
            "mode": st["mode"],
            "status": status_of(st),
            "error": error_text(st.get("error") or st.get("commit_error")),
            "lock": lock_name(lab.get("lock_level")),
            "held": lock_name(lab.get("lock_level_held")),
            "rewrites_table": bool(lab.get("rewrites_table")),
            "full_scan": bool(lab.get("full_scan")),
            "destroys_data": bool(lab.get("destroys_data")),
            "rebuilds_index": bool(lab.get("rebuilds_index")),
            "reasons": clean_reasons(lab.get("reasons") or {}),
        })
    return out


# Cases whose lock label depends on a race inside the oracle: the statement takes
# a lock for a few milliseconds in an internal transaction that the oracle's
# lock ladder has already stopped watching, so 2 ms polling sees it in roughly
# half of the runs.  For these the case is run at least RACY_RUNS times and the
# run that saw the strongest lock is kept; every other field must agree.
RACY = {
    "partition_detach_concurrently":
        "the 2nd transaction of DETACH ... CONCURRENTLY locks the partition ACCESS EXCLUSIVE "
        "after the oracle released its blockers (CONCURRENTLY waits for their transactions)",
}
RACY_RUNS = 6
_RANK = {m: i for i, m in enumerate(LOCK_NAMES.values(), start=1)}


def merge_racy(digests):
    """Keep the strongest lock per statement; everything except lock, held and
    reasons.lock_level must be identical across the runs (else None)."""
    def core(d):
        return [{k: v for k, v in st.items() if k not in ("lock", "held", "reasons")} |
                {"reasons": {k: v for k, v in st["reasons"].items() if k != "lock_level"}}
                for st in d["statements"]]
    if any(core(d) != core(digests[0]) for d in digests):
        return None
    out = json.loads(json.dumps(digests[0]))
    for i, st in enumerate(out["statements"]):
        best = max((d["statements"][i] for d in digests), key=lambda x: _RANK.get(x["lock"], 0))
        st["lock"], st["held"] = best["lock"], best["held"]
        if "lock_level" in best["reasons"]:
            st["reasons"]["lock_level"] = best["reasons"]["lock_level"]
        else:
            st["reasons"].pop("lock_level", None)
    return out


def render(obj):
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def run_oracle(args, case_dir, keep_raw=None):
    with tempfile.TemporaryDirectory(prefix="oracle-record-") as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [args.python, args.oracle,
               "--setup", os.path.join(case_dir, "setup.sql"),
               "--migration", os.path.join(case_dir, "migration.sql"),
               "--rows", str(args.rows), "--out", out]
        for opt in ("host", "port", "user"):
            v = getattr(args, opt)
            if v:
                cmd += [f"--{opt}", str(v)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"oracle failed for {case_dir} (exit {p.returncode}):\n{p.stderr[-4000:]}")
        with open(out) as f:
            result = json.load(f)
        if keep_raw:
            os.makedirs(keep_raw, exist_ok=True)
            with open(os.path.join(keep_raw, os.path.basename(case_dir) + ".json"), "w") as f:
                json.dump(result, f, indent=2)
        return result


def record_case(args, name):
    case_dir = os.path.join(CASES_DIR, name)
    texts = []
    if name in RACY:
        # each "run" is itself RACY_RUNS oracle runs merged by strongest lock
        for i in range(args.repeat):
            ds = [digest(run_oracle(args, case_dir, args.keep_raw if i == j == 0 else None), args.rows)
                  for j in range(RACY_RUNS)]
            m = merge_racy(ds)
            texts.append(render(m) if m is not None else f"non-lock fields differ between runs ({i})\n")
    else:
        for i in range(args.repeat):
            res = run_oracle(args, case_dir, args.keep_raw if i == 0 else None)
            texts.append(render(digest(res, args.rows)))
    stable = all(t == texts[0] for t in texts)
    path = os.path.join(case_dir, "expected.json")
    old = open(path).read() if os.path.exists(path) else None
    changed = old != texts[0]
    if not args.check and stable:
        with open(path, "w") as f:
            f.write(texts[0])
    diff = None
    if not stable:
        import difflib
        diff = "".join(difflib.unified_diff(texts[0].splitlines(True), next(t for t in texts if t != texts[0]).splitlines(True),
                                            "run1", "runN", n=2))
    return name, stable, changed, diff


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="*", help="case directory names (default: all under fixtures/oracle)")
    ap.add_argument("--rows", type=int, default=20000, help="value for {{rows}} (default 20000)")
    ap.add_argument("--oracle", default=DEFAULT_ORACLE, help=f"oracle.py (default {DEFAULT_ORACLE})")
    ap.add_argument("--python", default=os.environ.get("ORACLE_PYTHON", "/tmp/oracle-venv/bin/python"),
                    help="python with psycopg2 (+ pglast) to run the oracle (env ORACLE_PYTHON)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port")
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--repeat", type=int, default=1, help="run each case N times; fail if the digests differ")
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if any expected.json would change")
    ap.add_argument("--jobs", "-j", type=int, default=1, help="cases run in parallel (default 1)")
    ap.add_argument("--keep-raw", help="directory to keep the oracle's full result JSON of each case")
    args = ap.parse_args(argv)

    names = args.cases or sorted(d for d in os.listdir(CASES_DIR)
                                 if os.path.isfile(os.path.join(CASES_DIR, d, "migration.sql")))
    for n in names:
        for f in ("setup.sql", "migration.sql"):
            if not os.path.isfile(os.path.join(CASES_DIR, n, f)):
                raise SystemExit(f"{n}: missing {f}")
    if args.keep_raw:
        args.keep_raw = os.path.abspath(args.keep_raw)

    unstable, changed, failed = [], [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = {ex.submit(record_case, args, n): n for n in names}
        for fut in concurrent.futures.as_completed(futs):
            n = futs[fut]
            try:
                _, stable, ch, diff = fut.result()
            except Exception as e:
                failed.append(n)
                print(f"FAIL      {n}: {e}", file=sys.stderr)
                continue
            tag = "unstable" if not stable else ("changed" if ch else "same")
            print(f"{tag:9} {n}", flush=True)
            if not stable:
                unstable.append(n)
                print(diff, file=sys.stderr)
            if ch:
                changed.append(n)
    print(f"{len(names)} cases: {len(changed)} changed, {len(unstable)} unstable, {len(failed)} failed")
    if failed or unstable or (args.check and changed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
