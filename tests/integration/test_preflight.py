# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The preflight: a run with a bad token and an unknown sandbox recipe stops in seconds, one line per
fix, before anything is created (no lock, no ledger, no PR, no check result)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, open_prs_by_bot

pytestmark = pytest.mark.slow


def test_bad_token_and_unknown_recipe_stop_before_anything_is_created(playbook, lab_dir, tmp_path) -> None:
    playbook(only=["V1"], extra={"ccci_preflight": False, "ccci_report_dir": str(tmp_path / "up")}, check=True)
    lab = json.loads((lab_dir / "lab.json").read_text())
    before = open_prs_by_bot(lab)
    out = tmp_path / "out"
    bad = {"ccci_report_dir": str(out), "ccci_gitea_outsider_token": "not-a-token",
           "ccci_sandbox_recipes": ["custom-html-tiny", "no-such-recipe"]}
    run = playbook(only=["V1"], extra=bad)
    assert run.rc != 0
    text = " ".join(run.stdout.split())
    assert "preflight: 3 to fix before a run:" in text, run.stdout[-3000:]
    assert "ccci_gitea_outsider_token: GET " in text and "HTTP 401" in text
    assert "ccci_sandbox_recipes: no-such-recipe has no mirror recipe-maintainers/no-such-recipe" in text
    assert f"ccci_upstream_org: no repo {lab['upstream_org']}/no-such-recipe" in text
    assert "not-a-token" not in run.stdout
    # nothing was created: no lock, no ledger, no check result, no PR
    assert not (out / ".state" / "run.lock").exists() and not (out / ".state" / "ledger.jsonl").exists()
    assert not (out / "checks").exists()
    assert open_prs_by_bot(lab) == before
    # it answered in seconds: the preflight task's own time, from the progress callback's task records
    assert "TASK [coopcloud.cc_ci.preflight : Preflight | Stop here" in run.stdout
    assert "Lock | Take the run lock" not in run.stdout


def test_a_missing_box_script_is_named(playbook, tmp_path) -> None:
    bad = {"ccci_report_dir": str(tmp_path / "out"), "ccci_launcher": "/nonexistent/launch-upgrader.sh"}
    run = playbook(only=["V1"], extra=bad)
    assert run.rc != 0
    text = " ".join(run.stdout.split())
    assert "preflight: 1 to fix before a run:" in text, run.stdout[-3000:]
    assert "ccci_launcher: /nonexistent/launch-upgrader.sh is missing for" in text


def test_a_sandbox_mirror_missing_from_the_bridge_s_poll_repos_stops_the_run(playbook, tmp_path) -> None:
    """Item 6 of issue 13 (enrolment: the bridge polls the mirror). Not a catalogue mutant: the preflight is no
    registered check (it has no verdict in report.json; it stops the run before any check), so a lab of its own
    whose bridge's service lacks custom-html in POLL_REPOS, read on the box with ``docker service inspect``."""
    state = tmp_path / "lab"
    up = [sys.executable, "-m", "lab", "up", "--state", str(state), "--build-seconds", "1", "--poll-interval", "0.5"]
    subprocess.run(up, cwd=ROOT, check=True, capture_output=True, timeout=300)
    try:
        lab = json.loads((state / "lab.json").read_text())
        mirror = f"{lab['mirror_org']}/custom-html"
        # the bridge's configuration (what `docker service inspect` shows as its POLL_REPOS) lacks the mirror
        (state / "lab.json").write_text(json.dumps({**lab, "poll_repos": [r for r in lab["poll_repos"] if r != mirror]}))
        out = tmp_path / "out"
        run = playbook(only=["V1"], extra={"ccci_lab_state": str(state), "ccci_lab_keep": True,
                                           "ccci_report_dir": str(out)})
        assert run.rc != 0
        text = " ".join(run.stdout.split())
        assert "preflight: 1 to fix before a run:" in text, run.stdout[-3000:]
        assert (f"ccci_sandbox_recipes: the bridge does not poll {mirror}: add it to POLL_REPOS of service "
                "cc-ci-bridge_bridge") in text
        # the service's environment holds the bot's and Drone's tokens: never printed
        assert not any(token in run.stdout for token in lab["tokens"].values())
        assert not (out / "checks").exists() and "Lock | Take the run lock" not in run.stdout
    finally:
        subprocess.run([sys.executable, "-m", "lab", "down", "--state", str(state)], cwd=ROOT, capture_output=True,
                       check=False, timeout=120)
