"""GET /v1/eksport/{daginstitution,anvisningsenhed,alternativadresse}.csv
over real HTTP (the csv plugin in a running server): each file is streamed
(chunked) and is byte for byte what `dtr export` writes from the same data
directory; an unknown file is 404; with public_read off a request without
credentials gets 401; HEAD gives the head only."""

import base64
import fcntl
import os
import sys
import termios
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bulk_harness import FILES, PLUGIN_DIR, Workspace, counts, read_bytes  # noqa: E402
from host_harness import Server, base_config, run_cli, sanitizer_clean  # noqa: E402

UNITS = 1200  # a few pages of daginstitutioner, some alternative adresser


class ExportHttpTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.ws = Workspace()
        files = cls.ws.path("files")
        code, out, err = cls.ws.dtr("generate", "--units", str(UNITS), "--seed", "5", files)
        assert code == 0, out + err
        cls.srv = Server(base_config(plugin_dir=PLUGIN_DIR, plugins=[{"name": "csv"}]),
                         start=False)
        cls.args = ["--config", cls.srv.config_path, "--data", cls.srv.data_dir]
        code, out, err = run_cli(["import", files] + cls.args)
        assert code == 0 and counts(out)["refused"] == 0, out + err
        cls.srv.start()
        code, out, err = run_cli(["export", cls.ws.path("cli")] + cls.args)
        assert code == 0, out + err

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.srv.stop()
            assert code == 0, cls.srv.stderr()
            assert sanitizer_clean(cls.srv.stderr()), cls.srv.stderr()
        finally:
            cls.srv.close()
            cls.ws.close()

    def test_files_equal_the_cli_export(self):
        for name in FILES:
            status, headers, body = self.srv.request("GET", "/v1/eksport/" + name)
            self.assertEqual(status, 200, body[:300])
            self.assertTrue(headers["content-type"].startswith("text/csv"), headers)
            self.assertEqual(headers.get("transfer-encoding"), "chunked", headers)
            self.assertIn(name, headers.get("content-disposition", ""))
            want = read_bytes(self.ws.path("cli", name))
            self.assertTrue(body.startswith(b"\xef\xbb\xbf"), name)
            self.assertEqual(len(body), len(want), name)
            self.assertEqual(body, want, name)
        # the data is not trivially small: several pages, adresser present
        self.assertGreater(read_bytes(self.ws.path("cli", "alternativadresse.csv")).count(b"\r\n"),
                           2)

    def test_unknown_file_and_head(self):
        status, headers, body = self.srv.request("GET", "/v1/eksport/nope.csv")
        self.assertEqual(status, 404, body)
        self.assertIn(b"FINDES_IKKE", body)
        status, headers, body = self.srv.request("HEAD", "/v1/eksport/daginstitution.csv")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")


class ExportHttpSlowClientTest(unittest.TestCase):
    """A file larger than the socket buffers: a client that stops reading for
    a while gets the whole file once it reads on (the export waits for the
    connection to drain); a client that goes away in the middle leaves
    nothing behind (checked by the sanitizers at the server's exit)."""

    UNITS = 15000

    @classmethod
    def setUpClass(cls):
        cls.ws = Workspace()
        files = cls.ws.path("files")
        code, out, err = cls.ws.dtr("generate", "--units", str(cls.UNITS), "--seed", "9", files)
        assert code == 0, out + err
        cls.srv = Server(base_config(plugin_dir=PLUGIN_DIR, plugins=[{"name": "csv"}]),
                         start=False)
        args = ["--config", cls.srv.config_path, "--data", cls.srv.data_dir]
        code, out, err = run_cli(["import", files] + args)
        assert code == 0, out + err
        cls.want = read_bytes(os.path.join(files, "anvisningsenhed.csv"))
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.srv.stop()
            assert code == 0, cls.srv.stderr()
            assert sanitizer_clean(cls.srv.stderr()), cls.srv.stderr()
        finally:
            cls.srv.close()
            cls.ws.close()

    def test_pause_then_read_on(self):
        conn = self.srv.connection()
        conn.request("GET", "/v1/eksport/anvisningsenhed.csv")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        first = resp.read(64 * 1024)
        # not reading until the server has filled the socket (it then waits
        # for the connection to drain)
        deadline = time.monotonic() + 30
        queued = bytearray(4)
        while True:
            fcntl.ioctl(conn.sock.fileno(), termios.FIONREAD, queued)
            if int.from_bytes(queued, sys.byteorder) >= 32 * 1024:
                break
            self.assertLess(time.monotonic(), deadline, "the server sent nothing ahead")
            time.sleep(0.01)
        body = first + resp.read()
        conn.close()
        self.assertEqual(len(body), len(self.want))
        self.assertEqual(body, self.want)

    def test_client_goes_away(self):
        for _ in range(3):
            conn = self.srv.connection()
            conn.request("GET", "/v1/eksport/anvisningsenhed.csv")
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            resp.read(4096)
            conn.close()
        status, _, body = self.srv.request("GET", "/v1/eksport/anvisningsenhed.csv")
        self.assertEqual(status, 200)
        self.assertEqual(body, self.want)


class ExportHttpClosedTest(unittest.TestCase):
    """With public_read off the export needs a client."""

    def test_needs_credentials(self):
        srv = Server(base_config(plugin_dir=PLUGIN_DIR, plugins=[{"name": "csv"}],
                                 public_read=False))
        try:
            status, headers, body = srv.request("GET", "/v1/eksport/daginstitution.csv")
            self.assertEqual(status, 401, body)
            self.assertIn("www-authenticate", headers)
            code, out, err = run_cli(["client", "add", "--name", "laeser", "--role", "laeser",
                                      "--config", srv.config_path, "--data", srv.data_dir])
            self.assertEqual(code, 0, out + err)
            import json
            client = json.loads(out)
            token = base64.b64encode(("%s:%s" % (client["clientId"], client["secret"]))
                                     .encode()).decode()
            status, headers, body = srv.request("GET", "/v1/eksport/daginstitution.csv",
                                                headers={"Authorization": "Basic " + token})
            self.assertEqual(status, 200, body[:300])
            self.assertTrue(body.startswith(b"\xef\xbb\xbfdaginstitutionsNummer;"), body[:100])
            bad = base64.b64encode(b"nobody:wrong").decode()
            status, _, _ = srv.request("GET", "/v1/eksport/daginstitution.csv",
                                       headers={"Authorization": "Basic " + bad})
            self.assertEqual(status, 401)
            self.assertEqual(srv.stop(), 0, srv.stderr())
        finally:
            srv.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
