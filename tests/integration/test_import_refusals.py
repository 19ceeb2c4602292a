"""dtr import with bad rows, through the real binary: each bad row is
reported on stdout as "<file>:<line>: <nummer>: <reasons>", the children of
a refused row are refused with it, the rest is imported, and the exit code
is 1. A file with the wrong column set refuses the whole import (exit 1, a
one-line reason on stderr, nothing imported); so does a missing file."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bulk_harness import (AA_HEADER, AE_HEADER, DI_HEADER, Workspace, counts,  # noqa: E402
                          sanitizer_clean, write_csv)

UNIT_TAIL = ";6012;;101;;Gammeltoftsgade;13;1355;København K;;;;74467334;1482983425;55.68855;12.57191;Aktiv"


def unit(nummer, parent, navn="Enhed"):
    return "%s;%s;%s%s" % (nummer, parent, navn, UNIT_TAIL)


class ImportRefusalsTest(unittest.TestCase):

    def setUp(self):
        self.ws = Workspace()
        self.files = self.ws.path("files")
        os.mkdir(self.files)

    def tearDown(self):
        self.ws.close()

    def write(self, di, ae, aa):
        write_csv(os.path.join(self.files, "daginstitution.csv"), DI_HEADER, di)
        write_csv(os.path.join(self.files, "anvisningsenhed.csv"), AE_HEADER, ae)
        write_csv(os.path.join(self.files, "alternativadresse.csv"), AA_HEADER, aa)

    def test_bad_rows_reported_children_refused_rest_imported(self):
        self.write(
            ["G40001;God;1;;1;;101;;Aktiv",
             "G40002;Ukendt ejerform;7;;1;;101;;Aktiv",
             "G40003;\"Brudt\" citat;1;;1;;101;;Aktiv",
             b"G40004;Ugyldig \xc3 tegn;1;;1;;101;;Aktiv",
             "G40005;For mange;1;;1;;101;;Aktiv;ekstra"],
            [unit("G23001", "G40001"),
             unit("G23002", "G40002"),
             unit("G23003", "G40009"),
             "G23004;G40001;Forkert CVR;6012;;101;;Vej;1;1355;København K;;;;12345678;;;;Aktiv"],
            ["G50001;G23002;Barnebarn;Vej;2;1355;København K;;101;;;;;;Aktiv",
             "G50002;G23001;God;Vej;2;1355;København K;;101;;;;;;Aktiv"])
        code, out, err = self.ws.dtr("import", self.files)
        self.assertEqual(code, 1, out + err)
        self.assertTrue(sanitizer_clean(err), err)
        self.assertEqual(counts(out), {"rows read": 11, "created": 3, "updated": 0,
                                       "unchanged": 0, "refused": 8}, out)
        lines = out.splitlines()

        def has(prefix, part):
            self.assertTrue(any(line.startswith(prefix) and part in line for line in lines),
                            "no line %r ... %r in:\n%s" % (prefix, part, out))
        has("daginstitution.csv:3: G40002: ", "UKENDT_KODE ejerformKode")
        has("daginstitution.csv:4: G40003: ", "broken quoting")
        has("daginstitution.csv:5: G40004: ", "invalid UTF-8")
        has("daginstitution.csv:6: G40005: ", "expected 9 columns, found 10")
        self.assertIn("anvisningsenhed.csv:3: G23002: parent G40002 was refused", lines)
        has("anvisningsenhed.csv:4: G23003: ", "FORAELDER_FINDES_IKKE")
        has("anvisningsenhed.csv:5: G23004: ", "UGYLDIG_CVR")
        self.assertIn("alternativadresse.csv:2: G50001: parent G23002 was refused", lines)

        # the good rows are in: exporting shows them
        code, _, err = self.ws.dtr("export", self.ws.path("out"))
        self.assertEqual(code, 0, err)
        with open(self.ws.path("out", "alternativadresse.csv"), encoding="utf-8-sig") as f:
            self.assertEqual([line.split(";")[0] for line in f.read().splitlines()[1:]],
                             ["G50002"])

    def test_wrong_column_set_refuses_everything(self):
        self.write(["G40001;God;1;;1;;101;;Aktiv"], [], [])
        write_csv(os.path.join(self.files, "anvisningsenhed.csv"),
                  AE_HEADER.replace("pNummer", "pnummer"), [])
        code, out, err = self.ws.dtr("import", self.files)
        self.assertEqual(code, 1, out + err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("anvisningsenhed.csv", err)
        self.assertIn("pNummer", err)
        self.assertEqual(self.ws.latest_sekvensnummer(), 0)

    def test_missing_file(self):
        self.write(["G40001;God;1;;1;;101;;Aktiv"], [], [])
        os.unlink(os.path.join(self.files, "alternativadresse.csv"))
        code, out, err = self.ws.dtr("import", self.files)
        self.assertEqual(code, 1, out + err)
        self.assertIn("alternativadresse.csv", err)

    def test_usage(self):
        code, _, err = self.ws.dtr("import")
        self.assertEqual(code, 2, err)
        code, _, err = self.ws.dtr("import", "--dry-run=yes", self.files)
        self.assertEqual(code, 2, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
