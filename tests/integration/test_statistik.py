"""The statistik plugin over real HTTP against the real binary: counts on a
past date after later changes (each unit in the version in effect then,
with its daginstitution's ownership then), grouping, CSV, the key list, the
default 1 October and bad parameters. On a generated register of several
thousand units: the key list comes streamed (chunked), as JSON and as CSV,
holds exactly the units the register's udtræk gives and agrees with the
count, and clients that leave in the middle of it leave the server
answering the same list."""

import datetime
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "plugins", "unilogin", "tests"))
from uni_http import (ConsumerServer, anvisningsenhed, copenhagen_today,  # noqa: E402
                      daginstitution, left_mid_stream, load_generated, problem_codes,
                      read_a_little_and_leave, sanitizer_clean)

PAST = "2024-10-01"


class StatistikTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = ConsumerServer()
        cls.support = cls.srv.add_client("support", "support")
        cls.today = copenhagen_today()
        post = lambda path, body: cls.srv.ok("POST", path, body, auth=cls.support)  # noqa: E731
        since = {"virkningFra": "2020-01-01"}
        # two daginstitutioner in effect since 2020, three units then
        d1 = post("/v1/daginstitutioner", daginstitution(
            kommune=101, ejerform=1, lovgrundlag=1, navn="Solsikken", units=[
                anvisningsenhed(kommune=101, inst=6011, navn="U1", **since),
                anvisningsenhed(kommune=101, inst=6012, navn="U2", **since)], **since))
        d2 = post("/v1/daginstitutioner", daginstitution(
            kommune=147, ejerform=2, lovgrundlag=2, navn="Egern", units=[
                anvisningsenhed(kommune=147, inst=6011, navn="U3", **since)], **since))
        cls.d1, cls.d2 = d1["nummer"], d2["nummer"]
        u = {a["navn"]: a["nummer"] for a in d1["anvisningsenheder"] + d2["anvisningsenheder"]}
        cls.u = u
        # today: U1 changes type, d1 becomes selvejende, U3 closes tomorrow,
        # a new unit U4 (not in effect on the past date)
        cls.srv.ok("PATCH", "/v1/anvisningsenheder/" + u["U1"], {"instType3": 6010},
                   auth=cls.support)
        cls.srv.ok("PATCH", "/v1/daginstitutioner/" + cls.d1,
                   {"ejerformKode": 2, "lovgrundlagKode": 2}, auth=cls.support)
        tomorrow = (cls.today + datetime.timedelta(days=1)).isoformat()
        cls.srv.ok("POST", "/v1/anvisningsenheder/%s/nedlaeg" % u["U3"],
                   {"virkningTil": tomorrow}, auth=cls.support)
        u4 = post("/v1/anvisningsenheder", anvisningsenhed(parent=cls.d1, inst=6014, navn="U4"))
        cls.u["U4"] = u4["nummer"]

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.srv.stop()
            assert code == 0, cls.srv.stderr()
            assert sanitizer_clean(cls.srv.stderr()), cls.srv.stderr()
        finally:
            cls.srv.close()

    def get(self, path, headers=None):
        st, h, doc = self.srv.call("GET", path, headers=headers)
        self.assertEqual(st, 200, doc)
        return h, doc

    @staticmethod
    def keyed(rows):
        return {(r.get("kommuneKode"), r.get("instType3"), r.get("ejerformKode")): r["antal"]
                for r in rows}

    def test_past_date_counts_the_versions_then(self):
        _, doc = self.get("/v1/statistik/optaelling?dato=" + PAST)
        self.assertEqual(doc["dato"], PAST)
        self.assertEqual(doc["total"], 3)
        self.assertEqual(self.keyed(doc["raekker"]),
                         {(101, 6011, 1): 1, (101, 6012, 1): 1, (147, 6011, 2): 1})
        self.assertEqual(sum(r["antal"] for r in doc["raekker"]), doc["total"])

    def test_today_counts_the_current_versions(self):
        _, doc = self.get("/v1/statistik/optaelling?dato=" + self.today.isoformat())
        self.assertEqual(self.keyed(doc["raekker"]),
                         {(101, 6010, 2): 1, (101, 6012, 2): 1, (101, 6014, 2): 1,
                          (147, 6011, 2): 1})

    def test_grouping_and_order(self):
        _, doc = self.get("/v1/statistik/optaelling?dato=%s&grupper=ejerformKode" % PAST)
        self.assertEqual(doc["raekker"], [{"ejerformKode": 1, "antal": 2},
                                          {"ejerformKode": 2, "antal": 1}])
        _, doc = self.get("/v1/statistik/optaelling?dato=%s&grupper=instType3,kommuneKode" % PAST)
        self.assertEqual([list(r) for r in doc["raekker"]],
                         [["instType3", "kommuneKode", "antal"]] * 3)
        self.assertEqual([(r["instType3"], r["kommuneKode"]) for r in doc["raekker"]],
                         [(6011, 101), (6011, 147), (6012, 101)])

    def test_csv(self):
        h, body = self.get("/v1/statistik/optaelling?dato=" + PAST,
                           headers={"Accept": "text/csv"})
        self.assertTrue(h["content-type"].startswith("text/csv"), h)
        self.assertEqual(body, b"\xef\xbb\xbfkommuneKode;instType3;ejerformKode;antal\r\n"
                               b"101;6011;1;1\r\n101;6012;1;1\r\n147;6011;2;1\r\n")

    def test_enheder(self):
        _, doc = self.get("/v1/statistik/enheder?dato=" + PAST)
        self.assertEqual(doc["dato"], PAST)
        got = {e["nummer"]: e for e in doc["enheder"]}
        self.assertEqual(set(got), {self.u["U1"], self.u["U2"], self.u["U3"]})
        self.assertEqual(got[self.u["U1"]], {"nummer": self.u["U1"],
                                             "daginstitutionsNummer": self.d1,
                                             "kommuneKode": 101, "instType3": 6011,
                                             "ejerformKode": 1})

    def test_default_date_is_the_latest_1_october(self):
        t = self.today
        want = datetime.date(t.year if t.month >= 10 else t.year - 1, 10, 1).isoformat()
        _, doc = self.get("/v1/statistik/optaelling")
        self.assertEqual(doc["dato"], want)

    def test_bad_parameters(self):
        for q, felt in (("optaelling?dato=2024-02-30", "dato"),
                        ("optaelling?dato=01-10-2024", "dato"),
                        ("enheder?dato=i+dag", "dato"),
                        ("optaelling?grupper=navn", "grupper"),
                        ("optaelling?grupper=kommuneKode,kommuneKode", "grupper")):
            st, h, doc = self.srv.call("GET", "/v1/statistik/" + q)
            self.assertEqual(st, 400, q)
            self.assertTrue(h["content-type"].startswith("application/problem+json"))
            self.assertIn("UGYLDIG_PARAMETER", problem_codes(doc))
            self.assertEqual(doc["fejl"][0]["felt"], felt)



class StatistikStreamTest(unittest.TestCase):
    """The key list on a generated register of 8000 units (imported rows
    are in effect since 2019, so all of them count on PAST)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = ConsumerServer()
        try:
            load_generated(cls.srv, 8000)
        except Exception:
            cls.srv.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.srv.stop()
            assert code == 0, cls.srv.stderr()
            assert sanitizer_clean(cls.srv.stderr()), cls.srv.stderr()
        finally:
            cls.srv.close()

    def test_the_key_list_is_streamed_and_whole(self):
        st, _, udtraek = self.srv.call("GET", "/v1/udtraek")
        self.assertEqual(st, 200)
        want = sorted(({"nummer": u["nummer"], "daginstitutionsNummer": di["nummer"],
                        "kommuneKode": u["adresse"]["kommuneKode"], "instType3": u["instType3"],
                        "ejerformKode": di["ejerformKode"]}
                       for di in udtraek["daginstitutioner"] for u in di["anvisningsenheder"]),
                      key=lambda e: e["nummer"])
        st, h, body = self.srv.request("GET", "/v1/statistik/enheder?dato=" + PAST)
        self.assertEqual(st, 200)
        self.assertEqual(h.get("content-type"), "application/json")
        self.assertEqual(h.get("transfer-encoding"), "chunked")
        self.assertTrue(body.startswith(b'{"dato":"%s","enheder":[{' % PAST.encode()))
        doc = json.loads(body)
        self.assertEqual(len(doc["enheder"]), 8000)
        self.assertEqual(doc["enheder"], want)
        st, h, csv = self.srv.request("GET", "/v1/statistik/enheder?dato=" + PAST,
                                      headers={"Accept": "text/csv"})
        self.assertEqual(st, 200)
        self.assertEqual(h.get("content-type"), "text/csv; charset=utf-8")
        self.assertEqual(h.get("transfer-encoding"), "chunked")
        lines = csv.decode("utf-8-sig").split("\r\n")
        self.assertEqual(lines[0], "nummer;daginstitutionsNummer;kommuneKode;instType3;"
                                   "ejerformKode")
        self.assertEqual(lines[-1], "")
        self.assertEqual(lines[1:-1], ["%(nummer)s;%(daginstitutionsNummer)s;%(kommuneKode)d;"
                                       "%(instType3)d;%(ejerformKode)d" % e for e in want])
        st, _, count = self.srv.call("GET", "/v1/statistik/optaelling?dato=" + PAST)
        self.assertEqual(count["total"], 8000)

    def test_clients_that_leave_mid_stream(self):
        path = "/v1/statistik/enheder?dato=" + PAST
        st, _, whole = self.srv.request("GET", path)
        self.assertEqual(st, 200)
        for _ in range(6):
            got = read_a_little_and_leave(self.srv, path)
            self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:40])
        left = left_mid_stream(self.srv, "/v1/statistik/enheder", 6)
        self.assertTrue(all(0 < n < len(whole) for n in left), left)
        st, _, again = self.srv.request("GET", path)
        self.assertEqual((st, again), (200, whole))
        self.assertEqual(self.srv.call("GET", "/healthz")[0], 200)


if __name__ == "__main__":
    unittest.main()
