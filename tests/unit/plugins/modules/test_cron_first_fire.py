# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""cron_first_fire: a T0 that passed before the run, with no fire in the job's own log on the box, is
said at once with what to do; a fire recorded in that log is evidence any controller can read."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coopcloud.cc_ci.plugins.modules import cron_first_fire


def run(args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        cron_first_fire.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def base(tmp_path: Path) -> dict:
    (tmp_path / "tab").write_text("")
    return {"t0": "2026-11-01T02:00:00-05:00", "log": str(tmp_path / "cron.log"), "launcher": "/bin/true",
            "tabfile": str(tmp_path / "tab"), "timezone": "America/New_York", "wait_seconds": 0,
            "since": datetime.now(timezone.utc).isoformat()}


def test_passed_t0_without_a_fire_says_what_to_do_at_once(base, capsys):
    started = time.monotonic()
    res = run(base, capsys)
    assert time.monotonic() - started < 10
    assert res["done"] is True and res["passed"] is False and res["t0_passed"] is True
    assert "had passed before this run began" in res["diagnosis"] and "ccci_cron_reanchor=true" in res["diagnosis"]
    nxt = datetime.fromisoformat(res["next_fire"])
    assert nxt > datetime.now(timezone.utc) and (nxt.hour, nxt.minute, nxt.isoweekday()) == (2, 0, 7)
    assert res["next_fire"] in res["diagnosis"] and "syslog" not in res["diagnosis"]


def test_a_fire_in_the_jobs_log_is_evidence(base, capsys):
    Path(base["log"]).write_text("2026-11-01T07:00:01+00:00 ccci-upgrade-all start: fired\n"
                                 "2026-11-01T07:00:02+00:00 ccci-upgrade-all start: exit 0\n")
    res = run(base, capsys)
    assert res["t0_passed"] is False
    assert res["fired_at"] == "2026-11-01T07:00:01+00:00" and res["launcher_rc"] == 0
