# Copyright (c) coopcloud.cc_ci contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bridge over real loopback HTTP: the in-test Gitea (``FakeBox``) and the real lab Drone.

Each fault test starts a bridge with that one fault and checks that exactly its behaviour changes.
"""
from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_drone import CI, FakeBox, make_cfg, seed  # same directory: pytest puts it on sys.path

from lab.bridge import Bridge
from lab.config import LabConfig
from lab.drone import DroneService

HTML = "recipe-maintainers/custom-html"
TINY = "recipe-maintainers/custom-html-tiny"


@pytest.fixture(scope="module")
def fbox() -> Iterator[FakeBox]:
    b = FakeBox()
    b.heads = seed(b)  # type: ignore[attr-defined]
    b.commit(TINY, "main", {"compose.yml": b"services: {}\n"})
    yield b
    b.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, fbox: FakeBox) -> Iterator[LabConfig]:
    cfg = make_cfg(tmp_path_factory.mktemp("bridge"), fbox, build_seconds=0.3)
    drone = DroneService(cfg)
    cfg.drone_url = drone.start() or ""
    yield cfg
    drone.stop()


@pytest.fixture
def bridge(lab: LabConfig, tmp_path: Path) -> Iterator[Callable[..., Bridge]]:
    started: list[Bridge] = []

    def make(*faults: str) -> Bridge:
        cfg = dataclasses.replace(lab, state_dir=str(tmp_path), faults=sorted(faults))
        b = Bridge(cfg)
        b.start()
        wait_for(lambda: set(b.state["primed"]) >= set(b.poll_repos()), "first poll")
        started.append(b)
        return b

    yield make
    for b in started:
        b.stop()


def wait_for(pred: Callable[[], Any], what: str, timeout: float = 10) -> Any:
    end = time.time() + timeout
    while time.time() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def builds(cfg: LabConfig) -> list[dict[str, Any]]:
    return httpx.get(f"{cfg.drone_url}/api/repos/{CI}/builds",
                     headers={"Authorization": f"Bearer {cfg.tokens['drone']}"}).json()


def statuses(box: FakeBox, repo: str, sha: str) -> list[dict[str, Any]]:
    return [s for s in box.statuses.get((repo, sha), []) if s["context"] == "cc-ci/testme"]


def bridge_comments(box: FakeBox, repo: str, pr: int) -> list[dict[str, Any]]:
    return [c for c in box.comments.get((repo, pr), []) if c["body"].startswith(("cc-ci:", "### cc-ci"))]


def quiet(b: Bridge, cfg: LabConfig, before: int) -> bool:
    """Two more polls went by and no build was started."""
    time.sleep(cfg.poll_interval * 2.5)
    return len(builds(cfg)) == before and not b.state["jobs"]


def test_green_run_reports_status_and_card(fbox: FakeBox, lab: LabConfig, bridge: Callable[..., Bridge]) -> None:
    sha = fbox.heads["main"]  # type: ignore[attr-defined]
    pr = fbox.open_pr(HTML, sha)
    fbox.comment(HTML, pr, "cc-ci-bot", "!testme")  # before the bridge: the first poll only marks it seen
    b = bridge()
    assert quiet(b, lab, len(builds(lab)))
    fbox.comment(HTML, pr, "cc-ci-bot", " !testme \n")
    job = wait_for(lambda: b.state["jobs"] and b.state["jobs"][0], "a fired build")
    url = f"{lab.drone_url}/{CI}/{job['number']}"
    build = builds(lab)[0]
    assert build["params"] == {"RECIPE": "custom-html", "REPO": HTML, "PR": str(pr), "REF": sha, "QUICK": "0"}
    first = statuses(fbox, HTML, sha)[0]
    assert first["status"] == "pending" and first["target_url"] == url
    started = bridge_comments(fbox, HTML, pr)
    assert [c["body"] for c in started] == [f"cc-ci: run started — {url}"]
    wait_for(lambda: len(statuses(fbox, HTML, sha)) == 2, "the final status")
    assert statuses(fbox, HTML, sha)[-1]["status"] == "success"
    assert statuses(fbox, HTML, sha)[-1]["target_url"] == url
    card = wait_for(lambda: [c for c in bridge_comments(fbox, HTML, pr) if "results" in c["body"]], "the card")
    assert len(bridge_comments(fbox, HTML, pr)) == 1 and card[0]["id"] == started[0]["id"]
    body = card[0]["body"]
    assert body.startswith("### cc-ci results: PASS\n") and url in body and sha in body and "badge" in body


def test_red_runs_name_the_failed_step(fbox: FakeBox, lab: LabConfig, bridge: Callable[..., Bridge]) -> None:
    bad, stale = fbox.open_pr(HTML, fbox.heads["bad"]), fbox.open_pr(HTML, fbox.heads["upgrade"])  # type: ignore
    b = bridge()
    fbox.comment(HTML, bad, "cc-ci-bot", "!testme")
    fbox.comment(HTML, stale, "cc-ci-bot", "!testme --quick")

    def cards_now() -> list[str] | None:
        cards = [c["body"] for pr in (bad, stale) for c in bridge_comments(fbox, HTML, pr) if "results" in c["body"]]
        return cards if len(cards) == 2 else None

    cards = wait_for(cards_now, "two cards")
    assert all(c.startswith("### cc-ci results: FAIL") for c in cards)
    assert "- deploy: unable to pull nginx:1.99.0-bad" in cards[0]
    assert "- test:version_header: expected server_header=nginx/1.26.2 got nginx/1.27.3" in cards[1]
    assert statuses(fbox, HTML, fbox.heads["bad"])[-1]["status"] == "failure"  # type: ignore[attr-defined]
    assert builds(lab)[0]["params"]["QUICK"] == "1"


def test_gate_and_parser(fbox: FakeBox, lab: LabConfig, bridge: Callable[..., Bridge], tmp_path: Path) -> None:
    pr = fbox.open_pr(HTML, fbox.heads["main"])  # type: ignore[attr-defined]
    b = bridge()
    before = len(builds(lab))
    fbox.comment(HTML, pr, "outsider", "!testme")
    fbox.comment(HTML, pr, "cc-ci-bot", "!testmexyz")
    fbox.comment(HTML, pr, "cc-ci-bot", "please !testme")
    assert quiet(b, lab, before)
    assert bridge_comments(fbox, HTML, pr) == []
    events = json.loads((tmp_path / "bridge.json").read_text())["events"]
    assert [e["login"] for e in events if e["action"] == "rejected"] == ["outsider"]


@pytest.mark.parametrize("fault", ["bridge-accepts-outsiders", "bridge-fires-on-prefix"])
def test_gate_faults(fault: str, fbox: FakeBox, lab: LabConfig, bridge: Callable[..., Bridge]) -> None:
    pr = fbox.open_pr(HTML, fbox.heads["main"])  # type: ignore[attr-defined]
    b = bridge(fault)
    before = len(builds(lab))
    # the comment the fault lets through, and the one it must still ignore
    through, still = (("outsider", "!testme"), ("cc-ci-bot", "!testmexyz")) \
        if fault == "bridge-accepts-outsiders" else (("cc-ci-bot", "!testmexyz"), ("outsider", "!testme"))
    fbox.comment(HTML, pr, *still)
    assert quiet(b, lab, before)
    fbox.comment(HTML, pr, *through)
    wait_for(lambda: len(builds(lab)) == before + 1, "the faulty trigger")
    wait_for(lambda: not b.state["jobs"], "the build to end")


def test_fault_no_status(fbox: FakeBox, lab: LabConfig, bridge: Callable[..., Bridge]) -> None:
    sha = fbox.commit(HTML, "nostatus", {"compose.yml": fbox.trees[HTML][fbox.heads["main"]]["compose.yml"],  # type: ignore
                                         "NOTE": b"distinct head\n"})
    pr = fbox.open_pr(HTML, sha)
    b = bridge("bridge-no-status")
    fbox.comment(HTML, pr, "cc-ci-bot", "!testme")
    wait_for(lambda: [c for c in bridge_comments(fbox, HTML, pr) if "results: PASS" in c["body"]], "the card")
    wait_for(lambda: not b.state["jobs"], "the build to end")
    assert statuses(fbox, HTML, sha) == []


def test_fault_not_polling_sandbox(fbox: FakeBox, lab: LabConfig, bridge: Callable[..., Bridge]) -> None:
    tiny = fbox.open_pr(TINY, fbox.branches[TINY]["main"])
    html = fbox.open_pr(HTML, fbox.heads["main"])  # type: ignore[attr-defined]
    b = bridge("bridge-not-polling-sandbox")
    assert b.poll_repos() == [HTML]
    before = len(builds(lab))
    fbox.comment(TINY, tiny, "cc-ci-bot", "!testme")
    assert quiet(b, lab, before) and bridge_comments(fbox, TINY, tiny) == []
    fbox.comment(HTML, html, "cc-ci-bot", "!testme")
    wait_for(lambda: len(builds(lab)) == before + 1, "the custom-html build")
    wait_for(lambda: not b.state["jobs"], "the build to end")


# -- against the real lab (`python -m lab up`, the `lab_factory` fixture of conftest.py) ----------

def gitea(cfg: LabConfig, who: str = "bot") -> httpx.Client:
    return httpx.Client(base_url=cfg.gitea_url + "/api/v1", headers={"Authorization": f"token {cfg.tokens[who]}"},
                        timeout=10)


def scratch_pr(cfg: LabConfig, repo: str) -> dict[str, Any]:
    """A PR adding one file on a fresh branch (the recipe itself unchanged: a green run)."""
    g, branch = gitea(cfg), f"lab-test-{time.monotonic_ns()}"
    assert g.post(f"/repos/{repo}/branches", json={"new_branch_name": branch, "old_ref_name": "main"}).status_code == 201
    put = g.post(f"/repos/{repo}/contents/NOTE-{branch}.md", json={
        "content": "bGFiIHRlc3QK", "branch": branch, "message": "lab test"})
    assert put.status_code == 201, put.text
    pr = g.post(f"/repos/{repo}/pulls", json={"head": branch, "base": "main", "title": branch})
    assert pr.status_code == 201, pr.text
    return pr.json()


def real_comments(cfg: LabConfig, repo: str, pr: int) -> list[dict[str, Any]]:
    return gitea(cfg).get(f"/repos/{repo}/issues/{pr}/comments").json()


def test_real_lab_testme_end_to_end(lab_state: LabConfig) -> None:
    cfg, repo = lab_state, TINY
    pr = scratch_pr(cfg, repo)
    sha, n = pr["head"]["sha"], pr["number"]
    time.sleep(cfg.poll_interval * 2)  # the bridge sees the PR before the command
    before = len(builds(cfg))
    assert gitea(cfg).post(f"/repos/{repo}/issues/{n}/comments", json={"body": "!testme"}).status_code == 201

    def statuses_now() -> list[dict[str, Any]]:
        return gitea(cfg).get(f"/repos/{repo}/commits/{sha}/statuses").json()

    pending = wait_for(lambda: [s for s in statuses_now() if s["status"] == "pending"], "pending status")[0]
    build = builds(cfg)[0]
    url = f"{cfg.drone_url}/{CI}/{build['number']}"
    assert len(builds(cfg)) == before + 1 and build["params"]["REF"] == sha and build["params"]["PR"] == str(n)
    assert pending["context"] == "cc-ci/testme" and pending["target_url"] == url
    assert httpx.get(url).status_code == 200
    final = wait_for(lambda: [s for s in statuses_now() if s["status"] != "pending"], "final status", 30)[0]
    assert final["status"] == "success" and final["target_url"] == url
    mine = [c for c in real_comments(cfg, repo, n) if c["body"].startswith(("cc-ci:", "### cc-ci"))]
    assert len(mine) == 1 and mine[0]["user"]["login"] == cfg.users["bot"]
    card = wait_for(lambda: real_comments(cfg, repo, n)[-1]["body"].startswith("### cc-ci results:") and
                    real_comments(cfg, repo, n)[-1]["body"], "the card")
    assert card.startswith("### cc-ci results: PASS") and url in card and sha in card
    # the harness tore its deploy down (read through the abra stand-in, as a check on the box would)
    ls = subprocess.run([f"{cfg.bin_dir}/abra", "app", "ls", "-m"], check=False, capture_output=True, text=True,
                        env={"ABRA_DIR": cfg.abra_dir, "PATH": "/usr/bin:/bin"})
    assert json.loads(ls.stdout) == {}

    # an outsider's command and a near-miss fire nothing
    gitea(cfg, "outsider").post(f"/repos/{repo}/issues/{n}/comments", json={"body": "!testme"})
    gitea(cfg).post(f"/repos/{repo}/issues/{n}/comments", json={"body": "!testmexyz"})
    time.sleep(cfg.poll_interval * 4)
    assert len(builds(cfg)) == before + 1 and len(statuses_now()) == 2
    assert sum(c["body"].startswith(("cc-ci:", "### cc-ci")) for c in real_comments(cfg, repo, n)) == 1


def test_real_lab_fault_not_polling_sandbox(lab_factory: Callable[..., LabConfig]) -> None:
    cfg = lab_factory(["bridge-not-polling-sandbox"])
    pr = scratch_pr(cfg, TINY)
    before = len(builds(cfg))
    time.sleep(cfg.poll_interval * 2)
    gitea(cfg).post(f"/repos/{TINY}/issues/{pr['number']}/comments", json={"body": "!testme"})
    time.sleep(cfg.poll_interval * 4)
    assert len(builds(cfg)) == before and len(real_comments(cfg, TINY, pr["number"])) == 1


def test_restart_keeps_seen_and_followed_builds(fbox: FakeBox, lab: LabConfig,
                                                bridge: Callable[..., Bridge]) -> None:
    pr = fbox.open_pr(HTML, fbox.heads["main"])  # type: ignore[attr-defined]
    first = bridge()
    before = len(builds(lab))
    fbox.comment(HTML, pr, "cc-ci-bot", "!testme")
    wait_for(lambda: first.state["jobs"], "a fired build")
    first.stop()  # mid-build: the job is on disk
    second = bridge()
    wait_for(lambda: [c for c in bridge_comments(fbox, HTML, pr) if "results: PASS" in c["body"]], "the card")
    assert quiet(second, lab, before + 1)  # the old !testme did not fire again
