"""Two gateway instances on one PostgreSQL register (the postgresql pass
only: on SQLite a data directory belongs to one process).

Both take creates at once from several clients; one of them is killed
with SIGKILL twice under that load and started again. Afterwards:
every acknowledged create is there on both instances, the hændelser are
gapless and in commit order (each acknowledged create's sekvensnummer is
where its hændelse is), the numbers issued are unique, and `dtr check` and
`dtr audit verify` (both instances write the one audit chain) hold.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "plugins", "rest", "tests"))
import store_sql  # noqa: E402
from host_harness import run_cli  # noqa: E402
from rest_http import (RestServer, anvisningsenhed, daginstitution,  # noqa: E402
                       sanitizer_clean)

WRITERS_PER_INSTANCE = 3
CREATES_PER_WRITER = 40


@unittest.skipUnless(store_sql.on_postgresql(), "several instances share a register only on "
                     "PostgreSQL (the postgresql pass runs this)")
class TwoInstancesTest(unittest.TestCase):

    def setUp(self):
        admin = os.environ["DTR_TEST_PG_DSN"]
        self.db = "inst_%d" % os.getpid()
        subprocess.run(["psql", admin, "-qc", 'DROP DATABASE IF EXISTS "%s"' % self.db],
                       check=True, capture_output=True)
        subprocess.run(["psql", admin, "-qc", 'CREATE DATABASE "%s"' % self.db], check=True,
                       capture_output=True)
        self.dsn = "%s dbname=%s" % (admin, self.db)
        store = {"driver": "postgresql", "dsn": self.dsn}
        self.a = RestServer(store=store)
        self.b = RestServer(store=store, start=False)
        # one audit chain, one key: both instances sign with the first's
        os.makedirs(self.b.data_dir, exist_ok=True)
        shutil.copy(os.path.join(self.a.data_dir, "server.key"), self.b.data_dir)
        self.b.start()
        self.auth = [self.a.add_client("writer %d" % i, "support")
                     for i in range(2 * WRITERS_PER_INSTANCE)]

    def tearDown(self):
        for srv in (self.a, self.b):
            srv.close()
        subprocess.run(["psql", os.environ["DTR_TEST_PG_DSN"], "-qc",
                        'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.db],
                       capture_output=True)

    def test_writes_on_both_survive_kills(self):
        acked = []
        progress = threading.Condition()  # notified on each acknowledgement and error
        b_alive = threading.Event()
        b_alive.set()

        errors = []

        def writer(i):
            try:
                write(i)
            except Exception as e:  # reported by the test thread
                with progress:
                    errors.append(e)
                    progress.notify_all()
                raise

        def write(i):
            srv_name = "a" if i < WRITERS_PER_INSTANCE else "b"
            for k in range(CREATES_PER_WRITER):
                srv = self.a if srv_name == "a" else self.b
                if srv_name == "b" and not b_alive.is_set():
                    b_alive.wait(60)
                    srv = self.b
                navn = "Instans %s skriver %d nr %d" % (srv_name, i, k)
                try:
                    body = daginstitution(navn=navn, units=[anvisningsenhed(navn=navn + " børn")])
                    st, _, doc = srv.call("POST", "/v1/daginstitutioner", body=body,
                                          auth=self.auth[i])
                except (OSError, ConnectionError):
                    continue  # killed under this request: not acknowledged
                if st == 201:
                    with progress:
                        acked.append((doc["nummer"], navn))
                        progress.notify_all()

        threads = [threading.Thread(target=writer, args=(i,))
                   for i in range(2 * WRITERS_PER_INSTANCE)]
        for t in threads:
            t.start()
        # kill b twice while the writers run, each time once creates went through
        for round_ in range(2):
            want = (round_ + 1) * CREATES_PER_WRITER
            with progress:  # the event itself, with a deadline for failing
                if not progress.wait_for(lambda: len(acked) >= want or errors, timeout=120):
                    self.fail("timed out waiting for %d acknowledged creates" % want)
            b_alive.clear()
            self.b.signal(signal.SIGKILL)
            self.b.wait()
            self.b.proc.stdout.close()
            self.b._stderr.close()
            self.b.start()  # rejoins: same data directory, same register
            b_alive.set()
        for t in threads:
            t.join(300)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(errors, [])
        self.assertGreater(len(acked), 2 * CREATES_PER_WRITER)

        # every acknowledged create is there, on both instances
        numbers = [n for n, _ in acked]
        self.assertEqual(len(numbers), len(set(numbers)), "a number issued twice")
        for srv in (self.a, self.b):
            for nummer, navn in acked:
                st, _, doc = srv.call("GET", "/v1/daginstitutioner/" + nummer)
                self.assertEqual(st, 200, (nummer, doc))
                self.assertEqual(doc["navn"], navn)

        # the hændelser: 1..N without a gap, in commit order, and each
        # acknowledged create's hændelse among them
        latest = self.a.seq()
        self.assertEqual(self.b.seq(), latest)
        seen = []
        fra = 1
        while fra <= latest:
            st, _, page = self.a.call("GET", "/v1/haendelser?fra=%d&maxantal=1000" % fra)
            self.assertEqual(st, 200, page)
            seen += page
            fra = page[-1]["sekvensnummer"] + 1
        self.assertEqual([e["sekvensnummer"] for e in seen], list(range(1, latest + 1)))
        created = {e["nummer"] for e in seen if e["operation"] == "oprettet"}
        self.assertTrue(set(numbers) <= created)
        p = subprocess.run(["psql", self.dsn, "-Atc", "SELECT count(*), max(sekvensnummer) "
                            "FROM haendelse"], capture_output=True, text=True, check=True)
        self.assertEqual(p.stdout.strip(), "%d|%d" % (latest, latest))

        for srv in (self.a, self.b):
            for words in (["check"], ["audit", "verify"]):
                code, out, err = run_cli(words + ["--config", srv.config_path, "--data",
                                                  srv.data_dir])
                self.assertEqual(code, 0, (words, out[:2000], err))
        report = json.loads(out)
        self.assertTrue(report["ok"], report)
        for srv in (self.a, self.b):
            self.assertEqual(srv.stop(), 0, srv.stderr())
            self.assertTrue(sanitizer_clean(srv.stderr()), srv.stderr())


if __name__ == "__main__":
    unittest.main()
