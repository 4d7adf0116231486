# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""V8, V8a and V9 against the lab: PASS when healthy (the mutants are in test_mutants.py; a run killed with
SIGKILL in the middle of V3's agent run and cleaned up by the next is test_crash.py's "agent run" point)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_v8_v8a_v9_pass(playbook) -> None:
    run = playbook(only=["V8", "V8a", "V9"])
    assert run.rc == 0, run.stdout[-4000:]
    for check_id in ("V8", "V8a", "V9"):
        assert run.check(check_id)["verdict"] == "PASS", run.check(check_id)
    v8 = run.check("V8")["evidence"]
    assert v8["max_concurrent_deploys"] == 1 and v8["dry_run_listed"] == v8["expected_candidates"]
    steps = run.check("V8a")["evidence"]["steps"]
    busy = steps["start_busy"]
    assert busy["current"]["pane_pid"] == busy["previous"]["pane_pid"] and busy["current"]["agents"]
    assert steps["wedge"]["status"] == "WEDGED" and steps["start_wedged"]["replaced"] is True


def test_parallel_upgrade_all_is_caught_with_two_runners_too(playbook) -> None:
    """With one runner (the catalogue's run) builds never overlap and V8 judges the agent's own order;
    with two they overlap as well: either way /upgrade-all running recipes at once is caught."""
    run = playbook(faults=["upgradeall-parallel"], only=["V8"], extra={"ccci_lab_runners": 2}, isolated=True)
    v8 = run.check("V8")
    assert run.rc != 0 and v8["verdict"] == "FAIL", v8
    assert "ran in parallel" in v8["diagnosis"] and "first action" in v8["diagnosis"], v8["diagnosis"]
