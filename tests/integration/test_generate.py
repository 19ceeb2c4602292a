"""dtr generate --units N [--seed S] OUTDIR through the real binary: the
three files of the export layout, the same bytes for the same seed, other
bytes for another seed; they import with nothing refused and export again
as the same bytes (the generator writes export order). Bad usage exits 2."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bulk_harness import FILES, Workspace, counts, read_bytes, sanitizer_clean  # noqa: E402

UNITS = 250


class GenerateTest(unittest.TestCase):

    def setUp(self):
        self.ws = Workspace()

    def tearDown(self):
        self.ws.close()

    def generate(self, name, *extra):
        out = self.ws.path(name)
        code, stdout, err = self.ws.dtr("generate", "--units", str(UNITS), *extra, out)
        self.assertEqual(code, 0, stdout + err)
        self.assertTrue(sanitizer_clean(err), err)
        return out

    def test_deterministic_and_importable(self):
        a = self.generate("a", "--seed", "11")
        b = self.generate("b", "--seed", "11")
        c = self.generate("c", "--seed", "12")
        for name in FILES:
            self.assertEqual(read_bytes(os.path.join(a, name)), read_bytes(os.path.join(b, name)))
        self.assertNotEqual(read_bytes(os.path.join(a, "anvisningsenhed.csv")),
                            read_bytes(os.path.join(c, "anvisningsenhed.csv")))
        units = len(read_bytes(os.path.join(a, "anvisningsenhed.csv")).split(b"\r\n")) - 2
        self.assertEqual(units, UNITS)

        code, out, err = self.ws.dtr("import", a)
        self.assertEqual(code, 0, out + err)
        n = counts(out)
        self.assertEqual(n["refused"], 0, out)
        self.assertEqual(n["created"], n["rows read"], out)
        self.assertGreater(n["rows read"], UNITS)

        code, out, err = self.ws.dtr("export", self.ws.path("export"))
        self.assertEqual(code, 0, out + err)
        for name in FILES:
            self.assertEqual(read_bytes(os.path.join(a, name)),
                             read_bytes(self.ws.path("export", name)), name)

    def test_usage(self):
        for args in (["generate", self.ws.path("x")],
                     ["generate", "--units", "0", self.ws.path("x")],
                     ["generate", "--units", "ten", self.ws.path("x")],
                     ["generate", "--units", "5", "--seed", "-1", self.ws.path("x")],
                     ["generate", "--units", "5"]):
            code, out, err = self.ws.dtr(*args)
            self.assertEqual(code, 2, "%s: %s%s" % (args, out, err))
            self.assertTrue(err.strip(), args)


if __name__ == "__main__":
    unittest.main(verbosity=2)
