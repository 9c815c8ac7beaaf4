#!/usr/bin/env python3
"""migsafe vs squawk on the oracle cases: hazards caught, harmless statements flagged.

Ground truth is the PostgreSQL 15 labels in fixtures/oracle/<case>/expected.json. A statement is a
HAZARD when PostgreSQL showed that it
  - failed (status error), or
  - destroyed data (destroys_data), or
  - rewrote or fully scanned a table while a lock that blocks writes was held (its own lock, or one held
    by its transaction: `held`).
Every other statement is HARMLESS (brief locks, catalog-only changes, concurrent builds, bounded DML).
A tool FLAGS a statement when it reports something at warning level or above on it
(migsafe: error/warning findings; squawk: any violation, all of squawk's are warnings or errors).

usage: scripts/compare-squawk.py --squawk /tmp/squawk-venv/bin/squawk [--migsafe target/release/migsafe]
       [--exclude-squawk-rules require-lock-timeout,require-statement-timeout]
       [--exclude-migsafe-rules missing-lock-timeout,missing-statement-timeout] [--details]

The oracle cases set no lock_timeout (they measure locks, not queueing), so both tools' timeout rules fire
on nearly every DDL statement; the second pair of options measures everything else.

squawk: `python3 -m venv /tmp/squawk-venv && /tmp/squawk-venv/bin/pip install squawk-cli==2.70.0`.
"""
import argparse
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
WRITE_BLOCKING = {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}


def hazard(s):
    if s["status"] == "error":
        return True
    if s["destroys_data"]:
        return True
    heavy = s["rewrites_table"] or s["full_scan"]
    locks = {s.get("lock"), s.get("held")}
    return heavy and bool(locks & WRITE_BLOCKING)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--squawk", required=True)
    ap.add_argument("--migsafe", default=str(ROOT / "target/release/migsafe"))
    ap.add_argument("--exclude-squawk-rules", default="")
    ap.add_argument("--exclude-migsafe-rules", default="")
    ap.add_argument("--details", action="store_true")
    a = ap.parse_args()
    cases = sorted(p for p in (ROOT / "fixtures/oracle").iterdir() if (p / "expected.json").is_file())
    tally = {t: {"hazard": 0, "caught": 0, "harmless": 0, "flagged": 0} for t in ("migsafe", "squawk")}
    rows = []
    for case in cases:
        labels = json.loads((case / "expected.json").read_text())["statements"]
        mig = case / "migration.sql"
        setup = case / "setup.sql"
        out = subprocess.run([a.migsafe, "check", str(mig), "--schema", str(setup), "--format", "json",
                              "--fail-on", "critical"], capture_output=True, text=True)
        if out.returncode not in (0, 1):
            sys.exit(f"migsafe failed on {case.name}: {out.stderr}")
        report = json.loads(out.stdout)
        stmts = [s for s in report["statements"] if s["kind"] != "empty"]
        if len(stmts) != len(labels):
            sys.exit(f"{case.name}: {len(stmts)} statements vs {len(labels)} labels")
        cmd = [a.squawk, "--reporter", "json", "--pg-version", "15.0", str(mig)]
        if a.exclude_squawk_rules:
            cmd += ["--exclude", a.exclude_squawk_rules]
        sq = subprocess.run(cmd, capture_output=True, text=True)
        try:
            violations = json.loads(sq.stdout or "[]")
        except json.JSONDecodeError:
            sys.exit(f"squawk output on {case.name} is not JSON: {sq.stdout[:200]} {sq.stderr[:200]}")
        for s, lab in zip(stmts, labels):
            # squawk lines are 0-based; migsafe's spans 1-based.
            lo, hi = s["span"]["start_line"] - 1, s["span"]["end_line"] - 1
            sq_rules = sorted({v["rule_name"] for v in violations if lo <= v["line"] <= hi})
            skip = set(filter(None, a.exclude_migsafe_rules.split(",")))
            # A note is the statement's own hazard, reported by an earlier finding of one cause.
            ms_rules = sorted({f["rule"] for f in s["findings"] + s.get("notes", [])
                               if f["severity"] in ("error", "warning") and f["rule"] not in skip})
            if s["transaction"] == "bookkeeping" or s["kind"] in ("begin", "commit", "rollback"):
                continue
            h = hazard(lab)
            for tool, flagged in (("migsafe", bool(ms_rules)), ("squawk", bool(sq_rules))):
                t = tally[tool]
                if h:
                    t["hazard"] += 1
                    t["caught"] += flagged
                else:
                    t["harmless"] += 1
                    t["flagged"] += flagged
            rows.append((case.name, s["index"], "HAZARD" if h else "harmless", ms_rules, sq_rules,
                         s["sql"].splitlines()[0][:70]))
    print(f"{len(cases)} oracle cases, {tally['migsafe']['hazard'] + tally['migsafe']['harmless']} statements "
          f"(transaction control and bookkeeping left out)\n")
    print("| tool | hazards caught | harmless statements flagged |")
    print("|---|---|---|")
    for tool, t in tally.items():
        print(f"| {tool} | {t['caught']}/{t['hazard']} | {t['flagged']}/{t['harmless']} |")
    if a.details:
        print("\n| case | # | truth | migsafe | squawk | statement |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r[0]} | {r[1]} | {r[2]} | {', '.join(r[3]) or '-'} | {', '.join(r[4]) or '-'} | `{r[5]}` |")


if __name__ == "__main__":
    main()
