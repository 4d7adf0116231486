# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""testinfra, per box (over SSH as the box's own user, from the scenario's inventory): what one run over
two boxes left on each, and that neither disturbed the other. The reports are the controller's files
and the labs' Gitea state is the lab daemon's (root's): those the test reads here, as root."""
from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

# molecule.yml puts the collection on the verifier's PYTHONPATH: the ids come from the registry.
from ansible_collections.coopcloud.cc_ci.plugins.module_utils.check_registry import CHECKS as REGISTRY

ROOT = Path("/tmp/ccci-molecule-box")
OUT = ROOT / "out"
BOXES = {"box-a": "ccci-mol-a", "box-b": "ccci-mol-b"}  # inventory name: box user (host_vars test settings)
CHECK_IDS = [check.id for check in REGISTRY]
AFTER = [check.id for check in REGISTRY if check.phase == "after"]


def _name(host) -> str:
    return host.backend.get_hostname()


def _lab(name: str) -> dict:
    return json.loads((ROOT / name / "lab" / "lab.json").read_text())


def _report(name: str) -> dict:
    return json.loads((OUT / name / "report.json").read_text())


def _cron_evidence(name: str) -> dict:
    return next(c for c in _report(name)["checks"] if c["id"] == "CRON")["evidence"]


def test_runs_as_the_box_user_over_ssh(host) -> None:
    assert host.user().name == BOXES[_name(host)]
    assert host.run("echo $SSH_CONNECTION").stdout.split()[2:3] == ["127.0.0.1"]  # sshd's own variable


def test_every_check_of_each_box_reported_and_passed(host) -> None:
    checks = {c["id"]: c for c in _report(_name(host))["checks"]}
    assert list(checks) == CHECK_IDS
    for check_id in CHECK_IDS:
        if check_id not in AFTER:
            assert checks[check_id]["verdict"] == "PASS", checks[check_id]
    assert checks["CRON"]["verdict"] == "PASS", checks["CRON"]  # the box user's job fired, as root's cron runs it
    review = (OUT / _name(host) / "REVIEW-5.md").read_text()
    assert all(f"| {check_id} |" in review for check_id in CHECK_IDS) and "target `box`" in review
    junit = (OUT / _name(host) / "junit.xml").read_text()
    assert f'tests="{len(CHECK_IDS)}"' in junit and 'failures="0"' in junit


def test_the_index_lists_each_box_with_its_own_verdicts(host) -> None:
    index = json.loads((OUT / "index.json").read_text())
    assert list(index["boxes"]) == list(BOXES) and index["overall"] == "PASS"
    box = index["boxes"][_name(host)]
    assert box["verdicts"] == {c["id"]: c["verdict"] for c in _report(_name(host))["checks"]}
    assert box["report"] == str(OUT / _name(host) / "REVIEW-5.md")
    assert f"[REVIEW-5.md]({_name(host)}/REVIEW-5.md)" in (OUT / "index.md").read_text()
    assert not (OUT / "report.json").exists()  # several boxes: no report of its own at the top


def test_each_box_kept_to_its_own_lab_and_state(host) -> None:
    """Each report names only its own lab's Gitea and Drone, never the other box's; each box had its
    own state folder (lock, ledger); no token of either lab in any report."""
    name = _name(host)
    other = next(n for n in BOXES if n != name)
    mine, theirs = _lab(name), _lab(other)
    text = (OUT / name / "report.json").read_text() + (OUT / name / "REVIEW-5.md").read_text()
    assert mine["gitea_url"] in text and mine["drone_url"] in text
    assert theirs["gitea_url"] not in text and theirs["drone_url"] not in text
    for token in [*mine["tokens"].values(), *theirs["tokens"].values()]:
        assert token not in text and token not in (OUT / "index.md").read_text()
    assert (OUT / name / ".state").is_dir() and not (OUT / name / ".state" / "run.lock").exists()


def _open_pulls(name: str) -> list[dict]:
    state = json.loads((ROOT / name / "lab" / "gitea.json").read_text())
    return [{"repo": repo, "number": int(n), **pr} for repo, pulls in state["pulls"].items()
            for n, pr in pulls.items() if pr["state"] == "open"]


def test_no_pr_of_the_verification_left_open(host) -> None:
    """What is open in the box's Gitea is the first fire's own work (the weekly job's, listed in the
    report), nothing of the verification's; nothing is merged but by the lab's upstream maintainer."""
    name = _name(host)
    fire = _cron_evidence(name)
    listed = {url.split("://", 1)[1].split("/", 1)[1] for url in fire["first_fire_prs"]}
    for pr in _open_pulls(name):
        assert f"{pr['repo']}/pulls/{pr['number']}" in listed, \
            f"{pr['repo']}#{pr['number']} ({pr['title']}) open and not the first fire's in the report"
    assert listed, "the first fire opened no PR: the lab's upgrades should give it some"
    state = json.loads((ROOT / name / "lab" / "gitea.json").read_text())
    merged = [f"{repo}#{n}" for repo, pulls in state["pulls"].items() for n, pr in pulls.items()
              if pr.get("merged") and pr.get("merged_by") != "upstream-maintainer"]
    assert merged == []


def _branches(name: str) -> set[str]:
    """Every branch of the lab's repos but main (the lab seeds main only)."""
    found = set()
    for git in (ROOT / name / "lab" / "git").glob("*/*.git"):
        refs = subprocess.run(["git", "--git-dir", str(git), "for-each-ref", "--format=%(refname:short)",
                               "refs/heads"], capture_output=True, text=True, check=True).stdout.split()
        found |= {f"{git.parent.name}/{git.name[:-4]}:{ref}" for ref in refs if ref != "main"}
    return found


def test_no_branch_of_the_verification_left(host) -> None:
    """A branch left in the box's Gitea is the head of an open PR of the first fire, none of the run's."""
    name = _name(host)
    heads = {f"{pr['repo']}:{pr['head_ref']}" for pr in _open_pulls(name)}
    assert _branches(name) <= heads, f"left behind: {sorted(_branches(name) - heads)}"


def test_no_sandbox_app_left(host) -> None:
    engine = f"{ROOT}/{_name(host)}/lab/abra/.lab-engine"
    for kind in ("stacks", "volumes", "secrets"):
        listing = host.run(f"ls -A {engine}/{kind} 2>/dev/null")
        assert listing.stdout.strip() == "", f"{kind} left: {listing.stdout}"


def test_no_session_of_the_verification_left(host) -> None:
    """A session left in the box user's tmux is the one the first fire started (the weekly job's own,
    created at or after its fire), none the verification started."""
    fired = datetime.fromisoformat(_cron_evidence(_name(host))["fired_at"]).timestamp()
    sessions = host.run(f"TMUX_TMPDIR={ROOT}/{_name(host)}/lab/tmux tmux ls -F '#{{session_name}} #{{session_created}}'")
    for line in sessions.stdout.splitlines() if sessions.rc == 0 else []:
        session, created = line.rsplit(" ", 1)
        assert int(created) >= int(fired), f"session {session} of the verification left (created {created})"


def test_the_weekly_entry_is_the_box_users_and_none_is_roots(host) -> None:
    name = _name(host)
    root = _lab(name)["root"]
    mine = host.check_output("crontab -l")
    jobs = [ln for ln in mine.splitlines() if "# ccci-upgrade-all anchor=" in ln]
    assert len(jobs) == 1 and f"{root}/cc-ci-plan/launch-upgrader.sh start" in jobs[0], mine
    other_root = _lab(next(n for n in BOXES if n != name))["root"]
    assert other_root not in mine  # the other box's job stayed in its own user's crontab
    roots = subprocess.run(["crontab", "-l", "-u", "root"], capture_output=True, text=True, check=False).stdout
    assert root not in roots and str(ROOT) not in roots


def test_what_the_run_wrote_on_the_box_is_the_box_users(host) -> None:
    """The run ran as the box user: nothing under the box's cc-ci root belongs to anyone else."""
    root = _lab(_name(host))["root"]
    found = host.run(f"find {root} ! -user {BOXES[_name(host)]} 2>/dev/null | head -5")
    assert found.rc == 0 and found.stdout.strip() == "", found.stdout
