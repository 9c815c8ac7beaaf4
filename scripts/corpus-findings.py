#!/usr/bin/env python3
"""Counts migsafe's findings on real revisions, each checked with the schema before it.

    scripts/corpus-findings.py [--exe PATH] [--dump FILE] [--compare FILE] [CORPUS]

CORPUS (default ../shared/corpus) holds Alembic projects (`<project>/upgrade/NNNN_<rev>.sql`, NNNN in
topological order) and Django apps (`django/django/<app>/forward/NNNN_*.sql`). Every revision is checked
with `--schema` = the exports of all revisions before it, concatenated (Alembic's offline export
reads as the schema it builds). Prints findings by rule and severity, and the warnings + errors.

--dump FILE writes, per statement, the rules of its warnings and errors and of its notes (JSON).
--compare FILE (an earlier dump) lists the statements that had a warning or an error there and
have neither a warning, an error nor a note now: hazards that would have been lost.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DJANGO_APPS = ["contenttypes", "auth", "admin", "sessions", "sites", "flatpages", "redirects"]


def histories(corpus):
    """Each history: a name and its revision files in the order they run."""
    for project in sorted(os.listdir(corpus)):
        up = os.path.join(corpus, project, "upgrade")
        if os.path.isdir(up):
            yield project, [os.path.join(up, f) for f in sorted(os.listdir(up)) if f.endswith(".sql")]
    django = os.path.join(corpus, "django", "django")
    if os.path.isdir(django):
        files = []
        for app in DJANGO_APPS:
            forward = os.path.join(django, app, "forward")
            if os.path.isdir(forward):
                files += [os.path.join(forward, f) for f in sorted(os.listdir(forward))]
        yield "django", files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=os.path.join(root, "..", "shared", "corpus"))
    ap.add_argument("--exe", default=os.path.join(root, "target", "release", "migsafe"))
    ap.add_argument("--dump")
    ap.add_argument("--compare")
    args = ap.parse_args()
    if not os.path.isdir(args.corpus):
        print(f"corpus-findings: no folder {args.corpus}")
        return 2
    counts = collections.Counter()
    notes = collections.Counter()
    dump = {}
    revisions = statements = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, files in histories(args.corpus):
            schema_path = os.path.join(tmp, f"{name}.sql")
            schema = ""
            for path in files:
                with open(schema_path, "w") as f:
                    f.write(schema)
                cmd = [args.exe, "check", path, "--format", "json", "--no-config"]
                if schema:
                    cmd += ["--schema", schema_path]
                p = subprocess.run(cmd, capture_output=True, text=True)
                if p.returncode not in (0, 1):
                    print(f"{path}: exit {p.returncode}: {p.stderr.strip()}", file=sys.stderr)
                    return 1
                report = json.loads(p.stdout)
                revisions += 1
                for s in report["statements"]:
                    statements += 1
                    flagged = []
                    for f in s["findings"]:
                        counts[(f["rule"], f["severity"])] += 1
                        if f["severity"] in ("warning", "error"):
                            flagged.append(f["rule"])
                    for n in s.get("notes", []):
                        notes[n["rule"]] += 1
                        flagged.append("note:" + n["rule"])
                    key = f"{os.path.relpath(path, args.corpus)}:{s['span']['start_line']}"
                    dump[key] = flagged
                with open(path) as f:
                    schema += f.read() + "\n"
    rules = sorted({r for r, _ in counts} | set(notes))
    print(f"{revisions} revisions, {statements} statements\n")
    print(f"| rule | error | warning | info | notes |\n|---|---:|---:|---:|---:|")
    for r in rules:
        row = [counts[(r, s)] for s in ("error", "warning", "info")]
        print(f"| {r} | {row[0]} | {row[1]} | {row[2]} | {notes[r]} |")
    total = {s: sum(v for (_, sev), v in counts.items() if sev == s) for s in ("error", "warning", "info")}
    print(f"| **total** | {total['error']} | {total['warning']} | {total['info']} | {sum(notes.values())} |")
    print(f"\nwarnings + errors: {total['error'] + total['warning']}")
    if args.dump:
        with open(args.dump, "w") as f:
            json.dump(dump, f, indent=0, sort_keys=True)
    if args.compare:
        with open(args.compare) as f:
            before = json.load(f)
        lost = [k for k, v in before.items() if [r for r in v if not r.startswith("note:")] and not dump.get(k)]
        print(f"statements flagged before and not at all now: {len(lost)}")
        for k in lost:
            print(f"  {k}: {before[k]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
