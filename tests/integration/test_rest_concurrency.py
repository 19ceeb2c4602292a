"""Concurrency over real HTTP: the same create sent at once by several
threads with one Idempotency-Key makes one record and identical answers;
concurrent PATCHes with one If-Match let exactly one through (the rest get
412); paging by cursor while others create records returns every record
that existed when paging began exactly once, in order."""

import json
import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "plugins", "rest", "tests"))
from rest_http import (RestServer, anvisningsenhed, daginstitution,  # noqa: E402
                       problem_codes, sanitizer_clean)

THREADS = 8


def run_at_once(n, fn):
    """Runs fn(i) in n threads released together; returns their results."""
    barrier = threading.Barrier(n)
    results = [None] * n
    errors = []

    def worker(i):
        try:
            barrier.wait(timeout=60)
            results[i] = fn(i)
        except Exception as e:  # reported by the test thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if errors:
        raise errors[0]
    return results


class RestConcurrencyTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = RestServer()
        cls.support = cls.srv.add_client("support", "support")

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.srv.stop()
            assert code == 0, cls.srv.stderr()
            assert sanitizer_clean(cls.srv.stderr()), cls.srv.stderr()
        finally:
            cls.srv.close()

    def test_idempotent_retries_at_once(self):
        body = json.dumps(daginstitution(navn="Samtidig Idempotens", units=[
            anvisningsenhed(navn="Samtidig Vuggestue", inst=6010),
            anvisningsenhed(navn="Samtidig Børnehave")])).encode()
        before = self.srv.seq()

        def send(i):
            st, h, raw = self.srv.request("POST", "/v1/daginstitutioner", body=body, headers={
                "Authorization": self.support, "Content-Type": "application/json",
                "Idempotency-Key": "samtidig-1"})
            return st, h.get("location"), h.get("etag"), raw

        answers = run_at_once(THREADS, send)
        self.assertEqual(answers[0][0], 201, answers[0])
        self.assertTrue(all(a == answers[0] for a in answers), answers)
        # one record with its two children: three hændelser
        self.assertEqual(self.srv.seq(), before + 3)
        st, _, page = self.srv.call("GET", "/v1/daginstitutioner?navn=samtidig+idempotens")
        self.assertEqual(len(page["resultater"]), 1)

    def test_one_if_match_one_winner(self):
        st, _, doc = self.srv.call("POST", "/v1/daginstitutioner",
                                   daginstitution(navn="Kapløb"), auth=self.support)
        self.assertEqual(st, 201, doc)
        path = "/v1/daginstitutioner/" + doc["nummer"]
        etag = '"%d"' % doc["version"]
        before = self.srv.seq()

        def patch(i):
            return self.srv.call("PATCH", path, {"navn": "Kapløb %d" % i}, auth=self.support,
                                 headers={"If-Match": etag})

        answers = run_at_once(THREADS, patch)
        statuses = sorted(a[0] for a in answers)
        self.assertEqual(statuses, [200] + [412] * (THREADS - 1), answers)
        for st, _, d in answers:
            if st == 412:
                self.assertIn("VERSIONSKONFLIKT", problem_codes(d))
        winner = next(d for st, _, d in answers if st == 200)
        self.assertEqual(winner["version"], doc["version"] + 1)
        self.assertEqual(self.srv.seq(), before + 1)
        st, h, now = self.srv.call("GET", path)
        self.assertEqual(now["navn"], winner["navn"])

    def test_pages_while_creating(self):
        kommune = 151
        existing = set()
        for i in range(40):
            st, _, d = self.srv.call("POST", "/v1/daginstitutioner",
                                     daginstitution(kommune, navn="Side %d" % i),
                                     auth=self.support)
            self.assertEqual(st, 201, d)
            existing.add(d["nummer"])
        stop = threading.Event()
        created = []

        def writer():
            conn = self.srv.connection()
            i = 0
            while not stop.is_set():
                st, _, d = self.srv.call("POST", "/v1/daginstitutioner",
                                         daginstitution(kommune, navn="Ny %d" % i),
                                         auth=self.support, conn=conn)
                if st == 201:
                    created.append(d["nummer"])
                i += 1
            conn.close()

        t = threading.Thread(target=writer)
        t.start()
        try:
            seen = []
            url = "/v1/daginstitutioner?admKommuneKode=%d&limit=3" % kommune
            efter = None
            for _ in range(5000):  # an upper bound: the pages must catch up with the writer
                st, _, page = self.srv.call("GET", url + ("&efter=" + efter if efter else ""))
                self.assertEqual(st, 200, page)
                seen += [r["nummer"] for r in page["resultater"]]
                efter = page["naeste"]
                if efter is None:
                    break
            self.assertIsNone(efter, "paging never reached the end")
        finally:
            stop.set()
            t.join(timeout=120)
        self.assertEqual(len(seen), len(set(seen)), "a record came twice")
        self.assertEqual(seen, sorted(seen))
        self.assertTrue(existing <= set(seen), existing - set(seen))
        self.assertTrue(set(seen) <= existing | set(created))
        self.assertGreater(len(created), 0)


if __name__ == "__main__":
    unittest.main()
