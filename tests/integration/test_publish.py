# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""ccci_publish=pr against the lab: the run opens a PR on the cc-ci repo from its own branch with
machine-docs/REVIEW-5.md and the DECISIONS.md entry, records it in the ledger, and the cleanup sweep
(the start-of-run one and V9) leaves it open: a second run updates the same PR. Never merged."""
from __future__ import annotations

import base64
import json
import urllib.request

import pytest

pytestmark = pytest.mark.slow

BRANCH = "cc-ci/phase5-review"
ENTRY = ("<!-- BEGIN ccci-cron anchor=2026-12-07T10:00:00+00:00 -->\n"
         "## Weekly /upgrade-all job, anchored to completion (T0 2026-12-07T10:00:00+00:00)\n\n"
         "- Schedule: `0 10 * * 1` in the root crontab, first fire at T0, then every 7 days.\n"
         "<!-- END ccci-cron anchor=2026-12-07T10:00:00+00:00 -->")


def api(lab: dict, method: str, path: str, body: dict | None = None):
    req = urllib.request.Request(f"{lab['gitea_url']}/api/v1{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"token {lab['tokens']['bot']}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.load(response)


def published(lab: dict) -> list[dict]:
    prs = api(lab, "GET", f"/repos/{lab['ci_repo']}/pulls?state=open&limit=50")
    return [p for p in prs if p["head"]["ref"] == BRANCH]


def on_branch(lab: dict, path: str) -> str:
    found = api(lab, "GET", f"/repos/{lab['ci_repo']}/contents/{path}?ref={BRANCH}")
    return base64.b64decode(found["content"]).decode()


def test_publish_pr_opens_one_pr_that_the_sweep_leaves_open(playbook, lab_dir, tmp_path) -> None:
    report_dir = tmp_path / "out"
    report_dir.mkdir()
    # The run's DECISIONS.md as the CRON check leaves it (one block per anchor).
    (report_dir / "DECISIONS.md").write_text(f"# Decisions\n\n{ENTRY}\n")
    first = playbook(only=["V9"], extra={"ccci_publish": "pr", "ccci_report_dir": str(report_dir)})
    lab = json.loads((lab_dir / "lab.json").read_text())
    try:
        assert first.rc == 0, first.stdout[-3000:]
        (pr,) = published(lab)
        assert pr["merged"] is False and pr["base"]["ref"] == "main"
        assert f"published: {pr['html_url']}" in first.stdout
        assert on_branch(lab, "machine-docs/REVIEW-5.md") == first.review.rstrip("\n") + "\n"
        decisions = on_branch(lab, "machine-docs/DECISIONS.md")
        assert decisions.count(ENTRY) == 1, decisions
        ledger = [json.loads(line) for line in (report_dir / ".state/ledger.jsonl").read_text().splitlines()]
        assert {"kind": "published_pr", "repo": lab["ci_repo"], "head": BRANCH, "number": pr["number"]}.items() \
            <= next(e for e in ledger if e.get("kind") == "published_pr").items()

        # A second run: its start-of-run sweep and V9 read that ledger and leave the PR open; publishing
        # again updates the same PR, and the entry is not added twice.
        second = playbook(only=["V9"], extra={"ccci_publish": "pr", "ccci_report_dir": str(report_dir)})
        assert second.rc == 0, second.stdout[-3000:]
        assert [p["number"] for p in published(lab)] == [pr["number"]]
        assert on_branch(lab, "machine-docs/REVIEW-5.md") == second.review.rstrip("\n") + "\n"
        assert on_branch(lab, "machine-docs/DECISIONS.md").count(ENTRY) == 1
    finally:
        for open_pr in published(lab):  # the reviewer declines it: the shared lab stays clean
            api(lab, "PATCH", f"/repos/{lab['ci_repo']}/pulls/{open_pr['number']}", {"state": "closed"})


def test_an_unknown_publish_mode_stops_before_anything_is_created(playbook, tmp_path) -> None:
    run = playbook(only=["V1"], extra={"ccci_publish": "merge", "ccci_report_dir": str(tmp_path / "out")})
    assert run.rc != 0
    assert "ccci_publish" in run.stdout and "pr" in run.stdout and "none" in run.stdout, run.stdout[-2000:]
    assert not (tmp_path / "out" / "REVIEW-5.md").exists()
