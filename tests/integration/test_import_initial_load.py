"""An import into an empty register is an initial load: the store drops the
record table's list indexes first and builds them once at the end
(docs/bulk.md). Through the real binary: after a load every index is there
and whole; a load killed half-way (indexes dropped, rows committed) leaves
a register whose next open builds them again, and a second run of the same
import completes the load, giving back the generated files on export."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import store_sql  # noqa: E402
from bulk_harness import (DTR_BIN, FILES, Workspace, counts, read_bytes,  # noqa: E402
                          sanitizer_clean)

RECORD_INDEXES = ["record_adm_kommune", "record_cvr_nummer", "record_inst_type3",
                  "record_kommune", "record_level", "record_p_nummer", "record_parent",
                  "record_timed"]


def query(ws, sql, mode="ro"):
    """Rows of sql on the data directory's database. After a kill, mode "rw":
    a read-only SQLite connection cannot recover the WAL index if it needs
    it."""
    return store_sql.query(ws.data_dir, sql, readonly=mode == "ro")


class InitialLoadTest(unittest.TestCase):

    def setUp(self):
        self.ws = Workspace()

    def tearDown(self):
        self.ws.close()

    def generate(self, units):
        out = self.ws.path("gen")
        code, stdout, err = self.ws.dtr("generate", "--units", str(units), "--seed", "5", out)
        self.assertEqual(code, 0, stdout + err)
        return out

    def assert_indexes_whole(self):
        if store_sql.on_postgresql():
            # the trigram index is an index of record there (an FTS5 table on SQLite)
            names = [r[0] for r in query(self.ws, "SELECT indexname FROM pg_indexes WHERE "
                                         "tablename = 'record' AND indexname NOT LIKE '%_pkey' "
                                         "AND indexname NOT LIKE '%_key' ORDER BY indexname")]
            self.assertEqual(names, sorted(RECORD_INDEXES + ["record_navn"]))
        else:
            names = [r[0] for r in query(self.ws, "SELECT name FROM sqlite_master WHERE type = "
                                         "'index' AND tbl_name = 'record' AND sql IS NOT NULL "
                                         "ORDER BY name")]
            self.assertEqual(names, RECORD_INDEXES)
            self.assertEqual(query(self.ws, "PRAGMA integrity_check"), [("ok",)])
        self.assertEqual(query(self.ws, "SELECT count(*) FROM deferred_index"), [(0,)])

    def test_indexes_are_built_at_the_end(self):
        gen = self.generate(300)
        code, out, err = self.ws.dtr("import", gen)
        self.assertEqual(code, 0, out + err)
        self.assertTrue(sanitizer_clean(err), err)
        self.assert_indexes_whole()

    def test_a_killed_load_is_completed_by_running_it_again(self):
        gen = self.generate(20000)
        cmd = [DTR_BIN, "import", gen, "--config", self.ws.config_path, "--data",
               self.ws.data_dir]
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        db_path = os.path.join(self.ws.data_dir, "dtr.sqlite")
        killed = False
        deadline = time.time() + 120
        while time.time() < deadline and p.poll() is None:
            try:
                rows = query(self.ws, "SELECT (SELECT count(*) FROM deferred_index), "
                             "(SELECT count(*) FROM record)")[0] \
                    if store_sql.on_postgresql() or os.path.exists(db_path) else (0, 0)
            except (sqlite3.Error, RuntimeError):
                rows = (0, 0)  # not created yet, or mid-migration
            if rows[0] > 0 and rows[1] > 1000:
                p.send_signal(signal.SIGKILL)
                killed = True
                break
            time.sleep(0.02)
        p.wait()
        if not killed:
            self.skipTest("the load ended before it could be killed")
        # what the kill left: rows, and the indexes still deferred
        self.assertGreater(query(self.ws, "SELECT count(*) FROM deferred_index", "rw")[0][0], 0)

        code, out, err = self.ws.dtr("import", gen)
        self.assertEqual(code, 0, out + err)
        self.assertTrue(sanitizer_clean(err), err)
        n = counts(out)
        self.assertEqual(n["refused"], 0, out)
        self.assertGreater(n["unchanged"], 0, out)
        self.assertEqual(n["created"] + n["unchanged"], n["rows read"], out)
        self.assert_indexes_whole()

        code, out, err = self.ws.dtr("export", self.ws.path("export"))
        self.assertEqual(code, 0, out + err)
        for name in FILES:
            self.assertEqual(read_bytes(os.path.join(gen, name)),
                             read_bytes(self.ws.path("export", name)), name)


if __name__ == "__main__":
    unittest.main()
