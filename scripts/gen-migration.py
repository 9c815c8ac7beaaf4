#!/usr/bin/env python3
"""Writes an Alembic-style offline migration of N statements to standard output.

usage: scripts/gen-migration.py N > migration.sql

One transaction per revision, each on a table the migration did not create (no schema is given), so
every revision carries findings: an index built without CONCURRENTLY, a type change, a backfill, a
dropped column, a NOT NULL column added, a foreign key, plus a DO block and Alembic's bookkeeping.
Each revision touches its own table, so the size of a table's definition does not grow with the file
and the cost per statement can be compared across sizes. Plain SQL that both migsafe and squawk read,
so scripts/bench-vs-squawk.sh times them on the same files.
"""
import sys


def statements(rev):
    t = f"table_{rev}"
    return [
        f"CREATE TABLE new_{rev} (\n    id INTEGER NOT NULL, \n    name VARCHAR(250), \n"
        f"    created TIMESTAMP WITHOUT TIME ZONE DEFAULT now(), \n    PRIMARY KEY (id)\n);",
        f"CREATE INDEX ix_{t}_{rev} ON {t} (name);",
        f"ALTER TABLE {t} ALTER COLUMN code TYPE VARCHAR(20);",
        f"UPDATE {t} SET status='old' WHERE created < now() - interval '1 day';",
        f"ALTER TABLE {t} ADD COLUMN flag_{rev} BOOLEAN DEFAULT false NOT NULL;",
        f"ALTER TABLE new_{rev} ADD CONSTRAINT fk_{rev} FOREIGN KEY (id) REFERENCES {t} (id);",
        f"ALTER TABLE {t} DROP COLUMN legacy_{rev};",
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 't{rev}') THEN "
        f"CREATE TYPE t{rev} AS ENUM ('a', 'b'); END IF; END $$;",
        f"UPDATE alembic_version SET version_num='{rev + 1:012x}' "
        f"WHERE alembic_version.version_num = '{rev:012x}';",
    ]


def main():
    n = int(sys.argv[1])
    out = sys.stdout
    count = 0
    rev = 0
    while count < n:
        out.write(f"BEGIN;\n\n-- Running upgrade {rev:012x} -> {rev + 1:012x}\n\n")
        count += 1
        for s in statements(rev):
            out.write(s)
            out.write("\n\n")
            count += 1
        out.write("COMMIT;\n\n")
        count += 1
        rev += 1


if __name__ == "__main__":
    main()
