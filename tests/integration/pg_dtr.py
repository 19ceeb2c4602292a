#!/usr/bin/env python3
"""dtr on PostgreSQL, for the integration suite's second pass.

The integration tests run the binary DTR_BIN names. In the postgresql pass
(tests/CMakeLists.txt registers every test a second time, through
pg_run.py) DTR_BIN is this script: it gives the data directory of the
command a database of its own in the test cluster (DTR_TEST_PG_DSN), adds
"store": {"driver": "postgresql", "dsn": ...} to the config the command
reads, and runs the real binary (DTR_REAL_BIN) in its place (exec: same
pid, so the tests' signals reach dtr itself).

The database is named after the data directory's absolute path, so every
command on one data directory (dtr serve, then dtr client, dtr check...)
finds the same register, as it would find the same dtr.sqlite.
"""
import hashlib
import json
import os
import subprocess
import sys

DEFAULT_CONFIG = "config/dtr.json"  # core/config.h CFG_DEFAULT_PATH


def option(args, name):
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def dsn_with_db(dsn, db):
    parts = [p for p in dsn.split() if not p.startswith("dbname=")]
    return " ".join(parts + ["dbname=" + db])


def database_for(data_dir):
    """The test cluster's database of a data directory."""
    return "d_" + hashlib.sha1(os.path.abspath(data_dir).encode()).hexdigest()[:24]


def ensure_database(admin_dsn, name):
    r = subprocess.run(["psql", admin_dsn, "-qAtc", f'CREATE DATABASE "{name}"'],
                       capture_output=True, text=True)
    if r.returncode != 0 and "already exists" not in r.stderr:
        sys.stderr.write("pg_dtr: cannot create database %s: %s" % (name, r.stderr))
        sys.exit(70)


def main():
    real = os.environ["DTR_REAL_BIN"]
    admin_dsn = os.environ["DTR_TEST_PG_DSN"]
    args = sys.argv[1:]
    config_path = option(args, "--config")
    if config_path is None and os.path.exists(DEFAULT_CONFIG):
        config_path = DEFAULT_CONFIG
    config = None
    if config_path and os.path.exists(config_path):
        try:
            with open(config_path, encoding="utf-8") as f:
                config = json.load(f)
        except (OSError, ValueError):
            config = None  # dtr itself reports what is wrong with it
    if isinstance(config, dict) and "store" not in config:
        data_dir = option(args, "--data") or config.get("data_dir") or "var"
        name = database_for(data_dir)
        ensure_database(admin_dsn, name)
        config["store"] = {"driver": "postgresql", "dsn": dsn_with_db(admin_dsn, name)}
        tmp = config_path + ".pg-new"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2)
        os.replace(tmp, config_path)
    os.execv(real, [real] + args)


if __name__ == "__main__":
    main()
