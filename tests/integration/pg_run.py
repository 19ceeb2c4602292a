#!/usr/bin/env python3
"""Runs one integration test with the store on PostgreSQL (pg_dtr.py as
DTR_BIN). Exit 77 (ctest: skipped, and shown so) when no test cluster is
named by DTR_TEST_PG_DSN; scripts/test always starts one."""
import os
import sys

test = sys.argv[1]
if not os.environ.get("DTR_TEST_PG_DSN"):
    print("skipped: DTR_TEST_PG_DSN is not set (scripts/test starts a PostgreSQL cluster)")
    sys.exit(77)
env = dict(os.environ)
env["DTR_REAL_BIN"] = env["DTR_BIN"]
env["DTR_BIN"] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pg_dtr.py")
env["DTR_TEST_STORE"] = "postgresql"
os.execve(sys.executable, [sys.executable, test] + sys.argv[2:], env)
