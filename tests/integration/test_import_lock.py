"""dtr import takes the data directory for itself: while `dtr serve` runs on
it, an import (a dry run too) is refused with "data directory <dir> is in
use by a running server" and exit 1, and changes nothing; `dtr export` may
run beside the server. Once the server stopped, the import runs. A second
server on the same data directory is refused as well."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bulk_harness import PLUGIN_DIR, Workspace, counts  # noqa: E402
from host_harness import DTR_BIN, Server, base_config, run_cli  # noqa: E402


class ImportLockTest(unittest.TestCase):

    def test_import_refused_while_serve_runs(self):
        ws = Workspace()
        files = ws.path("files")
        code, out, err = ws.dtr("generate", "--units", "40", "--seed", "3", files)
        self.assertEqual(code, 0, out + err)
        srv = Server(base_config(plugin_dir=PLUGIN_DIR))
        try:
            data_dir = os.path.realpath(srv.data_dir)
            args = ["--config", srv.config_path, "--data", srv.data_dir]
            for extra in ([], ["--dry-run"]):
                code, out, err = run_cli(["import"] + extra + [files] + args)
                self.assertEqual(code, 1, out + err)
                self.assertEqual(err.strip(), "dtr import: data directory %s is in use by a "
                                 "running server" % data_dir)

            # export reads beside the server
            code, out, err = run_cli(["export", ws.path("out")] + args)
            self.assertEqual(code, 0, out + err)
            self.assertTrue(os.path.exists(ws.path("out", "daginstitution.csv")))

            # one server per data directory
            code, out, err = run_cli(["serve", "--listen", "127.0.0.1:0"] + args)
            self.assertEqual(code, 1, out + err)
            self.assertIn("in use", err)

            self.assertEqual(srv.stop(), 0, srv.stderr())
            code, out, err = run_cli(["import", files] + args)
            self.assertEqual(code, 0, out + err)
            self.assertEqual(counts(out)["refused"], 0, out)
            self.assertGreater(counts(out)["created"], 40, out)
        finally:
            srv.close()
            ws.close()


if __name__ == "__main__":
    assert os.path.exists(DTR_BIN), DTR_BIN
    unittest.main(verbosity=2)
