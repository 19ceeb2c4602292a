"""GET /v1/portal/dagtilbud.geojson over real HTTP against the real binary:
the anvisningsenheder and alternative adresser in effect today that have
coordinates, with their texts and their daginstitution's ejerform; ETag and
304 on If-None-Match; a change shows at once with a new ETag; public_read.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "plugins", "portal", "tests"))
from portal_http import (PortalServer, adresse, alternativ_adresse, anvisningsenhed,  # noqa: E402
                         daginstitution, sanitizer_clean)

PATH = "/v1/portal/dagtilbud.geojson"


class GeoJsonTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = PortalServer({})
        cls.support = cls.srv.add_client("support", "support")

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.srv.stop()
            assert code == 0, cls.srv.stderr()
            assert sanitizer_clean(cls.srv.stderr()), cls.srv.stderr()
        finally:
            cls.srv.close()

    def post(self, path, body):
        status, _, doc = self.srv.call("POST", path, body, auth=self.support)
        self.assertEqual(status, 201, doc)
        return doc

    def features(self, doc):
        return {f["id"]: f for f in doc["features"]}

    def test_features_etag_and_changes(self):
        located = adresse(101, geoBredde=55.6867, geoLaengde=12.5701)
        di = self.post("/v1/daginstitutioner", daginstitution(
            ejerform=2, lovgrundlag=2, navn="Selvejet", units=[
                anvisningsenhed(navn="Med punkt", inst=6011, adresse=located),
                anvisningsenhed(navn="Uden punkt", inst=6010)]))
        units = {u["navn"]: u for u in di["anvisningsenheder"]}
        with_point = units["Med punkt"]["nummer"]
        without_point = units["Uden punkt"]["nummer"]
        aa = alternativ_adresse(with_point, navn="Legepladsen")
        aa["adresse"] = adresse(101, geoBredde=55.69, geoLaengde=12.58)
        alt = self.post("/v1/alternative-adresser", aa)["nummer"]

        status, headers, doc = self.srv.call("GET", PATH)
        self.assertEqual(status, 200, doc)
        self.assertTrue(headers["content-type"].startswith("application/geo+json"), headers)
        self.assertEqual(doc["type"], "FeatureCollection")
        feats = self.features(doc)
        self.assertIn(with_point, feats)
        self.assertIn(alt, feats)
        self.assertNotIn(without_point, feats)
        self.assertNotIn(di["nummer"], feats)
        f = feats[with_point]
        self.assertEqual(f["type"], "Feature")
        self.assertEqual(f["geometry"], {"type": "Point", "coordinates": [12.5701, 55.6867]})
        p = f["properties"]
        self.assertEqual(p["nummer"], with_point)
        self.assertEqual(p["navn"], "Med punkt")
        self.assertEqual(p["niveau"], "anvisningsenhed")
        self.assertEqual(p["instType3"], 6011)
        self.assertEqual(p["instType3Tekst"], "Børnehave (3-5 år)")
        self.assertEqual(p["ejerformKode"], 2)
        self.assertEqual(p["ejerformTekst"], "Selvejende")
        self.assertEqual(p["kommuneKode"], 101)
        self.assertEqual(p["kommuneNavn"], "København")
        self.assertEqual(p["adresse"]["vejNavn"], "Rømersgade")
        a = feats[alt]["properties"]
        self.assertEqual(a["niveau"], "alternativAdresse")
        self.assertEqual(a["instType3"], 6011)  # its anvisningsenhed's
        self.assertEqual(a["ejerformKode"], 2)  # its daginstitution's
        self.assertEqual(a["anvisningsenhedsNummer"], with_point)

        etag = headers["etag"]
        self.assertRegex(etag, r'^"\d+-\d{4}-\d\d-\d\d"$')
        status, h304, body = self.srv.call("GET", PATH, headers={"If-None-Match": etag})
        self.assertEqual(status, 304)
        self.assertEqual(h304["etag"], etag)
        self.assertFalse(body)

        # a change shows at once, under a new ETag
        status, _, doc = self.srv.call("PATCH", "/v1/anvisningsenheder/" + with_point,
                                       {"navn": "Nyt navn"}, auth=self.support)
        self.assertEqual(status, 200, doc)
        status, h2, doc = self.srv.call("GET", PATH, headers={"If-None-Match": etag})
        self.assertEqual(status, 200)
        self.assertNotEqual(h2["etag"], etag)
        self.assertEqual(self.features(doc)[with_point]["properties"]["navn"], "Nyt navn")


class GeoJsonPrivateTest(unittest.TestCase):

    def test_public_read_off_needs_a_client(self):
        srv = PortalServer({}, public_read=False)
        try:
            laeser = srv.add_client("laeser", "laeser")
            status, headers, _ = srv.call("GET", PATH)
            self.assertEqual(status, 401)
            self.assertIn("www-authenticate", headers)
            status, _, doc = srv.call("GET", PATH, auth=laeser)
            self.assertEqual(status, 200)
            self.assertEqual(doc["features"], [])
            self.assertEqual(srv.stop(), 0, srv.stderr())
            self.assertTrue(sanitizer_clean(srv.stderr()), srv.stderr())
        finally:
            srv.close()


if __name__ == "__main__":
    unittest.main()
