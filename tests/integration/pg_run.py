#!/usr/bin/env python3
"""Runs one test with the store on PostgreSQL. An integration test (a .py)
runs with pg_dtr.py as DTR_BIN; a unit test program (--unit PROGRAM) runs
as it is, with DTR_TEST_STORE=postgresql (test_store_fixture.h). Exit 77
(ctest: skipped, and shown so) when no test cluster is named by
DTR_TEST_PG_DSN; scripts/test always starts one."""
import os
import sys

unit = sys.argv[1] == "--unit"
test = sys.argv[2] if unit else sys.argv[1]
if not os.environ.get("DTR_TEST_PG_DSN"):
    print("skipped: DTR_TEST_PG_DSN is not set (scripts/test starts a PostgreSQL cluster)")
    sys.exit(77)
env = dict(os.environ)
env["DTR_TEST_STORE"] = "postgresql"
if unit:
    os.execve(test, [test], env)
env["DTR_REAL_BIN"] = env["DTR_BIN"]
env["DTR_BIN"] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pg_dtr.py")
os.execve(sys.executable, [sys.executable, test] + sys.argv[2:], env)
