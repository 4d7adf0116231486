# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""V1 and V2 against the lab: PASS when the lab is healthy (the mutants are in test_mutants.py)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_v1_v2_pass_on_a_healthy_lab(playbook) -> None:
    run = playbook(only=["V1", "V2", "V9"])
    assert run.rc == 0, run.stdout[-3000:]
    for check_id in ("V1", "V2", "V9"):
        assert run.check(check_id)["verdict"] == "PASS", run.check(check_id)
    v1 = run.check("V1")["evidence"]
    assert v1["bot_outcome"] == "fired" and v1["outsider_outcome"] == "rejected"
    assert v1["bad_trigger_outcome"] == "ignored" and v1["verdict"] == "GREEN"
    assert v1["build"].startswith("http://127.0.0.1:")
    v2 = run.check("V2")["evidence"]
    assert v2["helper_runs"]["green"]["verdict"] == "GREEN" and v2["helper_runs"]["red"]["verdict"] == "RED"
    assert "| V1 |" in run.review and "PASS" in run.review
