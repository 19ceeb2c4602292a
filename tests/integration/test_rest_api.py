"""The REST API v1 over real HTTP against the real binary: every route of the
rest plugin, the HTTP conventions of API.md (ETag, Location, If-Match,
If-None-Match, Idempotency-Key, X-Request-Id, cursor pages, filters,
virkningsdato, problem+json) and the error codes a client can meet, with
bad input changing nothing (the hændelser count stays put)."""

import json
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "plugins", "rest", "tests"))
from rest_http import (RestServer, adresse, alternativ_adresse, anvisningsenhed,  # noqa: E402
                       daginstitution, problem_codes, sanitizer_clean)


class RestApiTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = RestServer(rest={"udtraek_page_size": 2},
                             limits={"max_body_bytes": 65536})
        cls.support = cls.srv.add_client("support", "support")

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.srv.stop()
            assert code == 0, cls.srv.stderr()
            assert sanitizer_clean(cls.srv.stderr()), cls.srv.stderr()
        finally:
            cls.srv.close()

    # ---- helpers ----

    def call(self, *a, **kw):
        return self.srv.call(*a, **kw)

    def create(self, path, body, auth=None, status=201):
        st, h, doc = self.call("POST", path, body, auth=auth or self.support)
        self.assertEqual(st, status, doc)
        return h, doc

    def refused(self, status, kode, method, path, body=None, unchanged=True, **kw):
        """Sends a request that must be refused with status and kode, and
        checks that nothing changed."""
        before = self.srv.seq()
        kw.setdefault("auth", self.support)
        st, h, doc = self.call(method, path, body, **kw)
        self.assertEqual(st, status, (method, path, doc))
        self.assertTrue(h.get("content-type", "").startswith("application/problem+json"), h)
        self.assertIn(kode, problem_codes(doc), doc)
        for key in ("type", "title", "status", "detail", "fejl"):
            self.assertIn(key, doc)
        self.assertEqual(doc["status"], status)
        if unchanged:
            self.assertEqual(self.srv.seq(), before, "a refused request changed the register")
        return doc

    def hierarchy(self, kommune=101, ejerform=1, lovgrundlag=1, units=1, navn="Solsikken"):
        body = daginstitution(kommune, ejerform, lovgrundlag, navn,
                              [anvisningsenhed(kommune=kommune, navn="%s %d" % (navn, i))
                               for i in range(units)])
        _, doc = self.create("/v1/daginstitutioner", body)
        return doc

    # ---- reads ----

    def test_code_lists(self):
        for name, first in (("kommuner", 101), ("ejerformer", 1), ("lovgrundlag", 1),
                            ("institutionstyper", 6010)):
            st, _, doc = self.call("GET", "/v1/kodetabeller/" + name)
            self.assertEqual(st, 200)
            self.assertEqual(doc[0]["kode"], first)
            self.assertTrue(all(isinstance(c["kode"], int) and c["tekst"] for c in doc))
        st, _, kommuner = self.call("GET", "/v1/kodetabeller/kommuner")
        self.assertEqual(len(kommuner), 98)
        self.assertEqual(kommuner[0]["tekst"], "København")
        st, _, ejer = self.call("GET", "/v1/kodetabeller/ejerformer")
        self.assertEqual([c["tekst"] for c in ejer], ["Kommunal", "Selvejende", "Privat",
                                                      "Udliciteret"])

    def test_create_read_etag_location(self):
        doc = self.hierarchy(units=2)
        nummer = doc["nummer"]
        self.assertRegex(nummer, r"^[A-Z][0-9]{5}$")
        self.assertEqual(len(doc["anvisningsenheder"]), 2)
        self.assertEqual(doc["status"], "aktiv")
        for field, kind in (("navn", str), ("ejerformKode", int), ("lovgrundlagKode", int),
                            ("admKommuneKode", int), ("version", int), ("opdateret", str)):
            self.assertIsInstance(doc[field], kind, field)
        st, h, got = self.call("GET", "/v1/daginstitutioner/" + nummer)
        self.assertEqual(st, 200)
        self.assertEqual(h["etag"], '"%d"' % got["version"])
        self.assertEqual(got, doc)  # the create answered the record as GET shows it
        ae = got["anvisningsenheder"][0]
        self.assertEqual(ae["daginstitutionsNummer"], nummer)
        self.assertIsInstance(ae["instType3"], int)
        self.assertIsInstance(ae["adresse"]["kommuneKode"], int)
        self.assertIsInstance(ae["adresse"]["geoBredde"], (float, type(None)))
        self.assertEqual(ae["alternativeAdresser"], [])
        # If-None-Match: 304 without a body
        st, h, body = self.call("GET", "/v1/daginstitutioner/" + nummer,
                                headers={"If-None-Match": h["etag"]})
        self.assertEqual((st, body), (304, b""))
        # HEAD
        st, h, body = self.call("HEAD", "/v1/daginstitutioner/" + nummer)
        self.assertEqual((st, body), (200, b""))
        # Location of a create
        h, aa = self.create("/v1/alternative-adresser", alternativ_adresse(ae["nummer"]))
        self.assertEqual(h["location"], "/v1/alternative-adresser/" + aa["nummer"])
        self.assertEqual(h["etag"], '"%d"' % aa["version"])
        st, _, one = self.call("GET", "/v1/anvisningsenheder/" + ae["nummer"])
        self.assertEqual([a["nummer"] for a in one["alternativeAdresser"]], [aa["nummer"]])
        # dagtilbud resolves every level
        for num, niveau in ((nummer, "daginstitution"), (ae["nummer"], "anvisningsenhed"),
                            (aa["nummer"], "alternativAdresse")):
            st, _, d = self.call("GET", "/v1/dagtilbud/" + num)
            self.assertEqual((st, d["niveau"], d["data"]["nummer"]), (200, niveau, num))
        # a number of another level is not in this collection
        self.refused(404, "FINDES_IKKE", "GET", "/v1/anvisningsenheder/" + nummer)
        self.refused(404, "FINDES_IKKE", "GET", "/v1/daginstitutioner/" + aa["nummer"])

    def test_path_and_query_checks(self):
        for path in ("/v1/daginstitutioner/g00001", "/v1/daginstitutioner/G0001",
                     "/v1/dagtilbud/G000011", "/v1/daginstitutioner?limit=0",
                     "/v1/daginstitutioner?limit=1001", "/v1/daginstitutioner?limit=x",
                     "/v1/daginstitutioner?efter=G00001", "/v1/daginstitutioner?status=lukket",
                     "/v1/daginstitutioner?virkningsdato=2026-02-30",
                     "/v1/anvisningsenheder?pNummer=12", "/v1/haendelser?maxantal=10001",
                     "/v1/haendelser?fra=-1", "/v1/anvisningsenheder/G0000/historik",
                     # a parameter the route does not take (a misspelt filter)
                     "/v1/anvisningsenheder?kommunekode=101", "/v1/haendelser/seneste?x=1",
                     "/v1/daginstitutioner?navn=a&ukendt", "/v1/kodetabeller/kommuner?sprog=da"):
            self.refused(400, "UGYLDIG_PARAMETER", "GET", path)
        # the parameters a route does take are still welcome, in any order
        st, _, _ = self.call("GET", "/v1/anvisningsenheder?limit=5&kommuneKode=101&status=aktiv")
        self.assertEqual(st, 200)
        self.refused(404, "FINDES_IKKE", "GET", "/v1/daginstitutioner/Z99999")
        self.refused(404, "FINDES_IKKE", "GET", "/v1/ingen-steder")

    def test_lists_pages_filters(self):
        made = [self.hierarchy(kommune=147, navn="Ærøskøbing Åbo %d" % i)["nummer"]
                for i in range(5)]
        seen = []
        url = "/v1/daginstitutioner?admKommuneKode=147&limit=2"
        while True:
            st, _, page = self.call("GET", url)
            self.assertEqual(st, 200, page)
            self.assertLessEqual(len(page["resultater"]), 2)
            seen += [r["nummer"] for r in page["resultater"]]
            if page["naeste"] is None:
                break
            self.assertNotIn(page["naeste"], made)  # opaque
            url = "/v1/daginstitutioner?admKommuneKode=147&limit=2&efter=" + page["naeste"]
        self.assertEqual(seen, sorted(seen))
        self.assertTrue(set(made) <= set(seen))
        self.assertTrue(all(r.startswith(("G", "H")) for r in seen))
        # navn: case-insensitive, Danish letters included
        q = urllib.parse.quote("ærøSKØBING åBO")
        st, _, page = self.call("GET", "/v1/daginstitutioner?navn=" + q)
        self.assertEqual(sorted(r["nummer"] for r in page["resultater"]), sorted(made))
        # status and virkningsdato
        st, _, page = self.call("GET", "/v1/daginstitutioner?admKommuneKode=147&status=nedlagt")
        self.assertEqual(page["resultater"], [])
        st, _, page = self.call("GET", "/v1/daginstitutioner?admKommuneKode=147"
                                       "&virkningsdato=2000-01-01")
        self.assertEqual(page["resultater"], [])
        self.refused(404, "FINDES_IKKE", "GET",
                     "/v1/daginstitutioner/%s?virkningsdato=2000-01-01" % made[0])
        # anvisningsenheder by parent, kommune, type, CVR, P-nummer
        st, _, one = self.call("GET", "/v1/daginstitutioner/" + made[0])
        ae = one["anvisningsenheder"][0]["nummer"]
        for query in ("daginstitutionsNummer=" + made[0], "kommuneKode=147&instType3=6011",
                      "cvrNummer=74467334&pNummer=1482983425&kommuneKode=147"):
            st, _, page = self.call("GET", "/v1/anvisningsenheder?limit=1000&" + query)
            self.assertIn(ae, [r["nummer"] for r in page["resultater"]], query)
        st, _, page = self.call("GET", "/v1/anvisningsenheder?instType3=6010&kommuneKode=147")
        self.assertNotIn(ae, [r["nummer"] for r in page["resultater"]])

    def test_update_if_match_and_history(self):
        doc = self.hierarchy()
        path = "/v1/daginstitutioner/" + doc["nummer"]
        etag = '"%d"' % doc["version"]
        st, h, new = self.call("PATCH", path, {"navn": "Solsikken og Månen"}, auth=self.support,
                               headers={"If-Match": etag}, ctype="application/merge-patch+json")
        self.assertEqual(st, 200, new)
        self.assertEqual(new["navn"], "Solsikken og Månen")
        self.assertEqual(new["version"], doc["version"] + 1)
        self.assertEqual(h["etag"], '"%d"' % new["version"])
        # the old version again: 412, nothing changed
        self.refused(412, "VERSIONSKONFLIKT", "PATCH", path, {"navn": "x"},
                     headers={"If-Match": etag})
        self.refused(412, "VERSIONSKONFLIKT", "PATCH", path, {"navn": "x"},
                     headers={"If-Match": "W/" + etag})
        self.refused(412, "VERSIONSKONFLIKT", "PATCH", path, {"navn": "x"},
                     headers={"If-Match": '"abc"'})
        # a refusal that comes earlier in the order wins over 412
        self.refused(422, "FOR_LANG", "PATCH", path, {"navn": "x" * 133},
                     headers={"If-Match": etag})
        st, _, new2 = self.call("PATCH", path, {"navn": "Solsikken"}, auth=self.support,
                                headers={"If-Match": "*"})
        self.assertEqual(st, 200, new2)
        st, _, hist = self.call("GET", path + "/historik")
        self.assertEqual(st, 200)
        self.assertEqual([v["version"] for v in hist], [1, 2, 3])
        for key in ("registreringFra", "registreringTil", "virkningFra", "virkningTil", "aktoer",
                    "data"):
            self.assertIn(key, hist[0])
        self.assertEqual(hist[1]["data"]["navn"], "Solsikken og Månen")

    def test_close_move_delete(self):
        a = self.hierarchy(units=1)
        b = self.hierarchy(units=0, navn="Månen")
        ae = a["anvisningsenheder"][0]["nummer"]
        st, h, moved = self.call("POST", "/v1/anvisningsenheder/%s/flyt" % ae,
                                 {"daginstitutionsNummer": b["nummer"]}, auth=self.support)
        self.assertEqual(st, 200, moved)
        self.assertEqual(moved["daginstitutionsNummer"], b["nummer"])
        self.assertEqual(h["etag"], '"%d"' % moved["version"])
        # across kommuner: 409
        c = self.hierarchy(kommune=147, units=0)
        self.refused(409, "FLYT_PAA_TVAERS", "POST", "/v1/anvisningsenheder/%s/flyt" % ae,
                     {"daginstitutionsNummer": c["nummer"]})
        # b has an active child: no close after it, no delete
        self.refused(409, "HAR_AKTIVE_BOERN", "POST",
                     "/v1/daginstitutioner/%s/nedlaeg" % b["nummer"], {"virkningTil": "2030-12-31"})
        self.refused(409, "HAR_BOERN", "DELETE", "/v1/daginstitutioner/" + b["nummer"])
        # a is empty now: delete, then 410 everywhere
        st, _, body = self.call("DELETE", "/v1/daginstitutioner/" + a["nummer"], auth=self.support)
        self.assertEqual((st, body), (204, b""))
        self.refused(410, "SLETTET", "GET", "/v1/daginstitutioner/" + a["nummer"])
        self.refused(410, "SLETTET", "PATCH", "/v1/daginstitutioner/" + a["nummer"], {"navn": "x"})
        st, _, hist = self.call("GET", "/v1/daginstitutioner/%s/historik" % a["nummer"])
        self.assertEqual(st, 200)
        # close the unit, then the parent; a closed record cannot change
        st, _, closed = self.call("POST", "/v1/anvisningsenheder/%s/nedlaeg" % ae,
                                  {"virkningTil": "2030-12-31"}, auth=self.support)
        self.assertEqual((st, closed["virkningTil"]), (200, "2030-12-31"), closed)
        self.refused(422, "UGYLDIG_DATO", "POST", "/v1/anvisningsenheder/%s/nedlaeg" % ae,
                     {"virkningTil": "2001-01-01"})
        st, _, closed = self.call("POST", "/v1/daginstitutioner/%s/nedlaeg" % c["nummer"],
                                  {"virkningTil": "2030-12-31"}, auth=self.support)
        self.assertEqual(st, 200, closed)
        # virkningTil only through nedlaeg, the parent only through flyt
        self.refused(422, "SKRIVEBESKYTTET", "PATCH", "/v1/anvisningsenheder/" + ae,
                     {"virkningTil": "2031-01-01"})
        self.refused(422, "SKRIVEBESKYTTET", "PATCH", "/v1/anvisningsenheder/" + ae,
                     {"daginstitutionsNummer": c["nummer"]})

    def test_alternativ_adresse_flyt(self):
        a = self.hierarchy(units=2)
        ae1, ae2 = (u["nummer"] for u in a["anvisningsenheder"])
        _, aa = self.create("/v1/alternative-adresser", alternativ_adresse(ae1))
        st, _, moved = self.call("POST", "/v1/alternative-adresser/%s/flyt" % aa["nummer"],
                                 {"anvisningsenhedsNummer": ae2}, auth=self.support)
        self.assertEqual((st, moved["anvisningsenhedsNummer"]), (200, ae2), moved)
        self.refused(422, "FORAELDER_FINDES_IKKE", "POST",
                     "/v1/alternative-adresser/%s/flyt" % aa["nummer"],
                     {"anvisningsenhedsNummer": "Z99998"})
        st, _, p = self.call("PATCH", "/v1/alternative-adresser/" + aa["nummer"],
                             {"navn": "Legepladsen"}, auth=self.support)
        self.assertEqual((st, p["navn"]), (200, "Legepladsen"))
        st, _, _ = self.call("DELETE", "/v1/alternative-adresser/" + aa["nummer"],
                             auth=self.support)
        self.assertEqual(st, 204)

    def test_field_errors_422(self):
        parent = self.hierarchy(units=0)
        base = daginstitution()
        cases = [
            ("MANGLER_FELT", "/v1/daginstitutioner", {k: v for k, v in base.items() if k != "navn"}),
            ("UKENDT_FELT", "/v1/daginstitutioner", dict(base, farve="blå")),
            ("FORKERT_TYPE", "/v1/daginstitutioner", dict(base, ejerformKode="1")),
            ("FORKERT_TYPE", "/v1/daginstitutioner", [base]),
            ("FOR_LANG", "/v1/daginstitutioner", dict(base, navn="å" * 133)),
            ("UKENDT_KODE", "/v1/daginstitutioner", dict(base, admKommuneKode=999)),
            ("KRYDSVALIDERING", "/v1/daginstitutioner", dict(base, ejerformKode=4)),
            ("SKRIVEBESKYTTET", "/v1/daginstitutioner", dict(base, nummer="G12345")),
            ("UGYLDIG_CVR", "/v1/anvisningsenheder", anvisningsenhed(parent["nummer"],
                                                                     cvrNummer="12345678")),
            ("UGYLDIG_PNUMMER", "/v1/anvisningsenheder", anvisningsenhed(parent["nummer"],
                                                                         pNummer="12")),
            ("UGYLDIG_POSTNUMMER", "/v1/anvisningsenheder",
             anvisningsenhed(parent["nummer"], adresse=adresse(postNummer="12a4"))),
            ("UGYLDIGT_FORMAT", "/v1/anvisningsenheder",
             anvisningsenhed(parent["nummer"], adresse=adresse(husNummer="27-29"))),
            ("FORAELDER_FINDES_IKKE", "/v1/anvisningsenheder", anvisningsenhed("Z99997")),
            ("UGYLDIG_DATO", "/v1/daginstitutioner", dict(base, virkningFra="2026-02-30")),
        ]
        for kode, path, body in cases:
            with self.subTest(kode=kode, body=body):
                doc = self.refused(422, kode, "POST", path, body)
                self.assertTrue(all("felt" in f and "tekst" in f for f in doc["fejl"]))
        # several errors at once, each with its field
        doc = self.refused(422, "UKENDT_KODE", "POST", "/v1/daginstitutioner",
                           dict(base, navn="", ejerformKode=9))
        self.assertGreaterEqual(len(doc["fejl"]), 2)
        self.assertIn("ejerformKode", [f["felt"] for f in doc["fejl"]])

    def test_http_level_errors(self):
        path = "/v1/daginstitutioner"
        body = json.dumps(daginstitution())
        self.refused(401, "IKKE_AUTENTIFICERET", "POST", path, body, auth=None)
        st, h, _ = self.call("POST", path, body)
        self.assertEqual(h.get("www-authenticate"), 'Basic realm="dtr"')
        self.refused(401, "IKKE_AUTENTIFICERET", "POST", path, body, auth="Basic eDp5")
        self.refused(401, "IKKE_AUTENTIFICERET", "GET", path, auth="Basic eDp5")
        for ctype in ("text/plain", "application/json; charset=latin1",
                      "application/merge-patch+json", None):
            self.refused(415, "UGYLDIG_MEDIETYPE", "POST", path, body, ctype=ctype)
        self.refused(415, "UGYLDIG_MEDIETYPE", "POST", path, "{", ctype="text/plain")
        ok_types = ("application/json; charset=utf-8", "Application/JSON")
        for ctype in ok_types:
            st, _, doc = self.call("POST", path, body, auth=self.support, ctype=ctype)
            self.assertEqual(st, 201, doc)
        for bad in (b"{", b"", b'{"navn": "a", "navn": "b"}', b'{"navn": "\xc3\x28"}',
                    b"\xef\xbb\xbf{}", b'{"navn": "a\\u0000"}', b"[" * 40 + b"]" * 40,
                    b'{"a": 123456789012345678901234567890}'):
            self.refused(400, "UGYLDIG_JSON", "POST", path, bad)
        self.refused(400, "UGYLDIG_FORESPOERGSEL", "POST", path, body,
                     headers={"Idempotency-Key": "x" * 300})
        self.refused(413, "FOR_STOR", "POST", path, b'{"navn": "' + b"a" * 70000 + b'"}')
        # 431: headers beyond the limit
        st, _, doc = self.call("GET", "/v1/haendelser/seneste", headers={"X-Big": "a" * 20000})
        self.assertEqual(st, 431)
        self.assertIn("FOR_STORE_HOVEDER", problem_codes(doc))
        # 403: a reader may not write
        laeser = self.srv.add_client("laeser", "laeser")
        self.refused(403, "IKKE_TILLADT", "POST", path, body, auth=laeser)

    def test_idempotency(self):
        body = json.dumps(daginstitution(navn="Idempotens"))
        key = {"Idempotency-Key": "idem-api-1"}
        st1, h1, d1 = self.call("POST", "/v1/daginstitutioner", body, auth=self.support,
                                headers=key)
        before = self.srv.seq()
        st2, h2, d2 = self.call("POST", "/v1/daginstitutioner", body, auth=self.support,
                                headers=key)
        self.assertEqual((st1, d1, h1["location"], h1["etag"]), (st2, d2, h2["location"],
                                                                 h2["etag"]))
        self.assertEqual(self.srv.seq(), before)
        self.refused(422, "IDEMPOTENS_KONFLIKT", "POST", "/v1/daginstitutioner",
                     json.dumps(daginstitution(navn="Anden")), headers=key)
        # the key is per client
        other = self.srv.add_client("support-2", "support")
        st3, _, d3 = self.call("POST", "/v1/daginstitutioner", body, auth=other, headers=key)
        self.assertEqual(st3, 201)
        self.assertNotEqual(d3["nummer"], d1["nummer"])

    def test_request_id(self):
        st, h, _ = self.call("GET", "/v1/haendelser/seneste", headers={"X-Request-Id": "abc-123"})
        self.assertEqual(h["x-request-id"], "abc-123")
        st, h, _ = self.call("POST", "/v1/daginstitutioner", "{", auth=self.support)
        self.assertTrue(h["x-request-id"])

    def test_haendelser(self):
        before = self.srv.seq()
        doc = self.hierarchy(units=2)
        st, _, latest = self.call("GET", "/v1/haendelser/seneste")
        self.assertEqual(latest["sekvensnummer"], before + 3)
        self.assertIsInstance(latest["tidspunkt"], str)
        st, _, events = self.call("GET", "/v1/haendelser?fra=%d&maxantal=10" % (before + 1))
        self.assertEqual([e["sekvensnummer"] for e in events], [before + 1, before + 2, before + 3])
        self.assertEqual(events[0]["operation"], "oprettet")
        self.assertEqual(events[0]["entitet"], "daginstitution")
        self.assertEqual(events[0]["nummer"], doc["nummer"])
        for key in ("tidspunkt", "version", "data"):
            self.assertIn(key, events[0])
        st, _, events = self.call("GET", "/v1/haendelser?fra=%d&maxantal=2" % (before + 1))
        self.assertEqual(len(events), 2)
        st, _, events = self.call("GET", "/v1/haendelser?fra=%d" % (before + 100))
        self.assertEqual(events, [])

    def test_udtraek(self):
        made = [self.hierarchy(units=1)["nummer"] for _ in range(3)]
        st, h, doc = self.call("GET", "/v1/udtraek")
        self.assertEqual(st, 200, doc)
        self.assertEqual(h.get("transfer-encoding"), "chunked")
        self.assertEqual(doc["sekvensnummer"], self.srv.seq())
        nums = [d["nummer"] for d in doc["daginstitutioner"]]
        self.assertEqual(nums, sorted(nums))
        self.assertTrue(set(made) <= set(nums))
        one = next(d for d in doc["daginstitutioner"] if d["nummer"] == made[0])
        st, _, got = self.call("GET", "/v1/daginstitutioner/" + made[0])
        self.assertEqual(one, got)

    def test_reads_follow_every_write(self):
        """GETs answered from the plugin's cache show every change at once:
        the record's own, a nested child's, a new child's and a move's."""
        a = self.hierarchy(units=1)
        b = self.hierarchy(units=0, navn="Anden")
        di, di2 = "/v1/daginstitutioner/" + a["nummer"], "/v1/daginstitutioner/" + b["nummer"]
        ae = a["anvisningsenheder"][0]["nummer"]
        for _ in range(2):  # the second read comes from the cache
            for path in (di, di2, "/v1/anvisningsenheder/" + ae):
                self.assertEqual(self.call("GET", path)[0], 200)
        _, aa = self.create("/v1/alternative-adresser", alternativ_adresse(ae))
        st, _, doc = self.call("GET", di)
        self.assertEqual(doc["anvisningsenheder"][0]["alternativeAdresser"][0]["nummer"],
                         aa["nummer"])
        st, _, doc = self.call("GET", "/v1/anvisningsenheder/" + ae)
        self.assertEqual(len(doc["alternativeAdresser"]), 1)
        st, _, _ = self.call("PATCH", "/v1/alternative-adresser/" + aa["nummer"],
                             {"navn": "Omdøbt legeplads"}, auth=self.support)
        self.assertEqual(st, 200)
        st, _, doc = self.call("GET", di)
        self.assertEqual(doc["anvisningsenheder"][0]["alternativeAdresser"][0]["navn"],
                         "Omdøbt legeplads")
        st, _, _ = self.call("POST", "/v1/anvisningsenheder/%s/flyt" % ae,
                             {"daginstitutionsNummer": b["nummer"]}, auth=self.support)
        self.assertEqual(st, 200)
        self.assertEqual(self.call("GET", di)[2]["anvisningsenheder"], [])
        st, h, doc = self.call("GET", di2)
        self.assertEqual([u["nummer"] for u in doc["anvisningsenheder"]], [ae])
        self.assertEqual(h["etag"], '"%d"' % doc["version"])
        st, _, _ = self.call("PATCH", di2, {"navn": "Anden og tredje"}, auth=self.support)
        st, h, doc = self.call("GET", di2)
        self.assertEqual((doc["navn"], h["etag"]), ("Anden og tredje", '"%d"' % doc["version"]))

    def test_openapi_documents_what_is_served(self):
        st, _, doc = self.call("GET", "/v1/openapi.json")
        self.assertEqual(st, 200)
        self.assertEqual(doc["openapi"], "3.1.0")
        di = self.hierarchy(units=1)
        ae = di["anvisningsenheder"][0]["nummer"]
        _, aa = self.create("/v1/alternative-adresser", alternativ_adresse(ae))
        numbers = {"daginstitutioner": di["nummer"], "anvisningsenheder": ae,
                   "alternative-adresser": aa["nummer"], "dagtilbud": ae}
        served = 0
        for path, item in doc["paths"].items():
            if not path.startswith("/v1/"):
                continue  # the host's own routes (/healthz, ...): test_openapi_complete.py
            collection = path.split("/")[2]
            concrete = path.replace("{nummer}", numbers.get(collection, ""))
            for method in item:
                # every documented route is routed to the plugin (not the
                # router's 404/405) and answers as documented
                st, _, body = self.call(method.upper(), concrete,
                                        "{}" if method in ("post", "patch") else None,
                                        auth=self.support)
                self.assertIn(str(st), item[method]["responses"], (method, path, body))
                self.assertNotIn(st, (404, 405, 500), (method, path, body))
                served += 1
        self.assertEqual(served, 36)

if __name__ == "__main__":
    unittest.main()
