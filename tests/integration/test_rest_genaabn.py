"""Genåbn over real HTTP (DOMAIN.md, genåbn; docs/api.md section 8): POST
/v1/<level>/{nummer}/genaabn with {} for the three levels, support only; a
new version with virkningTil null and an aendret hændelse; refused while the
parent is closed (409 FORAELDER_NEDLAGT); a record in effect is left as it
is; If-Match and ?kontroller=true as for every write. And a person's session
as a REST credential: the cookie of /support/api/login, the CSRF token on
writes, the audit log naming the person."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "plugins", "rest", "tests"))
from rest_http import (RestServer, alternativ_adresse, anvisningsenhed,  # noqa: E402
                       daginstitution, problem_codes, run_cli, sanitizer_clean)

CLOSE = {"virkningTil": "2031-06-30"}


class GenaabnTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = RestServer(plugins=[{"name": "rest", "config": {}}, {"name": "support", "config": {}}])
        cls.sup = cls.srv.add_client("support", "support")
        cls.k101 = cls.srv.add_client("k101", "kommune", [101])

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        err = cls.srv.stderr()
        cls.srv.close()
        assert sanitizer_clean(err), err

    def make(self):
        st, _, dag = self.srv.call("POST", "/v1/daginstitutioner",
                                   daginstitution(units=[anvisningsenhed()]), auth=self.sup)
        self.assertEqual(st, 201, dag)
        ae = dag["anvisningsenheder"][0]["nummer"]
        st, _, aa = self.srv.call("POST", "/v1/alternative-adresser", alternativ_adresse(ae),
                                  auth=self.sup)
        self.assertEqual(st, 201, aa)
        return dag["nummer"], ae, aa["nummer"]

    def post(self, path, body, auth, headers=None):
        return self.srv.call("POST", path, body, auth=auth, headers=headers)

    def test_reopen_bottom_up_refused_then_top_down(self):
        di, ae, aa = self.make()
        for path in ("alternative-adresser/" + aa, "anvisningsenheder/" + ae,
                     "daginstitutioner/" + di):
            st, _, doc = self.post("/v1/%s/nedlaeg" % path, CLOSE, self.sup)
            self.assertEqual(st, 200, doc)
        seq = self.srv.seq()
        # the unit's daginstitution is closed: refused, nothing written
        st, _, doc = self.post("/v1/anvisningsenheder/%s/genaabn" % ae, {}, self.sup)
        self.assertEqual((st, problem_codes(doc)), (409, ["FORAELDER_NEDLAGT"]), doc)
        # a kommune asks support
        st, _, doc = self.post("/v1/daginstitutioner/%s/genaabn" % di, {}, self.k101)
        self.assertEqual((st, problem_codes(doc)), (403, ["IKKE_TILLADT"]), doc)
        # only {}
        st, _, doc = self.post("/v1/daginstitutioner/%s/genaabn" % di, {"virkningTil": None},
                               self.sup)
        self.assertEqual((st, problem_codes(doc)), (422, ["UKENDT_FELT"]), doc)
        # a dry run answers the same and writes nothing
        st, _, doc = self.post("/v1/daginstitutioner/%s/genaabn?kontroller=true" % di, {},
                               self.sup)
        self.assertEqual(st, 200, doc)
        self.assertEqual(self.srv.seq(), seq)
        # If-Match of an older version
        st, _, doc = self.post("/v1/daginstitutioner/%s/genaabn" % di, {}, self.sup,
                               {"If-Match": '"1"'})
        self.assertEqual((st, problem_codes(doc)), (412, ["VERSIONSKONFLIKT"]), doc)
        for path in ("daginstitutioner/" + di, "anvisningsenheder/" + ae,
                     "alternative-adresser/" + aa):
            st, headers, doc = self.post("/v1/%s/genaabn" % path, {}, self.sup)
            self.assertEqual(st, 200, doc)
            self.assertIsNone(doc["virkningTil"])
            self.assertEqual(doc["status"], "aktiv")
            self.assertEqual(headers["etag"], '"%d"' % doc["version"])
        st, _, events = self.srv.call("GET", "/v1/haendelser?fra=%d" % (seq + 1))
        self.assertEqual([(e["operation"], e["nummer"]) for e in events],
                         [("aendret", di), ("aendret", ae), ("aendret", aa)])
        # a record in effect: 200, unchanged, no hændelse
        st, _, doc = self.post("/v1/daginstitutioner/%s/genaabn" % di, {}, self.sup)
        self.assertEqual((st, doc["version"]), (200, 3), doc)
        self.assertEqual(self.srv.seq(), seq + 3)
        st, _, doc = self.post("/v1/daginstitutioner/G99999/genaabn", {}, self.sup)
        self.assertEqual(st, 404, doc)

    def test_a_session_as_credential(self):
        code, out, err = run_cli(["user", "add", "--name", "anne", "--role", "support",
                                  "--config", self.srv.config_path, "--data", self.srv.data_dir])
        self.assertEqual(code, 0, err)
        password = json.loads(out)["password"]
        st, headers, doc = self.post("/support/api/login",
                                     {"brugernavn": "anne", "adgangskode": "forkert"}, None)
        self.assertEqual(st, 401, doc)
        st, headers, doc = self.post("/support/api/login",
                                     {"brugernavn": "anne", "adgangskode": password}, None)
        self.assertEqual(st, 200, doc)
        cookie = headers["set-cookie"].split(";")[0]
        self.assertIn("HttpOnly", headers["set-cookie"])
        self.assertIn("SameSite=Strict", headers["set-cookie"])
        st, _, ses = self.srv.call("GET", "/support/api/session", headers={"Cookie": cookie})
        self.assertEqual(st, 200, ses)
        new = "en lang ny adgangskode"
        st, _, doc = self.post("/support/api/adgangskode", {"nuvaerende": password, "ny": new},
                               None, {"Cookie": cookie, "X-CSRF-Token": ses["csrf"]})
        self.assertEqual(st, 204, doc)
        body = daginstitution(ejerform=3, lovgrundlag=4, navn="Privat af anne")
        st, headers, doc = self.post("/v1/daginstitutioner", body, None, {"Cookie": cookie})
        self.assertEqual((st, problem_codes(doc)), (403, ["IKKE_TILLADT"]), doc)
        self.assertNotIn("www-authenticate", headers)
        st, _, doc = self.post("/v1/daginstitutioner", body, None,
                               {"Cookie": cookie, "X-CSRF-Token": ses["csrf"]})
        self.assertEqual(st, 201, doc)
        st, _, trail = self.srv.call("GET", "/v1/spor/" + doc["nummer"], auth=self.sup)
        self.assertEqual(st, 200, trail)
        self.assertEqual([a["aktoer"] for a in trail["audit"]], ["bruger:anne"])
        self.assertEqual([h["operation"] for h in trail["haendelser"]], ["oprettet"])
        st, _, _ = self.srv.call("GET", "/v1/spor/" + doc["nummer"], auth=self.k101)
        self.assertEqual(st, 403)
        st, _, _ = self.post("/support/api/logout", {}, None,
                             {"Cookie": cookie, "X-CSRF-Token": ses["csrf"]})
        self.assertEqual(st, 204)
        st, headers, doc = self.srv.call("GET", "/support/api/session", headers={"Cookie": cookie})
        self.assertEqual(st, 401, doc)


if __name__ == "__main__":
    unittest.main()
