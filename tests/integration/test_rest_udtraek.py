"""GET /v1/udtraek over real HTTP: a client that reads slowly while others
write gets the register exactly as it was at the udtræk's sekvensnummer
(records created, changed or deleted after it do not show); a client that
goes away in the middle leaves nothing behind (the server goes on writing,
stops cleanly, and the sanitizers see no leak)."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "plugins", "rest", "tests"))
from rest_http import (RestServer, anvisningsenhed, daginstitution,  # noqa: E402
                       sanitizer_clean)

RECORDS = 120


class RestUdtraekTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # small pages, so that the stream is many pages long
        cls.srv = RestServer(rest={"udtraek_page_size": 5})
        cls.support = cls.srv.add_client("support", "support")
        cls.made = []
        for i in range(RECORDS):
            body = daginstitution(navn="Udtræk %03d " % i + "x" * 100,
                                  units=[anvisningsenhed(navn="Enhed %03d " % i + "y" * 100)])
            st, _, doc = cls.srv.call("POST", "/v1/daginstitutioner", body, auth=cls.support)
            assert st == 201, doc
            cls.made.append(doc)

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.srv.stop()
            assert code == 0, cls.srv.stderr()
            assert sanitizer_clean(cls.srv.stderr()), cls.srv.stderr()
        finally:
            cls.srv.close()

    def test_slow_reader_sees_one_state(self):
        srv = self.srv
        conn = srv.connection()
        conn.request("GET", "/v1/udtraek")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        first = resp.read(64)  # the head: the snapshot has begun
        self.assertTrue(first.startswith(b'{"sekvensnummer":'), first)
        s_at_start = srv.seq()
        # changes after the snapshot: a rename, a delete, a create
        renamed = self.made[-1]
        st, _, _ = srv.call("PATCH", "/v1/daginstitutioner/" + renamed["nummer"],
                            {"navn": "Omdøbt efter udtrækket"}, auth=self.support)
        self.assertEqual(st, 200)
        st, _, extra = srv.call("POST", "/v1/daginstitutioner", daginstitution(navn="Efter"),
                                auth=self.support)
        self.assertEqual(st, 201)
        st, _, _ = srv.call("DELETE", "/v1/daginstitutioner/" + extra["nummer"],
                            auth=self.support)
        self.assertEqual(st, 204)
        st, _, late = srv.call("POST", "/v1/daginstitutioner", daginstitution(navn="Senere"),
                               auth=self.support)
        self.assertEqual(st, 201)
        rest = b""
        while True:  # slowly
            chunk = resp.read(16384)
            if not chunk:
                break
            rest += chunk
            time.sleep(0.001)
        conn.close()
        doc = json.loads(first + rest)
        self.assertEqual(doc["sekvensnummer"], s_at_start)
        nums = [d["nummer"] for d in doc["daginstitutioner"]]
        self.assertEqual(nums, sorted(nums))
        self.assertEqual(len(nums), len(set(nums)))
        self.assertTrue({d["nummer"] for d in self.made} <= set(nums))
        self.assertNotIn(late["nummer"], nums)
        self.assertNotIn(extra["nummer"], nums)
        old = next(d for d in doc["daginstitutioner"] if d["nummer"] == renamed["nummer"])
        self.assertEqual(old["navn"], renamed["navn"])
        self.assertEqual(old["version"], renamed["version"])
        self.assertEqual(len(old["anvisningsenheder"]), 1)

    def test_client_goes_away(self):
        srv = self.srv
        for _ in range(3):
            conn = srv.connection()
            conn.request("GET", "/v1/udtraek")
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            resp.read(1000)
            conn.close()
        # the server goes on: writes commit, a whole udtræk still comes
        st, _, d = srv.call("POST", "/v1/daginstitutioner", daginstitution(navn="Bagefter"),
                            auth=self.support)
        self.assertEqual(st, 201, d)
        st, _, doc = srv.call("GET", "/v1/udtraek")
        self.assertEqual(st, 200)
        self.assertIn(d["nummer"], [x["nummer"] for x in doc["daginstitutioner"]])


if __name__ == "__main__":
    unittest.main()
