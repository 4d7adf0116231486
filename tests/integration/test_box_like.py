# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab at a box's settings (LAB_PROFILE=box-like: one Drone runner, Gitea page cap 20, builds of
10 s, a 5 s bridge poll) passes V1, V2, V4, V8 and V8a: every wait reads the lab's timings instead of
outlasting constants tuned for 3 s builds and a 1 s poll (issue 11, item 6). One run, one test (a
module fixture would run once per xdist worker)."""
from __future__ import annotations

import pytest

from lab.profiles import extra_vars

pytestmark = pytest.mark.slow

CHECKS = ["V1", "V2", "V4", "V8", "V8a"]


def test_box_like_checks_pass(playbook) -> None:
    run = playbook(only=CHECKS, extra=extra_vars("box-like"), isolated=True, timeout=3000)
    verdicts = {cid: run.check(cid)["verdict"] for cid in CHECKS}
    diagnoses = {cid: run.check(cid).get("diagnosis") for cid in CHECKS}
    assert verdicts == dict.fromkeys(CHECKS, "PASS"), (diagnoses, run.stdout[-2000:])
    assert run.check("V1")["evidence"]["quiet_window_seconds"] in (12.5, "12.5")  # 2.5 bridge polls of 5 s
    assert run.check("V8")["evidence"]["max_concurrent_deploys"] == 1
