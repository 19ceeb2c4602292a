"""`dtr check`: the consistency report (DOMAIN.md): daginstitutioner in effect
without an anvisningsenhed in effect, and units in effect without a
P-nummer. Run beside a serving server, on data made through the REST API."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "plugins", "rest", "tests"))
from rest_http import (RestServer, alternativ_adresse, anvisningsenhed,  # noqa: E402
                       daginstitution, run_cli)


class CheckTest(unittest.TestCase):

    def setUp(self):
        self.srv = RestServer()
        self.auth = self.srv.add_client("support", "support")

    def tearDown(self):
        self.srv.close()

    def check(self):
        code, out, err = run_cli(["check", "--config", self.srv.config_path,
                                  "--data", self.srv.data_dir])
        return code, (json.loads(out) if out else None), err

    def create(self, path, body):
        st, _, doc = self.srv.call("POST", path, body, auth=self.auth)
        self.assertEqual(st, 201, doc)
        return doc

    def test_empty_register_is_consistent(self):
        code, report, err = self.check()
        self.assertEqual(code, 0, err)
        self.assertEqual(report["daginstitutionerUdenAktivAnvisningsenhed"], [])
        self.assertEqual(report["enhederUdenPNummer"], [])
        self.assertEqual(report["fund"], 0)

    def test_findings(self):
        # complete: a unit in effect with CVR and P-nummer
        good = self.create("/v1/daginstitutioner",
                           daginstitution(navn="Hel", units=[anvisningsenhed()]))
        # a daginstitution with no unit at all
        empty = self.create("/v1/daginstitutioner", daginstitution(navn="Tom"))
        # a daginstitution whose only unit closed today (both in effect since 2024)
        since_2024 = daginstitution(navn="Lukket", units=[anvisningsenhed()])
        since_2024["virkningFra"] = "2024-01-01"
        closing = self.create("/v1/daginstitutioner", since_2024)
        unit = closing["anvisningsenheder"][0]["nummer"]
        today = empty["virkningFra"]  # the register's today (Europe/Copenhagen)
        st, _, doc = self.srv.call("POST", "/v1/anvisningsenheder/%s/nedlaeg" % unit,
                                   {"virkningTil": today}, auth=self.auth)
        self.assertEqual(st, 200, doc)
        self.assertEqual(doc["status"], "nedlagt")
        # units without P-nummer: an anvisningsenhed and an alternativ adresse
        no_p = self.create("/v1/anvisningsenheder",
                           anvisningsenhed(parent=good["nummer"], navn="Uden P", pNummer=None))
        alt = self.create("/v1/alternative-adresser",
                          alternativ_adresse(good["anvisningsenheder"][0]["nummer"]))

        code, report, err = self.check()
        self.assertEqual(code, 1, err)
        lonely = {d["nummer"] for d in report["daginstitutionerUdenAktivAnvisningsenhed"]}
        self.assertEqual(lonely, {empty["nummer"], closing["nummer"]})
        self.assertNotIn(good["nummer"], lonely)
        without_p = {(u["nummer"], u["niveau"]) for u in report["enhederUdenPNummer"]}
        self.assertEqual(without_p, {(no_p["nummer"], "anvisningsenhed"),
                                     (alt["nummer"], "alternativAdresse")})
        self.assertEqual(report["fund"], len(lonely) + 2)
        self.assertGreater(report["sekvensnummer"], 0)

    def test_bad_usage(self):
        code, _, err = run_cli(["check", "extra", "--config", self.srv.config_path])
        self.assertEqual(code, 2)
        self.assertTrue(err.strip())


if __name__ == "__main__":
    unittest.main()
