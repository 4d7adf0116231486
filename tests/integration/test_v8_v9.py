# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""V8, V8a and V9 against the lab: PASS when healthy, and a run killed with SIGKILL in the middle of V3
is cleaned up by the next run (the mutants are in test_mutants.py)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from conftest import BIN, ROOT, kill_lab_agents, open_prs_by_bot

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


def test_a_run_killed_in_v3_is_cleaned_up_by_the_next(playbook, lab_dir, tmp_path) -> None:
    playbook(only=["V1"])  # the lab is up and clean
    report_dir = tmp_path / "killed"
    evars = {"ccci_lab_state": str(lab_dir), "ccci_lab_keep": True, "ccci_report_dir": str(report_dir),
             "ccci_lab_build_seconds": 1, "ccci_lab_poll_interval": 0.5, "ccci_only": ["V3", "V9"]}
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), PATH=f"{BIN}:{os.environ['PATH']}")
    proc = subprocess.Popen([str(BIN / "ansible-playbook"), "playbooks/verify-phase5.yml", "-e", json.dumps(evars)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    lab = json.loads((lab_dir / "lab.json").read_text())
    ledger = report_dir / ".state" / "ledger.jsonl"
    deadline = time.monotonic() + 240
    try:
        # Kill once the agent is at work in V3 and its upgrade PR is open.
        while time.monotonic() < deadline:
            if ledger.exists() and '"V3"' in ledger.read_text() and open_prs_by_bot(lab):
                break
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.3)
        else:
            pytest.fail("V3 never opened its PR")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        kill_lab_agents(lab_dir)
    time.sleep(1)
    assert open_prs_by_bot(lab), "the killed run should have left its PR open"
    rerun = playbook(only=["V9"], extra={"ccci_report_dir": str(report_dir)})
    assert rerun.rc == 0, rerun.stdout[-3000:]
    assert rerun.check("V9")["verdict"] == "PASS"
    assert open_prs_by_bot(lab) == []


def test_parallel_upgrade_all_is_caught_with_two_runners_too(playbook) -> None:
    """With one runner (the catalogue's run) builds never overlap and V8 judges the agent's own order;
    with two they overlap as well: either way /upgrade-all running recipes at once is caught."""
    run = playbook(faults=["upgradeall-parallel"], only=["V8"], extra={"ccci_lab_runners": 2}, isolated=True)
    v8 = run.check("V8")
    assert run.rc != 0 and v8["verdict"] == "FAIL", v8
    assert "ran in parallel" in v8["diagnosis"] and "first action" in v8["diagnosis"], v8["diagnosis"]
