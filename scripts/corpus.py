#!/usr/bin/env python3
"""Measures migsafe over a folder of real migration exports (default: ../shared/corpus).

Prints four figures over every .sql file:
  1. files whose exit code is 0 or 1 (anything else is a failure), and that printed valid JSON;
  2. revisions found vs `-- Running` markers in the text;
  3. non-blank, non-comment lines that lie inside no statement's span;
  4. unparsed statements / all statements.
Exits 1 when a figure misses its bar (exit codes, JSON, revisions, uncovered lines, unparsed >= 1%).
"""
import json
import os
import re
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "corpus")
if not os.path.isdir(corpus):
    print(f"corpus: no folder {corpus}")
    sys.exit(2)

subprocess.run(["cargo", "build", "--quiet", "--release", "--bin", "migsafe"], cwd=root, check=True)
exe = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target")), "release", "migsafe")

files = sorted(
    os.path.join(d, f) for d, _, fs in os.walk(corpus) for f in fs if f.endswith(".sql")
)
bad_exit, bad_json, markers, revisions, rev_mismatch = [], [], 0, 0, []
uncovered, statements, unparsed = [], 0, 0
marker = re.compile(r"^-- Running (upgrade|downgrade) ")
for path in files:
    p = subprocess.run([exe, "check", "--format", "json", path], capture_output=True)
    if p.returncode not in (0, 1):
        bad_exit.append((path, p.returncode, p.stderr.decode(errors="replace").strip()))
        continue
    try:
        report = json.loads(p.stdout)
    except ValueError as e:
        bad_json.append((path, str(e)))
        continue
    text = open(path, encoding="utf-8").read()
    lines = text.split("\n")
    n_markers = sum(1 for l in lines if marker.match(l))
    markers += n_markers
    revisions += len(report["revisions"])
    if n_markers != len(report["revisions"]):
        rev_mismatch.append((path, n_markers, len(report["revisions"])))
    covered = set()
    for s in report["statements"]:
        covered.update(range(s["span"]["start_line"], s["span"]["end_line"] + 1))
    for no, line in enumerate(lines, 1):
        t = line.strip()
        if t and not t.startswith("--") and no not in covered:
            uncovered.append((path, no, t[:80]))
    statements += report["summary"]["statements"]
    unparsed += report["summary"]["unparsed"]

ok_files = len(files) - len(bad_exit) - len(bad_json)
share = 100.0 * unparsed / statements if statements else 0.0
print(f"files: {len(files)}; exit code 0/1 with valid JSON: {ok_files}/{len(files)}")
print(f"revisions found: {revisions}; '-- Running' markers: {markers}; files that differ: {len(rev_mismatch)}")
print(f"non-blank non-comment lines outside every statement: {len(uncovered)}")
print(f"unparsed statements: {unparsed}/{statements} ({share:.3f}%)")
for what, rows in (("exit", bad_exit), ("json", bad_json), ("revisions", rev_mismatch), ("uncovered", uncovered[:20])):
    for r in rows:
        print(f"  {what}: {r}")
sys.exit(0 if not (bad_exit or bad_json or rev_mismatch or uncovered) and share < 1.0 else 1)
