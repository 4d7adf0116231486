# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a whole verification run against the lab leaves on the host."""
from __future__ import annotations

import json
import os

# molecule.yml puts the collection on the verifier's PYTHONPATH: the ids come from the registry.
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.check_registry import CHECKS as REGISTRY

OUT = "/tmp/ccci-molecule-default/out"
LAB = "/tmp/ccci-molecule-default/lab"
CHECKS = [check.id for check in REGISTRY]
AFTER = [check.id for check in REGISTRY if check.phase == "after"]


def _report(host) -> dict:
    report = host.file(f"{OUT}/report.json")
    assert report.exists
    return json.loads(report.content_string)


def test_every_check_reported_and_v1_to_v9_pass(host) -> None:
    checks = {c["id"]: c for c in _report(host)["checks"]}
    assert list(checks) == CHECKS
    for check_id in CHECKS:
        if check_id not in AFTER:
            assert checks[check_id]["verdict"] == "PASS", checks[check_id]
    # As root the real cron daemon runs and the first fire is seen; otherwise CRON says why it skipped.
    expected = "PASS" if os.geteuid() == 0 else "SKIP"
    assert checks["CRON"]["verdict"] == expected, checks["CRON"]


def test_review_and_junit_written(host) -> None:
    review = host.file(f"{OUT}/REVIEW-5.md")
    assert review.exists and all(f"| {check_id} |" in review.content_string for check_id in CHECKS)
    junit = host.file(f"{OUT}/junit.xml")
    assert junit.exists and f'tests="{len(CHECKS)}"' in junit.content_string
    assert 'failures="0"' in junit.content_string


def test_no_pr_of_the_run_left_open(host) -> None:
    state = json.loads(host.file(f"{LAB}/gitea.json").content_string)
    still_open = [f"{repo}#{n}" for repo, pulls in state["pulls"].items()
                  for n, pr in pulls.items() if pr["state"] == "open"]
    assert still_open == []
    # The lab's upstream maintainer merges V7's seed upstream (a person's merge); nothing else is merged.
    merged = [f"{repo}#{n}" for repo, pulls in state["pulls"].items() for n, pr in pulls.items()
              if pr.get("merged") and pr.get("merged_by") != "upstream-maintainer"]
    assert merged == []


def test_no_deploy_left(host) -> None:
    engine = f"{LAB}/abra/.lab-engine"
    for kind in ("stacks", "volumes", "secrets"):
        folder = host.file(f"{engine}/{kind}")
        assert not folder.exists or host.run(f"ls -A {engine}/{kind}").stdout.strip() == ""


def test_no_tmux_session_or_weekly_job_left(host) -> None:
    sessions = host.run(f"TMUX_TMPDIR={LAB}/tmux tmux ls")
    assert sessions.rc != 0 or "cc-ci-upgrader" not in sessions.stdout
    crontab = host.run("crontab -l")
    assert LAB not in crontab.stdout
