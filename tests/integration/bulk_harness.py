"""bulk_harness -- what the import, export and generate integration tests
share: a fresh directory with a config whose plugin_dir holds the csv
plugin, `dtr import|export|generate` runs on its data directory, the
register's sample, CSV files written from rows, and a look into the
database (read-only) for the newest sekvensnummer. Standard library only.
"""

import json
import os
import shutil
import store_sql
import subprocess
import tempfile
import unittest

DTR_BIN = os.environ.get("DTR_BIN", "build/dtr")
PLUGIN_DIR = os.environ.get("DTR_PLUGIN_DIR", "build/plugins")
SHARED_DIR = os.environ.get("DTR_SHARED_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared"))
SAMPLE_DIR = os.path.join(SHARED_DIR, "data", "dtr-sample")
SANITIZE = os.environ.get("DTR_SANITIZE", "0") not in ("0", "", "OFF", "FALSE", "false")
TIMEOUT = 240 if SANITIZE else 120

FILES = ("daginstitution.csv", "anvisningsenhed.csv", "alternativadresse.csv")

DI_HEADER = ("daginstitutionsNummer;daginstitutionsNavn;ejerformKode;ejerformKode_Tekst;"
             "lovgrundlagKode;lovgrundlagKode_Tekst;admKommuneKode;admKommuneKode_Tekst;"
             "aktivitetsstatus")
AE_HEADER = ("anvisningsenhedsNummer;daginstitutionsNummer;dagtilbudsNavn;instType3;"
             "instType3_Tekst;kommuneKode;kommuneKode_Tekst;vejNavn;husNummer;postNummer;byNavn;"
             "supplerendeBynavn;email;telefonNummer;cvrNummer;pNummer;geoBredde;geoLaengde;"
             "aktivitetsstatus")
AA_HEADER = ("alternativAdresseNummer;anvisningsenhedsNummer;dagtilbudsNavn;vejNavn;husNummer;"
             "postNummer;byNavn;supplerendeBynavn;kommuneKode;kommuneKode_Tekst;cvrNummer;pNummer;"
             "geoBredde;geoLaengde;aktivitetsstatus")


def skip_without_sample(test):
    """Skips a test (or class) when the register's sample is not there."""
    return unittest.skipUnless(
        os.path.isdir(SAMPLE_DIR),
        "the register's sample %s is absent (CI has it): skipped" % SAMPLE_DIR)(test)


def write_csv(path, header, rows):
    """A file in the export layout: BOM, header, rows, CRLF."""
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf")
        for line in [header] + list(rows):
            f.write(line.encode("utf-8") if isinstance(line, str) else line)
            f.write(b"\r\n")


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class Workspace:
    """A temporary directory with a config (csv plugin) and a data directory."""

    def __init__(self, plugins=None, **config):
        self.tmp = tempfile.mkdtemp(prefix="dtr-bulk-test-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.config_path = os.path.join(self.tmp, "dtr.json")
        cfg = {"listen": "127.0.0.1:0", "plugin_dir": PLUGIN_DIR,
               "plugins": plugins if plugins is not None else []}
        cfg.update(config)
        with open(self.config_path, "w") as f:
            json.dump(cfg, f)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def dtr(self, *args):
        """Runs `dtr ARGS --config ... --data ...`: (exit code, stdout, stderr)."""
        cmd = [DTR_BIN] + list(args) + ["--config", self.config_path, "--data", self.data_dir]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
        return p.returncode, p.stdout, p.stderr

    def latest_sekvensnummer(self):
        """The newest hændelse's sekvensnummer (0 before the first)."""
        return store_sql.query(self.data_dir,
                               "SELECT coalesce(max(sekvensnummer), 0) FROM haendelse")[0][0]

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def counts(report):
    """The counts of an import report: {"rows read": N, "created": N, ...}."""
    out = {}
    for line in report.splitlines():
        key, sep, value = line.rpartition(": ")
        if sep and key in ("rows read", "created", "updated", "unchanged", "refused"):
            out[key] = int(value)
    return out


def sanitizer_clean(text):
    return ("AddressSanitizer" not in text and "LeakSanitizer" not in text
            and "runtime error:" not in text)
