"""The statistik plugin over real HTTP against the real binary: counts on a
past date after later changes (each unit in the version in effect then,
with its daginstitution's ownership then), grouping, CSV, the key list, the
default 1 October and bad parameters."""

import datetime
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "plugins", "unilogin", "tests"))
from uni_http import (ConsumerServer, anvisningsenhed, copenhagen_today,  # noqa: E402
                      daginstitution, problem_codes, sanitizer_clean)

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


if __name__ == "__main__":
    unittest.main()
