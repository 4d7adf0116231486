# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""testme_helper: runs a fake testme-on-pr.sh and parses VERDICT/BUILD."""
from __future__ import annotations

import json
import os
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coopcloud.cc_ci.plugins.modules import testme_helper


def run_module(main, args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        main()
    return json.loads(capsys.readouterr().out)


def script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


FAKE = """
echo "args=$1 $2 post=$POST wait=$MAX_WAIT int=$INTERVAL token=$GITEA_TOKEN" >> "$(dirname "$0")/calls"
case "$1" in
  green) echo "polling..."; echo "VERDICT=PENDING"; echo "VERDICT=GREEN"; echo "BUILD=http://drone/x/cc-ci/7"; exit 0;;
  red) echo "VERDICT=RED"; echo "BUILD=http://drone/x/cc-ci/8"; exit 1;;
  pending) echo "VERDICT=PENDING"; echo "BUILD=?"; exit 2;;
  slow) sleep 30;;
  *) echo "usage: testme-on-pr.sh <recipe> <pr>" >&2; exit 3;;
esac
"""


@pytest.fixture
def helper(tmp_path: Path) -> str:
    return script(tmp_path / "testme-on-pr.sh", FAKE)


def test_green_sets_env_and_parses(helper, capsys):
    res = run_module(
        testme_helper.main,
        dict(helper=helper, recipe="green", pr=3, post=True, max_wait=60, interval=2,
             env={"GITEA_TOKEN": "sekrit-token-value", "MIRROR_ORG": "m"}),
        capsys,
    )
    assert res["verdict"] == "GREEN"
    assert res["build_url"] == "http://drone/x/cc-ci/7"
    assert res["rc"] == 0 and res["changed"] is True
    assert res["started"] <= res["finished"]
    calls = (Path(helper).parent / "calls").read_text()
    assert "args=green 3 post=1 wait=60 int=2 token=sekrit-token-value" in calls
    assert "sekrit-token-value" not in json.dumps(res)


def test_poll_only_red_and_pending(helper, capsys):
    red = run_module(testme_helper.main, dict(helper=helper, recipe="red", pr=4, post=False), capsys)
    assert (red["verdict"], red["build_url"], red["rc"], red["changed"]) == ("RED", "http://drone/x/cc-ci/8", 1, False)
    assert "post=0" in (Path(helper).parent / "calls").read_text()
    pending = run_module(testme_helper.main, dict(helper=helper, recipe="pending", pr=4, post=False), capsys)
    assert pending["verdict"] == "PENDING" and pending["build_url"] is None


def test_no_verdict_fails_with_reason(helper, capsys):
    res = run_module(testme_helper.main, dict(helper=helper, recipe="other", pr=1), capsys)
    assert res["failed"] is True
    assert res["msg"] == "testme helper printed no VERDICT line (rc 3): usage: testme-on-pr.sh <recipe> <pr>"
    assert res["verdict"] == "UNKNOWN"


def test_missing_helper_names_the_variable(tmp_path, capsys):
    res = run_module(testme_helper.main, dict(helper=str(tmp_path / "nope.sh"), recipe="r", pr=1), capsys)
    assert res["failed"] is True
    assert "ccci_testme_helper" in res["msg"] and "nope.sh" in res["msg"]
    assert "\n" not in res["msg"]


def test_timeout(helper, capsys):
    res = run_module(testme_helper.main, dict(helper=helper, recipe="slow", pr=1, timeout=1), capsys)
    assert res["failed"] is True and "timed out after 1s" in res["msg"]


def test_check_mode_runs_nothing(helper, capsys):
    res = run_module(testme_helper.main, dict(helper=helper, recipe="green", pr=1, _ansible_check_mode=True), capsys)
    assert res["changed"] is True and "verdict" not in res
    assert not (Path(helper).parent / "calls").exists()
    assert os.path.basename(res["cmd"][0]) == "testme-on-pr.sh"


class _Drone(BaseHTTPRequestHandler):
    """Drone's build list: one build of PR 5 that ends after the first look."""
    looks = 0

    def do_GET(self):  # noqa: N802 (http.server's name)
        assert self.headers["Authorization"] == "Bearer drone-sekrit"
        type(self).looks += 1
        status = "running" if type(self).looks <= 2 else "success"  # the first look is the floor
        body = json.dumps([{"number": 12, "status": status,
                            "params": {"PR": "5", "REPO": "m/slow", "REF": "abc"}}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_watch_stops_a_helper_whose_status_is_not_coming(helper, capsys):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Drone)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        res = run_module(testme_helper.main, dict(
            helper=helper, recipe="slow", pr=5, post=False, interval=1, max_wait=60,
            watch={"drone_url": f"http://127.0.0.1:{server.server_port}", "drone_token": "drone-sekrit",
                   "repo": "m/slow", "sha": "abc", "grace": 1.5}), capsys)
    finally:
        server.shutdown()
    assert not res.get("failed") and res["verdict"] == "UNKNOWN"
    assert res["stopped"].startswith("Drone build #12 ended success and ") and res["seconds"] < 10
    assert "drone-sekrit" not in json.dumps(res)
