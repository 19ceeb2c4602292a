"""The web UI in a real browser (ctest plugins/support_browser).

Prepares what run.mjs needs and runs it: the npm packages (`npm ci` when
node_modules is missing), a data directory with the register's sample
imported, people made with `dtr user add` (anne and tove: support, lars:
laeser), a kommune client for 101, and two servers on ephemeral ports: one
as configured by default and one whose sessions end after a few seconds
(sessions.max_age_ms), for the expired-session test. Screenshots go to
<build>/support-screenshots (SHOT_DIR overrides).

Skipped (exit 77) when node or chromium is missing, or the sample is not
there. Standard library only.
"""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DTR_SOURCE_DIR", os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
from host_harness import DTR_BIN, Server, run_cli  # noqa: E402

SHARED = os.environ.get("DTR_SHARED_DIR", os.path.join(SOURCE, "..", "shared"))
SAMPLE = os.path.join(SHARED, "data", "dtr-sample")
PLUGIN_DIR = os.environ.get("DTR_PLUGIN_DIR", os.path.join(os.path.dirname(DTR_BIN), "plugins"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SKIP = 77


def config(**extra):
    cfg = {
        "listen": "127.0.0.1:0",
        "plugin_dir": PLUGIN_DIR,
        "plugins": [
            {"name": "rest", "config": {}},
            {"name": "csv", "config": {}},
            {"name": "portal", "config": {"webhooks": [{"url": "http://127.0.0.1:9/krog"}]}},
            {"name": "support", "config": {}},
        ],
    }
    cfg.update(extra)
    return cfg


def cli(server, *args):
    code, out, err = run_cli(list(args) + ["--config", server.config_path, "--data",
                                           server.data_dir])
    if code != 0:
        raise AssertionError("dtr %s failed: %s%s" % (" ".join(args), out, err))
    return out


def main():
    if not shutil.which("node") or not os.path.exists(CHROMIUM):
        print("skipped: node or chromium is missing")
        return SKIP
    if not os.path.isdir(SAMPLE):
        print("skipped: no sample at " + SAMPLE)
        return SKIP
    if not os.path.isdir(os.path.join(HERE, "node_modules")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)

    main_server = Server(config(), start=False)
    short = Server(config(sessions={"max_age_ms": 4000}), start=False)
    try:
        cli(main_server, "import", SAMPLE)
        people = {}
        for name, role in (("anne", "support"), ("tove", "support"), ("lars", "laeser")):
            people[name] = json.loads(cli(main_server, "user", "add", "--name", name,
                                          "--role", role))["password"]
        kommune = json.loads(cli(main_server, "client", "add", "--name", "Kommune 101",
                                 "--role", "kommune", "--kommune", "101"))
        # the short-lived server gets its own copy of the data directory
        shutil.copytree(main_server.data_dir, short.data_dir)
        main_server.start()
        short.start()
        env = dict(os.environ,
                   BASE="http://%s:%d" % (main_server.host, main_server.port),
                   BASE_SHORT="http://%s:%d" % (short.host, short.port),
                   PEOPLE=json.dumps(people),
                   KOMMUNE="%s:%s" % (kommune["clientId"], kommune["secret"]),
                   CHROMIUM=CHROMIUM,
                   SHOT_DIR=os.environ.get("SHOT_DIR", os.path.join(
                       os.path.dirname(DTR_BIN), "support-screenshots")))
        code = subprocess.run(["node", "run.mjs"], cwd=HERE, env=env).returncode
        if code != 0:
            sys.stderr.write(main_server.stderr()[-4000:])
        return code
    finally:
        main_server.close()
        short.close()


if __name__ == "__main__":
    sys.exit(main())
