"""The curl examples of docs/api.md, run as written: every ```sh block, in
order, in one bash with `set -euo pipefail`, against a real server with a
support client in DTR_KLIENT. A successful request in the guide uses
--fail-with-body, so any error answer fails the test; the error examples
print their status and code, which are checked here."""

import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "plugins", "rest", "tests"))
from rest_http import SOURCE_DIR, RestServer, sanitizer_clean  # noqa: E402

DOC = os.path.join(SOURCE_DIR, "docs", "api.md")


def sh_blocks(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)


@unittest.skipUnless(shutil.which("curl") and shutil.which("jq"), "needs curl and jq")
class RestDocsTest(unittest.TestCase):

    def test_examples_run(self):
        blocks = sh_blocks(DOC)
        self.assertGreaterEqual(len(blocks), 8)
        # the guide's SOAP section talks to the soap plugin too
        srv = RestServer(plugins=[{"name": "rest", "config": {}}, {"name": "soap", "config": {}}])
        work = tempfile.mkdtemp(prefix="dtr-docs-")
        try:
            auth = srv.add_client("docs", "support")
            id_secret = base64.b64decode(auth.split()[1]).decode()
            script = "set -euo pipefail\n" + "\n".join(blocks)
            env = dict(os.environ, DTR="http://%s:%d" % (srv.host, srv.port),
                       DTR_KLIENT=id_secret)
            p = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True,
                               text=True, timeout=240)
            out = p.stdout
            self.assertEqual(p.returncode, 0, "stdout:\n%s\nstderr:\n%s" % (out, p.stderr))
            lines = out.splitlines()
            self.assertIn("304", lines)                       # If-None-Match
            self.assertIn("412 VERSIONSKONFLIKT", lines)      # the stale If-Match
            self.assertIn("UGYLDIG_MEDIETYPE", lines)         # 415
            self.assertIn("UGYLDIG_PARAMETER", lines)         # a bad path segment
            self.assertIn("204", lines)                       # DELETE
            self.assertIn("410", lines)                       # GET after DELETE
            self.assertIn("2030-12-31", lines)                # nedlaeg
            self.assertTrue(any(l.lower().strip() == "kontrolleret: true" for l in lines), out)
            self.assertIn("201 daginstitution", lines)        # a transaction's steps
            self.assertIn("201 anvisningsenhed", lines)
            self.assertTrue(any(l.startswith("UKENDT_KODE ejerformKode") for l in lines), out)
            self.assertTrue(any(re.match(r"(?i)^location: /v1/daginstitutioner/[A-Z]\d{5}", l)
                                for l in lines), out)
            self.assertTrue(any(re.match(r"^\d+ oprettet daginstitution [A-Z]\d{5}$", l)
                                for l in lines) or "udtræk at" in out, out)
            self.assertEqual(srv.stop(), 0)
            self.assertTrue(sanitizer_clean(srv.stderr()), srv.stderr())
        finally:
            shutil.rmtree(work, ignore_errors=True)
            srv.close()


if __name__ == "__main__":
    unittest.main()
