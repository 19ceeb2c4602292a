"""The unilogin plugin over real HTTP against the real binary: the list, the
change sets after closing, deleting and removing a P-nummer, bad
parameters, access with public_read off, and the consumer's signed files
(checked against the key `dtr version --keys` prints), across a restart in
the middle of a stream of changes: the files cover every change. On a
generated register of a few thousand units: the list comes streamed
(chunked) and holds exactly the rows the register's udtræk gives, and
clients that leave in the middle of it leave the server answering the
same list."""

import json
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "plugins", "unilogin", "tests"))
from uni_http import (CVR, CVR2, ConsumerServer, alternativ_adresse,  # noqa: E402
                      anvisningsenhed, copenhagen_today, daginstitution, left_mid_stream,
                      load_generated, problem_codes, read_a_little_and_leave,
                      sanitizer_clean)


def rows_by_number(rows):
    return {r["institutionsnummer"]: r for r in rows}


class UniloginTest(unittest.TestCase):

    def setUp(self):
        self.srv = ConsumerServer(unilogin={"interval_ms": 100})
        self.support = self.srv.add_client("support", "support")
        self.today = copenhagen_today()

    def tearDown(self):
        try:
            if self.srv.proc and self.srv.proc.poll() is None:
                code = self.srv.stop()
                self.assertEqual(code, 0, self.srv.stderr())
            self.assertTrue(sanitizer_clean(self.srv.stderr()), self.srv.stderr())
        finally:
            self.srv.close()

    def post(self, path, body):
        return self.srv.ok("POST", path, body, auth=self.support)

    def world(self):
        """One daginstitution: unit a (CVR + P, with an alternativ adresse),
        unit b (no P-nummer), unit c (CVR + P, in effect since 2020 so that
        it can be closed today)."""
        di = self.post("/v1/daginstitutioner", daginstitution(units=[
            anvisningsenhed(navn="A", inst=6012),
            anvisningsenhed(navn="B", pnr=None),
            anvisningsenhed(navn="C", cvr=CVR2, pnr="1000000003", virkningFra="2020-01-01")]))
        units = {u["navn"]: u["nummer"] for u in di["anvisningsenheder"]}
        aa = self.post("/v1/alternative-adresser", alternativ_adresse(units["A"]))
        return di["nummer"], units["A"], units["B"], units["C"], aa["nummer"]

    def test_list_and_change_sets(self):
        di, a, b, c, aa = self.world()
        st, _, doc = self.srv.call("GET", "/v1/unilogin/institutioner")
        self.assertEqual(st, 200, doc)
        self.assertEqual(doc["sekvensnummer"], self.srv.seq())
        rows = rows_by_number(doc["institutioner"])
        self.assertEqual(set(rows), {a, c, aa})
        self.assertEqual([r["institutionsnummer"] for r in doc["institutioner"]],
                         sorted(rows))
        self.assertEqual(rows[a]["niveau"], "anvisningsenhed")
        self.assertEqual(rows[a]["daginstitutionsNummer"], di)
        self.assertEqual(rows[a]["cvrNummer"], CVR)
        self.assertEqual(rows[a]["kommuneKode"], 101)
        self.assertEqual(rows[aa]["niveau"], "alternativAdresse")
        self.assertEqual(rows[aa]["anvisningsenhedsNummer"], a)
        self.assertEqual(rows[aa]["daginstitutionsNummer"], di)
        self.assertEqual(rows[aa]["instType3"], 6012)
        for key in ("institutionsnummer", "navn", "niveau", "daginstitutionsNummer",
                    "anvisningsenhedsNummer", "kommuneKode", "instType3", "cvrNummer",
                    "pNummer", "adresse"):
            self.assertIn(key, rows[a])

        s = self.srv.seq()
        # close c today, delete the alternativ adresse, a loses its P-nummer,
        # b gets one (joins the list)
        self.srv.ok("POST", "/v1/anvisningsenheder/%s/nedlaeg" % c,
                    {"virkningTil": self.today.isoformat()}, auth=self.support)
        self.srv.ok("DELETE", "/v1/alternative-adresser/" + aa, auth=self.support)
        self.srv.ok("PATCH", "/v1/anvisningsenheder/" + a, {"pNummer": None}, auth=self.support)
        self.srv.ok("PATCH", "/v1/anvisningsenheder/" + b, {"pNummer": "1000000002"},
                    auth=self.support)
        st, _, ch = self.srv.call("GET", "/v1/unilogin/aendringer?efter=%d" % s)
        self.assertEqual(st, 200, ch)
        self.assertEqual(ch["fra"], s + 1)
        self.assertEqual(ch["til"], self.srv.seq())
        self.assertEqual(sorted(ch["fjernet"]), sorted([a, c, aa]))
        self.assertEqual([r["institutionsnummer"] for r in ch["aendret"]], [b])

        st, _, doc = self.srv.call("GET", "/v1/unilogin/institutioner")
        self.assertEqual(set(rows_by_number(doc["institutioner"])), {b})

        # nothing new: an empty change set
        st, _, ch = self.srv.call("GET", "/v1/unilogin/aendringer?efter=%d" % self.srv.seq())
        self.assertEqual((ch["aendret"], ch["fjernet"]), ([], []))

    def test_bad_efter_and_access(self):
        for q in ("", "?efter=", "?efter=x", "?efter=-1", "?efter=99999999"):
            st, h, doc = self.srv.call("GET", "/v1/unilogin/aendringer" + q)
            self.assertEqual(st, 400, q)
            self.assertTrue(h["content-type"].startswith("application/problem+json"))
            self.assertIn("UGYLDIG_PARAMETER", problem_codes(doc))
        st, h, _ = self.srv.call("GET", "/v1/unilogin/institutioner", auth="Basic eDp5")
        self.assertEqual(st, 401)
        self.assertEqual(h.get("www-authenticate"), 'Basic realm="dtr"')

    def test_files_cover_every_change_across_a_restart(self):
        key = self.srv.signing_key()
        di, a, b, c, aa = self.world()
        s0 = self.srv.seq()
        self.srv.wait_files_until(s0)
        first_fra = self.srv.export_files()[0][0]

        # a stream of changes to listed numbers, a restart in the middle
        for i in range(6):
            self.srv.ok("PATCH", "/v1/anvisningsenheder/" + a, {"navn": "A%d" % i},
                        auth=self.support)
        self.assertEqual(self.srv.stop(), 0, self.srv.stderr())
        self.assertTrue(sanitizer_clean(self.srv.stderr()), self.srv.stderr())
        self.srv.restart()
        self.assertEqual(self.srv.signing_key(), key)
        for i in range(6):
            self.srv.ok("PATCH", "/v1/anvisningsenheder/" + c, {"navn": "C%d" % i},
                        auth=self.support)
        self.srv.ok("PATCH", "/v1/anvisningsenheder/" + a, {"cvrNummer": None},
                    auth=self.support)
        last = self.srv.seq()
        files = self.srv.wait_files_until(last)

        # every sekvensnummer from the consumer's start to the last is in a
        # file (a batch may come twice after a restart: at-least-once)
        covered = set()
        for fra, til, path in files:
            self.assertLessEqual(fra, til)
            covered.update(range(fra, til + 1))
        self.assertEqual(covered, set(range(first_fra, last + 1)))
        names, removed = [], set()
        for fra, til, path in files:
            change = self.srv.read_verified(path, key)
            self.assertEqual((change["fra"], change["til"]), (fra, til))
            names += [r["navn"] for r in change["aendret"]]
            removed.update(change["fjernet"])
        self.assertIn("A5", names)
        self.assertIn("C5", names)
        self.assertIn(a, removed)
        self.assertFalse([n for n in os.listdir(self.srv.export_dir()) if n.endswith(".tmp")])

    def test_consumer_lag_on_metrics(self):
        self.world()
        self.srv.wait_files_until(self.srv.seq())
        st, _, body = self.srv.call("GET", "/metrics")
        self.assertEqual(st, 200)
        lines = [ln for ln in body.decode().splitlines()
                 if ln.startswith('dtr_feed_lag{consumer="unilogin"}')]
        self.assertEqual(len(lines), 1, body.decode())
        self.assertGreaterEqual(float(lines[0].split()[-1]), 0)


class UniloginStreamTest(unittest.TestCase):
    """The list on a generated register of 3000 units (several pages)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = ConsumerServer()
        try:
            load_generated(cls.srv, 3000)
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

    def expected_rows(self):
        """The list computed here from the whole register (GET /v1/udtraek)."""
        st, _, doc = self.srv.call("GET", "/v1/udtraek")
        self.assertEqual(st, 200)
        rows = []

        def listed(rec):
            return rec["status"] == "aktiv" and rec.get("cvrNummer") and rec.get("pNummer")

        def row(rec, niveau, unit):
            return {"institutionsnummer": rec["nummer"], "navn": rec["navn"], "niveau": niveau,
                    "daginstitutionsNummer": unit["daginstitutionsNummer"],
                    "anvisningsenhedsNummer": unit["nummer"],
                    "kommuneKode": rec["adresse"]["kommuneKode"],
                    "instType3": unit["instType3"], "cvrNummer": rec["cvrNummer"],
                    "pNummer": rec["pNummer"], "adresse": rec["adresse"]}
        for di in doc["daginstitutioner"]:
            for unit in di["anvisningsenheder"]:
                if unit["status"] != "aktiv":
                    continue
                if listed(unit):
                    rows.append(row(unit, "anvisningsenhed", unit))
                for alt in unit.get("alternativeAdresser", []):
                    if listed(alt):
                        rows.append(row(alt, "alternativAdresse", unit))
        return doc["sekvensnummer"], sorted(rows, key=lambda r: r["institutionsnummer"])

    def test_the_list_is_streamed_and_whole(self):
        seq, want = self.expected_rows()
        st, h, body = self.srv.request("GET", "/v1/unilogin/institutioner")
        self.assertEqual(st, 200)
        self.assertEqual(h.get("content-type"), "application/json")
        self.assertEqual(h.get("transfer-encoding"), "chunked")
        self.assertTrue(body.startswith(b'{"sekvensnummer":%d,"institutioner":[{' % seq), body[:80])
        self.assertNotIn(b"\n", body)
        doc = json.loads(body)
        self.assertEqual(doc["sekvensnummer"], seq)
        self.assertGreater(len(doc["institutioner"]), 1000)  # several pages
        self.assertEqual(doc["institutioner"], want)
        st, h, head = self.srv.request("HEAD", "/v1/unilogin/institutioner")
        self.assertEqual((st, h.get("content-type"), head), (200, "application/json", b""))

    def test_clients_that_leave_mid_stream(self):
        st, _, whole = self.srv.request("GET", "/v1/unilogin/institutioner")
        self.assertEqual(st, 200)
        for _ in range(8):
            got = read_a_little_and_leave(self.srv, "/v1/unilogin/institutioner")
            self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:40])
        # the server saw each of them leave in the middle (499, part sent)
        left = left_mid_stream(self.srv, "/v1/unilogin/institutioner", 8)
        self.assertTrue(all(0 < n < len(whole) for n in left), left)
        # the server goes on answering, the same list byte for byte
        st, _, again = self.srv.request("GET", "/v1/unilogin/institutioner")
        self.assertEqual(st, 200)
        self.assertEqual(again, whole)
        self.assertEqual(self.srv.call("GET", "/healthz")[0], 200)


class UniloginKillTest(unittest.TestCase):
    """A crash (SIGKILL) right after a stream of changes: after the restart
    the files still cover every change."""

    def test_kill_and_resume(self):
        srv = ConsumerServer(unilogin={"interval_ms": 300})
        try:
            support = srv.add_client("support", "support")
            di = srv.ok("POST", "/v1/daginstitutioner", daginstitution(units=[
                anvisningsenhed(navn="K")]), auth=support)
            unit = di["anvisningsenheder"][0]["nummer"]
            srv.wait_files_until(srv.seq())
            start = srv.export_files()[0][0]
            for i in range(10):
                srv.ok("PATCH", "/v1/anvisningsenheder/" + unit, {"navn": "K%d" % i}, auth=support)
            srv.signal(signal.SIGKILL)
            srv.wait()
            srv.restart()
            last = srv.seq()
            files = srv.wait_files_until(last)
            covered = set()
            for fra, til, _ in files:
                covered.update(range(fra, til + 1))
            self.assertEqual(covered, set(range(start, last + 1)))
            self.assertEqual(srv.stop(), 0, srv.stderr())
        finally:
            srv.close()


if __name__ == "__main__":
    unittest.main()
