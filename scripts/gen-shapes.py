#!/usr/bin/env python3
"""Writes migrations of hostile shapes (for scripts/bench-shapes.sh) into a directory.

usage: scripts/gen-shapes.py DIR [N]

N (default 20000) is the statement count of the first four files:
- per_revision.sql: scripts/gen-migration.py's migration (a transaction block per revision);
- one_transaction.sql: the statements of scripts/gen-migration.py in ONE transaction block (what
  `alembic upgrade --sql` writes by default: transaction_per_migration is off), so the block holds
  thousands of statements and locks on thousands of tables;
- autocommit.sql: the same without BEGIN/COMMIT, revision markers kept (every statement is a commit
  unit of its revision);
- plain.sql: the same without BEGIN/COMMIT and without revision markers (a plain SQL file: one
  "revision" of N commit units);
and a history for the downgrade comparison:
- schema.sql: 2,000 tables, each with an index;
- history.sql / history_down.sql: 2,000 Alembic revisions, one ALTER TABLE each, and the author's
  downgrade, which forgets every other column;
- add_columns.sql / add_columns_block.sql: 4 * N `ALTER TABLE t ADD COLUMN cK int` on one table,
  without and inside one transaction block (a table that grows with the file);
- mixed_50mb.sql: about 50 MB of mixed plain SQL (DDL, DML, DO blocks, seed INSERTs), no markers;
- literal_100mb.sql: one INSERT whose string literal is 100 MB long.
"""
import os
import subprocess
import sys


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    os.makedirs(out, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    generated = subprocess.run(
        [sys.executable, os.path.join(here, "gen-migration.py"), str(n)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = generated.splitlines(keepends=True)
    no_tx = [l for l in lines if l not in ("BEGIN;\n", "COMMIT;\n")]
    with open(os.path.join(out, "per_revision.sql"), "w") as f:
        f.write(generated)
    with open(os.path.join(out, "one_transaction.sql"), "w") as f:
        f.write("BEGIN;\n\n" + "".join(no_tx) + "COMMIT;\n")
    with open(os.path.join(out, "autocommit.sql"), "w") as f:
        f.write("".join(no_tx))
    with open(os.path.join(out, "plain.sql"), "w") as f:
        f.write("".join(l for l in no_tx if not l.startswith("-- Running upgrade")))

    tables = revisions = 2000
    with open(os.path.join(out, "schema.sql"), "w") as f:
        for i in range(tables):
            f.write(
                f"CREATE TABLE public.t{i} (id integer NOT NULL, name text, "
                f"created timestamp with time zone);\n"
                f"CREATE INDEX ix_t{i}_name ON public.t{i} (name);\n"
            )
    up, down = [], []
    for i in range(revisions):
        t = f"t{i % tables}"
        rev, nxt = f"{i:012x}", f"{i + 1:012x}"
        up.append(
            f"BEGIN;\n\n-- Running upgrade {rev} -> {nxt}\n\n"
            f"ALTER TABLE {t} ADD COLUMN c{i} int;\n\n"
            f"UPDATE alembic_version SET version_num='{nxt}' "
            f"WHERE alembic_version.version_num = '{rev}';\n\nCOMMIT;\n\n"
        )
        drop = f"ALTER TABLE {t} DROP COLUMN c{i};\n\n" if i % 2 == 0 else ""
        down.append(
            f"BEGIN;\n\n-- Running downgrade {nxt} -> {rev}\n\n{drop}"
            f"UPDATE alembic_version SET version_num='{rev}' "
            f"WHERE alembic_version.version_num = '{nxt}';\n\nCOMMIT;\n\n"
        )
    with open(os.path.join(out, "history.sql"), "w") as f:
        f.write("".join(up))
    with open(os.path.join(out, "history_down.sql"), "w") as f:
        f.write("".join(reversed(down)))

    columns = 4 * n
    adds = "".join(f"ALTER TABLE t ADD COLUMN c{i} int;\n" for i in range(columns))
    with open(os.path.join(out, "add_columns.sql"), "w") as f:
        f.write(adds)
    with open(os.path.join(out, "add_columns_block.sql"), "w") as f:
        f.write("BEGIN;\n" + adds + "COMMIT;\n")

    with open(os.path.join(out, "mixed_50mb.sql"), "w") as f:
        written, i = 0, 0
        values = ", ".join(f"({k}, 'name {k}', now())" for k in range(50))
        while written < 50 * 1024 * 1024:
            chunk = "".join(l for l in no_tx if not l.startswith("-- Running upgrade"))
            chunk = chunk.replace("table_", f"t{i}_").replace("new_", f"n{i}_")
            chunk += f"INSERT INTO seed_{i} (id, name, created) VALUES {values};\n\n"
            f.write(chunk)
            written += len(chunk)
            i += 1

    with open(os.path.join(out, "literal_100mb.sql"), "w") as f:
        f.write("INSERT INTO blobs (body) VALUES ('")
        line = "x" * 1023 + "\n"
        for _ in range(100 * 1024):
            f.write(line)
        f.write("');\n")


if __name__ == "__main__":
    main()
