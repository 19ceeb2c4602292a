"""What the integration tests look at as it is stored, on either driver.

In the normal pass the register is <data_dir>/dtr.sqlite and this is
Python's sqlite3. In the postgresql pass (pg_run.py sets
DTR_TEST_STORE=postgresql) it is the data directory's database in the test
cluster (pg_dtr.py names it), read and written with psql: rows come back as
tuples whose items are int, str, bytes (bytea) or None, and can be read by
column name as with sqlite3.Row.
"""
import os
import sqlite3
import subprocess

import pg_dtr

NULL_MARK = "\u00a4NULL\u00a4"  # how psql is told to print NULL


def on_postgresql():
    return os.environ.get("DTR_TEST_STORE") == "postgresql"


def pg_dsn(data_dir):
    admin = os.environ["DTR_TEST_PG_DSN"]
    return pg_dtr.dsn_with_db(admin, pg_dtr.database_for(data_dir))


class Row(tuple):
    """A row readable by position and by column name."""

    def __new__(cls, values, names):
        row = super().__new__(cls, values)
        row.names = names
        return row

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names.index(key))
        return tuple.__getitem__(self, key)


def _value(text):
    if text == NULL_MARK:
        return None
    if text.startswith("\\x") and all(c in "0123456789abcdef" for c in text[2:]):
        return bytes.fromhex(text[2:])
    if text.lstrip("-").isdigit():
        return int(text)
    return text


class _Result:
    def __init__(self, rows):
        self.rows = rows

    def fetchall(self):
        return self.rows

    def fetchone(self):
        return self.rows[0] if self.rows else None


class PgConnection:
    """Enough of sqlite3.Connection for the tests: execute, a with block."""

    def __init__(self, data_dir):
        self.dsn = pg_dsn(data_dir)

    def execute(self, sql):
        p = subprocess.run(["psql", self.dsn, "-X", "-q", "-A", "-F", "\x1f", "-R", "\x1e",
                            "-P", "footer=off", "-P", "null=" + NULL_MARK,
                            "-v", "ON_ERROR_STOP=1", "-c", sql],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("psql: %s: %s" % (sql, p.stderr.strip()))
        records = [r for r in p.stdout.rstrip("\n").split("\x1e") if r != ""]
        if not records:
            return _Result([])
        names = records[0].split("\x1f")
        rows = [Row([_value(v) for v in r.lstrip("\n").split("\x1f")], names)
                for r in records[1:]]
        return _Result(rows)

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def connect(data_dir, readonly=False):
    """A connection to data_dir's register (see the module's comment)."""
    if on_postgresql():
        return PgConnection(data_dir)
    path = os.path.join(data_dir, "dtr.sqlite")
    con = sqlite3.connect("file:%s?mode=%s" % (path, "ro" if readonly else "rw"), uri=True,
                          timeout=30)
    con.row_factory = sqlite3.Row
    return con


def query(data_dir, sql, readonly=True):
    """The rows of sql, as tuples."""
    con = connect(data_dir, readonly)
    try:
        return [tuple(r) for r in con.execute(sql).fetchall()]
    finally:
        con.close()
