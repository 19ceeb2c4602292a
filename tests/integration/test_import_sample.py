"""dtr import and dtr export on the register's sample, through the real
binary: the whole sample imports with nothing refused; exporting it gives
back the three files byte for byte; a second import changes nothing (no new
hændelser); a dry run reports the same counts and writes nothing."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bulk_harness import (FILES, SAMPLE_DIR, Workspace, counts, read_bytes,  # noqa: E402
                          sanitizer_clean, skip_without_sample)

SAMPLE_ROWS = 2274 + 4809  # daginstitutioner + anvisningsenheder; no alternative adresser


@skip_without_sample
class ImportSampleTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.ws = Workspace()
        cls.first = cls.ws.dtr("import", SAMPLE_DIR)

    @classmethod
    def tearDownClass(cls):
        cls.ws.close()

    def test_1_whole_sample_imports(self):
        code, out, err = self.first
        self.assertEqual(code, 0, out + err)
        self.assertEqual(counts(out), {"rows read": SAMPLE_ROWS, "created": SAMPLE_ROWS,
                                       "updated": 0, "unchanged": 0, "refused": 0}, out)
        self.assertTrue(sanitizer_clean(err), err)
        self.assertEqual(self.ws.latest_sekvensnummer(), SAMPLE_ROWS)

    def test_2_export_gives_back_the_sample_byte_for_byte(self):
        out_dir = self.ws.path("export")
        code, out, err = self.ws.dtr("export", out_dir)
        self.assertEqual(code, 0, out + err)
        self.assertEqual(sorted(os.listdir(out_dir)), sorted(FILES))
        for name in FILES:
            got, want = read_bytes(os.path.join(out_dir, name)), read_bytes(
                os.path.join(SAMPLE_DIR, name))
            if got != want:
                got_lines, want_lines = got.split(b"\r\n"), want.split(b"\r\n")
                first = next((i for i, (a, b) in enumerate(zip(got_lines, want_lines)) if a != b),
                             min(len(got_lines), len(want_lines)))
                self.fail("%s differs from the sample at line %d:\n got  %r\n want %r" % (
                    name, first + 1, got_lines[first:first + 1], want_lines[first:first + 1]))

    def test_3_second_import_changes_nothing(self):
        before = self.ws.latest_sekvensnummer()
        code, out, err = self.ws.dtr("import", SAMPLE_DIR)
        self.assertEqual(code, 0, out + err)
        self.assertEqual(counts(out), {"rows read": SAMPLE_ROWS, "created": 0, "updated": 0,
                                       "unchanged": SAMPLE_ROWS, "refused": 0}, out)
        self.assertEqual(self.ws.latest_sekvensnummer(), before)

    def test_4_audit_chain_holds(self):
        code, out, err = self.ws.dtr("audit", "verify")
        self.assertEqual(code, 0, out + err)


@skip_without_sample
class DryRunTest(unittest.TestCase):

    def test_dry_run_reports_and_writes_nothing(self):
        ws = Workspace()
        try:
            code, out, err = ws.dtr("import", "--dry-run", SAMPLE_DIR)
            self.assertEqual(code, 0, out + err)
            self.assertIn("dry run", out)
            self.assertEqual(counts(out)["created"], SAMPLE_ROWS, out)
            self.assertEqual(ws.latest_sekvensnummer(), 0)
            code, out, err = ws.dtr("export", ws.path("export"))
            self.assertEqual(code, 0, out + err)
            with open(ws.path("export", "anvisningsenhed.csv"), "rb") as f:
                self.assertEqual(len(f.read().split(b"\r\n")), 2)  # the header only
        finally:
            ws.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
